"""Mapping logical rows onto template rows and columns: the heart of extraction.

Rows are aligned to the template in order (a monotone dynamic programme), so that a
row whose label was lost still lands on the right id when labelled neighbours pin it
down; a labelled row that matches nothing goes to `unmapped`, never onto an id.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gongkai.config import load_patterns, load_thresholds
from gongkai.models import Cell, FieldValue, LearnedLabel, RowSpec, TableMethod, TableSpec, Template, UnmappedCell

from .rows import LogicalRow, has_value
from .seen import SeenTable, seen_table
from .shortlabels import ShortMatch, short_label_match, short_label_names
from .text import label_key, label_similarity
from .values import is_blank, parse_value

LABELLED = ("label", "short")  # matched by its own printed label, whole or shortened


@dataclass
class RowMatch:
    row: LogicalRow
    spec: RowSpec
    label_confidence: float
    how: str  # "label", "short" (a shortened label), "parent" or "position"
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class TableMapping:
    fields: list[FieldValue]
    unmapped: list[UnmappedCell]
    seen: dict[str, SeenTable] = field(default_factory=dict)
    """table id -> where that table and its printed rows were seen (for the rows not found)"""


def map_template(template: Template, rows: list[LogicalRow], learned: Sequence[LearnedLabel] = ()) -> TableMapping:
    """All tables of a template from the rows of one report; `learned` labels count as aliases."""
    template = with_learned_labels(template, learned)
    fields: list[FieldValue] = []
    unmapped: list[UnmappedCell] = []
    seen: dict[str, SeenTable] = {}
    for spec in template.tables:
        section_rows = [r for r in rows if r.section == spec.id]
        if not section_rows:
            continue
        mapping = _MAPPERS[spec.layout](spec, section_rows)
        fields.extend(mapping.fields)
        unmapped.extend(mapping.unmapped)
        seen.update(mapping.seen)
    return TableMapping(fields, unmapped, seen)


def with_learned_labels(template: Template, learned: Sequence[LearnedLabel]) -> Template:
    """The template with each reviewer-learned label added to its row's aliases (this template only)."""
    mine = [label for label in learned if label.template == template.id]
    if not mine:
        return template
    tables = []
    for table in template.tables:
        rows = []
        for row in table.rows:
            extra = [x.label for x in mine if x.table == table.id and x.row_id == row.id]
            extra = [label for label in dict.fromkeys(extra) if label not in row.aliases and label != row.label]
            rows.append(row.model_copy(update={"aliases": [*row.aliases, *extra]}) if extra else row)
        tables.append(table.model_copy(update={"rows": rows}))
    return template.model_copy(update={"tables": tables})


# --- alignment -------------------------------------------------------------------


def label_score(row: LogicalRow, spec: RowSpec) -> float:
    """Best similarity of the row's leaf label (alone or joined with the cell before) to the spec.

    The joined text counts only where the leaf adds to it: a group label carried down from
    above ((六)其他处理 over 1.逾期不补正) matching by itself names the group's row, not this one.
    """
    texts = [c.text for c in row.labels]
    if not texts:
        return 0.0
    best = 0.0
    for name in [spec.label, *spec.aliases]:
        best = max(best, label_similarity(texts[-1], name))
        if len(texts) >= 2:
            joined = label_similarity(texts[-2] + texts[-1], name)
            if joined > label_similarity(texts[-2], name):
                best = max(best, joined)
    return best


def _parent_score(row: LogicalRow, spec: RowSpec, specs: list[RowSpec]) -> float:
    """The leaf names this spec's parent group and the spec is the group's first row.

    That is a row whose own label was lost while its group label survived
    (（五）不予处理 followed directly by values).
    """
    if not row.labels or not spec.parents:
        return 0.0
    first_of_group = next(s for s in specs if s.parents == spec.parents)
    if first_of_group is not spec:
        return 0.0
    return label_similarity(row.labels[-1].text, spec.parents[-1])


def _has_label(row: LogicalRow) -> bool:
    return bool(row.labels) and any(label_key(c.text) for c in row.labels[len(row.carried) :])


