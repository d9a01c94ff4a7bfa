"""Reading one printed run of digits as a row's cells, and letting the form's rules choose.

A table flattened into text prints a row's cells one after another with nothing between
them (`15130000154` for 151, 3, 0, 0, 0, 0, 154). `splits` lists every way to cut such a
run into the row's cells: numbers without leading zeros (except "0" itself), spaces in the
run are hard boundaries, each cell read with the cell grammar of values.py. `solve` then
keeps the combinations of splits, across the rows of a table, under which every usable
rule of the form holds. Everything is bounded (config/thresholds.yaml `flattened`): a
search cut short proves nothing, and a split is chosen only when it is the only one left.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from gongkai.models import RuleSpec
from gongkai.models.template import FlattenedLimits, ValueType

from .values import parse_value

Number = int | float
UNITS = ("万元", "元")  # an amount's unit printed after the run, read with the last cell
_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Split:
    parts: tuple[str, ...]
    """each cell's printed text, in order (the run's unit with the last)"""
    values: tuple[Number, ...]

    def shown(self) -> str:
        return "|".join(self.parts)


@dataclass
class Unit:
    """One printed run and the cells it holds (a row, or 表四's whole run)."""

    run: str
    field_ids: list[str | None]
    """the cells' canonical ids; None for a printed column that is no canonical field"""
    types: list[ValueType]
    keep: Callable[[tuple[Number, ...]], bool] | None = None
    """a constraint of the row's own beyond the rules (legacy: the year ≤ the running total)"""
    candidates: list[Split] = field(default_factory=list)
    digit_splits: int = 0
    """how many splits the digits alone allow (before any rule), up to the limit"""
    capped: bool = False


@dataclass
class Reading:
    """What the rules leave of one unit."""

    chosen: Split | None
    options: list[Split]
    how: str = ""
    """why the chosen split is the only one: 'digits', 'row' (its own sum) or 'rules' (the table's)"""
    problem: str | None = None


# --- one run -------------------------------------------------------------------


def number_pattern(value_type: ValueType, max_decimals: int) -> re.Pattern[str]:
    whole = r"(?:0|[1-9]\d*)"
    if value_type == "amount_wan":
        return re.compile(rf"{whole}(?:\.\d{{1,{max_decimals}}})?")
    if value_type == "signed":
        return re.compile(rf"[+\-−]?{whole}")
    return re.compile(whole)


def splits(unit: Unit, rules: Sequence[RuleSpec], limits: FlattenedLimits) -> None:
    """Fill unit.candidates: the splits of its run that its own rules (all terms in the unit) allow."""
    text, unit_suffix = _strip_unit(unit.run)
    patterns = [number_pattern(t, limits.amount_max_decimals) for t in unit.types]
    position = {fid: k for k, fid in enumerate(unit.field_ids) if fid}
    steps = 0
    for parts in _cuts(text.split(), len(unit.types), patterns):
        steps += 1
        if steps > limits.max_steps or len(unit.candidates) >= limits.max_splits:
            unit.capped = True
            return
        values = _values(parts, unit.types, unit_suffix)
        if values is None:
            continue
        unit.digit_splits += 1
        if unit.keep and not unit.keep(values):
            continue
        if all(_holds(rule, lambda fid: values[position[fid]] if fid in position else None) for rule in rules):
            shown = parts[:-1] + (parts[-1] + unit_suffix,) if unit_suffix else parts
            unit.candidates.append(Split(shown, values))


def _strip_unit(run: str) -> tuple[str, str]:
    for unit in UNITS:
        if run.endswith(unit):
            return run[: -len(unit)].rstrip(), unit
    return run, ""


def _cuts(groups: list[str], n: int, patterns: list[re.Pattern[str]]) -> Iterator[tuple[str, ...]]:
    """Every cut of the groups (space-separated) into n parts, each group one part or more."""
    if not groups:
        if n == 0:
            yield ()
        return
    first, rest = groups[0], groups[1:]
    for k in range(1, n - len(rest) + 1):
        for head in _cut_group(first, k, patterns[: k]):
            for tail in _cuts(rest, n - k, patterns[k:]):
                yield head + tail


def _cut_group(text: str, k: int, patterns: list[re.Pattern[str]]) -> Iterator[tuple[str, ...]]:
    if k == 1:
        if patterns[0].fullmatch(text):
            yield (text,)
        return
    for end in range(1, len(text) - k + 2):
        head = text[:end]
        if patterns[0].fullmatch(head):
            for tail in _cut_group(text[end:], k - 1, patterns[1:]):
                yield (head, *tail)


def _values(parts: tuple[str, ...], types: list[ValueType], unit: str) -> tuple[Number, ...] | None:
    values = []
    for k, (part, value_type) in enumerate(zip(parts, types)):
        suffix = unit if k == len(parts) - 1 and value_type == "amount_wan" else ""
        parsed = parse_value(part + suffix, value_type)
        if not parsed.ok or parsed.value is None:
            return None
        values.append(parsed.value)
    if unit and types[-1] != "amount_wan":
        return None  # 元 after a count is no cell of this row
    return tuple(values)


def _holds(rule: RuleSpec, value_of: Callable[[str], Number | None]) -> bool:
    """lhs = rhs with the given values; a term without a value is not printed (counts as 0)."""
    left = sum(value_of(t) or 0 for t in rule.lhs)
    right = sum(value_of(t) or 0 for t in rule.rhs)
    return abs(left - right) < _TOLERANCE


# --- the table -------------------------------------------------------------------


@dataclass
class _Search:
    units: list[Unit]
    rules: list[RuleSpec]
    where: dict[str, tuple[int, int]]
    limits: FlattenedLimits
    choice: dict[int, int] = field(default_factory=dict)
    seen: dict[int, set[int]] = field(default_factory=dict)
    solutions: int = 0
    steps: int = 0
    capped: bool = False


def solve(units: list[Unit], rules: list[RuleSpec], limits: FlattenedLimits) -> list[Reading]:
    """Each unit's reading under the rules that span several units (each rule's terms all known).

    A rule is passed here only when every term is a cell of a unit (or a row the document
    does not print and the form allows to be absent); `rules` are checked on every
    combination of the units' candidates, pruned by each rule's bounds.
    """
    where = {fid: (u, k) for u, unit in enumerate(units) for k, fid in enumerate(unit.field_ids) if fid}
    rules = [r for r in rules if all(units[where[t][0]].candidates for t in r.lhs + r.rhs if t in where)]
    search = _Search(units, rules, where, limits)
    open_units = sorted((u for u, unit in enumerate(units) if unit.candidates), key=lambda u: len(units[u].candidates))
    _search(search, open_units, 0)
    if search.solutions == 0 and not search.capped:
        return _contradiction(units, rules, where, limits)
    readings = []
    for u, unit in enumerate(units):
        seen = search.seen.get(u, set())
        if not unit.candidates:
            readings.append(Reading(None, [], problem="no split fits"))
        elif len(unit.candidates) == 1 and not unit.capped:
            readings.append(Reading(unit.candidates[0], unit.candidates, "digits" if unit.digit_splits == 1 else "row"))
        elif len(seen) == 1 and not search.capped and not unit.capped:
            readings.append(Reading(unit.candidates[next(iter(seen))], unit.candidates, "rules"))
        else:
            options = [unit.candidates[k] for k in sorted(seen)] if seen and not search.capped else unit.candidates
            problem = "search cut short" if search.capped or unit.capped else None
            readings.append(Reading(None, options, problem=problem))
    return readings


def _search(search: _Search, order: list[int], depth: int) -> None:
    if search.capped:
        return
    if depth == len(order):
        search.solutions += 1
        for u, k in search.choice.items():
            search.seen.setdefault(u, set()).add(k)
        if search.solutions >= search.limits.max_solutions:
            search.capped = True
        return
    u = order[depth]
    for k in range(len(search.units[u].candidates)):
        search.steps += 1
        if search.steps > search.limits.max_steps:
            search.capped = True
            return
        search.choice[u] = k
        if all(_possible(search, rule) for rule in search.rules if _touches(search, rule, u)):
            _search(search, order, depth + 1)
        del search.choice[u]


def _touches(search: _Search, rule: RuleSpec, u: int) -> bool:
    return any(search.where.get(t, (-1, 0))[0] == u for t in rule.lhs + rule.rhs)


def _possible(search: _Search, rule: RuleSpec) -> bool:
    """Can the rule still hold? Bounds of each side over the candidates of units not yet chosen."""
    lo_l, hi_l = _bounds(search, rule.lhs)
    lo_r, hi_r = _bounds(search, rule.rhs)
    return lo_l <= hi_r + _TOLERANCE and lo_r <= hi_l + _TOLERANCE


def _bounds(search: _Search, terms: list[str]) -> tuple[float, float]:
    lo = hi = 0.0
    for term in terms:
        if term not in search.where:
            continue  # a row the document does not print: 0
        u, k = search.where[term]
        unit = search.units[u]
        if u in search.choice:
            value = unit.candidates[search.choice[u]].values[k]
            lo, hi = lo + value, hi + value
        else:
            values = [c.values[k] for c in unit.candidates]
            lo, hi = lo + min(values), hi + max(values)
    return lo, hi


def _contradiction(
    units: list[Unit], rules: list[RuleSpec], where: dict[str, tuple[int, int]], limits: FlattenedLimits
) -> list[Reading]:
    """No combination satisfies the rules: name the rules no split can satisfy on their own."""
    failing = [rule for rule in rules if not _satisfiable(units, rule, where, limits)]
    blamed = failing or rules
    culprits: dict[int, list[str]] = {}
    for rule in blamed:
        for term in rule.lhs + rule.rhs:
            if term in where:
                culprits.setdefault(where[term][0], []).append(rule.id)
    readings = []
    for u, unit in enumerate(units):
        ids = list(dict.fromkeys(culprits.get(u, [])))
        how = "digits" if unit.digit_splits == 1 else "row"
        chosen = unit.candidates[0] if len(unit.candidates) == 1 and not unit.capped else None
        if not unit.candidates:
            readings.append(Reading(None, [], problem="no split fits"))
        elif not ids:
            readings.append(Reading(chosen, unit.candidates, how))
        else:
            together = "" if failing else " together"
            problem = f"no way to split these rows satisfies the form's rules{together}: {', '.join(ids)}"
            readings.append(Reading(chosen, unit.candidates, how, problem))
    return readings


def _satisfiable(units: list[Unit], rule: RuleSpec, where: dict[str, tuple[int, int]], limits: FlattenedLimits) -> bool:
    mine = sorted({where[t][0] for t in rule.lhs + rule.rhs if t in where})
    search = _Search(units, [rule], where, limits.model_copy(update={"max_solutions": 1}))
    _search(search, [u for u in mine if units[u].candidates], 0)
    return search.solutions > 0 or search.capped
