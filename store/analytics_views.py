"""The analysts' tables of the DuckDB store: panel, checks and anomalies.

- panel: one row per stored field of every current report (agency_key × year × field), with
  its status and whether a person corrected it; a value still in review is there, flagged by
  its status (field_values keeps only accepted and corrected ones).
- checks: every check of the operational store (the form's rules, narrative.*, cross_year.*),
  with the report's key, agency and year.
- anomalies: year-over-year anomalies of each agency's analytic values, found by the caller's
  finder (extractors/anomalies.find_anomalies) over the series read here.

Built inside load_analytics' transaction (after reports, stage_fields and field_values), and
refreshed for one report (its agency's anomalies recomputed) inside refresh_report's.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import sqlalchemy as sa

from gongkai.models.analytics import AnomalyFinder, SeriesPoint

from .operational import OperationalStore
from .schema import checks, documents, reports

ANALYST_TABLES = ("panel", "checks", "anomalies")

_PANEL_DDL = """
CREATE TABLE panel (
    report_key VARCHAR NOT NULL, agency_key VARCHAR, agency VARCHAR, year INTEGER, template VARCHAR,
    table_id VARCHAR NOT NULL, field_id VARCHAR NOT NULL, value DOUBLE, status VARCHAR NOT NULL,
    corrected BOOLEAN NOT NULL, confidence DOUBLE
)"""
_PANEL_INSERT = """
INSERT INTO panel
SELECT r.report_key, r.agency_key, r.agency, r.year, r.template, f.table_id, f.field_id, f.value, f.status,
       f.status = 'corrected', f.confidence
FROM stage_fields f JOIN reports r USING (report_id)
ORDER BY r.report_id, f.field_id"""
_CHECKS_DDL = """
CREATE TABLE checks (
    report_key VARCHAR NOT NULL, agency_key VARCHAR, year INTEGER, rule VARCHAR NOT NULL,
    ok BOOLEAN NOT NULL, detail VARCHAR NOT NULL
)"""
_ANOMALIES_DDL = """
CREATE TABLE anomalies (
    agency_key VARCHAR NOT NULL, year INTEGER NOT NULL, field_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    value DOUBLE, previous DOUBLE, detail VARCHAR NOT NULL, report_key VARCHAR NOT NULL
)"""
# One report speaks for an agency's year (the same report crawled as HTML and PDF is two):
# the one a person corrected most, then the one with most values, then the latest.
CHOSEN_REPORTS_SQL = """
SELECT report_key FROM (
  SELECT p.report_key, row_number() OVER (
      PARTITION BY p.agency_key, p.year
      ORDER BY count(*) FILTER (WHERE p.corrected) DESC, count(p.value) DESC, max(r.report_id) DESC) AS rank
  FROM panel p JOIN reports r USING (report_key)
  WHERE p.agency_key IS NOT NULL AND p.year IS NOT NULL {where}
  GROUP BY p.report_key, p.agency_key, p.year)
