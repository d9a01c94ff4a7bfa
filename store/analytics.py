"""Analytics store: a DuckDB file rebuilt from the operational store, and its export.

Only accepted and corrected values reach it: a needs_review value stays out until a
reviewer corrects it. Every write builds the next version of the file beside it and swaps
it in (analytics_file.rewrite), so an analyst's open read-only connection never blocks a
run and keeps its snapshot; readers (a notebook, a dashboard) should open the file read_only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

import duckdb

from gongkai.config import table_ids
from gongkai.models.analytics import AnomalyFinder

from .analytics_file import DEFAULT_WAIT_S, rewrite
from .analytics_views import ANALYST_TABLES, build_analyst_tables, refresh_analyst_rows
from .operational import OperationalStore

ANALYTIC_STATUSES = ("accepted", "corrected")
WIDE_PREFIX = "wide_"


def exported_tables() -> tuple[str, ...]:
    """What the file holds and export writes: reports, field_values, one wide table per template table."""
    return ("reports", "field_values", *(WIDE_PREFIX + t for t in table_ids()))


# Report key: stable across rebuilds and databases, unlike the operational row id.
_REPORTS_DDL = """
CREATE TABLE reports (
    report_key VARCHAR PRIMARY KEY, report_id BIGINT NOT NULL, sha256 VARCHAR NOT NULL,
    name VARCHAR NOT NULL, source_url VARCHAR, ordinal INTEGER NOT NULL, agency VARCHAR, agency_key VARCHAR,
    year INTEGER, template VARCHAR, kind VARCHAR NOT NULL, title VARCHAR,
    complete BOOLEAN NOT NULL, document_status VARCHAR NOT NULL
)"""
# Every stored field, whatever its status: it decides which reports "have" a table and
# which columns a wide table gets. Temporary: gone when the connection closes.
_STAGE_DDL = """
CREATE TEMP TABLE stage_fields (
    report_id BIGINT NOT NULL, table_id VARCHAR NOT NULL, field_id VARCHAR NOT NULL,
    value DOUBLE, raw VARCHAR, status VARCHAR NOT NULL, confidence DOUBLE
)"""
_STATUS_LIST = ", ".join(f"'{s}'" for s in ANALYTIC_STATUSES)
_FIELD_VALUES_SQL = f"""
CREATE TABLE field_values AS
SELECT r.report_key, r.report_id, r.sha256, r.agency, r.agency_key, r.year, r.template,
       f.table_id, f.field_id, f.value, f.raw, f.status, f.confidence
FROM stage_fields f JOIN reports r USING (report_id)
WHERE f.status IN ({_STATUS_LIST})
ORDER BY r.report_id, f.field_id"""


def load_analytics(
    operational: OperationalStore, duckdb_path: Path, *, find_anomalies: AnomalyFinder,
    field_ids: Iterable[str] = (), wait_s: float = DEFAULT_WAIT_S,
) -> dict[str, int]:
    """Rebuild the analytics tables into the file's next version; returns rows per table.

    field_ids (e.g. every canonical id of the templates) become wide columns even when
    no document has them yet, in the given order; ids found in the data follow, sorted.
    find_anomalies: what finds the analysts' anomalies in the series (extractors/anomalies.py).
    wait_s: how long to wait for another writer (AnalyticsBusy after it).
    """
    with rewrite(Path(duckdb_path), wait_s=wait_s) as con:
        _drop_outputs(con)
        _load_reports(con, operational)
        _stage_fields(con, operational)
        con.execute(_FIELD_VALUES_SQL)
        wanted = list(field_ids)
        for table in table_ids():
            _build_wide(con, table, wanted)
        counts = {name: _count(con, name) for name in exported_tables()}
        counts.update(build_analyst_tables(con, operational, find_anomalies))
        return counts


class NeedsRebuild(RuntimeError):
    """The analytics file lacks a table or a column a one-report refresh would need."""


def refresh_report(operational: OperationalStore, duckdb_path: Path, report_id: int, *,
                   find_anomalies: AnomalyFinder, wait_s: float = DEFAULT_WAIT_S) -> None:
    """Replace one report's rows (reports, field_values, its wide rows) in the file's next
    version, after a reviewer's save: a full rebuild reads every stored field.
    NeedsRebuild when the file is missing or a wide table has no column for one of its ids;
    AnalyticsBusy when another writer holds the file longer than wait_s."""
    duckdb_path = Path(duckdb_path)
    if not duckdb_path.exists():
        raise NeedsRebuild(f"no analytics store at {duckdb_path}")
    with rewrite(duckdb_path, wait_s=wait_s) as con:
        present = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if not set(exported_tables()) | set(ANALYST_TABLES) <= present:
            raise NeedsRebuild("analytics tables missing")
        for table in exported_tables():
            con.execute(f"DELETE FROM {_ident(table)} WHERE report_id = ?", [report_id])
        _load_reports(con, operational, report_id)
        con.execute(_STAGE_DDL)
        _stage_fields(con, operational, report_id, create=False)
        con.execute(_FIELD_VALUES_SQL.replace("CREATE TABLE field_values AS", "INSERT INTO field_values"))
        for table in table_ids():
            _insert_wide_row(con, table)
        refresh_analyst_rows(con, operational, report_id, find_anomalies)


def _insert_wide_row(con: duckdb.DuckDBPyConnection, table: str) -> None:
    wide = WIDE_PREFIX + table
    columns = {row[0] for row in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [wide]).fetchall()}
    ids = [row[0] for row in con.execute(
        "SELECT DISTINCT field_id FROM stage_fields WHERE table_id = ? ORDER BY field_id", [table]).fetchall()]
    if not ids:
        return
    missing = [i for i in ids if wide_column(i) not in columns]
    if missing:
        raise NeedsRebuild(f"{wide} has no column for {missing[0]}")
    values = "".join(
        f",\n  max(f.value) FILTER (WHERE f.field_id = {_literal(fid)}"
        f" AND f.status IN ({_STATUS_LIST})) AS {_ident(wide_column(fid))}"
        for fid in ids
    )
    names = ", ".join(_ident(wide_column(fid)) for fid in ids)
    con.execute(
        f"""INSERT INTO {_ident(wide)} (report_key, report_id, sha256, agency, agency_key, year, template, {names})
