"""Numbers a report states in its sentences, checked against the table fields they total.

`全年共受理依申请公开11件` says what requests.new.total is; a report whose table says 12
contradicts itself. The phrases, the guards and the fields are data (config/narrative.yaml).
Reading is deliberately timid: a sentence about another year, a sub-unit, a share or a
difference is not read, and where no table field can be compared there is no check, so a
check that fails is a real disagreement between the report's words and its table.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from gongkai.config import load_narrative
from gongkai.models import Block, CheckResult, FieldValue, Table, TextBlock

from .checks import format_number
from .text import nfkc
from .values import is_blank

RULE_PREFIX = "narrative."
_SPACE_NOT_BETWEEN_DIGITS = re.compile(r"(?<!\d)\s+|\s+(?!\d)")


@dataclass(frozen=True)
class Statement:
    """One number a sentence states: which statement (config id), the number, the sentence."""

    id: str
    number: int
    sentence: str
    phrase: str

    @property
    def rule(self) -> str:
        return RULE_PREFIX + self.id


@dataclass(frozen=True)
class _Spec:
    id: str
    patterns: tuple[tuple[re.Pattern[str], int | None], ...]  # with the number it states, if not in (?P<n>)
    alternatives: dict[str, tuple[tuple[str, ...], ...]]


@dataclass(frozen=True)
class _Guards:
    sentence_end: re.Pattern[str]
    clause_end: re.Pattern[str]
    short_clause_chars: int
    other_year: re.Pattern[str]
    next_year_context: re.Pattern[str]
    before_markers: tuple[str, ...]
    part_markers: tuple[str, ...]
    after_markers: tuple[re.Pattern[str], ...]


@cache
def _config() -> tuple[_Guards, tuple[_Spec, ...]]:
    raw: dict[str, Any] = load_narrative()
    guards = _Guards(
        sentence_end=re.compile(raw["sentence_end"]),
        clause_end=re.compile(raw["clause_end"]),
        short_clause_chars=int(raw["short_clause_chars"]),
        other_year=re.compile(raw["other_year"]),
        next_year_context=re.compile(raw["next_year_context"]),
        before_markers=tuple(raw["relative_year"] + raw["part_markers"] + raw["difference_markers"]),
        part_markers=tuple(raw["part_markers"]),
        after_markers=tuple(re.compile(p) for p in raw["after_markers"]),
    )
    specs = tuple(
        _Spec(
            id=s["id"],
            patterns=tuple(_pattern(p) for p in s["patterns"]),
            alternatives={t: tuple(tuple(a) for a in alts) for t, alts in s.get("alternatives", {}).items()},
        )
        for s in raw["statements"]
    )
    return guards, specs


def _pattern(entry: str | dict[str, Any]) -> tuple[re.Pattern[str], int | None]:
    if isinstance(entry, str):
        return re.compile(entry), None
    return re.compile(entry["pattern"]), int(entry["number"])


def narrative_text(blocks: Iterable[Block]) -> str:
    """The report's prose as one string: lines of a paragraph joined (PDF lines are blocks of
    their own), a table ending the sentence before it, whitespace dropped except between digits."""
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, Table):
            parts.append("。")
        elif isinstance(block, TextBlock):
            parts.append(block.text)
    return _SPACE_NOT_BETWEEN_DIGITS.sub("", nfkc("".join(parts)))


def find_statements(text: str, year: int | None) -> list[Statement]:
    """Every number the text states with a configured phrase, in reading order, read only
    where no guard doubts it is this year's total of this agency."""
    guards, specs = _config()
    found: list[Statement] = []
    for sentence in (s for s in guards.sentence_end.split(text) if s):
        for spec in specs:
            for pattern, number in spec.patterns:
                for match in pattern.finditer(sentence):
                    if _readable(match, sentence, year, guards):
                        stated = number if number is not None else int(match["n"])
                        found.append(Statement(spec.id, stated, sentence, match.group(0)))
    return _first_of_each(found)


def _readable(match: re.Match[str], sentence: str, year: int | None, guards: _Guards) -> bool:
    start, end = match.span()
    n_start = match.start("n") if "n" in match.re.groupindex else start
    if "n" in match.re.groupindex and n_start > 0 and (sentence[n_start - 1].isdigit() or sentence[n_start - 1] == "."):
        return False  # the tail of a longer number or of a decimal
    if year is None or not _years_fit(sentence, year, guards):
        return False
    before = _clause_before(sentence, start, guards)
    if any(marker in before for marker in guards.before_markers) or _in_part_parenthesis(sentence, start, guards):
        return False
    after = sentence[end:]
    return not any(p.search(after) for p in guards.after_markers)


