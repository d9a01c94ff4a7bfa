"""Nothing vanishes: every canonical field of a tabular report is in its result.

A canonical field that mapping did not find is still listed: value null, raw "",
confidence 0, needs_review, and why: its row is not in the document, or a printed row
stood where the template row would be (between the same mapped neighbours) and its
label was not recognised. Its page and bbox say where that row, or else the table, was
seen. Which fields are canonical is the template's data (docs/canonical-fields.md):
every row that is not `optional`, and an optional row whose `canonical_in` names the
template. A canonical row whose group a found variant row prints as one row (the 2021 form's
（六）其他处理 printed without its three sub-rows) is not missing: the variant holds it.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from gongkai.models import BBox, FieldValue, RowSpec, TableSpec, Template

from .seen import SeenRow, SeenTable
from .text import collapse_spaces, label_key

NOT_FOUND = "not found in the document"
NOT_RECOGNISED = "its row was not recognised: "


@dataclass
class _Place:
    reason: str
    page: int | None
    bbox: BBox | None


def missing_fields(template: Template, fields: list[FieldValue], seen: dict[str, SeenTable]) -> list[FieldValue]:
    """The template's canonical fields absent from `fields`, in template order, each with its reason."""
    found = {f.id for f in fields}
    missing: list[FieldValue] = []
    for table in template.tables:
        rows = canonical_rows(template, table, found)
        absent = [r for r in rows if any(i not in found for i in row_field_ids(table, r))]
        lost = [r for r in absent if not any(i in found for i in row_field_ids(table, r))]
        places = _place_lost_rows(table, seen.get(table.id), lost)
        for row in absent:
            place = places.get(row.id) or _place_seen_row(seen[table.id], row)
            missing.extend(_missing(table, row, column, place) for column in _columns(table, row)
                           if table.field_id(row, column) not in found)
    return missing


def is_missing(field: FieldValue) -> bool:
    """A field listed because the template has it, not because the document printed it."""
    return field.value is None and not field.raw and any(
        r == NOT_FOUND or r.startswith(NOT_RECOGNISED) for r in field.reasons
    )


def canonical_rows(template: Template, table: TableSpec, found: set[str]) -> list[RowSpec]:
    """The table's rows whose fields the template promises, less those a found variant row holds."""
    rows = [r for r in table.rows if not r.optional or template.id in r.canonical_in]
    found_variants = {
        label_key(v.label) for v in table.rows
        if v.optional and any(i in found for i in row_field_ids(table, v))
    }
    return [r for r in rows if not (r.parents and label_key(r.parents[-1]) in found_variants)]


def row_field_ids(table: TableSpec, row: RowSpec) -> list[str]:
    return [table.field_id(row, c) for c in _columns(table, row)]


def _columns(table: TableSpec, row: RowSpec) -> list[str | None]:
    return [None] if table.layout == "indicator" else list(table.column_ids(row))


def _missing(table: TableSpec, row: RowSpec, column: str | None, place: _Place) -> FieldValue:
    return FieldValue(
        id=table.field_id(row, column),
        value=None,
        raw="",
        confidence=0.0,
        status="needs_review",
        reasons=[place.reason],
        page=place.page,
        bbox=place.bbox,
        row_label=row.label,
        col_label=table.column_label(column) if column else None,
    )


def _place_seen_row(table: SeenTable, row: RowSpec) -> _Place:
    """A row mapping found with fewer value cells than the form has: the missing ones were not printed."""
    seen = next((r for r in table.rows if r.row_id == row.id), None)
    if seen is None:  # a one-row table (表四): the row is the table
        return _Place(NOT_FOUND, table.first_page, table.boxes.get(table.first_page) if table.first_page else None)
    return _Place(NOT_FOUND, seen.page, seen.bbox)


def _place_lost_rows(table: TableSpec, seen: SeenTable | None, lost: list[RowSpec]) -> dict[str, _Place]:
    """Where each template row mapping did not find would stand, and why it is missing.

    Rows are grouped by the gap between their mapped neighbours; the printed rows left
    unmapped in that gap are the candidates. As many candidates as lost rows pair up in
    order; otherwise every lost row of the gap names all the candidates.
    """
    if seen is None:
        return {r.id: _Place(NOT_FOUND, None, None) for r in lost}
    order = {r.id: k for k, r in enumerate(table.rows)}
    gaps: dict[tuple[int, int], list[RowSpec]] = defaultdict(list)
    for row in lost:
        gaps[_gap(seen, order, order[row.id])].append(row)
    places: dict[str, _Place] = {}
    for (before, after), rows in gaps.items():
        candidates = [r for r in seen.rows[before + 1:after] if r.row_id is None and r.label and label_key(r.label)]
        if candidates and len(candidates) == len(rows):
            places.update({row.id: _unrecognised([c]) for row, c in zip(rows, candidates)})
        elif candidates:
            places.update({row.id: _unrecognised(candidates) for row in rows})
        else:
            page = _neighbour_page(seen, before, after)
            places.update({row.id: _Place(NOT_FOUND, page, seen.boxes.get(page) if page else None) for row in rows})
    return places


def _gap(seen: SeenTable, order: dict[str, int], k: int) -> tuple[int, int]:
    """Positions of the last printed row mapped before template row k and the first mapped after it."""
    mapped = [(p, order[r.row_id]) for p, r in enumerate(seen.rows) if r.row_id in order]
    before = max((p for p, o in mapped if o < k), default=-1)
    after = min((p for p, o in mapped if o > k), default=len(seen.rows))
    return before, after


def _unrecognised(candidates: list[SeenRow]) -> _Place:
    labels = " / ".join(collapse_spaces(c.label or "") for c in candidates)
    return _Place(NOT_RECOGNISED + labels, candidates[0].page, candidates[0].bbox)


def _neighbour_page(seen: SeenTable, before: int, after: int) -> int | None:
    neighbours = ([seen.rows[before]] if before >= 0 else []) + ([seen.rows[after]] if after < len(seen.rows) else [])
    return next((r.page for r in neighbours if r.page is not None), seen.first_page)