SELECT r.report_key, r.report_id, r.sha256, r.agency, r.agency_key, r.year, r.template{values}
FROM stage_fields f JOIN reports r USING (report_id)
WHERE f.table_id = {_literal(table)}
GROUP BY r.report_key, r.report_id, r.sha256, r.agency, r.agency_key, r.year, r.template"""
    )


def export_analytics(
    duckdb_path: Path, out_dir: Path, fmt: Literal["parquet", "csv"], *, complete_only: bool = False
) -> list[Path]:
    """One file per analytics table, written by DuckDB's COPY (no pyarrow needed).

    complete_only: leave out reports with open review items (and their values)."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"unknown export format {fmt!r}")
    duckdb_path, out_dir = Path(duckdb_path), Path(out_dir)
    if not duckdb_path.exists():
        raise FileNotFoundError(f"no analytics store at {duckdb_path}; run load_analytics first")
    out_dir.mkdir(parents=True, exist_ok=True)
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    written: list[Path] = []
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        present = {
            row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        for table in (t for t in (*exported_tables(), *ANALYST_TABLES) if t in present):
            path = out_dir / f"{table}.{fmt}"
            source = _ident(table)
            if complete_only:
                source = (f"(SELECT * FROM {source} WHERE report_key IN"
                          " (SELECT report_key FROM reports WHERE complete))")
            con.execute(f"COPY {source} TO {_literal(str(path))} ({options})")
            written.append(path)
    finally:
        con.close()
    return written


def wide_column(field_id: str) -> str:
    """requests.new.natural_person -> requests__new__natural_person"""
    return field_id.replace(".", "__")


# ---------------------------------------------------------------------------------------
def _drop_outputs(con: duckdb.DuckDBPyConnection) -> None:
    # In the next version only: a failed rebuild is thrown away and the old file stays.
    for table in reversed(exported_tables()):
        con.execute(f"DROP TABLE IF EXISTS {_ident(table)}")


def _load_reports(
    con: duckdb.DuckDBPyConnection, operational: OperationalStore, report_id: int | None = None
) -> None:
    if report_id is None:
        con.execute(_REPORTS_DDL)
    rows = (
        (
            f"{r.sha256}:{r.ordinal}",
            r.report_id,
            r.sha256,
            r.document_name,
            r.source_url,
            r.ordinal,
            r.agency,
            r.agency_key,
            r.year,
            r.template,
            r.kind,
            r.title,
            bool(r.complete),
            r.document_status,
        )
        for r in operational.iter_reports(report_id)
    )
    _append(con, "reports", rows)


def _stage_fields(
    con: duckdb.DuckDBPyConnection, operational: OperationalStore, report_id: int | None = None,
    create: bool = True,
) -> None:
    if create:
        con.execute(_STAGE_DDL)
    rows = (
        (f.report_id, f.table, f.field_id, f.value, f.raw, f.status, f.confidence)
        for f in operational.iter_fields(report_id=report_id)
    )
    _append(con, "stage_fields", rows)


def _append(
    con: duckdb.DuckDBPyConnection, table: str, rows: Iterator[tuple], batch: int = 10_000
) -> None:
    """Bulk insert through DuckDB's appender (executemany is orders of magnitude slower)."""
    appender = con.appender(table)
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= batch:
            appender.append_rows(chunk)
            appender.flush()
            chunk.clear()
    if chunk:
        appender.append_rows(chunk)
        appender.flush()


def _build_wide(con: duckdb.DuckDBPyConnection, table: str, wanted: list[str]) -> None:
    """One row per report with any stored field of `table`; a column per field id."""
    ids = _wide_ids(con, table, wanted)
    columns = "".join(
        f",\n  max(f.value) FILTER (WHERE f.field_id = {_literal(fid)}"
        f" AND f.status IN ({_STATUS_LIST})) AS {_ident(wide_column(fid))}"
        for fid in ids
    )
    con.execute(
        f"""CREATE TABLE {_ident(WIDE_PREFIX + table)} AS
SELECT r.report_key, r.report_id, r.sha256, r.agency, r.agency_key, r.year, r.template{columns}
FROM stage_fields f JOIN reports r USING (report_id)
WHERE f.table_id = {_literal(table)}
GROUP BY r.report_key, r.report_id, r.sha256, r.agency, r.agency_key, r.year, r.template
ORDER BY r.report_id"""
    )


def _wide_ids(con: duckdb.DuckDBPyConnection, table: str, wanted: list[str]) -> list[str]:
    prefix = f"{table}."
    found = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT field_id FROM stage_fields WHERE table_id = ? ORDER BY field_id",
            [table],
        ).fetchall()
    ]
    given = list(dict.fromkeys(f for f in wanted if f.startswith(prefix)))
    seen = set(given)
    return given + [f for f in found if f not in seen]


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    (n,) = con.execute(f"SELECT count(*) FROM {_ident(table)}").fetchall()[0]
    return int(n)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