def _years_fit(sentence: str, year: int, guards: _Guards) -> bool:
    """Only the report's year, or the next where requests are carried into it (结转到2024年)."""
    for y in guards.other_year.finditer(sentence):
        named = int(y.group(0))
        next_year = named == year + 1 and guards.next_year_context.search(sentence[: y.start()])
        if named != year and not next_year:
            return False
    return True


def _in_part_parenthesis(sentence: str, start: int, guards: _Guards) -> bool:
    """Inside a parenthesis, still open, that lists parts: (其中机构职能类信息25条，…)."""
    opened = max(sentence.rfind("(", 0, start), sentence.rfind("（", 0, start))
    if opened < 0 or ")" in sentence[opened:start] or "）" in sentence[opened:start]:
        return False
    return sentence[opened + 1 :].startswith(guards.part_markers)


def _clause_before(sentence: str, start: int, guards: _Guards) -> str:
    """The clause's text before the match, with a short clause just before it (其中，…)."""
    pieces = guards.clause_end.split(sentence[:start])
    before = pieces[-1]
    if len(pieces) > 1 and len(pieces[-2]) <= guards.short_clause_chars:
        before = pieces[-2] + before
    return before


def _first_of_each(found: list[Statement]) -> list[Statement]:
    """One statement per (id, number): a number said twice is one claim, its first sentence."""
    seen: set[tuple[str, int]] = set()
    out = []
    for statement in found:
        key = (statement.id, statement.number)
        if key not in seen:
            seen.add(key)
            out.append(statement)
    return out


def narrative_checks(statements: Sequence[Statement], template_id: str, fields: list[FieldValue]) -> list[CheckResult]:
    """A check per statement that some alternative of its fields can be compared with."""
    _, specs = _config()
    by_spec = {s.id: s for s in specs}
    by_id = {f.id: f for f in fields}
    checks = []
    for statement in statements:
        alternatives = by_spec[statement.id].alternatives.get(template_id, ())
        check = _check(statement, alternatives, by_id)
        if check is not None:
            checks.append(check)
    return checks


def _check(
    statement: Statement, alternatives: Sequence[Sequence[str]], by_id: dict[str, FieldValue]
) -> CheckResult | None:
    evaluable = [terms for terms in alternatives if _evaluable(terms, by_id)]
    if not evaluable:
        return None
    sums = [(terms, sum(by_id[t].value or 0 for t in terms)) for terms in evaluable]
    agreeing = [terms for terms, total in sums if abs(total - statement.number) < 1e-6]
    shown = agreeing[:1] if agreeing else [terms for terms, _ in sums]
    table = "; ".join(_terms(terms, by_id) for terms in shown)
    verdict = "agrees with" if agreeing else "but the table says"
    detail = f"the report says “{_quote(statement)}”: {statement.number}; {verdict} {table}"
    touched = list(dict.fromkeys(t for terms in shown for t in terms))
    return CheckResult(rule=statement.rule, ok=bool(agreeing), detail=detail, fields=touched)


def _quote(statement: Statement, context: int = 60) -> str:
    """The sentence, or the part of a long one around the phrase."""
    sentence, at = statement.sentence, statement.sentence.find(statement.phrase)
    if len(sentence) <= 2 * context + len(statement.phrase) or at < 0:
        return sentence
    start, end = max(0, at - context), min(len(sentence), at + len(statement.phrase) + context)
    return ("…" if start else "") + sentence[start:end] + ("…" if end < len(sentence) else "")


def _evaluable(terms: Sequence[str], by_id: dict[str, FieldValue]) -> bool:
    """Every field printed and readable, at least one filled in (a blank counts as 0)."""
    present = [by_id.get(t) for t in terms]
    if any(f is None or (f.value is None and not is_blank(f.raw)) for f in present):
        return False
    return any(f.value is not None for f in present if f is not None)


def _terms(terms: Sequence[str], by_id: dict[str, FieldValue]) -> str:
    values = [by_id[t].value for t in terms]
    shown = " + ".join(format_number(v) if v is not None else "blank" for v in values)
    total = sum(v or 0 for v in values)
    names = " + ".join(terms)
    return f"{names} = {shown}" + (f" = {format_number(total)}" if len(terms) > 1 else "")