def _match_score(
    row: LogicalRow, spec: RowSpec, specs: list[RowSpec], minimum: float, short: ShortMatch | None
) -> tuple[float, str, float]:
    """(alignment score, how, label confidence); score None-like (-inf) when not allowed."""
    scores = load_thresholds().alignment
    if not _has_label(row):
        return scores.unlabelled_match, "position", 0.0
    similarity = label_score(row, spec)
    if similarity >= minimum:
        return 1.0 + similarity, "label", similarity
    if short is not None and short.row_id == spec.id:
        return 1.0 + short.score, "short", short.score
    if _parent_score(row, spec, specs) >= scores.parent_label_min:
        return scores.parent_match, "parent", 0.0
    return float("-inf"), "", 0.0


def align(rows: list[LogicalRow], specs: list[RowSpec]) -> list[RowMatch]:
    """Monotone alignment of observed rows to template rows maximising label agreement."""
    minimum = load_thresholds().label_match_min
    scores = load_thresholds().alignment
    names = short_label_names(specs)
    shorts = [short_label_match(r.leaf or "", names) if _has_label(r) else None for r in rows]
    n, m = len(rows), len(specs)
    neg = float("-inf")
    best = [[neg] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int, str, float] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            here = best[i][j]
            if here == neg:
                continue
            if j < m:  # template row absent from the document
                skip = 0.0 if specs[j].optional else scores.skip_required_row
                _relax(best, back, i, j + 1, here + skip, (i, j, "skip_t", 0.0))
            if i < n:  # observed row left unmapped
                _relax(best, back, i + 1, j, here + scores.skip_observed, (i, j, "skip_o", 0.0))
            if i < n and j < m:
                score, how, confidence = _match_score(rows[i], specs[j], specs, minimum, shorts[i])
                if score != neg:
                    _relax(best, back, i + 1, j + 1, here + score, (i, j, how, confidence))
    return _trace(back, rows, specs, n, m)


def _relax(best: list[list[float]], back: list, i: int, j: int, score: float, step: tuple) -> None:
    if score > best[i][j]:
        best[i][j] = score
        back[i][j] = step


def _trace(back: list, rows: list[LogicalRow], specs: list[RowSpec], n: int, m: int) -> list[RowMatch]:
    matches: list[RowMatch] = []
    i, j = n, m
    while (i, j) != (0, 0):
        pi, pj, how, confidence = back[i][j]
        if how not in ("skip_t", "skip_o"):
            match = RowMatch(rows[pi], specs[pj], confidence, how)
            if how == "short":
                match.notes.append(f"shortened label {rows[pi].leaf!r} read as {specs[pj].label!r}")
            matches.append(match)
        i, j = pi, pj
    matches.reverse()
    _score_inferred(matches, specs)
    return matches


def _score_inferred(matches: list[RowMatch], specs: list[RowSpec]) -> None:
    """A row placed by position is trusted only when labelled neighbours force its place.

    Forced: between the two nearest labelled anchors (or the table's ends) there are
    exactly as many observed rows as required template rows, so no other order fits.
    """
    index = {id(s): k for k, s in enumerate(specs)}
    anchors = [k for k, mt in enumerate(matches) if mt.how in LABELLED]
    inferred = load_thresholds().label_inferred
    for k, match in enumerate(matches):
        if match.how in LABELLED:
            continue
        before = max((a for a in anchors if a < k), default=None)
        after = min((a for a in anchors if a > k), default=None)
        lo = index[id(matches[before].spec)] + 1 if before is not None else 0
        hi = index[id(matches[after].spec)] if after is not None else len(specs)
        observed = (after if after is not None else len(matches)) - (before + 1 if before is not None else 0)
        required = [s for s in specs[lo:hi] if not s.optional]
        placed = [
            mt.spec
            for mt in matches[
                (before + 1 if before is not None else 0) : (after if after is not None else len(matches))
            ]
        ]
        forced = observed == len(required) and all(p in required for p in placed)
        what = "label lost" if match.how == "position" else "only its group label survives"
        if forced:
            match.label_confidence = inferred
            match.notes.append(f"row placed by position ({what}); its labelled neighbours fix it")
        else:
            match.label_confidence = load_thresholds().field_confidence.position_in_doubt
            match.reasons.append(f"row placed by position ({what}); the order leaves doubt")


# --- layouts -----------------------------------------------------------------------


