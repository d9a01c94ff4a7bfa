"""Nothing vanishes: a template row the document lacks, or prints under a label gongkai cannot
read, is still in the result as null + needs_review with its reason; a reviewer's learned label
maps that row on the next document.

Fixtures are samples/rendered/000_liaocheng_wjw_2022 (gov-2021, every rule holds) edited in the
test: one 表三 row removed, relabelled, or the whole 表四 dropped.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from complete import NOT_FOUND, NOT_RECOGNISED, assert_complete

from gongkai.config import load_template
from gongkai.extractors.checks import run_checks
from gongkai.extractors.pipeline import extract_document, extract_file
from gongkai.extractors.readers import read_document
from gongkai.models import Document, ExtractionResult, FieldValue, LearnedLabel, Report
from gongkai.render import render_report
from samples import ROOT

RENDERED = ROOT / "samples" / "rendered"
PAGE = RENDERED / "000_liaocheng_wjw_2022.html"
PDF = RENDERED / "000_liaocheng_wjw_2022.pdf"
EXPECTED = json.loads((RENDERED / "000_liaocheng_wjw_2022.expected.json").read_text(encoding="utf-8"))["fields"]
LABEL = "2.没有现成信息需要另行制作"
UNKNOWN = "2.甲乙丙丁戊己庚辛"
ROW = "unavailable.needs_creation"
ROW_IDS = [i for i in EXPECTED if i.startswith(f"requests.{ROW}.")]
APPEALS = [i for i in EXPECTED if i.startswith("appeals.")]
COLUMNS = ["natural_person", "commercial", "research", "public_interest", "legal_service", "other_org", "total"]


def _tabular(result: ExtractionResult) -> Report:
    assert result.error is None, result.error
    (report,) = [r for r in result.reports if r.kind == "tabular"]
    return report


def _edited_page(tmp_path: Path, old: str, new: str) -> Path:
    html = PAGE.read_text(encoding="utf-8")
    assert html.count(old) == 1
    path = tmp_path / PAGE.name
    path.write_text(html.replace(old, new), encoding="utf-8")
    return path


def _row_html() -> str:
    found = re.search(rf"<tr><td>{re.escape(LABEL)}</td>.*?</tr>", PAGE.read_text(encoding="utf-8"))
    assert found
    return found.group(0)


def _values(report: Report, leave_out: list[str]) -> dict[str, object]:
    return {f.id: f.value for f in report.fields if f.id not in leave_out}


def _found(report: Report, not_found: dict[str, FieldValue]) -> list[FieldValue]:
    return [f for f in report.fields if f.id not in not_found]


@pytest.fixture(scope="module")
def original() -> Report:
    return _tabular(extract_file(PAGE))


def test_a_removed_row_is_listed_as_not_found(tmp_path: Path, original: Report) -> None:
    report = _tabular(extract_file(_edited_page(tmp_path, _row_html(), "")))
    not_found = assert_complete(report)
    assert sorted(not_found) == sorted(ROW_IDS)
    for field_id in ROW_IDS:
        field = not_found[field_id]
        assert (field.reasons, field.page, field.bbox) == ([NOT_FOUND], None, None)  # HTML: no geometry
        assert field.row_label == "2.没有现成信息需要另行制作" and field.col_label
        # the column rules leave it the only unknown: the rule's implied value is offered, not set
        assert field.suggestion == EXPECTED[field_id]
    assert _values(report, ROW_IDS) == _values(original, ROW_IDS)  # found fields keep their values
    # the rules are judged on what the document prints: the placeholders add no verdict of their own
    found = _found(report, not_found)
    assert report.checks == run_checks(load_template("gov-2021"), found)
    assert not any(set(ROW_IDS) & set(c.fields) for c in report.checks)


def test_a_dropped_table_lists_all_its_fields(tmp_path: Path, original: Report) -> None:
    html = PAGE.read_text(encoding="utf-8")
    table_four = re.search(r"<p><strong>四、政府信息公开行政复议.*?</table>", html, flags=re.S)
    assert table_four
    report = _tabular(extract_file(_edited_page(tmp_path, table_four.group(0), "")))
    not_found = assert_complete(report)
    assert sorted(not_found) == sorted(APPEALS) and len(APPEALS) == 15
    assert all(f.reasons == [NOT_FOUND] and f.suggestion is None for f in not_found.values())
    assert _values(report, APPEALS) == _values(original, APPEALS)
    assert all(f.status == "accepted" for f in _found(report, not_found))  # a missing table flags only itself


def test_an_unrecognised_row_names_its_printed_label(tmp_path: Path) -> None:
    path = _edited_page(tmp_path, f"<td>{LABEL}</td>", f"<td>{UNKNOWN}</td>")
    report = _tabular(extract_file(path))
    not_found = assert_complete(report)
    assert sorted(not_found) == sorted(ROW_IDS)
    assert all(f.reasons == [NOT_RECOGNISED + UNKNOWN] for f in not_found.values())
    assert {(u.table, u.row_label) for u in report.unmapped} == {("requests", UNKNOWN)}
    assert [u.raw for u in report.unmapped] == [str(EXPECTED[i]) for i in ROW_IDS]


def test_show_marks_a_not_found_field_for_review(tmp_path: Path) -> None:
    report = _tabular(extract_file(_edited_page(tmp_path, _row_html(), "")))
    line = next(line for line in render_report(report).splitlines() if line.startswith(LABEL[:10]))  # clipped
    assert line.split()[1:] == ["?"] * 7
    assert "? alone: not found in the document" in render_report(report)


def test_a_learned_label_maps_the_row_on_the_next_document(tmp_path: Path) -> None:
    path = _edited_page(tmp_path, f"<td>{LABEL}</td>", f"<td>{UNKNOWN}</td>")
    learned = [LearnedLabel(template="gov-2021", table="requests", row_id=ROW, label=UNKNOWN)]
    report = _tabular(extract_file(path, learned=learned))
    assert assert_complete(report) == {} and report.unmapped == []
    for field_id in ROW_IDS:
        field = report.field(field_id)
        assert field and field.value == EXPECTED[field_id] and field.row_label == UNKNOWN
        assert field.status == "accepted" and field.reasons == []  # every rule holds, as with a known alias
    assert not [c for c in report.checks if not c.ok]
    known = _tabular(extract_file(PAGE))
    assert [report.field(i).confidence for i in ROW_IDS] == [known.field(i).confidence for i in ROW_IDS]


@pytest.mark.parametrize("other", [
    LearnedLabel(template="gov-2019", table="requests", row_id=ROW, label=UNKNOWN),  # another template's variant
    LearnedLabel(template="gov-2021", table="requests", row_id="no.such.row", label=UNKNOWN),
])
def test_a_learned_label_counts_only_for_its_own_template_row(tmp_path: Path, other: LearnedLabel) -> None:
    path = _edited_page(tmp_path, f"<td>{LABEL}</td>", f"<td>{UNKNOWN}</td>")
    not_found = assert_complete(_tabular(extract_file(path, learned=[other])))
    assert sorted(not_found) == sorted(ROW_IDS)


# --- PDF: cells have pages and boxes, so the missing fields say where to look -----------------------


@pytest.fixture(scope="module")
def pdf_document() -> Document:
    return read_document(PDF)


def _label_cell(document: Document) -> tuple[int, int]:
    """(table index, row) of the printed row LABEL."""
    return next((k, c.row) for k, t in enumerate(document.tables()) for c in t.cells if c.text == LABEL)


def test_pdf_unrecognised_row_keeps_its_page_and_box(pdf_document: Document) -> None:
    document = pdf_document.model_copy(deep=True)
    k, row = _label_cell(document)
    cells = [c for c in document.tables()[k].cells if c.row == row]
    next(c for c in cells if c.text == LABEL).text = UNKNOWN
    report = _tabular(extract_document(document))
    not_found = assert_complete(report)
    assert sorted(not_found) == sorted(ROW_IDS)
    page = cells[0].page
    x0, y0 = min(c.bbox[0] for c in cells), min(c.bbox[1] for c in cells)
    x1, y1 = max(c.bbox[2] for c in cells), max(c.bbox[3] for c in cells)
    for field in not_found.values():
        assert field.reasons == [NOT_RECOGNISED + UNKNOWN]
        assert field.page == page and field.bbox == pytest.approx((x0, y0, x1, y1))
    assert [(u.page, u.bbox) for u in report.unmapped] == [(page, c.bbox) for c in cells if c.text != UNKNOWN]


def test_pdf_removed_row_points_at_its_table(pdf_document: Document) -> None:
    document = pdf_document.model_copy(deep=True)
    k, row = _label_cell(document)
    table = document.tables()[k]
    table.cells = [c for c in table.cells if c.row != row]
    report = _tabular(extract_document(document))
    not_found = assert_complete(report)
    assert sorted(not_found) == sorted(ROW_IDS)
    before = report.field("requests.unavailable.not_held.total")
    after = report.field("requests.unavailable.unclear.total")
    assert before and after and before.page == after.page
    for field in not_found.values():
        assert field.reasons == [NOT_FOUND] and field.page == before.page and field.bbox
        x0, y0, x1, y1 = field.bbox  # the table's extent on that page: around both neighbours
        assert all(x0 <= n.bbox[0] and y0 <= n.bbox[1] and n.bbox[2] <= x1 and n.bbox[3] <= y1 for n in (before, after))


# --- which rows are canonical: the one-row （六）其他处理 -------------------------------------------


def test_gov2019_lists_its_one_row_other_when_missing(tmp_path: Path) -> None:
    page = RENDERED / "002_shangcheng_wjj_2020.html"
    html = page.read_text(encoding="utf-8")
    row = re.search(r"<tr><td[^>]*>（六）其他处理</td>.*?</tr>", html)
    assert row and html.count(row.group(0)) == 1
    path = tmp_path / page.name
    path.write_text(html.replace(row.group(0), ""), encoding="utf-8")
    report = _tabular(extract_file(path))
    assert report.template == "gov-2019"
    not_found = assert_complete(report)
    assert sorted(not_found) == sorted(f"requests.other.{c}" for c in COLUMNS)
    assert not any(".other.no_correction." in f.id for f in report.fields)  # gov-2021's sub-rows are not 2019's


def test_gov2021_one_row_other_holds_its_sub_rows() -> None:
    report = _tabular(extract_file(ROOT / "tests" / "fixtures" / "unseen" / "u05_eling_zfb_2024.html"))
    assert report.template == "gov-2021" and report.field("requests.other.total")
    assert assert_complete(report) == {}
    assert not any(f.id.startswith("requests.other.") and f.id.count(".") == 3 for f in report.fields)
