"""Scanned reports end to end through the real OCR models (rapidocr's bundled PP-OCR).

The fixture is a born-digital seed report printed to 200 dpi grey images with skew,
noise and JPEG (bench/make_scans.py --fixture); its expected values were checked
against the seed by hand. Loading the models and reading the pages takes ~20 s.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from complete import assert_complete, is_not_found

from gongkai.extractors.pipeline import extract_document, extract_file
from gongkai.extractors.readers import read_document
from gongkai.extractors.scan.crops import CROP_MARGIN
from gongkai.models import Document, ExtractionResult
from samples import ROOT

SCANS = ROOT / "samples" / "scans"
COLUMNS = ["natural_person", "commercial", "research", "public_interest", "legal_service", "other_org", "total"]
FIXTURE = SCANS / "000_liaocheng_wjw_2021_scan200.pdf"
SCREENSHOT = SCANS / "003_changle_wjj_2021_screenshot.png"
# Screenshots whose table rules were erased (bench/make_scans.py --kinds lineless): tables
# rebuilt from the alignment of their text, a 2021-format report and a pre-2019 one.
LINELESS = [SCANS / "000_liaocheng_wjw_2022_lineless.png", SCANS / "004_helan_wjj_2017_lineless.png"]


@pytest.fixture(scope="module")
def scanned_document() -> Document:
    return read_document(FIXTURE)


@pytest.fixture(scope="module")
def scanned(scanned_document: Document) -> ExtractionResult:
    return extract_document(scanned_document.model_copy(deep=True))  # what extract_file does after reading


@pytest.mark.slow
@pytest.mark.parametrize("path", [FIXTURE, SCREENSHOT, *LINELESS],
                         ids=["scan200-pdf", "screenshot-png", "lineless-2021", "lineless-legacy"])
def test_scanned_report_every_field_right_none_wrong_accepted(path: Path, scanned: ExtractionResult) -> None:
    result = scanned if path == FIXTURE else extract_file(path)
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text(encoding="utf-8"))
    assert result.error is None, result.error
    (report,) = [r for r in result.reports if r.kind == "tabular"]
    assert (report.agency, report.year, report.template) == (expected["agency"], expected["year"], expected["template"])
    not_found = assert_complete(report)  # the template's other fields: null, needs_review, with their reason
    got = {f.id: f for f in report.fields if f.id not in not_found}
    assert set(got) == set(expected["fields"])
    wrong = {i: (got[i].raw, got[i].status) for i, v in expected["fields"].items() if got[i].value != v}
    assert wrong == {}
    assert sum(f.status == "accepted" for f in got.values()) >= 0.9 * len(got)


@pytest.mark.slow
def test_scanned_fields_carry_page_bbox_and_review_crops(scanned: ExtractionResult) -> None:
    (report,) = [r for r in scanned.reports if r.kind == "tabular"]
    found = [f for f in report.fields if not is_not_found(f)]
    assert all(f.source == "ocr" and f.page in (1, 2) and f.bbox is not None for f in found)
    review = [f for f in report.fields if f.status == "needs_review"]
    assert set(report.crops) == {f.id for f in review if f.bbox is not None}  # not found: its row's or table's
    for field_id, png in report.crops.items():
        crop = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
        field = next(f for f in review if f.id == field_id)
        x0, y0, x1, y1 = field.bbox
        assert crop is not None and abs(crop.shape[1] - (x1 - x0)) <= 14 and abs(crop.shape[0] - (y1 - y0)) <= 14
    assert "crops" not in scanned.to_json()


@pytest.mark.slow
def test_scanned_pages_come_as_grey_pngs_in_the_space_of_the_bboxes(scanned: ExtractionResult,
                                                                     scanned_document: Document) -> None:
    (report,) = [r for r in scanned.reports if r.kind == "tabular"]
    assert set(report.page_images) == {f.page for f in report.fields if f.page is not None} == {1, 2}
    pages = {number: _grey_page(png) for number, png in report.page_images.items()}
    assert all(
        f.bbox[2] <= pages[f.page].shape[1] and f.bbox[3] <= pages[f.page].shape[0] for f in report.fields if f.bbox
    )
    assert sum(len(png) for png in report.page_images.values()) < 600_000  # two 200 dpi pages, compact
    assert "page_images" not in scanned.to_json()
    # a 表三 row removed from the scan: its fields are not found, placed on the table, cropped from the same pixels
    document = scanned_document.model_copy(deep=True)
    table, row = next((t, c.row) for t in document.tables() for c in t.cells if "另行制作" in c.text)
    table.cells = [c for c in table.cells if c.row != row]
    (edited,) = [r for r in extract_document(document).reports if r.kind == "tabular"]
    not_found = assert_complete(edited)
    assert sorted(not_found) == [f"requests.unavailable.needs_creation.{c}" for c in sorted(COLUMNS)]
    assert all(f.page in pages and f.bbox for f in not_found.values()) and set(not_found) <= set(edited.crops)
    for field_id, png in edited.crops.items():  # each crop is cut from these pixels (the page in 16 grey levels)
        field = edited.field(field_id)
        crop = _grey_page(png).astype(int)
        x0, y0, x1, y1 = (int(v) for v in field.bbox)
        cut = pages[field.page][max(y0 - CROP_MARGIN, 0):y1 + CROP_MARGIN, max(x0 - CROP_MARGIN, 0):x1 + CROP_MARGIN]
        assert cut.shape == crop.shape and np.abs(cut.astype(int) - crop).max() <= 16


def _grey_page(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[25] == 0  # IHDR colour type 0: grey
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None and image.ndim == 2
    return image