WHERE rank = 1"""
_SERIES_SQL = f"""
SELECT agency_key, year, field_id, value, template, report_key FROM field_values
WHERE value IS NOT NULL AND report_key IN ({CHOSEN_REPORTS_SQL}) {{and_agency}}"""


def build_analyst_tables(con: duckdb.DuckDBPyConnection, operational: OperationalStore,
                         find_anomalies: AnomalyFinder) -> dict[str, int]:
    """Create panel, checks and anomalies from what load_analytics staged; rows per table."""
    for table in ANALYST_TABLES:
        con.execute(f'DROP TABLE IF EXISTS "{table}"')
    con.execute(_PANEL_DDL)
    con.execute(_PANEL_INSERT)
    con.execute(_CHECKS_DDL)
    _append(con, "checks", _check_rows(operational))
    con.execute(_ANOMALIES_DDL)
    _insert_anomalies(con, None, find_anomalies)
    return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in ANALYST_TABLES}


def refresh_analyst_rows(con: duckdb.DuckDBPyConnection, operational: OperationalStore, report_id: int,
                         find_anomalies: AnomalyFinder) -> None:
    """One report's panel and checks rows replaced (stage_fields holds its fields), its agency's
    anomalies recomputed."""
    row = con.execute("SELECT report_key, agency_key FROM reports WHERE report_id = ?", [report_id]).fetchone()
    if row is None:
        return
    report_key, agency_key = row
    con.execute("DELETE FROM panel WHERE report_key = ?", [report_key])
    con.execute("DELETE FROM checks WHERE report_key = ?", [report_key])
    con.execute(_PANEL_INSERT.replace("ORDER BY", f"WHERE r.report_id = {int(report_id)} ORDER BY"))
    _append(con, "checks", _check_rows(operational, report_id))
    if agency_key is not None:
        con.execute("DELETE FROM anomalies WHERE agency_key = ?", [agency_key])
        _insert_anomalies(con, agency_key, find_anomalies)


def _insert_anomalies(con: duckdb.DuckDBPyConnection, agency_key: str | None, find_anomalies: AnomalyFinder) -> None:
    where, params = ("AND p.agency_key = ?", [agency_key]) if agency_key else ("", [])
    sql = _SERIES_SQL.format(where=where, and_agency="AND agency_key = ?" if agency_key else "")
    points = [
        SeriesPoint(key, int(year), field_id, _number(value), template, report_key)
        for key, year, field_id, value, template, report_key in con.execute(sql, params * 2).fetchall()
    ]
    _append(con, "anomalies", (
        (a.agency_key, a.year, a.field_id, a.kind, a.value, a.previous, a.detail, a.report_key)
        for a in find_anomalies(points)
    ))


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _check_rows(operational: OperationalStore, report_id: int | None = None) -> Iterator[tuple]:
    """(report_key, agency_key, year, rule, ok, detail) of every current report's checks."""
    stmt = (
        sa.select(documents.c.sha256, reports.c.ordinal, reports.c.agency_key, reports.c.year,
                  checks.c.rule, checks.c.ok, checks.c.detail)
        .join_from(checks, reports, checks.c.report_id == reports.c.id)
        .join(documents, reports.c.document_id == documents.c.id)
        .where(documents.c.superseded_by.is_(None))
        .order_by(reports.c.id, checks.c.id)
    )
    if report_id is not None:
        stmt = stmt.where(reports.c.id == report_id)
    with operational.engine.connect() as conn:
        for r in conn.execute(stmt):
            yield (f"{r.sha256}:{r.ordinal}", r.agency_key, r.year, r.rule, bool(r.ok), r.detail)


def _append(con: duckdb.DuckDBPyConnection, table: str, rows: Iterator[tuple]) -> None:
    from .analytics import _append as append_rows  # analytics imports this module

    append_rows(con, table, rows)


@dataclass(frozen=True)
class PanelPoint:
    """One field of the report that speaks for an agency's year (CHOSEN_REPORTS_SQL)."""

    agency_key: str
    agency: str | None
    year: int
    field_id: str
    value: float | None
    status: str
    corrected: bool
    report_key: str


def agency_panel(duckdb_path: Path, agency: str) -> list[PanelPoint]:
    """The panel rows of one agency (by agency_key, or by a printed name of it), one report a
    year; [] when the store has no such agency (or no panel yet)."""
    duckdb_path = Path(duckdb_path)
    if not duckdb_path.exists():
        raise FileNotFoundError(f"no analytics store at {duckdb_path}")
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        if "panel" not in {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}:
            return []
        chosen = CHOSEN_REPORTS_SQL.format(where="AND (p.agency_key = ? OR p.agency = ?)")
        rows = con.execute(
            f"""SELECT agency_key, agency, year, field_id, value, status, corrected, report_key FROM panel
WHERE report_key IN ({chosen}) ORDER BY year, field_id""", [agency, agency]).fetchall()
    finally:
        con.close()
    return [PanelPoint(*row) for row in rows]


def readable_agency_panel(duckdb_path: Path, agency: str) -> list[PanelPoint]:
    """agency_panel, or [] while the file is missing or a writer holds it (the review app then
    shows no chart rather than an error)."""
    try:
        return agency_panel(duckdb_path, agency)
    except (FileNotFoundError, duckdb.Error):
        return []


def agency_anomalies(duckdb_path: Path, agency_key: str) -> list[tuple[int, str, str, str]]:
    """(year, field_id, kind, detail) of one agency's anomalies, by year."""
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        return con.execute(
            "SELECT year, field_id, kind, detail FROM anomalies WHERE agency_key = ? ORDER BY year, field_id",
            [agency_key]).fetchall()
    finally:
        con.close()
