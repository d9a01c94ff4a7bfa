"""Confidence and routing: which fields go straight to analytics, which to review.

Confidence starts from the mapping (label match x value parse x source) and is
raised a little when every rule touching the field holds. A field in a failed rule,
a blank, or anything below the threshold goes to review with its reasons.
"""
from __future__ import annotations

from collections import defaultdict

from gongkai.config import load_thresholds
from gongkai.models import CheckResult, FieldValue


def route_fields(fields: list[FieldValue], checks: list[CheckResult]) -> None:
    thresholds = load_thresholds()
    touching: dict[str, list[CheckResult]] = defaultdict(list)
    for check in checks:
        for field_id in check.fields:
            touching[field_id].append(check)
    for field in fields:
        rules = touching.get(field.id, [])
        failed = [c.rule for c in rules if not c.ok]
        if rules and not failed:
            field.confidence = round(min(1.0, field.confidence + thresholds.checks_pass_bonus), 4)
        if failed:
            field.reasons.append(f"breaks the form's rule {', '.join(failed)}")
            field.confidence = round(min(field.confidence, 0.5), 4)
        field.status = "accepted" if _acceptable(field, failed, thresholds.accept) else "needs_review"
        if field.status == "needs_review" and not field.reasons:
            field.reasons.append(f"confidence {field.confidence:.2f} below {thresholds.accept:.2f}")


def _acceptable(field: FieldValue, failed: list[str], threshold: float) -> bool:
    return field.value is not None and not failed and not field.reasons and field.confidence >= threshold
