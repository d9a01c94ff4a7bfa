"""Narrative cross-checks: every sentence of the samples that states a tabulated total, found
and agreeing with the table (each checked by hand against the document), nothing else read;
a copy with one sentence's number changed fails with that sentence as its evidence."""
from __future__ import annotations

from pathlib import Path

import pytest

from gongkai.config import load_thresholds
from gongkai.extractors.classify import detect_year
from gongkai.extractors.narrative import find_statements, narrative_checks, narrative_text
from gongkai.extractors.pipeline import extract_file
from gongkai.extractors.readers import read_document
from gongkai.extractors.routing import route_fields
from gongkai.extractors.segment import split_reports
from gongkai.models import CheckResult, FieldValue
from gongkai.models.review import QueueFilter
from gongkai.review.service import ReviewService
from gongkai.store import OperationalStore
from samples import REAL, ROOT, seed

RENDERED = ROOT / "samples" / "rendered"

# (year, rule, number stated) of every sentence stating a total the report's table has.
# Seed 000 (聊城, five reports in one page): the 2023 sentence 全年共受理依申请公开11件 … 已办结9件,
# 结转到2024年2件; 2022 全年共受理依申请公开18件; 2021 2021年共受理依申请公开13件; 2020
# 协调处理依申请公开信息11件 (the new requests: 11 new, 10 closed, 1 carried forward).
# Not read, on purpose: 2019 共收到转办行政复议0件 (no 信息公开: could be any review), 2022
# 与2021年相比增加了5件 (a difference), 其中9件为自然人申请 (a part), the 主动公开信息…条 of the
# 2021-format years (no table field to compare with).
SEED_000 = [
    (2023, "narrative.requests_received", 11),
    (2023, "narrative.requests_closed", 9),
    (2023, "narrative.requests_carried_forward", 2),
    (2022, "narrative.requests_received", 18),
    (2021, "narrative.requests_received", 13),
    (2020, "narrative.requests_handled", 11),
]
# Seed 001 (鲁山 2023): 受理行政复议1件 is the bureau acting as a review organ, not a review about
# its disclosure (its table says 0): not read. Seed 004 (贺兰: 共计公开信息26条 is one category of
# 179) states no total.
SEED_002 = [(2020, "narrative.requests_received", 0)]  # 收到信息公开申请0件
SEED_003 = [  # 我局没有收到有关政府信息公开的申请; 全年未发生因政府信息公开被行政复议、提起行政诉讼情况
    (2021, "narrative.requests_received", 0),
    (2021, "narrative.appeals_review", 0),
    (2021, "narrative.appeals_suit", 0),
]
# 全市共受理…3119件，答复3050件（含上年度结转申请34件，另有103件顺延到下年度答复）;
# 行政复议351件; 行政诉讼46件
HUAIAN = [
    (2024, "narrative.requests_received", 3119),
    (2024, "narrative.requests_closed", 3050),
    (2024, "narrative.requests_carried_forward", 103),
    (2024, "narrative.requests_carried_over", 34),
    (2024, "narrative.appeals_review", 351),
    (2024, "narrative.appeals_suit", 46),
]
SHANGHAI = [  # 共受理…859件; 答复…805件（含上年度结转申请18件，另有72件申请…顺延到下年度答复）; 行政复议7件，诉讼9件
    (2019, "narrative.requests_received", 859),
    (2019, "narrative.requests_closed", 805),
    (2019, "narrative.requests_carried_forward", 72),
    (2019, "narrative.requests_carried_over", 18),
    (2019, "narrative.appeals_review", 7),
    (2019, "narrative.appeals_suit", 9),
]
CASES = {
    seed("000"): SEED_000, seed("001"): [], seed("002"): SEED_002, seed("003"): SEED_003, seed("004"): [],
    REAL / "huaian_city_gov_2024_annual_report.pdf": HUAIAN,
    REAL / "shanghai_gov_office_2019_report_tables_trimmed.html": SHANGHAI,
}
# The rendered samples: one seed report per file, in three formats each. Seed 000's carry an
# abridged text that states no number (贯彻落实依申请公开工作制度…, no 共受理…件); seed 002's keep
# 收到信息公开申请0件, seed 003's 没有收到有关政府信息公开的申请 (not its 未发生…行政复议 sentence).
RENDERED_CASES = {"002_": SEED_002, "003_": SEED_003[:1]}
for _path in sorted(RENDERED.glob("*.*")):
    if _path.suffix in (".html", ".docx", ".pdf"):
        CASES[_path] = RENDERED_CASES.get(_path.name[:4], [])


