"""The form's own consistency rules, evaluated on what the document prints.

A rule is evaluated when its left side and at least one right-side term are printed
and filled in. A blank total, or a sum of nothing but blanks, leaves the rule
unevaluated; otherwise a blank counts as 0 and the detail says so. What a rule implies
for a single blank is offered to the reviewer as a suggestion, never as the value.
"""
from __future__ import annotations

from gongkai.models import CheckResult, FieldValue, RuleSpec, Template

from .values import is_blank

Number = int | float


def expand_rule(rule: RuleSpec) -> list[RuleSpec]:
    if not rule.for_each:
        return [rule]
    return [
        RuleSpec(
            id=rule.id.replace("{x}", x),
            lhs=[t.replace("{x}", x) for t in rule.lhs],
            rhs=[t.replace("{x}", x) for t in rule.rhs],
            description=rule.description,
        )
        for x in rule.for_each
    ]


def run_checks(template: Template, fields: list[FieldValue]) -> list[CheckResult]:
    by_id = {f.id: f for f in fields}
    results = []
    for rule in template.rules:
        for concrete in expand_rule(rule):
            result = _evaluate(concrete, by_id)
            if result:
                results.append(result)
    return results


def _evaluate(rule: RuleSpec, by_id: dict[str, FieldValue]) -> CheckResult | None:
    lhs = [by_id[t] for t in rule.lhs if t in by_id]
    rhs = [by_id[t] for t in rule.rhs if t in by_id]
    if len(lhs) != len(rule.lhs) or not rhs:
        return None
    if any(_unreadable(f) for f in lhs + rhs) or _unfilled(lhs, rhs):
        return None
    left, right = _total(lhs), _total(rhs)
    ok = abs(left - right) < 1e-6
    blanks = [f.id for f in lhs + rhs if f.value is None]
    detail = f"{_terms(lhs)} = {_terms(rhs)}" + ("" if ok else f" ({format_number(left)} ≠ {format_number(right)})")
    if blanks:
        detail += f"; blank counted as 0: {', '.join(blanks)}"
    return CheckResult(rule=rule.id, ok=ok, detail=detail, fields=[f.id for f in lhs + rhs])


def _unfilled(lhs: list[FieldValue], rhs: list[FieldValue]) -> bool:
    """A blank total, or nothing but blanks to add up: the form was left unfilled there."""
    return (len(lhs) == 1 and lhs[0].value is None) or all(f.value is None for f in rhs)


def _unreadable(field: FieldValue) -> bool:
    """A cell that held text, not a number: the rule cannot be judged on it."""
    return field.value is None and not is_blank(field.raw)


def _total(fields: list[FieldValue]) -> Number:
    return sum(f.value or 0 for f in fields)


def format_number(value: Number) -> str:
    return str(round(value, 6)).removesuffix(".0") if isinstance(value, float) else str(value)


def _terms(fields: list[FieldValue]) -> str:
    return " + ".join(format_number(f.value) if f.value is not None else "blank" for f in fields)


def suggest_blanks(template: Template, fields: list[FieldValue]) -> None:
    """For a blank that is the only blank of a rule, the value the rule implies."""
    by_id = {f.id: f for f in fields}
    for rule in template.rules:
        for concrete in expand_rule(rule):
            terms = [by_id.get(t) for t in concrete.lhs + concrete.rhs]
            present = [t for t in terms if t is not None]
            blanks = [t for t in present if t.value is None]
            if len(blanks) != 1 or len(present) < 2 or blanks[0].suggestion is not None:
                continue
            blank = blanks[0]
            left = sum((by_id[t].value or 0) for t in concrete.lhs if t in by_id)
            right = sum((by_id[t].value or 0) for t in concrete.rhs if t in by_id)
            implied = right - left if blank.id in concrete.lhs else left - right
            if implied >= 0:
                blank.suggestion = implied
