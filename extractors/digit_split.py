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
from functools import lru_cache

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
    ruled: bool = False
    """its own rules (a row's sum) took part in the split"""
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
    """Fill unit.candidates: the splits of its run that its own rules (all terms in the unit) allow.

    Cells are cut left to right; a rule is checked as soon as its last cell is cut, so a
    long run (表四's fifteen numbers) is pruned group by group instead of enumerated whole.
    """
    text, suffix = _strip_unit(unit.run)
    if suffix and unit.types[-1] != "amount_wan":
        return  # 元 after a count belongs to no cell of this row
    position = {fid: k for k, fid in enumerate(unit.field_ids) if fid}
    closing: list[list[RuleSpec]] = [[] for _ in unit.types]
    for rule in rules:
        closing[max(position[t] for t in rule.lhs + rule.rhs if t in position)].append(rule)
    unit.ruled = bool(rules)
    cutter = _Cutter(text.split(), unit.types, suffix, closing, position, limits)
    for parts, values in cutter.cuts(0, 0, 0):
        if unit.keep and not unit.keep(values):
            continue
        shown = parts[:-1] + (parts[-1] + suffix,) if suffix else parts
        unit.candidates.append(Split(shown, values))
        if len(unit.candidates) >= limits.max_splits:
            cutter.budget.left, cutter.budget.spent = 0, True
            break
    unit.capped = cutter.budget.spent


@dataclass
class _Budget:
    """Steps left for one search; `spent` once it ran out before the search was done."""

    left: int
    spent: bool = False

    def take(self) -> bool:
        if self.left <= 0:
            self.spent = True
            return False
        self.left -= 1
        return True


class _Cutter:
    """Cuts space-separated groups of digits into typed cells, each group one cell or more."""

    def __init__(
        self, groups: list[str], types: list[ValueType], suffix: str, closing: list[list[RuleSpec]],
        position: dict[str, int], limits: FlattenedLimits,
    ) -> None:
        self.groups, self.types, self.suffix, self.closing, self.position = groups, types, suffix, closing, position
        self.patterns = [number_pattern(t, limits.amount_max_decimals) for t in types]
        self.budget = _Budget(limits.max_steps)
        self.parts: list[str] = []
        self.values: list[Number] = []
        # characters from group g on: every cell still to cut needs one
        self.after = [sum(len(x) for x in groups[g:]) for g in range(len(groups) + 1)]

    def cuts(self, g: int, i: int, j: int) -> Iterator[tuple[tuple[str, ...], tuple[Number, ...]]]:
        """Cuts of groups[g][i:] and the groups after it into cells j onwards."""
        if not self.budget.take():
            return
        n = len(self.types)
        if j == n or g == len(self.groups):
            if j == n and g == len(self.groups):
                yield tuple(self.parts), tuple(self.values)
            return
        text = self.groups[g]
        for end in range(i + 1, len(text) + 1):
            head = text[i:end]
            if not self.patterns[j].fullmatch(head):
                if len(head) > 1 and head.lstrip("+-−").startswith("0"):
                    break  # a leading zero only gets longer
                continue
            if not self._room(g, end, j):
                continue
            last = j == n - 1 and self.types[j] == "amount_wan"
            value = _parsed(head + (self.suffix if last else ""), self.types[j])
            if value is None:
                continue
            self.parts.append(head)
            self.values.append(value)
            if all(_holds(rule, self._value) for rule in self.closing[j]):
                yield from self.cuts(g + 1, 0, j + 1) if end == len(text) else self.cuts(g, end, j + 1)
            self.parts.pop()
            self.values.pop()

    def _room(self, g: int, end: int, j: int) -> bool:
        """After cutting cell j at `end`, the cells left fit the characters and groups left."""
        text = self.groups[g]
        cells_left = len(self.types) - j - 1
        groups_left = len(self.groups) - g - 1 + (0 if end == len(text) else 1)
        chars_left = len(text) - end + self.after[g + 1]
        return groups_left <= cells_left <= chars_left

    def _value(self, field_id: str) -> Number | None:
        k = self.position.get(field_id)
        return self.values[k] if k is not None else None


def _strip_unit(run: str) -> tuple[str, str]:
    for unit in UNITS:
        if run.endswith(unit):
            return run[: -len(unit)].rstrip(), unit
    return run, ""


