"""Tables flattened into running text: each row label followed by the row's digits, run together.

Crawled page text often keeps a table's words and numbers but loses its cell borders:
`一、本年新收政府信息公开申请数量15130000154` is the row 151, 3, 0, 0, 0, 0, 154. Such a
report is still tabular. This module finds a template's tables in the text (a table's
title starts it, the next title or the end of the statistics ends it), cuts the text into
rows at the template's labels (mapping's own alignment and label matching), keeps each
row's run of digits as its raw text, and lets digit_split find the ways to read each run
as the row's cells. A field is given a value only when its run has exactly one reading
the form's rules allow; otherwise it is null with the candidates in its reason. Nothing
is fixed silently: `raw` is the printed run.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from gongkai.config import load_patterns, load_templates, load_thresholds
from gongkai.models import Cell, FieldValue, LearnedLabel, RowSpec, RuleSpec, TableSpec, Template, UnmappedCell
from gongkai.models.template import FlattenedLimits

from .checks import expand_rule
from .completeness import canonical_rows, row_field_ids
from .digit_split import Reading, Split, Unit, solve, splits
from .mapping import RowMatch, TableMapping, align, make_field, with_learned_labels
from .rows import LogicalRow
from .seen import SeenTable, seen_table
from .segment import Segment
from .text import collapse_spaces, label_key, nfkc

# What a flattened table prints for a row: digits, decimal points, signs and spaces between
# digits (a space is a hard boundary between cells), and an amount's unit at the end.
_RUN = re.compile(r"\d(?:\d|\.(?=\d)|[ \t\u3000]+(?=\d)|[+\-−](?=\d))*(?:万元|元)?")
# A number of the narrative, not a cell: a measure word or sentence punctuation follows it
# (218件, 71.11%, 2017年度), or 第 comes before it (第711号).
_NARRATIVE_AFTER = frozenset("条件篇期次个人年月日号家份项万%％，。；：,;:！？)）")
_ENUMERATOR_AFTER = (".", "、")
_SENTENCE_END = re.compile(r"[。；;！？]")
_MAX_LABEL = 40


@dataclass
class Chunk:
    """A row as the text prints it: the words before a run of digits, and the run."""

    label: str
    run: str


@dataclass
class _TableRead:
    spec: TableSpec
    rows: list[LogicalRow]
    matches: list[RowMatch]
    two_columns: bool = False
    """an indicator table printing the year and the running total (历年累计)"""

    @property
    def score(self) -> int:
        labelled = sum(1 for m in self.matches if m.how == "label")
        return labelled if self.spec.layout != "single_row" else max(labelled, 1 if self.rows else 0)


@dataclass
class FlatRead:
    template: Template
    mapping: TableMapping


def read_flattened(segment: Segment, year: int | None, learned: Sequence[LearnedLabel] = ()) -> FlatRead | None:
    """The template's tables read from the segment's text, or None when its text holds none."""
    text = nfkc("\n".join(b.text for b in segment.text_blocks()))
    limits = load_thresholds().flattened
    best: tuple[tuple[int, bool], Template, list[_TableRead]] | None = None
    for template in load_templates():
        template = with_learned_labels(template, learned)
        tables = locate_tables(text, template, limits)
        score = (sum(t.score for t in tables), year is not None and template.years[0] <= year <= template.years[1])
        if score[0] >= limits.min_rows and (best is None or score > best[0]):
            best = (score, template, tables)
    if best is None:
        return None
    _, template, tables = best
    return FlatRead(template, read_tables(template, tables, limits))


# --- finding the tables and their rows ------------------------------------------


def chunks(text: str) -> list[Chunk]:
    """The text cut after every run of digits that a table cell could print."""
    out: list[Chunk] = []
    start = 0
    for match in _RUN.finditer(text):
        after = text[match.end():match.end() + 1]
        if after in _NARRATIVE_AFTER or text[match.start() - 1:match.start()] == "第":
            continue
        run, end = match.group(), match.end()
        if after in _ENUMERATOR_AFTER and not text[end + 1:end + 2].isdigit() and run[-1].isdigit():
            run, end = run[:-1].rstrip(), end - 1  # its last digit numbers the next label: 40000042.其他…
        if not run:
            continue  # a group label, then its first row's enumerator: （三）不予公开1.属于国家秘密
        out.append(Chunk(_label_text(text[start:match.start()]), run))
        start = end
    return out


def _label_text(text: str) -> str:
    """The words of a row label: what follows the last sentence of the narrative."""
    return collapse_spaces(_SENTENCE_END.split(text)[-1])


def locate_tables(text: str, template: Template, limits: FlattenedLimits) -> list[_TableRead]:
    """Each table of the template at the title occurrence whose text aligns best with its rows."""
    boundaries = sorted(
        start for spec in template.tables for start, _ in _occurrences(text, [spec.title, *spec.title_aliases])
    ) + sorted(start for start, _ in _occurrences(text, _section_ends()))
    found = []
    for spec in template.tables:
        reads = []
        for _start, end in _occurrences(text, [spec.title, *spec.title_aliases])[-limits.max_title_occurrences:]:
            stop = min((b for b in boundaries if b >= end), default=len(text))
            reads.append(_read_region(spec, text[end:stop], limits))
        best = max(reversed(reads), key=lambda r: r.score, default=None)  # a tie goes to the later title
        if best is not None and best.score:
            found.append(best)
    return found


def _occurrences(text: str, phrases: list[str]) -> list[tuple[int, int]]:
    """Where a phrase's words occur, punctuation and spaces allowed between its characters."""
    spans = set()
    for phrase in phrases:
        key = label_key(phrase)
        if key:
            pattern = re.compile(r"[\W_]*".join(map(re.escape, key)))
            spans |= {(m.start(), m.end()) for m in pattern.finditer(text)}
    return sorted(spans)


