"""Degradation is data (issue 11 item 15): what could not be read — a page that would not
decode, a table the detector gave up on, a damaged span, and what reading a page did — is in
the result (`status`, `page_errors`, `page_notes`), in the store, in `gongkai show`, in the
review app's lists and in the run's summary; a partial document's fields are still stored."""
from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image
from review_app import add_users, broken_sample, serve
from typer.testing import CliRunner

from gongkai.cli import app
from gongkai.extractors.anomalies import find_anomalies
from gongkai.extractors.pipeline import extract_document, extract_file
from gongkai.extractors.readers import read_document
from gongkai.models import ExtractionResult, PageError, PageNote
from gongkai.review.service import ReviewService
from gongkai.store.analytics import load_analytics
from gongkai.store.operational import OperationalStore
from samples import ROOT, seed

SCANS = ROOT / "samples" / "scans"
LOST = [PageError(page=n, stage="raster", kind="undecodable", message=f"frame {n} cannot be decoded: test")
        for n in (2, 4, 5)]


def partial_result(path: Path, lost: list[PageError] = LOST, warnings: list[str] = ()) -> ExtractionResult:
    """A real extraction of `path` whose reader also lost pages (as the scan path records them)."""
    document = read_document(path)
    document.page_errors = list(lost)
    document.warnings = list(warnings)
    return extract_document(document)


def test_a_document_read_whole_is_complete_and_says_so_in_its_json() -> None:
    result = extract_file(seed("001"))
    assert (result.status, result.page_errors, result.page_notes) == ("complete", [], [])
    assert json.loads(result.to_json())["status"] == "complete"


def test_page_errors_and_reader_warnings_make_it_partial_and_keep_every_field() -> None:
    whole = extract_file(seed("001"))
    result = partial_result(seed("001"), warnings=["page 3: bytes 120-180 could not be decoded",
                                                   "a damaged span at the end"])
    assert result.status == "partial"
    assert [(e.page, e.kind) for e in result.page_errors] == [
        (2, "undecodable"), (4, "undecodable"), (5, "undecodable"), (3, "reader-warning"), (None, "reader-warning")]
    assert [f.id for f in result.reports[0].fields] == [f.id for f in whole.reports[0].fields]  # nothing dropped
    data = json.loads(result.to_json())
    assert data["status"] == "partial" and len(data["page_errors"]) == 5
    assert data["page_errors"][0] == {"page": 2, "stage": "raster", "kind": "undecodable",
                                      "message": "frame 2 cannot be decoded: test"}
    assert ExtractionResult.model_validate_json(result.to_json()).status == "partial"  # the JSON reads back


def test_a_failed_document_is_failed() -> None:
    result = ExtractionResult.model_validate({"source": {"name": "x", "sha256": "0" * 64, "media_type": "x"},
                                              "error": {"stage": "read", "kind": "corrupt", "message": "m"}})
    assert result.status == "failed"


def test_the_store_keeps_page_errors_notes_and_a_partial_documents_fields(db_url: str) -> None:
    result = partial_result(seed("001"))
    result.page_notes = [PageNote(page=1, note="deskewed by 0.4°")]
    with OperationalStore(db_url) as store:
        store.migrate()
        saved = store.save_result(result)
        assert saved.fields == len(result.reports[0].fields) > 150
        loaded = store.load_result(result.source.sha256)
        assert loaded.status == "partial"
        assert loaded.page_errors == result.page_errors and loaded.page_notes == result.page_notes
        assert store.get_document(result.source.sha256).status == "partial"
        assert [r.document_status for r in store.iter_reports()] == ["partial"]
        assert sum(1 for _ in store.iter_fields()) == saved.fields
        # a re-extraction that reads everything replaces what the old one lost
        whole = extract_file(seed("001"))
        assert store.save_result(whole, reprocess=True).outcome == "reprocessed"
        again = store.load_result(result.source.sha256)
        assert (again.status, again.page_errors, store.get_document(whole.source.sha256).status) == (
            "complete", [], "complete")


def test_analysts_see_which_reports_come_from_partial_documents(tmp_path: Path) -> None:
    analytics = tmp_path / "a.duckdb"
    with OperationalStore(f"sqlite:///{tmp_path / 'ops.sqlite'}") as store:
        store.migrate()
        store.save_result(partial_result(seed("001")))
        store.save_result(extract_file(seed("004")))
        load_analytics(store, analytics, find_anomalies=find_anomalies)
    with duckdb.connect(str(analytics), read_only=True) as con:
        assert sorted(con.execute("select year, document_status from reports").fetchall()) == [
            (2017, "complete"), (2023, "partial")]


def test_gongkai_show_prints_a_partial_documents_page_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    result = partial_result(seed("001"))
    with OperationalStore(url) as store:
        store.migrate()
        store.save_result(result)
    shown = CliRunner().invoke(app, ["show", result.source.sha256, "--store", url])
    assert shown.exit_code == 0, shown.output
    assert "PARTIAL, 3 page error(s)" in shown.output
    assert "page 4: raster/undecodable: frame 4 cannot be decoded" in shown.output
    whole = CliRunner().invoke(app, ["show", str(seed("004"))])
    assert whole.exit_code == 0 and "PARTIAL" not in whole.output


@pytest.fixture()
def review_service(tmp_path: Path) -> Iterator[ReviewService]:
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    sample = broken_sample(tmp_path)  # needs review, so it is listed in the queue
    with OperationalStore(url) as store:
        store.migrate()
        store.save_result(partial_result(sample.path))
    service = ReviewService(url, None)
    add_users(service)
    yield service
    service.close()