def _map_rows_layout(spec: TableSpec, rows: list[LogicalRow]) -> TableMapping:
    observed = [r for r in rows if r.values and (has_value(r) or _labelled_data_row(spec, r))]
    matches = align(observed, spec.rows)
    matched_rows = {id(mt.row): mt.spec.id for mt in matches}
    fields: list[FieldValue] = []
    unmapped: list[UnmappedCell] = []
    for mt in matches:
        row_fields, extra = _row_fields(spec, mt)
        fields += row_fields
        unmapped += [_unmapped_cell(spec, mt.row, c) for c in extra if not is_blank(c.text)]
    unmapped += [u for r in observed if id(r) not in matched_rows for u in _unmapped(spec, r)]
    seen = seen_table(rows, [(r, matched_rows.get(id(r))) for r in observed])
    return TableMapping(fields, unmapped, {spec.id: seen})


def _labelled_data_row(spec: TableSpec, row: LogicalRow) -> bool:
    """A row of blank cells counts when its label is a template row's (a row left empty)."""
    thresholds = load_thresholds()
    minimum = max(thresholds.label_match_min, thresholds.alignment.blank_row_label_min)
    return _has_label(row) and any(label_score(row, s) >= minimum for s in spec.rows)


def _row_fields(spec: TableSpec, match: RowMatch) -> tuple[list[FieldValue], list[Cell]]:
    """The row's fields, and the printed cells beyond the form's columns (kept as unmapped)."""
    columns = spec.column_ids(match.spec)
    cells, count_reason, extra = fit_values(match.row.values, len(columns))
    reasons = list(match.reasons) + match.row.doubts + ([count_reason] if count_reason else [])
    row_label = match.row.leaf if match.how in LABELLED else match.spec.label
    fields = [
        make_field(spec, match.spec, column, cell, match.label_confidence, reasons, row_label, match.notes,
                   match.row.method)
        for column, cell in zip(columns, cells)
        if cell is not None
    ]
    return (_unpicked(fields) if extra or match.row.years else fields), extra


def fit_values(values: list[Cell], expected: int) -> tuple[list[Cell | None], str | None, list[Cell]]:
    """The row's value cells trimmed to the template's column count, the reason if they do not fit,
    and the cells beyond the count.

    Blank cells beyond the count are layout (a label's merged column, a trailing
    border cell): trailing ones go first, then leading ones. A row still too short is
    mapped left to right and flagged; a row still too long prints more values than the
    form has columns (two years side by side, a misread rule): no column is picked.
    """
    cells = list(values)
    while len(cells) > expected and cells and is_blank(cells[-1].text):
        cells.pop()
    while len(cells) > expected and cells and is_blank(cells[0].text):
        cells.pop(0)
    if len(cells) == expected:
        return list(cells), None, []
    if len(cells) > expected:
        printed = " | ".join(c.text.strip() or "·" for c in cells)
        reason = (f"row has {len(cells)} value cells where the form has {expected} ({printed}): "
                  "which are this report's is not known, so no column is picked")
        return list(cells[:expected]), reason, cells[expected:]
    reason = f"row has {len(cells)} value cells where the form has {expected}"
    padded: list[Cell | None] = list(cells) + [None] * (expected - len(cells))
    return padded, reason, []


def _unpicked(fields: list[FieldValue]) -> list[FieldValue]:
    """Fields of a row with more values than columns, or under a header of several years:
    raw kept, no value taken from a guessed column."""
    for unpicked in fields:
        unpicked.value = None
        unpicked.confidence = 0.0
    return fields


def make_field(
    spec: TableSpec,
    row: RowSpec,
    column: str | None,
    cell: Cell,
    label_confidence: float,
    reasons: list[str],
    row_label: str | None,
    notes: list[str] | None = None,
    method: TableMethod | None = None,
) -> FieldValue:
    """`method`: how the cell's table was found; its factor (thresholds.yaml table_method_confidence) weighs
    the source confidence, and a field it lowers says so in its notes."""
    parsed = parse_value(cell.text, spec.value_type(row, column))
    thresholds = load_thresholds()
    factors = thresholds.field_confidence
    value_confidence = (factors.value_clean if parsed.ok and not parsed.notes
                        else factors.value_normalised if parsed.ok else factors.value_unparsed)
    grid_confidence = thresholds.table_method_confidence.get(method, 1.0) if method else 1.0
    source_confidence = (thresholds.source_confidence.get(cell.source, factors.source_default) * cell.confidence
                         * grid_confidence)
    if grid_confidence < 1.0:
        notes = [*(notes or []), f"its table's grid was found by {method} (confidence x{grid_confidence:g})"]
    return FieldValue(
        id=spec.field_id(row, column),
        value=parsed.value,
        raw=cell.text,
        confidence=round(label_confidence * value_confidence * source_confidence, 4),
        reasons=reasons + parsed.reasons + cell.flags,
        page=cell.page,
        bbox=cell.bbox,
        row_label=row_label,
        col_label=spec.column_label(column) if column else None,
        source=cell.source,
        notes=(notes or []) + parsed.notes,
    )


