"""The analysts' tables: year-over-year anomalies (pure logic on generated series), and the
DuckDB panel, checks and anomalies tables built from really stored samples, kept in step with
a reviewer's correction, and exported."""
from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from review_samples import WRONG_CELL, service_with_broken_report
from typer.testing import CliRunner

from gongkai.cli import app
from gongkai.config import load_templates
from gongkai.extractors.anomalies import SeriesPoint, find_anomalies
from gongkai.extractors.pipeline import extract_file
from gongkai.models.review import QueueFilter
from gongkai.review.service import ReviewService
from gongkai.store import OperationalStore, load_analytics
from samples import REAL, seed

KEY = "某县卫生健康局"


def _series(field_id: str, values: dict[int, int], template: str = "gov-2021") -> list[SeriesPoint]:
    return [SeriesPoint(KEY, year, field_id, v, template, f"sha:{year}") for year, v in values.items()]


def test_a_steady_series_has_no_anomaly() -> None:
    assert find_anomalies(_series("requests.new.total", {2019: 12, 2020: 15, 2021: 9, 2022: 14})) == []


def test_a_jump_by_an_order_of_magnitude_is_listed() -> None:
    found = find_anomalies(_series("requests.new.total", {2020: 6, 2021: 7, 2022: 80, 2023: 8}))
    assert [(a.year, a.kind, a.previous, a.value) for a in found] == [
        (2022, "jump", 7, 80), (2023, "jump", 80, 8)]
    assert found[0].detail == "7 in 2021 → 80 in 2022 (up ≥10×)"


def test_small_numbers_are_not_jumps() -> None:  # 1 -> 3 requests is not news (jump_min)
    assert find_anomalies(_series("appeals.review.total", {2020: 1, 2021: 9, 2022: 1})) == []


def test_a_fall_to_zero_from_a_steady_level_is_listed() -> None:
    found = find_anomalies(_series("requests.new.total", {2019: 14, 2020: 12, 2021: 0}))
    assert [(a.year, a.kind) for a in found] == [(2021, "fall_to_zero")]
    assert found[0].detail == "0 in 2021 after 14 (2019), 12 (2020)"
    # from a level that was never steady, no
    assert find_anomalies(_series("requests.new.total", {2020: 12, 2021: 0})) == []