def _narrative(path: Path) -> list[tuple[int | None, str, int, bool]]:
    result = extract_file(path)
    assert result.error is None, result.error
    return [
        (report.year, check.rule, int(check.detail.split("”: ", 1)[1].split(";", 1)[0]), check.ok)
        for report in result.reports for check in report.checks if check.rule.startswith("narrative.")
    ]


@pytest.mark.parametrize("path", list(CASES), ids=lambda p: p.name)
def test_every_stated_total_is_found_and_agrees(path: Path) -> None:
    assert _narrative(path) == [(year, rule, n, True) for year, rule, n in CASES[path]]


# Pingtan's pages (tables as run-on text, not yet tabular): the sentences, at the reading level.
PINGTAN = {
    # 2017年全区主动公开政府信息2122条 (not the 1509 of 区直各部门 nor the 613 of 各乡镇: sub-units, each
    # with its share 占…%); 2017年未收到有关政府信息公开申请; 未收到有关政府信息公开行政复议、提起行政诉讼的申请
    "pingtan_2017_report_page.txt": [
        ("active_published", 2122), ("requests_received", 0), ("appeals_review", 0), ("appeals_suit", 0)],
    "pingtan_2019_report_page.txt": [],  # 其他应主动公开政府信息856条 is one category inside (其中…)
    "pingtan_2021_report_page.txt": [  # 本年度全区共收到70件申请，及时依法依规办结69件，1件结转下年度继续办理
        ("requests_received", 70), ("requests_closed", 69), ("requests_carried_forward", 1)],
    "pingtan_2024_report_page.txt": [  # 全年主动公开各类政府信息10407条; 全年办理政府信息公开申请218件
        ("active_published", 10407), ("requests_handled", 218)],
}


@pytest.mark.parametrize("name", list(PINGTAN))
def test_pingtan_sentences_are_read(name: str) -> None:
    document = read_document(REAL / name)
    found = [
        (s.id, s.number)
        for segment in split_reports(document.blocks)
        for s in find_statements(narrative_text(segment.blocks), detect_year(segment))
    ]
    assert found == PINGTAN[name]


@pytest.mark.parametrize("sentence", [
    "2020年共收到政府信息公开申请154件。",  # another year
    "上年共受理政府信息公开申请154件。",  # last year
    "其中，区直各部门主动公开政府信息1509条，占71.11%。",  # a sub-unit
    "各乡镇主动公开政府信息613条，占28.89%。",
    "全年共受理政府信息公开申请数量较上年增加15件。",  # a difference
    "按时办结率100%。",  # a percentage
    "主动公开各类政府信息5500余条。",  # an approximation
    "受理行政复议1件，已按规定时间答复。",  # not about information disclosure
    "2020年未收到政府信息公开申请。",  # words for none, but another year
])
def test_doubtful_sentences_are_not_read(sentence: str) -> None:
    assert find_statements(sentence, 2021) == []


def test_a_changed_number_fails_with_its_sentence(tmp_path: Path) -> None:
    text = seed("000").read_text(encoding="utf-8")
    sentence = "全年共受理依申请公开11件"
    assert text.count(sentence) == 1
    copy = tmp_path / "000_changed.txt"
    copy.write_text(text.replace(sentence, "全年共受理依申请公开12件"), encoding="utf-8")
    report = next(r for r in extract_file(copy).reports if r.year == 2023)
    failed = [c for c in report.checks if c.rule.startswith("narrative.") and not c.ok]
    assert [c.rule for c in failed] == ["narrative.requests_received"]
    assert "全年共受理依申请公开12件" in failed[0].detail and "requests.new.total = 11" in failed[0].detail
    new = report.field("requests.new.total")
    assert new is not None and new.status == "needs_review" and new.value == 11
    assert any("全年共受理依申请公开12件" in reason for reason in new.reasons)
    # the other sentences of that report still agree
    assert {c.rule for c in report.checks if c.rule.startswith("narrative.") and c.ok} == {
        "narrative.requests_closed", "narrative.requests_carried_forward"}


