"""Confidence and routing: which fields go straight to analytics, which to review.

Confidence starts from the mapping (label match x value parse x source) and is
raised a little when every rule touching the field holds, and again when a sentence of
the report states its number (narrative checks, rule ids `narrative.*`). A field in a
failed rule, one a sentence contradicts, a blank, or anything below the threshold goes
to review with its reasons.
"""
from __future__ import annotations

from collections import defaultdict

from gongkai.config import load_thresholds
from gongkai.models import CheckResult, FieldValue

NARRATIVE_PREFIX = "narrative."


def route_fields(fields: list[FieldValue], checks: list[CheckResult]) -> list[FieldValue]:
    """Sets each field's status, and its confidence and reasons where the checks say so, and returns
    the fields. It changes the fields it is given: the caller hands them over (the pipeline's route
    stage passes its own copies)."""
    thresholds = load_thresholds()
    touching: dict[str, list[CheckResult]] = defaultdict(list)
    for check in checks:
        for field_id in check.fields:
            touching[field_id].append(check)
    for field in fields:
        said = [c for c in touching.get(field.id, []) if c.rule.startswith(NARRATIVE_PREFIX)]
        rules = [c for c in touching.get(field.id, []) if not c.rule.startswith(NARRATIVE_PREFIX)]
        failed = [c.rule for c in rules if not c.ok]
        if rules and not failed:
            field.confidence = round(min(1.0, field.confidence + thresholds.checks_pass_bonus), 4)
        if said and all(c.ok for c in said):
            field.confidence = round(min(1.0, field.confidence + thresholds.narrative_agree_bonus), 4)
        contradicted = [c for c in said if not c.ok]
        if contradicted:
            # the sentence is the evidence; not a rule reason, so no later recheck "confirms" it
            field.reasons.extend(narrative_reason(c) for c in contradicted)
            field.confidence = round(min(field.confidence, thresholds.doubted_cap), 4)
        if failed:
            if field.confidence < thresholds.accept and not field.reasons:
                # a weak read of its own, kept apart from the rule: a rule that holds again later
                # (after a reviewer's correction elsewhere) must not confirm this read
                field.reasons.append(_low_confidence(field.confidence, thresholds.accept))
            field.reasons.append(rule_reason(failed))
            field.confidence = round(min(field.confidence, thresholds.doubted_cap), 4)
        field.status = "accepted" if _acceptable(field, failed, thresholds.accept) else "needs_review"
        if field.status == "needs_review" and not field.reasons:
            field.reasons.append(_low_confidence(field.confidence, thresholds.accept))
    return fields


def _low_confidence(confidence: float, threshold: float) -> str:
    return f"confidence {confidence:.2f} below {threshold:.2f}"


def narrative_reason(check: CheckResult) -> str:
    """The review reason of a field a sentence of the report contradicts: the sentence itself."""
    return f"the report's text contradicts it ({check.rule}): {check.detail}"


RULE_REASON_PREFIX = "breaks the form's rule "


def rule_reason(rule_ids: list[str]) -> str:
    """The review reason of a field in failed rules; rules_of_reason reads it back."""
    return RULE_REASON_PREFIX + ", ".join(rule_ids)


def rules_of_reason(reason: str) -> list[str] | None:
    """The rule ids a reason names, or None when the reason is not about rules."""
    if not reason.startswith(RULE_REASON_PREFIX):
        return None
    return [r.strip() for r in reason[len(RULE_REASON_PREFIX):].split(",") if r.strip()]


def _acceptable(field: FieldValue, failed: list[str], threshold: float) -> bool:
    return field.value is not None and not failed and not field.reasons and field.confidence >= threshold
