"""Corrections reach the analysts: the DuckDB analytics store after a reviewer's save,
also while another process (a running `gongkai run`) holds the DuckDB file; and
`gongkai export --complete-only`."""
from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from review_samples import WRONG_CELL, service_with_broken_report
from typer.testing import CliRunner

from gongkai.cli import app
from gongkai.extractors.anomalies import find_anomalies
from gongkai.models.review import QueueFilter, User
from gongkai.review.service import ReviewService

PASSWORD = "correct horse battery"


@pytest.fixture
def service(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewService]:
    with service_with_broken_report(f"sqlite:///{tmp_path / 'ops.sqlite'}", tmp_path / "analytics.duckdb",
                                    tmp_path_factory.getbasetemp() / "review-samples") as svc:
        yield svc


@pytest.fixture
def wang(service: ReviewService) -> User:
    return service.add_user(None, "wang", "reviewer", PASSWORD)


def _analytics_value(path: Path, field_id: str) -> tuple | None:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT status, value FROM field_values WHERE field_id = ?", [field_id]).fetchone()
    finally:
        con.close()


def _item(service: ReviewService, actor: User, field_id: str) -> int:
    return next(i.id for i in service.queue(actor, QueueFilter()) if i.field_id == field_id)


def test_a_correction_is_in_analytics_when_the_request_returns(service: ReviewService, wang: User) -> None:
    service.correct(wang, _item(service, wang, WRONG_CELL), 13)
    assert _analytics_value(service.analytics.path, WRONG_CELL) == ("corrected", 13.0)
    # the fields the rule now confirms reach the analysts too
    assert _analytics_value(service.analytics.path, "requests.new.total") == ("accepted", 13.0)


def test_a_locked_analytics_file_is_refreshed_by_a_retry(service: ReviewService, wang: User) -> None:
    """Another writer (a running `gongkai run`) holds the analytics file's writer lock."""
    path = service.analytics.path
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from gongkai.store.analytics_file import writer_lock\n"
         "with writer_lock(Path(sys.argv[1])):\n print('locked', flush=True); time.sleep(2.5)",
         str(path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        service.correct(wang, _item(service, wang, WRONG_CELL), 13)
        assert time.monotonic() - started < 2  # the request did not wait for the lock
        assert service.analytics.last_error and "being rebuilt" in service.analytics.last_error
    finally:
        holder.wait(30)
    assert service.analytics.wait(60)
    assert _analytics_value(path, WRONG_CELL) == ("corrected", 13.0)


def test_an_analysts_open_connection_does_not_delay_a_save(service: ReviewService, wang: User) -> None:
    """A notebook's read-only connection: the save's refresh goes through at once (the next
    version of the file is swapped in), and the notebook keeps the snapshot it opened."""
    path = service.analytics.path
    service.confirm(wang, _item(service, wang, "requests.new.total"))  # the file exists from here on
    before = _analytics_value(path, WRONG_CELL)
    reader = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); print('open', flush=True);"
         " sys.stdin.readline(); q = 'SELECT status, value FROM field_values WHERE field_id = ?';"
         " print(c.execute(q, [sys.argv[2]]).fetchone(), flush=True)",
         str(path), WRONG_CELL],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "open"
        service.correct(wang, _item(service, wang, WRONG_CELL), 13)
        assert service.analytics.last_error is None  # done in the request, no retry pending
        assert _analytics_value(path, WRONG_CELL) == ("corrected", 13.0)
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == repr(before)
    finally:
        reader.stdin.close()
        reader.wait(30)


def test_export_complete_only_leaves_out_reports_with_open_items(service: ReviewService, wang: User,
                                                                 tmp_path: Path) -> None:
    service.confirm(wang, _item(service, wang, WRONG_CELL))  # a save: analytics rebuilt, report still open
    runner = CliRunner()

    def exported(*flags: str) -> int:
        out = tmp_path / f"out{len(flags)}{time.monotonic_ns()}"
        result = runner.invoke(app, ["export", "--out", str(out), "--format", "csv",
                                     "--analytics", str(service.analytics.path), *flags])
        assert result.exit_code == 0, result.output
        con = duckdb.connect()
        try:
            return con.execute("SELECT count(*) FROM read_csv(?)", [str(out / "field_values.csv")]).fetchone()[0]
        finally:
            con.close()

    assert exported() > 150
    assert exported("--complete-only") == 0
    for item in service.queue(wang, QueueFilter()):
        if item.kind == "unmapped":
            service.map_row(wang, item.id, None)
        else:
            service.confirm(wang, item.id)
    assert service.report(wang, item.report_id).complete
    assert exported("--complete-only") == exported() > 150


def test_a_save_refreshes_its_report_as_a_full_rebuild_would(service: ReviewService, wang: User,
                                                             tmp_path: Path) -> None:
    from review_samples import broken_html

    from gongkai.extractors.pipeline import extract_file
    from gongkai.store.analytics import load_analytics

    service.store.save_result(extract_file(broken_html(tmp_path, "other.html", new_value=30)))
    service.confirm(wang, _item(service, wang, WRONG_CELL))  # the first save: a full build (no file yet)
    item_id = next(i.id for i in service.queue(wang, QueueFilter())
                   if i.field_id == WRONG_CELL and i.value == 30)
    service.correct(wang, item_id, 13)  # this one replaces the rows of its report only
    full = tmp_path / "full.duckdb"
    from gongkai.config import load_templates

    load_analytics(
        service.store,
        full,
        find_anomalies=find_anomalies,
        field_ids=[i for t in load_templates() for i in t.field_ids()],
    )

    def dump(path: Path) -> dict[str, list]:
        con = duckdb.connect(str(path), read_only=True)
        try:
            return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                    for t in ("reports", "field_values", "wide_requests", "wide_active", "wide_appeals")}
        finally:
            con.close()

    incremental, rebuilt = dump(service.analytics.path), dump(full)
    assert incremental == rebuilt
    assert ("corrected", 13.0) in {
        (r[11], r[9]) for r in incremental["field_values"] if r[8] == WRONG_CELL
    }  # agency_key is column 4
