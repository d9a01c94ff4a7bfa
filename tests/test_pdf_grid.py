"""Born-digital PDFs through the grid detection of the scan path, filled from the text layer.

tests/fixtures/hard/ (scripts/render_hard_pdfs.py): six unseen reports with value cells spanning
several columns, labels running across the cell rule and narrow columns headed vertically, each
drawn by reportlab (h*) and by fpdf2 (f*), an independent library. tests/fixtures/titlegap/: a
report whose 表三 and 表四 stand on one page with only the 四、 title line between them
(issue 11 item 2), born-digital and scanned at 200 dpi.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from complete import assert_complete

from gongkai.extractors.pipeline import extract_file
from gongkai.extractors.readers import read_document
from gongkai.extractors.scan.grid import find_grids
from gongkai.models import Document, Report, Table
from samples import ROOT

HARD = ROOT / "tests" / "fixtures" / "hard"
TITLEGAP = ROOT / "tests" / "fixtures" / "titlegap" / "t01_xiangshui_xzf_2024.pdf"
TITLEGAP_SCAN = TITLEGAP.with_name(TITLEGAP.stem + "_scan200.pdf")
REPORTLAB = sorted(HARD.glob("h*.pdf"))
FPDF = sorted(HARD.glob("f*.pdf"))


def _expected(doc: Path) -> dict:
    return json.loads(doc.with_name(doc.stem + ".expected.json").read_text(encoding="utf-8"))


def _report(doc: Path) -> Report:
    result = extract_file(doc)
    assert result.error is None, result.error
    (report,) = [r for r in result.reports if r.kind == "tabular"]
    return report


def _same(got: float | None, want: float | None) -> bool:
    return got is None and want is None or (got is not None and want is not None and abs(got - want) < 1e-6)


def _misses(doc: Path, report: Report, prefix: str = "") -> dict[str, tuple]:
    """Expected fields (starting with `prefix`) that are absent, or wrong and accepted; and
    asserts every other expected field is right or sent to review."""
    expected = _expected(doc)
    assert (report.agency, report.year, report.template) == (expected["agency"], expected["year"], expected["template"])
    not_found = assert_complete(report)
    got = {f.id: f for f in report.fields}
    bad = {}
    for field_id, want in expected["fields"].items():
        if not field_id.startswith(prefix):
            continue
        field = got.get(field_id)
        if field is None or field_id in not_found:
            bad[field_id] = ("absent",)
        elif not _same(field.value, want) and field.status == "accepted":
            bad[field_id] = ("wrong and accepted", field.raw, want)
    return bad


def test_the_hard_sets_are_there() -> None:
    assert len(REPORTLAB) == len(FPDF) == 6
    assert {_expected(p)["template"] for p in REPORTLAB} == {"gov-2019", "gov-2021"}
    for path in FPDF:  # fpdf2 really drew them: its producer, not reportlab's
        pdf = pdfium.PdfDocument(path)
        meta = pdf.get_metadata_dict()
        assert meta["Producer"].startswith("fpdf2") and meta["Creator"].endswith("pdf_fpdf.py")
        pdf.close()


@pytest.mark.parametrize("doc", REPORTLAB + FPDF, ids=[p.name for p in REPORTLAB + FPDF])
def test_hard_pdf_every_field_right_or_sent_to_review_none_absent(doc: Path) -> None:
    report = _report(doc)
    assert _misses(doc, report) == {}
    expected = _expected(doc)["fields"]
    right = sum(_same(report.field(i).value, v) for i, v in expected.items())
    assert right == len(expected)  # measured: every field right on both libraries' PDFs


@pytest.mark.parametrize("doc", [REPORTLAB[0], FPDF[0]], ids=["reportlab", "fpdf2"])
def test_hard_pdf_structure_merged_cells_vertical_heads_and_points(doc: Path) -> None:
    document = read_document(doc)
    active, requests, appeals = document.tables()
    licensing = next(c for c in active.cells if c.text == "行政许可")
    (decisions,) = [c for c in active.cells if c.row == licensing.row and c.col > 0]  # one value across them all
    assert decisions.col_span == active.n_cols - 1 >= 3 and decisions.text[0].isdigit()
    label = next(c for c in active.cells if c.text == "行政规范性文件")  # drawn across its cell's rule
    assert label.col == 0 and label.col_span == 1
    heads = [c.text for c in appeals.cells if c.row in (1, 2)]
    assert heads.count("结 果 维 持") == 3 and heads.count("总 计") == 3  # one character a line, one cell
    assert "商 业 企 业" in [c.text for c in requests.cells]
    # reportlab breaks 表三 over two pages (joined again); fpdf2's renderer moves a table whole
    assert requests.continued_from_previous == (doc in REPORTLAB)
    _assert_boxes_in_points(document, doc)


def _assert_boxes_in_points(document: Document, path: Path) -> None:
    """Every cell's bbox is in PDF points, top-left origin: its text's characters lie inside it."""
    pdf = pdfium.PdfDocument(path)
    try:
        for table in document.tables():
            for cell in table.cells:
                page = document.pages[cell.page - 1]
                x0, y0, x1, y1 = cell.bbox
                assert 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height
            number = max((c for c in table.cells if c.text.isdigit()), key=lambda c: len(c.text))
            textpage = pdf[number.page - 1].get_textpage()
            top = pdf[number.page - 1].get_bbox()[3]
            x0, y0, x1, y1 = number.bbox
            hits = [i for i in range(textpage.count_chars()) if textpage.get_text_range(i, 1) == number.text[0]]
            boxes = [textpage.get_charbox(i) for i in hits]
            assert any(x0 <= (b[0] + b[2]) / 2 <= x1 and y0 <= top - (b[1] + b[3]) / 2 <= y1 for b in boxes)
    finally:
        pdf.close()


def _appeals_and_requests(document: Document) -> tuple[Table, Table]:
    tables = document.tables()
    requests = next(t for t in tables if any("本年新收" in c.text for c in t.cells))
    appeals = next(t for t in tables if any("复议后起诉" in c.text for c in t.cells))
    return requests, appeals


def test_titlegap_born_digital_tables_apart_and_appeals_right() -> None:
    document = read_document(TITLEGAP)
    requests, appeals = _appeals_and_requests(document)
    assert requests is not appeals and requests.page == appeals.page and not appeals.continued_from_previous
    assert 0 < appeals.bbox[1] - requests.bbox[3] < 30  # points: the title line is all that lies between
    between = [b.text for b in document.blocks if b.type == "text" and b.page == requests.page
               and requests.bbox[3] <= b.bbox[1] <= appeals.bbox[1]]
    assert between == ["四、政府信息公开行政复议、行政诉讼情况"]
    report = _report(TITLEGAP)
    assert _misses(TITLEGAP, report) == {}
    appeals_fields = {i: v for i, v in _expected(TITLEGAP)["fields"].items() if i.startswith("appeals.")}
    assert len(appeals_fields) == 15 and all(_same(report.field(i).value, v) for i, v in appeals_fields.items())


@pytest.mark.slow
def test_titlegap_scan_tables_apart_and_every_appeals_field_right() -> None:
    report = _report(TITLEGAP_SCAN)
    assert _misses(TITLEGAP_SCAN, report) == {}
    expected = _expected(TITLEGAP_SCAN)["fields"]
    appeals_fields = {i: v for i, v in expected.items() if i.startswith("appeals.")}
    assert len(appeals_fields) == 15
    assert {i: report.field(i).raw for i, v in appeals_fields.items() if not _same(report.field(i).value, v)} == {}


def _two_tables_and_title_strokes(gap: int) -> np.ndarray:
    """A 200 dpi page: a 4-row table, a `gap` px band with upright strokes that touch both tables
    (a bold title line set tight), a 3-row table of other columns."""
    page = np.full((2339, 1654), 255, np.uint8)

    def table(top: int, rows: int, cols: list[int]) -> int:
        ys = [top + 45 * i for i in range(rows + 1)]
        for y in ys:
            cv2.line(page, (cols[0], y), (cols[-1], y), 0, 2)
        for x in cols:
            cv2.line(page, (x, ys[0]), (x, ys[-1]), 0, 2)
        return ys[-1]

    bottom = table(300, 4, [200, 500, 800, 1100, 1400])
    for x in range(230, 700, 41):  # strokes of the title's characters, nearly its whole height
        cv2.line(page, (x, bottom + 6), (x, bottom + gap - 6), 0, 4)
    table(bottom + gap, 3, [200, 320, 440, 560, 680, 800, 920, 1040, 1160, 1280, 1400])
    return page


def test_grid_a_title_band_between_two_tables_separates_them() -> None:
    grids = find_grids(_two_tables_and_title_strokes(50))
    assert [(g.n_rows, g.n_cols) for g in grids] == [(4, 4), (3, 10)]


def test_grid_a_table_with_a_full_width_row_stays_one() -> None:
    page = np.full((2339, 1654), 255, np.uint8)
    ys = [300 + 45 * i for i in range(6)]
    for y in ys:
        cv2.line(page, (200, y), (1400, y), 0, 2)
    for x in (200, 1400):
        cv2.line(page, (x, ys[0]), (x, ys[-1]), 0, 2)
    for x in (500, 800, 1100):  # a section title row (row 2) spans every column
        cv2.line(page, (x, ys[0]), (x, ys[2]), 0, 2)
        cv2.line(page, (x, ys[3]), (x, ys[-1]), 0, 2)
    (grid,) = find_grids(page)
    assert (grid.n_rows, grid.n_cols) == (5, 4)
    assert any(c.row == 2 and c.col_span == 4 for c in grid.cells)


def test_a_page_turned_by_its_rotate_reads_the_same_tables(tmp_path: Path) -> None:
    """pdfium renders a page turned by /Rotate while the text layer's boxes are not turned."""
    pdf = pdfium.PdfDocument(REPORTLAB[0])
    for i in range(len(pdf)):
        pdf[i].set_rotation(90)
    turned = tmp_path / "turned.pdf"
    pdf.save(turned)
    pdf.close()

    def tables(path: Path) -> list[tuple]:
        return [(t.n_rows, t.n_cols, [(c.row, c.col, c.text) for c in t.cells]) for t in read_document(path).tables()]

    assert tables(turned) == tables(REPORTLAB[0]) and len(tables(turned)) == 3
