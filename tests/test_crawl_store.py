"""The crawl's store (SQLite and PostgreSQL): the fetch log and the validators per URL; a new
version of a document keeps a reviewer's value where the print agrees and flags it where the
agency printed another number."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from alembic import command
from review_samples import WRONG_CELL, broken_html

from gongkai.extractors.anomalies import find_anomalies
from gongkai.extractors.pipeline import extract_file
from gongkai.models.review import QueueFilter
from gongkai.review.service import ReviewService
from gongkai.store.analytics import export_analytics, load_analytics
from gongkai.store.crawl import CrawlLog, FetchRecord
from gongkai.store.operational import OperationalStore, alembic_config
from gongkai.store.versions import carry_reviews

PASSWORD = "correct horse battery"
URL = "http://127.0.0.1:1/nb/t1.htm"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReviewService]:
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    svc = ReviewService(url)
    svc.store.migrate()
    yield svc
    svc.close()


def test_fetch_log_and_validators(service: ReviewService) -> None:
    log = CrawlLog(service.store)
    assert log.known(URL) is None
    log.record(FetchRecord("run-1", "站", "report", URL, "new", http_status=200, etag='"a"',
                           last_modified="Tue, 14 Nov 2023 22:13:20 GMT", size_bytes=10, sha256="a" * 64,
                           media_type="text/html"), path="crawl/files/" + "a" * 64 + ".html")
    known = log.known(URL)
    assert (known.etag, known.sha256, known.path) == ('"a"', "a" * 64, "crawl/files/" + "a" * 64 + ".html")
    log.record(FetchRecord("run-2", "站", "report", URL, "not_modified", http_status=304, etag='"a"'))
    log.record(FetchRecord("run-2", "站", "attachment", URL + "x", "refused", reason="disallowed by robots.txt"))
    assert log.known(URL).sha256 == "a" * 64 and log.known(URL + "x") is None  # a refusal learns nothing
    log.record(FetchRecord("run-3", "站", "report", URL, "changed", http_status=200, etag='"b"', sha256="b" * 64))
    assert log.known(URL).etag == '"b"'
    log.set_report_links(URL, 7)
    assert log.known(URL).report_links == 7
    assert [r["outcome"] for r in log.fetches()] == ["new", "not_modified", "refused", "changed"]
    assert [r["reason"] for r in log.fetches("run-2")] == [None, "disallowed by robots.txt"]
    with pytest.raises(sa.exc.IntegrityError):  # the outcome is one of the known ones
        log.record(FetchRecord("run-4", "站", "report", URL, "fine"))


def _version(service: ReviewService, folder: Path, name: str, printed: int) -> str:
    result = extract_file(broken_html(folder, name, new_value=printed))
    return service.store.save_result(result, source_url=URL).sha256


def test_new_version_keeps_a_correction_where_the_print_agrees(service: ReviewService, tmp_path: Path) -> None:
    old = _version(service, tmp_path, "v1.html", 31)
    wang = service.add_user(None, "wang", "reviewer", PASSWORD)
    item = next(i for i in service.queue(wang, QueueFilter()) if i.field_id == WRONG_CELL)
    service.correct(wang, item.id, 13)
    assert CrawlLog(service.store).previous_document(URL, "0" * 64) == old

    # the same print (the page changed elsewhere): wang's 13 carries over, nobody is asked again
    (tmp_path / "v2").mkdir()
    text = (
        broken_html(tmp_path / "v2", "v2.html", 31).read_text(encoding="utf-8").replace("</body>", "<p>更新</p></body>")
    )
    (tmp_path / "v2" / "v2.html").write_text(text, encoding="utf-8")
    same = service.store.save_result(extract_file(tmp_path / "v2" / "v2.html"), source_url=URL).sha256
    assert carry_reviews(service.store, old, same).carried == 1
    field = next(service.store.iter_fields(sha256=same, field_id=WRONG_CELL))
    assert (field.value, field.status, field.raw.strip()) == (13, "corrected", "31")
    assert not [
        i for i in service.queue(wang, QueueFilter()) if i.field_id == WRONG_CELL and i.report_id == field.report_id
    ]

    # the agency printed another number: not carried, and in review beside wang's value
    other = _version(service, tmp_path, "v3.html", 14)
    counts = carry_reviews(service.store, same, other)
    assert (counts.carried, counts.disagreed) == (0, 1)
    field = next(service.store.iter_fields(sha256=other, field_id=WRONG_CELL))
    assert (field.value, field.status) == (14, "needs_review")
    (conflict,) = [i for i in service.queue(wang, QueueFilter())
                   if i.field_id == WRONG_CELL and i.report_id == field.report_id]
    assert "pipeline now reads 14" in conflict.reasons[0] and "wang set 13" in conflict.reasons[0]


def test_a_new_version_supersedes_the_old_one(service: ReviewService, tmp_path: Path) -> None:
    old = _version(service, tmp_path, "v1.html", 31)
    wang = service.add_user(None, "wang", "reviewer", PASSWORD)
    item = next(i for i in service.queue(wang, QueueFilter()) if i.field_id == WRONG_CELL)
    service.correct(wang, item.id, 13)
    old_pending = [i.id for i in service.queue(wang, QueueFilter())]
    assert old_pending  # the unmapped row and the unrecognised field are still open on v1
    claimed = service.claim(wang, old_pending[0])
    assert claimed.state == "claimed"
    assert service.store.get_document(old).superseded_by is None
    (tmp_path / "v2").mkdir()
    text = (
        broken_html(tmp_path / "v2", "v2.html", 31).read_text(encoding="utf-8").replace("</body>", "<p>更新</p></body>")
    )
    (tmp_path / "v2" / "v2.html").write_text(text, encoding="utf-8")
    new = service.store.save_result(extract_file(tmp_path / "v2" / "v2.html"), source_url=URL).sha256
    counts = carry_reviews(service.store, old, new)
    assert counts.carried == 1 and counts.superseded_items == len(old_pending)

    stored = service.store.get_document(old)
    assert stored.superseded_by == new and stored.superseded_at is not None
    assert service.store.get_document(new).superseded_by is None
    assert [r.sha256 for r in service.store.iter_reports()] == [new]  # analysts see one report
    assert {r.sha256 for r in service.store.iter_reports(include_superseded=True)} == {old, new}
    assert {f.sha256 for f in service.store.iter_fields()} == {new}
    assert not list(service.store.iter_fields(sha256=old))
    assert next(service.store.iter_fields(sha256=old, field_id=WRONG_CELL, include_superseded=True)).value == 13

    # the old version's pending items are closed, each with a 'superseded' audit row; none is left in the queue
    queue = service.queue(wang, QueueFilter())
    assert queue and not {i.id for i in queue} & set(old_pending)
    assert not [i for i in service.queue(wang, QueueFilter(states=["resolved", "skipped"])) if i.document_sha256 == old]
    assert all(g.report_id in {r.report_id for r in service.store.iter_reports()}
               for g in service.queue_groups(wang, QueueFilter()))
    assert sum(service.queue_size_by_reason().values()) >= len(queue)
    admin = service.add_user(None, "li", "admin", PASSWORD)
    for item_id in old_pending:
        (audit,) = [a for a in service.audit(admin, item_id) if a.action == "superseded"]
        assert audit.user is None and new[:12] in audit.note
        assert service.item(admin, item_id).state == "resolved"
    # wang's own correction on v1 keeps its item and its audit row as they were
    assert [a.action for a in service.audit(admin, item.id)] == ["correct"]
    assert service.item(admin, item.id).state == "resolved"

    # analytics: one report for the page, the new one, with wang's value; the export agrees
    analytics = tmp_path / "analytics.duckdb"
    counts = load_analytics(service.store, analytics, find_anomalies=find_anomalies)
    assert counts["reports"] == 1
    with duckdb.connect(str(analytics), read_only=True) as con:
        assert con.execute("select sha256 from reports").fetchall() == [(new,)]
        assert con.execute("select value from field_values where field_id = ?", [WRONG_CELL]).fetchall() == [(13,)]
        assert con.execute("select sha256 from wide_requests").fetchall() == [(new,)]
    for complete_only in (False, True):
        export_analytics(analytics, tmp_path / f"out{complete_only}", "csv", complete_only=complete_only)
        with duckdb.connect() as con:
            rows = con.execute(
                f"select sha256 from read_csv_auto('{tmp_path / f'out{complete_only}' / 'reports.csv'}')"
            )
            assert old not in {r[0] for r in rows.fetchall()}

    # the old version is still stored and loadable (gongkai show <sha>)
    loaded = service.store.load_result(old)
    assert loaded.source.sha256 == old and loaded.reports
    assert {f.id: f.value for f in loaded.reports[0].fields}[WRONG_CELL] == 13


def test_migration_0004_downgrades_and_upgrades_keeping_documents(service: ReviewService, tmp_path: Path) -> None:
    old = _version(service, tmp_path, "v1.html", 31)
    before = service.store.table_counts()
    cfg = alembic_config(service.store.url)
    command.downgrade(cfg, "0003")
    with service.store.engine.connect() as conn:
        assert "superseded_by" not in {c["name"] for c in sa.inspect(conn).get_columns("documents")}
    command.upgrade(cfg, "head")
    after = OperationalStore(service.store.url)
    try:
        assert after.get_document(old).superseded_by is None
        counts = after.table_counts()
        for table in ("documents", "reports", "fields", "review_queue", "unmapped", "checks"):
            assert counts[table] == before[table], table  # a rebuilt table would have cascaded
    finally:
        after.close()
