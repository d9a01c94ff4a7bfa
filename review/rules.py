"""Re-running the form's rules on a report's current values (machine and human) after a save."""
from __future__ import annotations

from collections import defaultdict

from gongkai.config import load_template
from gongkai.extractors.checks import run_checks
from gongkai.extractors.routing import rule_reason, rules_of_reason
from gongkai.models import FieldValue
from gongkai.store.operational import OperationalStore
from gongkai.store.review import ReviewReader
from gongkai.store.review_actions import RecheckPlan, ReviewWriter


def plan_recheck(template_id: str | None, fields: list[FieldValue], human: set[str]) -> RecheckPlan:
    """New checks; needs_review machine fields whose only reasons were rules that now all hold
    (confirmed by rule); accepted machine fields in a rule that now fails (back to review)."""
    if template_id is None:
        return RecheckPlan(checks=None)
    results = run_checks(load_template(template_id), fields)
    by_rule = {c.rule: c for c in results}
    confirm = [f.id for f in fields if f.id not in human and _only_rules_now_holding(f, by_rule)]
    failing: dict[str, list[str]] = defaultdict(list)
    for check in results:
        if not check.ok:
            for field_id in check.fields:
                failing[field_id].append(check.rule)
    to_review = {
        f.id: [*(r for r in f.reasons if rules_of_reason(r) is None), rule_reason(failing[f.id])]
        for f in fields
        if f.id in failing and f.status == "accepted" and f.id not in human
    }
    return RecheckPlan(checks=results, confirm=confirm, to_review=to_review)


def _only_rules_now_holding(field: FieldValue, by_rule: dict) -> bool:
    if field.status != "needs_review" or not field.reasons or field.value is None:
        return False
    named: set[str] = set()
    for reason in field.reasons:
        rules = rules_of_reason(reason)
        if rules is None:  # a doubt of its own: a weak read, a lost label, not found
            return False
        named.update(rules)
    return all(rule in by_rule and by_rule[rule].ok for rule in named)


def recheck_document(store: OperationalStore, document_id: int) -> list[str]:
    """After a re-extraction: every report of the document rechecked on its current values
    (the pipeline's beside people's); returns the fields confirmed by rule."""
    writer = ReviewWriter(store)
    confirmed: list[str] = []
    for report_id in ReviewReader(store).report_ids(document_id):
        confirmed += writer.recheck(report_id, None, plan_recheck)
    return confirmed
