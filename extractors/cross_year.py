"""Cross-year rules: a report's numbers against the same agency's report of the year before.

Pure: two years' field values and the rules of config/cross_year.yaml in, checks out. Which
reports are compared, and what a failed check does to their fields, is store/cross_year.py.
Nothing here repairs a value: a check says what both reports print.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from gongkai.config import load_cross_year_rules
from gongkai.models import CheckResult
from gongkai.models.report import Value

Side = Literal["earlier", "later"]
Severity = Literal["error", "warning"]
TOLERANCE = 1e-6  # 万元 amounts are decimals; counts are whole
WARNING_PREFIX = "warning: "
REASON_PREFIX = "breaks the cross-year rule "


@dataclass(frozen=True, slots=True)
class Term:
    side: Side
    field: str
    label: str
    sign: int = 1


@dataclass(frozen=True, slots=True)
class CrossYearRule:
    """One expansion of a rule of config/cross_year.yaml: later == Σ sign × term."""

    id: str
    severity: Severity
    later: Term
    equals: tuple[Term, ...]

    def terms(self) -> tuple[Term, ...]:
        return (self.later, *self.equals)

    def fields_of(self, side: Side) -> list[str]:
        return list(dict.fromkeys(t.field for t in self.terms() if t.side == side))


@dataclass(frozen=True, slots=True)
class YearValues:
    """One report's side of a comparison: its year and its fields' values (absent: not printed)."""

    year: int
    values: Mapping[str, Value]


@dataclass(slots=True)
class CrossYearOutcome:
    """A check of the later report, and what each side's reviewer is shown of the other side."""

    rule: CrossYearRule
    check: CheckResult
    earlier_fields: list[str]
    later_fields: list[str]
    other_side: dict[Side, str] = field(default_factory=dict)

    @property
    def routes(self) -> bool:
        """A failed error rule sends its fields to review; a warning never does."""
        return not self.check.ok and self.rule.severity == "error"


@cache
def cross_year_rules() -> tuple[CrossYearRule, ...]:
    """config/cross_year.yaml's rules, one per `for_each` key."""
    rules: list[CrossYearRule] = []
    for raw in load_cross_year_rules():
        severity = raw.get("severity", "error")
        if severity not in ("error", "warning"):
            raise ValueError(f"cross_year.yaml: rule {raw['id']}: severity must be error or warning, not {severity}")
        ((name, keys),) = raw.get("for_each", {"_": {"": ""}}).items()
        for key, shown in keys.items():
            expand = {"name": name, "key": key, "shown": shown}
            rules.append(CrossYearRule(raw["id"], severity, _term(raw["later"], expand, "later"),
                                       tuple(_term(t, expand) for t in raw["equals"])))
    return tuple(rules)


def _term(spec: Mapping, expand: Mapping[str, str], side: Side | None = None) -> Term:
    label = f"{spec['label']} ({expand['shown']})" if expand["shown"] else spec["label"]
    field_id = spec["field"].replace("{" + expand["name"] + "}", expand["key"])
    return Term(side or spec["side"], field_id, label, int(spec.get("sign", 1)))


def evaluate_cross_year(
    earlier: YearValues, later: YearValues, rules: tuple[CrossYearRule, ...] | None = None
) -> list[CrossYearOutcome]:
    """The rules on two consecutive years; a rule with a blank or absent field on either side
    is not evaluated (no check at all)."""
    if later.year != earlier.year + 1:
        return []
    sides = {"earlier": earlier, "later": later}
    outcomes = []
    for rule in rules if rules is not None else cross_year_rules():
        printed = [sides[t.side].values.get(t.field) for t in rule.terms()]
        values = [v for v in printed if v is not None]
        if len(values) < len(printed):
            continue
        actual, *parts = values
        expected = sum(t.sign * v for t, v in zip(rule.equals, parts))
        ok = abs(actual - expected) <= TOLERANCE
        shown = {side: _side_text(rule, sides[side], side) for side in ("earlier", "later")}
        detail = f"{shown['later']}; {shown['earlier']}; " + (
            f"holds ({_number(actual)})" if ok else f"expected {_number(expected)}, printed {_number(actual)}")
        check = CheckResult(rule=rule.id, ok=ok, detail=(WARNING_PREFIX + detail) if not ok and
                            rule.severity == "warning" else detail, fields=rule.fields_of("later"))
        outcomes.append(CrossYearOutcome(rule, check, rule.fields_of("earlier"), rule.fields_of("later"),
                                         {"later": shown["earlier"], "earlier": shown["later"]}))
    return outcomes


def cross_year_reason(rule_id: str, other_side: str) -> str:
    """A field's review reason: the rule, and the other year's value ("2020 report: 结转下年度 = 1")."""
    return f"{REASON_PREFIX}{rule_id}: {other_side}"


def is_cross_year_reason(reason: str, other_year: int | None = None) -> bool:
    """A reason cross_year_reason wrote (about `other_year`'s report, when given)."""
    if not reason.startswith(REASON_PREFIX):
        return False
    return other_year is None or f": {other_year} report: " in reason


def other_year_lines(reasons: list[str]) -> list[str]:
    """The other year's values named by a field's cross-year reasons, one line each."""
    return list(dict.fromkeys(r.split(": ", 1)[1] for r in reasons if is_cross_year_reason(r) and ": " in r))


def _side_text(rule: CrossYearRule, side: YearValues, name: Side) -> str:
    terms = [t for t in rule.terms() if t.side == name]
    return f"{side.year} report: " + ", ".join(f"{t.label} = {_number(side.values.get(t.field))}" for t in terms)


def _number(value: Value) -> str:
    if value is None:
        return "blank"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
