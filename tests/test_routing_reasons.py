"""Routing reasons: the rule reason is written and read back in one place, and a weak
read in a broken rule keeps a doubt of its own (a later recheck must not confirm it)."""
from gongkai.extractors.routing import route_fields, rule_reason, rules_of_reason
from gongkai.models import CheckResult, FieldValue


def test_rule_reason_round_trips() -> None:
    reason = rule_reason(["requests.balance.natural_person", "requests.row.new"])
    assert reason == "breaks the form's rule requests.balance.natural_person, requests.row.new"
    assert rules_of_reason(reason) == ["requests.balance.natural_person", "requests.row.new"]
    assert rules_of_reason("blank cell") is None


def test_a_weak_read_in_a_broken_rule_keeps_its_own_reason() -> None:
    weak = FieldValue(id="a", value=3, raw="3", confidence=0.6)
    sure = FieldValue(id="b", value=3, raw="3", confidence=0.99)
    route_fields([weak, sure], [CheckResult(rule="r", ok=False, detail="3 ≠ 4", fields=["a", "b"])])
    assert weak.reasons[0].startswith("confidence 0.60 below") and weak.reasons[1] == rule_reason(["r"])
    assert sure.reasons == [rule_reason(["r"])]
    assert weak.status == sure.status == "needs_review"