def _section_ends() -> list[str]:
    """The section_end patterns that are plain words (anchors aside), searched for inside text."""
    words = [p.strip("^$") for p in load_patterns()["section_end"]]
    return [w for w in words if w and not re.search(r"[\\.*+?()\[\]{}|]", w)]


def _read_region(spec: TableSpec, region: str, limits: FlattenedLimits) -> _TableRead:
    pieces = chunks(region)
    if len(pieces) > limits.max_region_rows:
        return _TableRead(spec, [], [])  # text with this many numbers is narrative, not one table
    two_columns = spec.layout == "indicator" and _has_running_total(pieces)
    if spec.layout == "indicator":
        pieces = [Chunk(_without_unit(c.label), c.run) for c in pieces]
    rows = [_logical_row(spec, c) for c in pieces]
    matches = align(rows, spec.rows)
    if spec.layout == "indicator":
        matches = [m for m in matches if m.how == "label"]  # unlabelled rows are never guessed
    return _TableRead(spec, rows, matches, two_columns)


def _logical_row(spec: TableSpec, chunk: Chunk) -> LogicalRow:
    labels = [Cell(row=0, col=0, text=chunk.label, source="txt")] if chunk.label else []
    return LogicalRow(labels, [Cell(row=0, col=1, text=chunk.run, source="txt")], spec.id, 1)


def _has_running_total(pieces: list[Chunk]) -> bool:
    """The header before the first row names a running-total column (Fujian's 历年累计)."""
    words = load_patterns().get("running_total_columns", [])
    return bool(pieces) and any(w in pieces[0].label for w in words)


def _without_unit(label: str) -> str:
    """An indicator row prints its unit between label and digits: 主动公开文件数条212210037."""
    for unit in sorted(load_patterns()["units"], key=len, reverse=True):
        if label.endswith(unit) and len(label) > len(unit):
            return label[: -len(unit)]
    return label


# --- reading the runs -------------------------------------------------------------


@dataclass
class _Placed:
    """A unit with where its cells go: (row, column id) per cell, None for a non-canonical column."""

    unit: Unit
    table: TableSpec
    places: list[tuple[RowSpec, str | None] | None]
    match: RowMatch | None
    label: str | None


def read_tables(template: Template, tables: list[_TableRead], limits: FlattenedLimits) -> TableMapping:
    placed = [p for t in tables for p in _units(t)]
    known = {fid for p in placed for fid in p.unit.field_ids if fid}
    rules = _usable_rules(template, known)
    for p in placed:
        own = [r for r in rules if _terms(r, known) <= set(p.unit.field_ids)]
        splits(p.unit, own, limits)
    cross = [r for r in rules if not any(_terms(r, known) <= set(p.unit.field_ids) for p in placed)]
    readings = solve([p.unit for p in placed], cross, limits)
    fields = [f for p, reading in zip(placed, readings) for f in _fields(p, reading, limits)]
    unmapped: list[UnmappedCell] = []
    seen: dict[str, SeenTable] = {}
    for t in tables:
        matched = {id(m.row): m.spec.id for m in t.matches}
        if t.spec.layout != "single_row" or len(t.matches) >= 2:
            unmapped += [_unmapped(t.spec, r) for r in t.rows if id(r) not in matched]
        seen[t.spec.id] = seen_table(t.rows, [(r, matched.get(id(r))) for r in t.rows])
    return TableMapping(fields, unmapped, seen)


