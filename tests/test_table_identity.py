"""A table's identity comes from its own header; the section title is one cue among others.

Fixtures are samples/rendered/000_liaocheng_wjw_2022 (gov-2021, every rule holds) edited in
the test the way a real 平潭 2022 page prints 表四: the heading misprinted
(`四、政府信息公开行政复议、行政法复议情况`) and every header cell split one character per
line (结/果/维/持). All 15 appeals.* fields must be mapped, none left in `unmapped`.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import docx
import pytest

from gongkai.config import load_template
from gongkai.extractors.headers import identify
from gongkai.extractors.pipeline import extract_file
from gongkai.models import ExtractionResult, Report
from samples import ROOT

RENDERED = ROOT / "samples" / "rendered"
NAME = "000_liaocheng_wjw_2022"
EXPECTED = json.loads((RENDERED / f"{NAME}.expected.json").read_text(encoding="utf-8"))["fields"]
APPEALS = {k: v for k, v in EXPECTED.items() if k.startswith("appeals.")}
TITLE = "四、政府信息公开行政复议、行政诉讼情况"
MISPRINT = "四、政府信息公开行政复议、行政法复议情况"


def _tabular(result: ExtractionResult) -> Report:
    assert result.error is None, result.error
    (report,) = [r for r in result.reports if r.kind == "tabular"]
    return report


def _one_char_per_line(cell_html: re.Match[str]) -> str:
    return f"<td{cell_html[1]}>" + "<br>".join(cell_html[2]) + "</td>"


def _html(tmp_path: Path, title: str, split_header: bool) -> Path:
    html = (RENDERED / f"{NAME}.html").read_text(encoding="utf-8")
    assert html.count(TITLE) == 1
    html = html.replace(TITLE, title)
    if split_header:
        start = html.index('<tr><td colspan="5">行政复议')
        stop = html.index("</tr>", html.index("<td>结果维持</td><td>结果纠正</td>")) + len("</tr>")
        header = re.sub(r"<td([^>]*)>([^<]+)</td>", _one_char_per_line, html[start:stop])
        assert "结<br>果<br>维<br>持" in header
        html = html[:start] + header + html[stop:]
    path = tmp_path / f"{NAME}.html"
    path.write_text(html, encoding="utf-8")
    return path


def _docx(tmp_path: Path) -> Path:
    document = docx.Document(str(RENDERED / f"{NAME}.docx"))
    (heading,) = [p for p in document.paragraphs if p.text == TITLE]
    for run in heading.runs[1:]:
        run.text = ""
    heading.runs[0].text = MISPRINT
    appeals = document.tables[-1]
    split = 0
    for tr in appeals.rows[:3]:
        for tc in tr._tr.tc_lst:  # each printed cell once, merged or not
            text = "".join(t.text or "" for t in tc.iter(docx.oxml.ns.qn("w:t")))
            if len(text) < 2:
                continue
            paragraphs = tc.findall(docx.oxml.ns.qn("w:p"))
            for extra in paragraphs[1:]:
                tc.remove(extra)
            first = paragraphs[0]
            for run in first.findall(docx.oxml.ns.qn("w:r")):
                first.remove(run)
            for k, char in enumerate(text):
                paragraph = first if k == 0 else tc.add_p()
                paragraph.add_r().text = char
            split += 1
    assert split >= 10
    path = tmp_path / f"{NAME}.docx"
    document.save(str(path))
    return path


def _assert_appeals_mapped(report: Report) -> None:
    got = {f.id: f for f in report.fields if f.id.startswith("appeals.")}
    assert {k: f.value for k, f in got.items()} == APPEALS
    assert all(f.status == "accepted" for f in got.values()), [(f.id, f.reasons) for f in got.values()]
    assert not [u for u in report.unmapped if u.table in ("appeals", "requests")], report.unmapped


@pytest.mark.parametrize("title", [MISPRINT, "四、有关情况"], ids=["misprinted", "no-title-cue"])
def test_an_html_header_split_one_character_per_line_names_its_table(tmp_path: Path, title: str) -> None:
    _assert_appeals_mapped(_tabular(extract_file(_html(tmp_path, title, split_header=True))))


def test_a_docx_header_split_one_character_per_line_names_its_table(tmp_path: Path) -> None:
    report = _tabular(extract_file(_docx(tmp_path)))
    _assert_appeals_mapped(report)
    assert sum(1 for f in report.fields if f.status == "accepted") >= 200


def test_a_misprinted_heading_over_a_plain_header_still_names_its_table(tmp_path: Path) -> None:
    _assert_appeals_mapped(_tabular(extract_file(_html(tmp_path, MISPRINT, split_header=False))))


def test_the_header_decides_over_a_wrong_title(tmp_path: Path) -> None:
    """表四 printed under a second 表三 heading: its header, not the title, says which table it is."""
    path = _html(tmp_path, "四、收到和处理政府信息公开申请情况", split_header=True)
    _assert_appeals_mapped(_tabular(extract_file(path)))


def test_identity_needs_distinctive_cues_beyond_doubt() -> None:
    tables = load_template("gov-2021").tables
    assert identify(["行\n政\n复\n议", "行政诉讼", "结 果 维 持", "总计"], tables) == "appeals"
    assert identify(["申请人情况", "自然人", "法人或其他组织"], tables) == "requests"
    assert identify(["信息内容", "本年制发件数"], tables) == "active"
    assert identify(["总计", "其他"], tables) is None  # shared or too short to be cues of one table
    assert identify(["行政复议"], tables) is None  # one cue is not enough
    assert identify(["行政复议", "行政诉讼", "自然人", "商业企业"], tables) is None  # a tie