def test_the_review_app_marks_a_partial_document_where_it_lists_it(review_service: ReviewService) -> None:
    from test_review_web import login

    with serve(review_service) as base:
        client = login(base, "rita")
        queue = client.get("/queue")
        assert queue.status_code == 200
        assert re.search(r'class="badge partial"[^>]*>partial · 3 page errors<', queue.text)
        report_id = re.search(r'href="/reports/(\d+)"', queue.text).group(1)
        page = client.get(f"/reports/{report_id}")
        assert page.status_code == 200 and 'id="page-errors"' in page.text
        assert "frame 5 cannot be decoded: test" in page.text
        groups = httpx.get(f"{base}/api/queue", cookies=client.cookies, timeout=30)
        assert groups.status_code == 200


# -- a real scan with three pages that cannot be decoded -----------------------------------
def tiff_with_corrupt_frames(path: Path, corrupt: tuple[int, ...]) -> int:
    """A multi-page TIFF: a scanned report page (200 dpi sample), then blank-looking pages; the
    frames numbered in `corrupt` get deflate data no decoder accepts. Returns the frame count."""
    pdf = pdfium.PdfDocument(str(SCANS / "000_liaocheng_wjw_2021_scan200.pdf"))
    first = pdf[0].render(scale=1.0).to_pil().convert("L")
    pdf.close()
    n_frames = max(corrupt) + 1
    filler = [Image.fromarray(np.full((300, 200), 255 - 7 * k, np.uint8)) for k in range(1, n_frames)]
    buffer = io.BytesIO()
    first.save(buffer, "TIFF", save_all=True, append_images=filler, compression="tiff_adobe_deflate")
    data = bytearray(buffer.getvalue())
    for number, (offsets, counts) in enumerate(_strips(buffer), start=1):
        if number in corrupt:
            for offset, count in zip(offsets, counts):
                data[offset:offset + count] = bytes(b ^ 0x5A for b in data[offset:offset + count])
    path.write_bytes(bytes(data))
    return n_frames


def _strips(buffer: io.BytesIO) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Each frame's StripOffsets and StripByteCounts (TIFF tags 273, 279)."""
    buffer.seek(0)
    with Image.open(buffer) as img:
        found = []
        for k in range(img.n_frames):
            img.seek(k)
            found.append((tuple(img.tag_v2[273]), tuple(img.tag_v2[279])))
    return found


@pytest.mark.slow
def test_a_scan_missing_three_pages_is_partial_in_json_store_show_and_run(tmp_path: Path) -> None:
    scan = tmp_path / "in" / "liaocheng_2021_damaged.tif"
    scan.parent.mkdir()
    frames = tiff_with_corrupt_frames(scan, corrupt=(2, 3, 5))
    out = tmp_path / "out"
    extracted = CliRunner().invoke(app, ["extract", str(scan), "--out", str(out), "--no-progress"])
    assert extracted.exit_code == 0 and "1 partial" in extracted.output, extracted.output
    data = json.loads((out / f"{scan.name}.json").read_text(encoding="utf-8"))
    assert data["status"] == "partial" and data["error"] is None
    assert [(e["page"], e["stage"], e["kind"]) for e in data["page_errors"]] == [
        (2, "raster", "undecodable"), (3, "raster", "undecodable"), (5, "raster", "undecodable")]
    assert data["source"]["pages"] == frames
    assert any(f["value"] is not None for r in data["reports"] for f in r["fields"])  # page 1 was read

    from gongkai.flows.process_documents import run_flow

    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    summary = run_flow([scan, seed("004")], url, tmp_path / "a.duckdb", progress=False)
    assert summary["partial"] == 1 and summary["page_errors"] == 3 and summary["inserted"] == 2
    with OperationalStore(url) as store:
        stored = store.load_result(data["source"]["sha256"])
    assert stored.status == "partial" and [e.page for e in stored.page_errors] == [2, 3, 5]
    assert sum(len(r.fields) for r in stored.reports) == sum(len(r["fields"]) for r in data["reports"])
    shown = CliRunner().invoke(app, ["show", data["source"]["sha256"], "--store", url])
    assert "PARTIAL, 3 page error(s)" in shown.output


def test_migration_0006_marks_stored_failures_failed_and_the_rest_complete(db_url: str) -> None:
    import sqlalchemy as sa
    from alembic import command

    from gongkai.store.operational import alembic_config

    store = OperationalStore(db_url)
    try:
        cfg = alembic_config()
        with store._write_transaction() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0005")
        with store._write_transaction() as conn:
            for sha, stage in (("a" * 64, None), ("b" * 64, "read")):
                conn.execute(sa.text(
                    "INSERT INTO documents (sha256, name, media_type, result_schema, created_at, error_stage,"
                    " error_kind, error_message) VALUES (:sha, 'x', 'text/plain', 'report-extraction/1',"
                    " CURRENT_TIMESTAMP, :stage, :kind, :msg)"),
                    {"sha": sha, "stage": stage, "kind": stage and "corrupt", "msg": stage and "bad"})
        store.migrate()
        assert store.get_document("a" * 64).status == "complete"
        assert store.get_document("b" * 64).status == "failed"
        assert store.load_result("b" * 64).status == "failed"
    finally:
        store.close()
