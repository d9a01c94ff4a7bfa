"""Every agency named (issue 11 item 7): the real 平潭 pages, generated pages naming their agency
in each place a report does (title, first sentences, page metadata) and with each kind of
name that has no organ suffix; one agency_key for one agency's spellings, two for two."""
from __future__ import annotations

import hashlib

import pytest

from gongkai.extractors.agency import agency_key, agency_region
from gongkai.extractors.pipeline import extract_document, extract_file
from gongkai.extractors.readers import read_document
from gongkai.extractors.readers.html import read_html_bytes
from gongkai.models import SourceInfo
from samples import ROOT

REAL = ROOT / "samples" / "real"


# -- the real 平潭 pages --------------------------------------------------------------------
# Checked by hand: every page's title is 平潭综合实验区<year>年度政府信息公开工作年度报告, the
# report of the region (区管委会办公室 compiles it, 2017/2019; the 2024 page's 发布机构 names that
# office). The title names the agency; one key for all four years.
@pytest.mark.parametrize("year", [2017, 2019, 2021, 2024])
def test_every_pingtan_page_names_its_agency(year: int) -> None:
    result = extract_file(REAL / f"pingtan_{year}_report_page.txt")
    assert result.error is None
    agencies = {(r.agency, r.agency_key) for r in result.reports if r.year == year}
    assert agencies == {("平潭综合实验区", "平潭综合实验区管委会")}, [(r.agency, r.year) for r in result.reports]


def test_pingtan_header_lines_are_page_metadata() -> None:
    document = read_document(REAL / "pingtan_2024_report_page.txt")
    assert document.metadata["发布机构"] == "平潭综合实验区管委会办公室"
    assert document.metadata["标题"] == "平潭综合实验区2024年度政府信息公开工作年度报告"
    assert "文号" not in document.metadata  # printed empty: no metadata


# -- generated pages --------------------------------------------------------------------------
BODY = ("<p>本报告根据《中华人民共和国政府信息公开条例》要求编制。本报告所列数据的统计期限自{year}年1月1日起至"
        "{year}年12月31日止。</p><p>一、总体情况</p><p>{year}年，我单位认真贯彻落实政府信息公开工作。</p>")


def page(title: str, *, body: str = "", metas: dict[str, str] | None = None, year: int = 2023) -> bytes:
    head = "".join(f'<meta name="{k}" content="{v}">' for k, v in (metas or {}).items())
    html = (f'<html><head><meta charset="utf-8">{head}</head><body><h1>{title}</h1>{body}'
            f"{BODY.format(year=year)}</body></html>")
    return html.encode("utf-8")


def agency_of(raw: bytes) -> tuple[str | None, str | None]:
    source = SourceInfo(name="page.html", sha256=hashlib.sha256(raw).hexdigest(), media_type="text/html")
    result = extract_document(read_html_bytes(raw, "page.html", source))
    assert result.reports, result.error
    report = result.reports[0]
    return report.agency, report.agency_key


@pytest.mark.parametrize(("name", "key"), [
    ("青岛西海岸新区", "青岛西海岸新区管委会"),
    ("南京江宁经济技术开发区", "南京江宁经济技术开发区管委会"),
    ("平潭综合实验区", "平潭综合实验区管委会"),
    ("杭州市上城区湖滨街道", "上城区湖滨街道办事处"),
    ("德清县乾元镇", "德清县乾元镇人民政府"),
    ("淮安市洪泽区", "洪泽区人民政府"),
])
def test_a_region_named_in_the_title_is_the_agency(name: str, key: str) -> None:
    assert agency_of(page(f"{name}2023年度政府信息公开工作年度报告")) == (name, key)


def test_agency_from_the_first_sentences_when_the_title_names_none() -> None:
    body = "<p>根据《条例》要求，宁波市北仑区人民政府办公室编制完成了本报告。</p>"
    assert agency_of(page("2023年度政府信息公开工作年度报告", body=body)) == (
        "宁波市北仑区人民政府办公室", "北仑区人民政府办公室")


def test_agency_from_the_page_metadata_when_the_text_names_none() -> None:
    metas = {"ContentSource": "平潭综合实验区管委会办公室", "SiteName": "中国·平潭"}
    assert agency_of(page("2023年度政府信息公开工作年度报告", metas=metas)) == (
        "平潭综合实验区管委会办公室", "平潭综合实验区管委会办公室")


def test_the_title_wins_over_the_metadata() -> None:
    metas = {"ContentSource": "平潭综合实验区管委会办公室"}
    assert agency_of(page("平潭综合实验区2023年度政府信息公开工作年度报告", metas=metas))[0] == "平潭综合实验区"


def test_html_metadata_is_kept_in_the_document() -> None:
    raw = page("x", metas={"contentsource": "某某局", "Unlisted": "nothing"})
    source = SourceInfo(name="p.html", sha256="0" * 64, media_type="text/html")
    assert read_html_bytes(raw, "p.html", source).metadata == {"ContentSource": "某某局"}


# -- one key per agency -------------------------------------------------------------------------
@pytest.mark.parametrize("spellings", [
    ("洪泽区人民政府", "淮安市洪泽区人民政府", "江苏省淮安市洪泽区人民政府", "淮安市洪泽区政府", "洪泽区"),
    ("聊城市卫生健康委员会", "聊城市卫生健康委", "聊城市 卫生健康委员会"),
    ("平潭综合实验区", "平潭综合实验区管委会", "平潭综合实验区管理委员会"),
    ("淮安市洪泽区卫生健康委员会", "洪泽区卫生健康委员会"),
    ("上城区湖滨街道办事处", "杭州市上城区湖滨街道办事处", "杭州市上城区湖滨街道"),
])
def test_one_agencys_spellings_share_one_key(spellings: tuple[str, ...]) -> None:
    assert len({agency_key(s) for s in spellings}) == 1, {s: agency_key(s) for s in spellings}


@pytest.mark.parametrize(("one", "other"), [
    ("淮安市人民政府", "洪泽区人民政府"),
    ("淮安市人民政府", "淮安市人民政府办公室"),
    ("淮安市城市管理局", "徐州市城市管理局"),  # 城市 is no county: the city stays in the key
    ("淮安市市场监督管理局", "徐州市市场监督管理局"),
    ("德清县乾元镇人民政府", "桐乡市乾元镇人民政府"),  # a town's name is not unique: its county stays
    ("平潭综合实验区管委会", "平潭综合实验区管委会办公室"),
])
def test_two_agencies_keep_two_keys(one: str, other: str) -> None:
    assert agency_key(one) != agency_key(other)


def test_region_of_a_name() -> None:
    assert agency_region("淮安市洪泽区人民政府") == "淮安市洪泽区"
    assert agency_region("市场监督管理局") is None


def test_one_page_with_short_and_full_names_prints_the_full_one() -> None:
    from gongkai.extractors.pipeline import unify_agency_names
    from gongkai.models import Report

    reports = [
        Report(agency="聊城市卫生健康委", kind="narrative"),
        Report(agency="聊城市卫生健康委员会", kind="narrative"),
    ]
    unify_agency_names(reports)
    assert [r.agency for r in reports] == ["聊城市卫生健康委员会"] * 2
