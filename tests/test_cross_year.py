"""Cross-year rules (issue 12 item 2) and agencies in the store (item 1), on real SQLite and
PostgreSQL: the 聊城 2020 → 2021 break, generated two-year agencies that hold and that break,
the earlier report stored after the later, a reviewer's correction on either side, a warning
rule that routes nothing, and an operator's merge that lets two keys' years meet."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from gongkai.config import load_template
from gongkai.extractors.cross_year import YearValues, cross_year_rules, evaluate_cross_year
from gongkai.extractors.pipeline import extract_file
from gongkai.models import CheckResult, ExtractionResult, FieldValue, Report, SourceInfo
from gongkai.models.review import QueueFilter
from gongkai.review.service import ReviewService
from gongkai.store import OperationalStore
from samples import ROOT

RENDERED = ROOT / "samples" / "rendered"
COLUMNS = ("natural_person", "commercial", "research", "public_interest", "legal_service", "other_org", "total")
ADMIN_PASSWORD = "adam-password-1"


# -- the pure rules ---------------------------------------------------------------------------
def test_rules_come_from_config_one_per_column() -> None:
    ids = [r.id for r in cross_year_rules()]
    assert ids.count("cross_year.carried_over") == 7 and ids.count("cross_year.in_force") == 2


def test_a_blank_or_absent_side_is_not_evaluated() -> None:
    earlier = YearValues(2020, {"requests.carried_forward.total": None})
    later = YearValues(2021, {"requests.carried_over.total": 0})
    assert evaluate_cross_year(earlier, later) == []
    assert evaluate_cross_year(YearValues(2020, {}), later) == []


def test_only_consecutive_years_are_compared() -> None:
    earlier = YearValues(2019, {"requests.carried_forward.total": 1})
    assert evaluate_cross_year(earlier, YearValues(2021, {"requests.carried_over.total": 0})) == []


def test_templates_meet_through_the_field_ids_they_share() -> None:
    ids = {t: set(load_template(t).field_ids()) for t in ("gov-2019", "gov-2021", "legacy-stat")}

    def rules_between(earlier: str, later: str) -> list[str]:
        outcomes = evaluate_cross_year(YearValues(2020, dict.fromkeys(ids[earlier], 1)),
                                       YearValues(2021, dict.fromkeys(ids[later], 1)))
        for o in outcomes:
            assert set(o.earlier_fields) <= ids[earlier] and set(o.later_fields) <= ids[later]
        return [o.check.rule for o in outcomes]

    assert rules_between("gov-2019", "gov-2021") == ["cross_year.carried_over"] * 7  # 2019 prints no 现行有效件数
    assert rules_between("gov-2021", "gov-2021").count("cross_year.in_force") == 2
    assert rules_between("legacy-stat", "gov-2019") == []  # the 统计表 shares no field with the form


def test_in_force_is_a_warning_with_both_years_in_its_detail() -> None:
    earlier = YearValues(2021, {"active.normative.in_force": 43})
    later = YearValues(2022, {"active.normative.in_force": 2, "active.normative.issued": 1,
                              "active.normative.repealed": 0})
    (outcome,) = evaluate_cross_year(earlier, later)
    assert outcome.check.rule == "cross_year.in_force" and not outcome.check.ok and not outcome.routes
    assert outcome.check.detail.startswith("warning: ")
    assert "2021 report: 现行有效件数 (行政规范性文件) = 43" in outcome.check.detail
    assert "expected 44, printed 2" in outcome.check.detail
    assert outcome.check.fields == ["active.normative.in_force", "active.normative.issued",
                                    "active.normative.repealed"]


# -- generated reports ------------------------------------------------------------------------
def report_result(agency: str, year: int, carried_over: dict[str, int], carried_forward: dict[str, int],
                  name: str | None = None) -> ExtractionResult:
    """A generated gov-2021 report: its 上年结转 and 结转下年度 rows, every field accepted."""
    fields = [FieldValue(id=f"requests.carried_over.{c}", value=carried_over[c], raw=str(carried_over[c]),
                         confidence=0.99, status="accepted") for c in COLUMNS]
    fields += [FieldValue(id=f"requests.carried_forward.{c}", value=carried_forward[c],
                          raw=str(carried_forward[c]), confidence=0.99, status="accepted") for c in COLUMNS]
    report = Report(agency=agency, agency_key=None, year=year, template="gov-2021", kind="tabular",
                    title=f"{agency}{year}年度政府信息公开工作年度报告", fields=fields)
    from gongkai.extractors.agency import agency_key
    report.agency_key = agency_key(agency)
    body = report.model_dump_json()
    source = SourceInfo(name=name or f"{agency}_{year}.html", sha256=hashlib.sha256(body.encode()).hexdigest(),
                        media_type="text/html")
    return ExtractionResult(source=source, reports=[report])


def row(total: int, natural: int | None = None) -> dict[str, int]:
    natural = total if natural is None else natural
    return {"natural_person": natural, "commercial": total - natural, "research": 0, "public_interest": 0,
            "legal_service": 0, "other_org": 0, "total": total}


@pytest.fixture()
def store(db_url: str) -> Iterator[OperationalStore]:
    with OperationalStore(db_url) as opened:
        opened.migrate()
        yield opened


def stored_report(store: OperationalStore, sha256: str) -> Report:
    return store.load_result(sha256).reports[0]


def cross_checks(report: Report) -> list[CheckResult]:
    return [c for c in report.checks if c.rule.startswith("cross_year.")]


def test_a_generated_agency_whose_rules_hold_passes(store: OperationalStore) -> None:
    first = report_result("洪泽区人民政府", 2021, row(0), row(3, 2))
    second = report_result("洪泽区人民政府", 2022, row(3, 2), row(1))
    store.save_result(first)
    store.save_result(second)
    later = stored_report(store, second.source.sha256)
    assert len(cross_checks(later)) == 7 and all(c.ok for c in cross_checks(later))
    assert all(f.status == "accepted" for f in later.fields)
    assert cross_checks(stored_report(store, first.source.sha256)) == []  # no 2020 report stored


def test_an_injected_carry_over_break_is_caught_both_sides_to_review(store: OperationalStore) -> None:
    first = report_result("洪泽区人民政府", 2021, row(0), row(3, 2))
    broken = row(3, 2)
    broken["commercial"] = 4  # the injected break: 2021 printed 1 for 商业企业
    second = report_result("淮安市洪泽区人民政府", 2022, broken, row(1))  # the other spelling: one key
    store.save_result(first)
    store.save_result(second)
    later = stored_report(store, second.source.sha256)
    failed = [c for c in cross_checks(later) if not c.ok]
    assert [c.fields for c in failed] == [["requests.carried_over.commercial"]]
    assert "2022 report: 上年结转 (商业企业) = 4" in failed[0].detail
    assert "2021 report: 结转下年度 (商业企业) = 1" in failed[0].detail
    field = later.field("requests.carried_over.commercial")
    assert field.status == "needs_review" and field.value == 4  # never repaired
    assert field.reasons == [
        "breaks the cross-year rule cross_year.carried_over: 2021 report: 结转下年度 (商业企业) = 1"
    ]
    earlier_field = stored_report(store, first.source.sha256).field("requests.carried_forward.commercial")
    assert earlier_field.status == "needs_review" and earlier_field.value == 1
    assert earlier_field.reasons == [
        "breaks the cross-year rule cross_year.carried_over: 2022 report: 上年结转 (商业企业) = 4"
    ]
    queued = {(i.field.field_id, i.field.year) for i in store.open_review_items()}
    assert queued == {("requests.carried_over.commercial", 2022), ("requests.carried_forward.commercial", 2021)}


def test_the_earlier_report_stored_after_the_later_is_still_checked(store: OperationalStore) -> None:
    first = report_result("洪泽区人民政府", 2021, row(0), row(2))
    second = report_result("洪泽区人民政府", 2022, row(5), row(0))
    store.save_result(second)
    assert cross_checks(stored_report(store, second.source.sha256)) == []
    store.save_result(first)
    failed = [c for c in cross_checks(stored_report(store, second.source.sha256)) if not c.ok]
    assert {tuple(c.fields) for c in failed} == {("requests.carried_over.natural_person",),
                                                 ("requests.carried_over.total",)}
    assert cross_checks(stored_report(store, first.source.sha256)) == []  # kept on the later report only


def test_liaocheng_2020_to_2021_breaks_carried_over(store: OperationalStore, tmp_path: Path) -> None:
    """The seeds' own break: 聊城 2020 prints 结转下年度 1, its 2021 report prints 上年结转 0."""
    service = _service(store, tmp_path)
    for year in (2020, 2021):
        path = RENDERED / f"000_liaocheng_wjw_{year}.html"
        result = extract_file(path)
        assert result.error is None and result.reports[0].agency_key
        store.save_result(result, path=str(path))
    reports = {r.year: r for r in store.iter_reports()}
    assert reports[2020].agency_key == reports[2021].agency_key
    later = store.load_result(reports[2021].sha256).reports[0]
    total = next(c for c in cross_checks(later) if c.fields == ["requests.carried_over.total"])
    assert not total.ok
    assert "2021 report: 上年结转 = 0" in total.detail and "2020 report: 结转下年度 = 1" in total.detail
    field = later.field("requests.carried_over.total")
    assert field.status == "needs_review" and field.value == 0
    assert any("cross_year.carried_over" in r for r in field.reasons)
    admin = service.authenticate("adam", ADMIN_PASSWORD)
    item_id = _item(service, admin, "requests.carried_over.total", 2021)
    detail = service.item(admin, item_id)
    assert "2020 report: 结转下年度 = 1" in detail.other_years
    assert any(c.rule == "cross_year.carried_over" for c in detail.failed_checks)
    service.close()