def test_a_total_that_disagrees_with_its_parts_is_listed() -> None:
    row = {"natural_person": 3, "commercial": 1, "research": 0, "public_interest": 0, "legal_service": 0,
           "other_org": 0, "total": 5}
    points = [p for col, v in row.items() for p in _series(f"requests.new.{col}", {2021: v})]
    found = [a for a in find_anomalies(points) if a.kind == "total_vs_parts"]
    assert [(a.year, a.field_id) for a in found] == [(2021, "requests.new.total")]
    assert "= 5, parts sum to 4" in found[0].detail
    # a part not stored (still in review): no verdict
    assert not [a for a in find_anomalies([p for p in points if "commercial" not in p.field_id])
                if a.kind == "total_vs_parts"]


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seed 000 (聊城, 2019–2023 on one page) and the Huaian PDF, stored and loaded."""
    folder = tmp_path_factory.mktemp("analyst")
    analytics = folder / "analytics.duckdb"
    with OperationalStore(f"sqlite:///{folder / 'ops.sqlite'}") as store:
        store.migrate()
        for path in (seed("000"), REAL / "huaian_city_gov_2024_annual_report.pdf"):
            store.save_result(extract_file(path), path=str(path))
        load_analytics(
            store,
            analytics,
            find_anomalies=find_anomalies,
            field_ids=[f for t in load_templates() for f in t.field_ids()],
        )
    return analytics


def _query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_the_panel_is_agency_by_year_by_field_with_status(stored: Path) -> None:
    years = _query(
        stored, "SELECT DISTINCT year FROM panel WHERE agency_key = ? ORDER BY year", ["聊城市卫生健康委员会"]
    )
    assert [y for (y,) in years] == [2019, 2020, 2021, 2022, 2023]
    rows = _query(stored, "SELECT value, status, corrected FROM panel WHERE agency_key = ? AND year = 2023 "
                          "AND field_id = 'requests.new.total'", ["聊城市卫生健康委员会"])
    assert rows == [(11.0, "accepted", False)]
    # every stored field is there, in review or not (field_values keeps only the analytic ones)
    (panel,), (stored_fields,) = _query(stored, "SELECT count(*) FROM panel"), _query(
        stored, "SELECT count(*) FROM field_values")
    statuses = {s for (s,) in _query(stored, "SELECT DISTINCT status FROM panel")}
    assert panel > stored_fields and "needs_review" in statuses


def test_the_checks_table_holds_every_check_with_its_report(stored: Path) -> None:
    columns = [r[0] for r in _query(stored, "DESCRIBE checks")]
    assert columns == ["report_key", "agency_key", "year", "rule", "ok", "detail"]
    narrative = _query(stored, "SELECT year, rule, ok FROM checks WHERE agency_key = ? AND rule LIKE 'narrative.%' "
                               "ORDER BY year DESC, rule", ["聊城市卫生健康委员会"])
    assert narrative == [
        (2023, "narrative.requests_carried_forward", True), (2023, "narrative.requests_closed", True),
        (2023, "narrative.requests_received", True), (2022, "narrative.requests_received", True),
        (2021, "narrative.requests_received", True), (2020, "narrative.requests_handled", True)]
    (form_rules,) = _query(stored, "SELECT count(*) FROM checks WHERE rule LIKE 'requests.%'")[0]
    assert form_rules > 0


def test_anomalies_are_listed_per_agency(stored: Path) -> None:
    rows = _query(stored, "SELECT agency_key, year, field_id, kind, previous, value FROM anomalies "
                          "WHERE field_id = 'active.penalty.decisions'")
    # 聊城's 行政处罚 decisions: 612 in 2022, 29 in 2023 (as printed)
    assert rows == [("聊城市卫生健康委员会", 2023, "active.penalty.decisions", "jump", 612.0, 29.0)]


def test_export_writes_the_analyst_tables(stored: Path, tmp_path: Path) -> None:
    answer = CliRunner().invoke(app, ["export", "--format", "csv", "--out", str(tmp_path), "--analytics", str(stored)])
    assert answer.exit_code == 0, answer.output
    with (tmp_path / "checks.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["report_key", "agency_key", "year", "rule", "ok", "detail"]
    assert any(r[3] == "narrative.appeals_review" and "351" in r[5] for r in rows[1:])
    for name in ("panel.csv", "anomalies.csv"):
        assert (tmp_path / name).stat().st_size > 0
    answer = CliRunner().invoke(app, ["export", "--out", str(tmp_path / "pq"), "--analytics", str(stored)])
    assert answer.exit_code == 0, answer.output
    assert _query(stored, f"SELECT count(*) FROM '{tmp_path / 'pq' / 'checks.parquet'}'") == _query(
        stored, "SELECT count(*) FROM checks")


@pytest.fixture
def service(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewService]:
    with service_with_broken_report(f"sqlite:///{tmp_path / 'ops.sqlite'}", tmp_path / "analytics.duckdb",
                                    tmp_path_factory.getbasetemp() / "review-samples") as svc:
        yield svc


def test_a_correction_reaches_the_panel_and_the_checks(service: ReviewService) -> None:
    wang = service.add_user(None, "wang", "reviewer", "correct horse battery")
    path = service.analytics.path
    item = next(i.id for i in service.queue(wang, QueueFilter()) if i.field_id == WRONG_CELL)
    service.correct(wang, item, 13)
    assert _query(path, "SELECT value, status, corrected FROM panel WHERE field_id = ?", [WRONG_CELL]) == [
        (13.0, "corrected", True)]
    # the rules the printed 31 broke hold again with 13, in the analysts' checks table too
    verdicts = _query(path, "SELECT ok FROM checks WHERE rule LIKE '%natural_person%'")
    assert verdicts and all(ok for (ok,) in verdicts)
