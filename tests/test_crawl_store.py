"""The crawl's store (SQLite and PostgreSQL): the fetch log and the validators per URL; a new
version of a document keeps a reviewer's value where the print agrees and flags it where the
agency printed another number."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from gongkai.extractors.pipeline import extract_file
from gongkai.models.review import QueueFilter
from gongkai.review.service import ReviewService
from gongkai.store.crawl import CrawlLog, FetchRecord
from gongkai.store.versions import carry_reviews

from review_samples import WRONG_CELL, broken_html

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
    text = broken_html(tmp_path / "v2", "v2.html", 31).read_text(encoding="utf-8").replace("</body>", "<p>更新</p></body>")
    (tmp_path / "v2" / "v2.html").write_text(text, encoding="utf-8")
    same = service.store.save_result(extract_file(tmp_path / "v2" / "v2.html"), source_url=URL).sha256
    assert carry_reviews(service.store, old, same).carried == 1
    field = next(service.store.iter_fields(sha256=same, field_id=WRONG_CELL))
    assert (field.value, field.status, field.raw.strip()) == (13, "corrected", "31")
    assert not [i for i in service.queue(wang, QueueFilter()) if i.field_id == WRONG_CELL and i.report_id == field.report_id]

    # the agency printed another number: not carried, and in review beside wang's value
    other = _version(service, tmp_path, "v3.html", 14)
    counts = carry_reviews(service.store, old, other)
    assert (counts.carried, counts.disagreed) == (0, 1)
    field = next(service.store.iter_fields(sha256=other, field_id=WRONG_CELL))
    assert (field.value, field.status) == (14, "needs_review")
    (conflict,) = [i for i in service.queue(wang, QueueFilter())
                   if i.field_id == WRONG_CELL and i.report_id == field.report_id]
    assert "pipeline now reads 14" in conflict.reasons[0] and "wang set 13" in conflict.reasons[0]