def test_a_correction_of_the_earlier_year_makes_the_rule_hold_again(store: OperationalStore, tmp_path: Path) -> None:
    first = report_result("洪泽区人民政府", 2021, row(0), row(2))
    second = report_result("洪泽区人民政府", 2022, row(0), row(0))
    store.save_result(first)
    store.save_result(second)
    service = _service(store, tmp_path)
    admin = service.authenticate("adam", ADMIN_PASSWORD)
    # the reviewer finds 2021 printed 结转下年度 0 for 自然人 and in total: the scan misread it
    for field_id in ("requests.carried_forward.natural_person", "requests.carried_forward.total"):
        service.correct(admin, _item(service, admin, field_id, 2021), 0)
    later = stored_report(store, second.source.sha256)
    assert all(c.ok for c in cross_checks(later))
    assert all(f.status == "accepted" and not f.reasons for f in later.fields)  # confirmed by rule again
    assert service.queue(admin, QueueFilter()) == []
    service.close()


def test_a_person_confirming_the_later_value_is_not_sent_back(store: OperationalStore, tmp_path: Path) -> None:
    store.save_result(report_result("洪泽区人民政府", 2021, row(0), row(2)))
    second = report_result("洪泽区人民政府", 2022, row(0), row(0))
    store.save_result(second)
    service = _service(store, tmp_path)
    admin = service.authenticate("adam", ADMIN_PASSWORD)
    service.confirm(admin, _item(service, admin, "requests.carried_over.total", 2022))
    later = stored_report(store, second.source.sha256)
    assert not next(c for c in cross_checks(later) if c.fields == ["requests.carried_over.total"]).ok  # still says so
    assert later.field("requests.carried_over.total").status == "accepted"
    open_fields = {(i.field_id, i.year) for i in service.queue(admin, QueueFilter())}
    assert ("requests.carried_over.total", 2022) not in open_fields
    service.close()