def _unmapped(spec: TableSpec, row: LogicalRow) -> list[UnmappedCell]:
    return [_unmapped_cell(spec, row, c) for c in row.values if not is_blank(c.text)]


def _unmapped_cell(spec: TableSpec, row: LogicalRow, cell: Cell) -> UnmappedCell:
    return UnmappedCell(
        table=spec.id, row_label=row.leaf, col_label=None, raw=cell.text, page=cell.page, bbox=cell.bbox
    )


def _map_single_row(spec: TableSpec, rows: list[LogicalRow]) -> TableMapping:
    """表四: every value in one printed row, groups of columns side by side."""
    values = [c for r in rows for c in r.values]
    expected = len(spec.rows) * len(spec.columns)
    cells, count_reason, extra = fit_values(values, expected)
    if count_reason:
        per_row = _map_rows_layout(spec, rows)
        if per_row.fields:  # printed transposed: one row per group
            return per_row
    reasons = list(dict.fromkeys(d for r in rows if r.values for d in r.doubts))
    reasons += [count_reason] if count_reason else []
    method_of = {id(c): r.method for r in rows for c in r.values}
    fields = []
    for k, cell in enumerate(cells):
        if cell is None:
            continue
        row = spec.rows[k // len(spec.columns)]
        column = spec.columns[k % len(spec.columns)].id
        confidence = load_thresholds().field_confidence.cell_count_mismatch if count_reason else 1.0
        fields.append(make_field(spec, row, column, cell, confidence, reasons, row.label,
                                 method=method_of.get(id(cell))))
    unmapped = [UnmappedCell(table=spec.id, row_label=None, col_label=None, raw=c.text, page=c.page, bbox=c.bbox)
                for c in extra if not is_blank(c.text)]
    fields = _unpicked(fields) if extra or any(r.years for r in rows if r.values) else fields
    return TableMapping(fields, unmapped, {spec.id: seen_table(rows, [])})  # one printed row: no row order to keep


def _map_indicator(spec: TableSpec, rows: list[LogicalRow]) -> TableMapping:
    """The legacy 统计表: label, unit, value per row; unlabelled rows are never guessed."""
    units = set(load_patterns()["units"])
    indicator_rows = [_without_unit(r, units) for r in rows if r.values and _has_label(r)]
    indicator_rows = [r for r in indicator_rows if r.labels]
    matches = [mt for mt in align(indicator_rows, spec.rows) if mt.how in LABELLED]
    matched = {id(mt.row): mt.spec.id for mt in matches}
    fields = []
    for mt in matches:
        cell = mt.row.values[0]
        field = make_field(spec, mt.spec, None, cell, mt.label_confidence, list(mt.row.doubts), mt.row.leaf, mt.notes,
                           mt.row.method)
        fields += _unpicked([field]) if mt.row.years else [field]
    unmapped = [u for r in indicator_rows if id(r) not in matched for u in _unmapped(spec, r)[:1]]
    seen = seen_table(rows, [(r, matched.get(id(r))) for r in indicator_rows])
    return TableMapping(fields, unmapped, {spec.id: seen})


def _without_unit(row: LogicalRow, units: set[str]) -> LogicalRow:
    labels = [c for c in row.labels if c.text.replace(" ", "") not in units]
    return LogicalRow(labels, row.values, row.section, row.table_no, row.carried, row.years, row.doubts, row.method)


_MAPPERS = {"rows": _map_rows_layout, "single_row": _map_single_row, "indicator": _map_indicator}
