"""Two value columns where the form has one: flagged, never resolved by picking a column.

A real document printing two years side by side (宿迁 2023 | 2024) was read as one 2023 report
and four 2024 values of 表二 were accepted. Fixtures are samples/rendered/000_liaocheng_wjw_2022
(gov-2021, every rule holds) edited in the test: every table, or one, printed for two years
(a header row 2021年 | 2022年, each value row followed by the second year's values), and a single
report whose 表二 row prints one value cell more than the form has.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gongkai.extractors.headers import is_year_row, years_in
from gongkai.extractors.pipeline import extract_file
from gongkai.models import Cell, ExtractionResult, Report
from samples import ROOT

RENDERED = ROOT / "samples" / "rendered"
NAME = "000_liaocheng_wjw_2022"
EXPECTED = json.loads((RENDERED / f"{NAME}.expected.json").read_text(encoding="utf-8"))["fields"]
_CELL = re.compile(r"<td[^>]*>([^<]*)</td>")


def _second_year(row: re.Match[str], blank_first: bool) -> str:
    """The row with the other year's values after its own (each one more; blank stays blank)."""
    html = row[0]
    values = [c for c in _CELL.findall(html) if re.fullmatch(r"\d*", c)]
    if not values:
        return html
    if blank_first:  # this year's cells left blank: only the other year's values are printed
        html = re.sub(r"<td([^>]*)>\d+</td>", r"<td\1></td>", html)
    return html.replace("</tr>", "".join(f"<td>{int(v) + 1 if v else ''}</td>" for v in values) + "</tr>")


def _in_pairs(table: str, header: str, blank_first: bool = False) -> str:
    table = re.sub(r"<tr>(?:(?!</tr>).)*</tr>", lambda m: _second_year(m, blank_first), table)
    return table.replace("<tbody>", f"<tbody>\n{header}", 1)


def _page(tmp_path: Path, tables: list[int], header: str, blank_first: bool = False) -> Path:
    html = (RENDERED / f"{NAME}.html").read_text(encoding="utf-8")
    found = list(re.finditer(r"<table.*?</table>", html, flags=re.S))
    assert len(found) == 3
    for k in sorted(tables, reverse=True):
        match = found[k]
        html = html[: match.start()] + _in_pairs(match[0], header, blank_first) + html[match.end():]
    path = tmp_path / f"{NAME}.html"
    path.write_text(html, encoding="utf-8")
    return path


def _only(result: ExtractionResult) -> Report:
    assert result.error is None, result.error
    (report,) = result.reports
    return report


YEARS = "<tr><td>项目</td><td>2021年</td><td>2022年</td></tr>"
BARE_YEARS = "<tr><td>年度</td><td>2021</td><td>2022</td></tr>"


@pytest.mark.parametrize("header", [YEARS, BARE_YEARS], ids=["2021年|2022年", "2021|2022"])
def test_a_document_whose_tables_all_come_in_year_pairs_is_a_comparison(tmp_path: Path, header: str) -> None:
    report = _only(extract_file(_page(tmp_path, [0, 1, 2], header)))
    assert report.kind == "not-a-report"
    assert report.kind_reason and "comparison" in report.kind_reason and "2021, 2022" in report.kind_reason
    assert report.fields == [] and report.template is None


def test_a_comparison_with_one_years_cells_blank_is_not_read_as_the_other_year(tmp_path: Path) -> None:
    report = _only(extract_file(_page(tmp_path, [0, 1, 2], YEARS, blank_first=True)))
    assert report.kind == "not-a-report" and report.kind_reason
    assert not [f for f in report.fields if f.status == "accepted"]


def test_one_table_in_year_pairs_sends_its_fields_to_review(tmp_path: Path) -> None:
    """A report whose 表二 prints two years: no 表二 value is taken from a guessed column."""
    report = _only(extract_file(_page(tmp_path, [0], YEARS, blank_first=True)))
    assert report.kind == "tabular" and report.kind_reason is None
    active = [f for f in report.fields if f.id.startswith("active.")]
    assert active and all(f.status == "needs_review" for f in active)
    printed = [f for f in active if f.raw != ""]
    assert printed and all(any("several years side by side (2021, 2022)" in r for r in f.reasons) for f in printed)
    assert all(f.value is None for f in printed)  # never the 2022 column's value
    others = [f for f in report.fields if not f.id.startswith("active.")]
    assert {f.id: f.value for f in others} == {k: v for k, v in EXPECTED.items() if not k.startswith("active.")}
    assert all(f.status == "accepted" for f in others if f.value is not None)


def test_a_row_with_an_extra_value_cell_is_flagged_and_no_column_picked(tmp_path: Path) -> None:
    html = (RENDERED / f"{NAME}.html").read_text(encoding="utf-8")
    row = '<tr><td>行政处罚</td><td colspan="3">612</td></tr>'
    assert html.count(row) == 1
    path = tmp_path / f"{NAME}.html"
    path.write_text(
        html.replace(row, '<tr><td>行政处罚</td><td colspan="2">612</td><td>640</td></tr>'), encoding="utf-8"
    )
    report = _only(extract_file(path))
    assert report.kind == "tabular"
    field = report.field("active.penalty.decisions")
    assert field.status == "needs_review" and field.value is None and field.raw == "612"
    assert any("row has 2 value cells where the form has 1 (612 | 640)" in r and "no column is picked" in r
               for r in field.reasons), field.reasons
    assert [(u.table, u.row_label, u.raw) for u in report.unmapped] == [("active", "行政处罚", "640")]
    rest = [f for f in report.fields if f.id != "active.penalty.decisions" and f.id in EXPECTED]
    assert {f.id: f.value for f in rest} == {k: v for k, v in EXPECTED.items() if k != "active.penalty.decisions"}
    assert all(f.status == "accepted" for f in rest if f.value is not None)


def test_years_head_columns_only_one_to_a_cell() -> None:
    assert years_in(["信息内容", "2023年本年制发件数", "2024年本年制发件数"]) == [2023, 2024]
    assert years_in(["2024年度", "２０２３"]) == [2023, 2024]
    assert years_in(["统计期限：2022年12月1日至2023年11月30日", "自然人"]) == []  # a period, not two columns
    cells = [Cell(row=0, col=k, text=t) for k, t in enumerate(["2023", "2024"])]
    assert is_year_row(cells)
    assert not is_year_row([Cell(row=0, col=k, text=t) for k, t in enumerate(["1950", "2030", "2001"])])
    assert not is_year_row(cells[:1])