def test_merge_joins_two_keys_their_rule_runs_and_later_spellings_follow(store: OperationalStore,
                                                                          tmp_path: Path) -> None:
    first = report_result("洪泽县人民政府", 2021, row(0), row(2))  # the county before it became a district
    second = report_result("洪泽区人民政府", 2022, row(0), row(0))
    store.save_result(first)
    store.save_result(second)
    assert cross_checks(stored_report(store, second.source.sha256)) == []  # two keys: nothing to compare
    service = _service(store, tmp_path)
    admin = service.authenticate("adam", ADMIN_PASSWORD)
    keys = {a.key for a in service.agencies(admin)}
    assert keys == {"洪泽县人民政府", "洪泽区人民政府"}
    assert service.merge_agencies(admin, "洪泽区人民政府", "洪泽县人民政府") == 1
    later = stored_report(store, second.source.sha256)
    assert {c.ok for c in cross_checks(later) if c.fields == ["requests.carried_over.total"]} == {False}
    assert {r.agency_key for r in store.iter_reports()} == {"洪泽区人民政府"}
    # a re-run: a 2023 report printed like the merged name gets the kept key, and is compared
    third = report_result("洪泽县人民政府", 2023, row(0), row(0))
    store.save_result(third)
    assert stored_report(store, third.source.sha256).agency_key == "洪泽区人民政府"
    assert all(c.ok for c in cross_checks(stored_report(store, third.source.sha256)))
    listed = {a.key: a for a in service.agencies(admin)}
    assert listed["洪泽县人民政府"].merged_into == "洪泽区人民政府"
    assert set(listed["洪泽区人民政府"].spellings) == {"洪泽区人民政府", "洪泽县人民政府"}
    assert listed["洪泽区人民政府"].years == [2021, 2022, 2023]
    audit = [e for e in service.audit(admin) if e.action == "agency_merge"]
    assert audit and audit[0].user == "adam" and "洪泽县人民政府 -> 洪泽区人民政府" in audit[0].note
    service.close()


def test_merge_refuses_unknown_and_self(store: OperationalStore, tmp_path: Path) -> None:
    from gongkai.review.errors import InvalidValue, ItemNotFound, PermissionDenied

    store.save_result(report_result("洪泽区人民政府", 2021, row(0), row(0)))
    service = _service(store, tmp_path)
    admin = service.authenticate("adam", ADMIN_PASSWORD)
    with pytest.raises(ItemNotFound):
        service.merge_agencies(admin, "洪泽区人民政府", "没有这个机构")
    with pytest.raises(InvalidValue):
        service.merge_agencies(admin, "洪泽区人民政府", "洪泽区人民政府")
    service.add_user(None, "rita", "reviewer", "rita-password-1")
    with pytest.raises(PermissionDenied):
        service.agencies(service.authenticate("rita", "rita-password-1"))
    service.close()


# -- helpers --------------------------------------------------------------------------------
def _service(store: OperationalStore, tmp_path: Path) -> ReviewService:
    service = ReviewService(store.url, tmp_path / "analytics.duckdb")
    if service.user_by_name("adam") is None:
        service.add_user(None, "adam", "admin", ADMIN_PASSWORD)
    return service


def _item(service: ReviewService, admin, field_id: str, year: int) -> int:  # noqa: ANN001
    items = service.queue(admin, QueueFilter(), limit=1000)
    return next(i.id for i in items if i.field_id == field_id and i.year == year)
