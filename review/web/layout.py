"""A report's cells laid out as its template prints its tables (as gongkai/render.py does
for the terminal): one header row of column labels, one row per template row."""
from __future__ import annotations

from dataclasses import dataclass, field

from gongkai.models.review import ReportCell
from gongkai.models.template import TableSpec, Template


@dataclass
class LaidOutRow:
    label: str
    cells: list[ReportCell | None] = field(default_factory=list)
    """One per header column; None where the template has no cell or nothing was stored."""


@dataclass
class LaidOutTable:
    id: str
    title: str
    header: list[str]
    rows: list[LaidOutRow]


def report_tables(template: Template, cells: list[ReportCell]) -> list[LaidOutTable]:
    by_id = {c.field_id: c for c in cells}
    tables = []
    for spec in template.tables:
        if any(f.startswith(spec.id + ".") for f in by_id):
            tables.append(_lay_out(spec, by_id))
    return tables


def _lay_out(spec: TableSpec, by_id: dict[str, ReportCell]) -> LaidOutTable:
    if spec.layout == "indicator":
        header = ["统计数"]
        rows = [LaidOutRow(r.label, [by_id.get(spec.field_id(r, None))]) for r in spec.rows]
    else:
        columns = list(dict.fromkeys(c for r in spec.rows for c in spec.column_ids(r)))
        header = [spec.column_label(c) for c in columns]
        rows = [
            LaidOutRow(r.label, [by_id.get(spec.field_id(r, c)) if c in spec.column_ids(r) else None for c in columns])
            for r in spec.rows
        ]
    return LaidOutTable(spec.id, spec.title, header, [r for r in rows if any(r.cells)])


def row_of(tables: list[LaidOutTable], field_id: str) -> tuple[LaidOutTable, LaidOutRow] | None:
    """The laid-out table and row holding field_id: the cell's context on the item page."""
    for table in tables:
        for row in table.rows:
            if any(c is not None and c.field_id == field_id for c in row.cells):
                return table, row
    return None
