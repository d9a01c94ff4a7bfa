"""Shortened row labels that keep the distinctive words map to their row.

A real comparison document prints `1.逾期不补正` and `2.逾期不缴费` for the gov-2021 其他处理
rows: the first went to the 2019 form's single requests.other.*, the second was dropped.
The fixture is samples/rendered/000_liaocheng_wjw_2022 (gov-2021, every rule holds) with five
row labels shortened in the test, each too short for whole-label similarity.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from gongkai.config import load_template
from gongkai.extractors.pipeline import extract_file
from gongkai.extractors.shortlabels import distinctive_part, in_order, short_label_match, short_label_names
from gongkai.extractors.text import label_similarity
from gongkai.models import Report
from samples import ROOT

RENDERED = ROOT / "samples" / "rendered"
NAME = "000_liaocheng_wjw_2022"
EXPECTED = json.loads((RENDERED / f"{NAME}.expected.json").read_text(encoding="utf-8"))["fields"]
NO_CORRECTION = "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"
UNPAID_FEE = "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"
SHORTENED = {  # printed label -> (form label, row id, every character found in order)
    "1.逾期不补正": (NO_CORRECTION, "other.no_correction", True),
    "2.逾期不缴费": (UNPAID_FEE, "other.unpaid_fee", False),  # 不 is not in the form's label
    "一、本年新收申请": ("一、本年新收政府信息公开申请数量", "new", True),
    "二、上年结转申请": ("二、上年结转政府信息公开申请数量", "carried_over", True),
    "（二）部分公开": ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "partial", True),
}
COLUMNS = ["natural_person", "commercial", "research", "public_interest", "legal_service", "other_org", "total"]


def _page(tmp_path: Path, labels: dict[str, str]) -> Path:
    html = (RENDERED / f"{NAME}.html").read_text(encoding="utf-8")
    for form, printed in labels.items():
        assert html.count(f">{form}<") == 1, form
        html = html.replace(f">{form}<", f">{printed}<")
    path = tmp_path / f"{NAME}.html"
    path.write_text(html, encoding="utf-8")
    return path


def _tabular(path: Path) -> Report:
    result = extract_file(path)
    assert result.error is None, result.error
    (report,) = [r for r in result.reports if r.kind == "tabular"]
    return report


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    labels = {form: printed for printed, (form, _, _) in SHORTENED.items()}
    return _tabular(_page(tmp_path_factory.mktemp("short"), labels))


def test_the_shortenings_are_too_short_for_whole_label_similarity() -> None:
    assert all(label_similarity(printed, form) < 0.62 for printed, (form, _, _) in SHORTENED.items())


def test_every_shortened_row_maps_to_its_own_row(report: Report) -> None:
    assert report.unmapped == []
    got = {f.id: f for f in report.fields}
    assert {k: got[k].value for k in EXPECTED} == EXPECTED
    for printed, (_, row_id, whole) in SHORTENED.items():
        for column in COLUMNS:
            field = got[f"requests.{row_id}.{column}"]
            assert field.raw != "" and field.row_label == printed
            assert any("shortened label" in n for n in field.notes), field.notes
            assert field.status == ("accepted" if whole else "needs_review"), (field.id, field.reasons)


def test_no_field_lands_on_the_2019_forms_single_other_row(report: Report) -> None:
    assert not [f for f in report.fields if f.id.startswith("requests.other.") and f.id.count(".") == 2
                and f.raw != ""]


def test_an_abbreviation_two_rows_fit_maps_to_neither(tmp_path: Path) -> None:
    """申请人逾期 follows both 其他处理 labels in order: the row is left unmapped, its cells kept."""
    report = _tabular(_page(tmp_path, {NO_CORRECTION: "1.申请人逾期"}))
    assert {u.row_label for u in report.unmapped} == {"1.申请人逾期"}
    assert all(report.field(f"requests.other.no_correction.{c}").raw == "" for c in COLUMNS)


def test_distinctive_part_and_in_order_share() -> None:
    siblings = ["申请人无正当理由逾期不补正行政机关不再处理其政府信息公开申请",
                "申请人逾期未按收费通知要求缴纳费用行政机关不再处理其政府信息公开申请", "其他"]
    assert distinctive_part(siblings[0], siblings) == "无正当理由逾期不补正"
    assert distinctive_part(siblings[1], siblings) == "逾期未按收费通知要求缴纳费用"
    assert in_order("逾期不缴费", siblings[1]) == 4
    names = short_label_names(load_template("gov-2021").table("requests").rows)
    assert short_label_match("逾期不补正", names).row_id == "other.no_correction"
    assert short_label_match("其他", names) is None  # too short to be read as an abbreviation
    assert short_label_match("甲乙丙丁", names) is None
