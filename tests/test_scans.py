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

from gongkai.extractors.pipeline import extract_file
from gongkai.models import ExtractionResult
from complete import assert_complete
from samples import ROOT

SCANS = ROOT / "samples" / "scans"
FIXTURE = SCANS / "000_liaocheng_wjw_2021_scan200.pdf"
SCREENSHOT = SCANS / "003_changle_wjj_2021_screenshot.png"
# Screenshots whose table rules were erased (bench/make_scans.py --kinds lineless): tables
# rebuilt from the alignment of their text, a 2021-format report and a pre-2019 one.
LINELESS = [SCANS / "000_liaocheng_wjw_2022_lineless.png", SCANS / "004_helan_wjj_2017_lineless.png"]


@pytest.fixture(scope="module")
def scanned() -> ExtractionResult:
    return extract_file(FIXTURE)


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
    assert all(f.source == "ocr" and f.page in (1, 2) and f.bbox is not None for f in report.fields)
    review = [f for f in report.fields if f.status == "needs_review"]
    assert set(report.crops) == {f.id for f in review}
    for field_id, png in report.crops.items():
        crop = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
        field = next(f for f in review if f.id == field_id)
        x0, y0, x1, y1 = field.bbox
        assert crop is not None and abs(crop.shape[1] - (x1 - x0)) <= 14 and abs(crop.shape[0] - (y1 - y0)) <= 14
    assert "crops" not in scanned.to_json()