def _units(table: _TableRead) -> list[_Placed]:
    spec = table.spec
    if spec.layout == "single_row" and len(table.matches) < 2:
        # 表四 in one run: every group's cells in printed order
        every: list[tuple[RowSpec, str | None]] = [(row, c.id) for row in spec.rows for c in spec.columns]
        run = " ".join(r.values[0].text for r in table.rows)
        return [_Placed(_unit(spec, run, every), spec, [*every], None, None)] if table.rows else []
    out = []
    for match in table.matches:
        row = match.spec
        columns: list[str | None] = [None] if spec.layout == "indicator" else list(spec.column_ids(row))
        cells: list[tuple[RowSpec, str | None]] = [(row, c) for c in columns]
        unit = _unit(spec, match.row.values[0].text, cells)
        places: list[tuple[RowSpec, str | None] | None] = [*cells]
        if table.two_columns:
            places.append(None)
            unit.field_ids.append(None)
            unit.types.append(row.type)
            unit.keep = lambda values: values[0] <= values[1]  # the year is part of the running total
        out.append(_Placed(unit, spec, places, match, match.row.leaf))
    return out


def _unit(spec: TableSpec, run: str, places: list[tuple[RowSpec, str | None]]) -> Unit:
    return Unit(
        run=run,
        field_ids=[spec.field_id(row, column) for row, column in places],
        types=[spec.value_type(row, column) for row, column in places],
    )


def _usable_rules(template: Template, known: set[str]) -> list[RuleSpec]:
    """Rules whose every term is a printed cell, or a row the form lets this report leave out."""
    required = {
        fid for table in template.tables for row in canonical_rows(template, table, known)
        for fid in row_field_ids(table, row)
    }
    rules = [concrete for rule in template.rules for concrete in expand_rule(rule)]
    return [
        r for r in rules
        if _terms(r, known) and all(t in known or t not in required for t in r.lhs + r.rhs)
    ]


def _terms(rule: RuleSpec, known: set[str]) -> set[str]:
    return {t for t in rule.lhs + rule.rhs if t in known}


def _fields(placed: _Placed, reading: Reading, limits: FlattenedLimits) -> list[FieldValue]:
    unit, spec, match = placed.unit, placed.table, placed.match
    label_confidence = match.label_confidence if match else 1.0
    reasons = list(match.reasons) if match else []
    notes = list(match.notes) if match else []
    out = []
    for k, place in enumerate(placed.places):
        if place is None:
            continue
        row, column = place
        row_label = placed.label if placed.label and len(placed.label) <= _MAX_LABEL else row.label
        if (chosen := reading.chosen) is not None:
            cell = Cell(row=0, col=k, text=chosen.parts[k], source="txt")
            field = make_field(spec, row, column, cell, label_confidence, list(reasons), row_label,
                               notes + [_read_note(unit, chosen, reading.how)] + _other_columns(unit, chosen),
                               "flattened")
            field.raw = unit.run
            if reading.problem:
                field.reasons.append(f"digits run together: {reading.problem}")
        else:
            field = _unread(spec, row, column, unit, reading, k, reasons, row_label, limits)
        out.append(field)
    return out


def _read_note(unit: Unit, chosen: Split, how: str) -> str:
    why = {"digits": "the digits allow", "row": "the row's own sum allows", "rules": "the form's rules allow"}
    return f'digits run together: read as {chosen.shown()} from "{unit.run}", the only split {why[how]}'


def _other_columns(unit: Unit, chosen: Split) -> list[str]:
    """A printed column that is no canonical field (the running total) is kept as a note."""
    return [f"a column that is no canonical field reads {chosen.parts[k]}"
            for k, fid in enumerate(unit.field_ids) if fid is None]


def _unread(
    spec: TableSpec, row: RowSpec, column: str | None, unit: Unit, reading: Reading, k: int,
    reasons: list[str], row_label: str, limits: FlattenedLimits,
) -> FieldValue:
    options = reading.options
    values = {o.values[k] for o in options}
    if options:
        shown = "; ".join(o.shown() for o in options[: limits.shown_candidates])
        cut_short = reading.problem == "search cut short"
        more = " …" if len(options) > limits.shown_candidates or cut_short else ""
        count = f"{len(options)}{' or more' if cut_short else ''} ways"
        reason = f'digits run together: {count} to split "{unit.run}": {shown}{more}'
        if reading.problem and reading.problem != "search cut short":
            reason += f"; {reading.problem}"
    else:
        reason = f'digits run together: no split of "{unit.run}" into {len(unit.types)} numbers fits the form'
        if "amount_wan" in unit.types:
            reason += f" (an amount in 万元 prints at most {limits.amount_max_decimals} decimals)"
    return FieldValue(
        id=spec.field_id(row, column),
        value=None,
        raw=unit.run,
        confidence=0.0,
        reasons=reasons + [reason],
        row_label=row_label,
        col_label=spec.column_label(column) if column else None,
        source="txt",
        suggestion=next(iter(values)) if len(values) == 1 else None,
    )


def _unmapped(spec: TableSpec, row: LogicalRow) -> UnmappedCell:
    return UnmappedCell(table=spec.id, row_label=row.leaf, col_label=None, raw=row.values[0].text)