@lru_cache(maxsize=4096)
def _parsed(text: str, value_type: ValueType) -> Number | None:
    parsed = parse_value(text, value_type)
    return parsed.value if parsed.ok else None


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
    span: dict[tuple[int, int], tuple[float, float]] = field(default_factory=dict)
    touching: dict[int, list[RuleSpec]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for u, unit in enumerate(self.units):
            for k in range(len(unit.types)):
                values = [c.values[k] for c in unit.candidates] or [0]
                self.span[(u, k)] = (min(values), max(values))
        for rule in self.rules:
            for u in {self.where[t][0] for t in rule.lhs + rule.rhs if t in self.where}:
                self.touching.setdefault(u, []).append(rule)
    solutions: int = 0
    steps: int = 0
    capped: bool = False


def solve(units: list[Unit], rules: list[RuleSpec], limits: FlattenedLimits) -> list[Reading]:
    """Each unit's reading under the rules that span several units (each rule's terms all known).

    A rule is passed here only when every term is a cell of a unit (or a row the document
    does not print and the form allows to be absent). Units that rules tie together are
    searched together, each group on its own: every combination of their candidates,
    pruned by each rule's bounds, up to the limits.
    """
    where = {fid: (u, k) for u, unit in enumerate(units) for k, fid in enumerate(unit.field_ids) if fid}
    rules = [r for r in rules if all(units[where[t][0]].candidates for t in r.lhs + r.rhs if t in where)]
    readings = [_reading(unit, set(), searched=False, capped=False) for unit in units]
    for members, group_rules in _groups(len(units), rules, where):
        search = _Search(units, group_rules, where, limits)
        _search(search, sorted(members, key=lambda u: len(units[u].candidates)), 0)
        if search.solutions == 0 and not search.capped:
            readings_of = _contradiction(units, members, group_rules, where, limits)
        else:
            readings_of = {u: _reading(units[u], search.seen.get(u, set()), True, search.capped) for u in members}
        for u, reading in readings_of.items():
            readings[u] = reading
    return readings


def _reading(unit: Unit, seen: set[int], searched: bool, capped: bool) -> Reading:
    """`seen`: the unit's candidates that some combination satisfying the rules used."""
    if not unit.candidates:
        return Reading(None, [], problem="search cut short" if unit.capped else "no split fits")
    if len(unit.candidates) == 1 and not unit.capped:
        return Reading(unit.candidates[0], unit.candidates, "row" if unit.ruled else "digits")
    if searched and len(seen) == 1 and not capped and not unit.capped:
        return Reading(unit.candidates[next(iter(seen))], unit.candidates, "rules")
    options = [unit.candidates[k] for k in sorted(seen)] if searched and seen and not capped else unit.candidates
    return Reading(None, options, problem="search cut short" if capped or unit.capped else None)


def _groups(n: int, rules: list[RuleSpec], where: dict[str, tuple[int, int]]) -> list[tuple[list[int], list[RuleSpec]]]:
    """Units tied together by rules (connected through shared rules), each with its rules."""
    parent = list(range(n))

    def root(u: int) -> int:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for rule in rules:
        mine = [where[t][0] for t in rule.lhs + rule.rhs if t in where]
        for u in mine[1:]:
            parent[root(u)] = root(mine[0])
    groups: dict[int, tuple[list[int], list[RuleSpec]]] = {}
    for rule in rules:
        first = next(where[t][0] for t in rule.lhs + rule.rhs if t in where)
        groups.setdefault(root(first), ([], []))[1].append(rule)
    for u in range(n):
        if root(u) in groups:
            groups[root(u)][0].append(u)
    return list(groups.values())


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
        if all(_possible(search, rule) for rule in search.touching.get(u, [])):
            _search(search, order, depth + 1)
        del search.choice[u]


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
            low, high = search.span[(u, k)]
            lo, hi = lo + low, hi + high
    return lo, hi


def _contradiction(
    units: list[Unit], members: list[int], rules: list[RuleSpec], where: dict[str, tuple[int, int]],
    limits: FlattenedLimits,
) -> dict[int, Reading]:
    """No combination satisfies the rules: name the rules no split can satisfy on their own."""
    failing = [rule for rule in rules if not _satisfiable(units, rule, where, limits)]
    culprits: dict[int, list[str]] = {}
    for rule in failing or rules:
        for term in rule.lhs + rule.rhs:
            if term in where:
                culprits.setdefault(where[term][0], []).append(rule.id)
    together = "" if failing else " together"
    readings = {}
    for u in members:
        reading = _reading(units[u], set(), searched=False, capped=False)
        ids = list(dict.fromkeys(culprits.get(u, [])))
        if ids and units[u].candidates:
            reading.problem = f"no way to split these rows satisfies the form's rules{together}: {', '.join(ids)}"
        readings[u] = reading
    return readings


def _satisfiable(units: list[Unit], rule: RuleSpec, where: dict[str, tuple[int, int]], limits: FlattenedLimits) -> bool:
    mine = sorted({where[t][0] for t in rule.lhs + rule.rhs if t in where})
    search = _Search(units, [rule], where, limits.model_copy(update={"max_solutions": 1}))
    _search(search, [u for u in mine if units[u].candidates], 0)
    return search.solutions > 0 or search.capped