def _field(confidence: float) -> FieldValue:
    return FieldValue(id="requests.new.total", value=11, raw="11", confidence=confidence)


def test_agreement_raises_confidence_by_the_configured_bonus() -> None:
    bonus = load_thresholds().narrative_agree_bonus
    assert bonus > 0
    field = _field(0.86)
    route_fields([field], [CheckResult(rule="narrative.requests_received", ok=True, detail="…", fields=[field.id])])
    assert field.confidence == pytest.approx(0.86 + bonus)
    assert field.status == ("accepted" if 0.86 + bonus >= load_thresholds().accept else "needs_review")


def test_a_contradicting_sentence_sends_an_accepted_field_to_review() -> None:
    field = _field(0.99)
    detail = "the report says “全年共受理依申请公开12件”: 12; but the table says requests.new.total = 11"
    route_fields([field], [CheckResult(rule="narrative.requests_received", ok=False, detail=detail, fields=[field.id])])
    assert field.status == "needs_review" and field.confidence <= 0.5
    assert field.reasons == [f"the report's text contradicts it (narrative.requests_received): {detail}"]


def test_no_check_without_a_printed_field_to_compare() -> None:
    said = find_statements("全年共收到政府信息公开申请154件。", 2021)
    assert [(s.id, s.number) for s in said] == [("requests_received", 154)]
    assert narrative_checks(said, "gov-2021", []) == []  # the table row was not found
    blank = FieldValue(id="requests.new.total", value=None, raw="", confidence=1.0)
    assert narrative_checks(said, "gov-2021", [blank]) == []  # left blank: the form was not filled
    assert narrative_checks(said, "legacy-stat", [blank]) == []  # another template's fields
    printed = FieldValue(id="requests.new.total", value=150, raw="150", confidence=1.0)
    carried = FieldValue(id="requests.carried_over.total", value=4, raw="4", confidence=1.0)
    (check,) = narrative_checks(said, "gov-2021", [printed, carried])
    assert check.ok and check.fields == ["requests.new.total", "requests.carried_over.total"]
    assert "requests.new.total + requests.carried_over.total = 150 + 4 = 154" in check.detail


def test_a_reviewer_save_keeps_the_sentence_checks(tmp_path: Path) -> None:
    """The form's rules re-run after a save; what the sentences said stays, and a field held
    only by a sentence's doubt is never 'confirmed by rule': a person answers it."""
    text = seed("000").read_text(encoding="utf-8").replace("全年共受理依申请公开11件", "全年共受理依申请公开12件")
    copy = tmp_path / "000_changed.txt"
    copy.write_text(text, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    with OperationalStore(url) as store:
        store.migrate()
        store.save_result(extract_file(copy), path=str(copy))
    service = ReviewService(url, tmp_path / "analytics.duckdb")
    try:
        wang = service.add_user(None, "wang", "reviewer", "correct horse battery")
        items = [i for i in service.queue(wang, QueueFilter(), limit=1000) if i.year == 2023]
        new = next(i for i in items if i.field_id == "requests.new.total")
        assert any("全年共受理依申请公开12件" in r for r in new.reasons)
        service.confirm(wang, new.id)  # the table's 11 is right: the sentence misprinted
        view = service.report(wang, new.report_id)
        rules = {c.rule: c.ok for c in view.checks}
        assert rules["narrative.requests_received"] is False and rules["narrative.requests_closed"] is True
        assert any(r.startswith("requests.") for r in rules)  # the form's rules were re-run beside them
        carried = next(i for i in service.queue(wang, QueueFilter(), limit=1000)
                       if i.year == 2023 and i.field_id == "requests.carried_over.total")
        assert carried.state == "open"
    finally:
        service.close()
