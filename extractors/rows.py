"""From recovered tables to logical rows, each tagged with the template table it belongs to.

A logical row is the label cells of one printed row (including a parent label that
spans down from above, such as 三、本年度办理结果) and the cells after the last label,
which hold the values. Which template table (active, requests, appeals, legacy) the rows
belong to is said first by the table's own header rows (extractors/headers.py), then by
section titles in the narrative or inside a table.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from gongkai.config import load_patterns, section_cues
from gongkai.models import Block, Cell, Table, TableSpec, TextBlock
from gongkai.models.parts import LogicalRow

from .headers import comparison_reason, header_runs, is_year_row, title_table
from .text import label_key
from .values import is_blank, is_value_text


def has_value(row: LogicalRow) -> bool:
    """Any of the row's value cells holds something other than a blank or a dash."""
    return any(not is_blank(c.text) for c in row.values)


def section_of(text: str, tables: Sequence[TableSpec] = ()) -> str | None:
    """The template table a title or header text starts, if any; `tables` also match misprinted titles."""
    key = label_key(text)
    if not key or len(key) > 60:
        return None
    for section, patterns in section_cues().items():
        if any(re.search(p, key) for p in patterns):
            return section
    return title_table(text, tables) if tables else None


def ends_section(text: str) -> bool:
    key = label_key(text)
    return any(re.search(p, key) for p in load_patterns()["section_end"])


def logical_rows(blocks: list[Block], tables: Sequence[TableSpec] = ()) -> list[LogicalRow]:
    """Every table row of the blocks, in order, with the section it falls in.

    `tables`: the template's tables, whose header cues name a printed table and whose
    titles name a misprinted heading; without them only section titles do.
    """
    rows: list[LogicalRow] = []
    section: str | None = None
    table_no = 0
    for block in blocks:
        if isinstance(block, TextBlock):
            section = _next_section(section, block.text, tables)
            continue
        table_no += 1
        table_rows, section = _table_rows(block, table_no, section, tables)
        rows += table_rows
    return rows


def _table_rows(
    table: Table, table_no: int, section: str | None, tables: Sequence[TableSpec]
) -> tuple[list[LogicalRow], str | None]:
    """One printed table's rows, and the section it leaves open: its header rows name their
    table over any title; a header of several years flags every row below it."""
    split = _grid_rows(table) if table.grid else _stream_rows(table)
    runs = header_runs([(labels, values) for labels, values, _ in split], tables)
    run_of = {k: run for run in runs for k in range(run.start, run.stop)}
    years: list[int] = []
    rows = []
    for k, (labels, values, carried) in enumerate(split):
        for cell in labels:
            section = _next_section(section, cell.text)
        run = run_of.get(k)
        if run is not None:
            if is_year_row(values):  # 信息内容 | 2023 | 2024: the years head columns, they are no values
                labels, values = labels + [v for v in values if not is_blank(v.text)], []
            section = run.table or section
            years = run.years if len(run.years) >= 2 else years
        doubts = [comparison_reason(years)] if years else []
        rows.append(LogicalRow(labels, values, section, table_no, carried, list(years), doubts, table.method))
    return rows, section


def comparison_years(rows: Sequence[LogicalRow]) -> list[int]:
    """The years a comparison sets side by side: every table holding template values heads two years.

    Empty for a report, or where only some tables print two years (those rows are flagged).
    """
    with_values = {r.table_no for r in rows if r.section and has_value(r)}
    paired = {r.table_no for r in rows if r.years}
    if not with_values or not with_values <= paired:
        return []
    return sorted({y for r in rows for y in r.years})


def _next_section(current: str | None, text: str, tables: Sequence[TableSpec] = ()) -> str | None:
    found = section_of(text, tables)
    if found:
        return found
    return None if ends_section(text) else current


def _is_label(cell: Cell) -> bool:
    return not is_value_text(cell.text)


def _grid_rows(table: Table) -> list[tuple[list[Cell], list[Cell], list[Cell]]]:
    covering: dict[int, list[Cell]] = defaultdict(list)
    for cell in table.cells:
        for r in range(cell.row, cell.row + cell.row_span):
            covering[r].append(cell)
    out = []
    for r in range(table.n_rows):
        cells = sorted(covering[r], key=lambda c: c.col)
        starting = [c for c in cells if c.row == r]
        last_label = max((i for i, c in enumerate(starting) if _is_label(c)), default=-1)
        labels = [c for c in starting[: last_label + 1] if _is_label(c)]
        values = starting[last_label + 1 :]
        first_value_col = values[0].col if values else table.n_cols
        carried = [c for c in cells if c.row < r and _is_label(c) and c.col < first_value_col]
        if len(labels) == 1 and labels[0].row_span > 1 and values:
            # A label spanning down from a row of values that has no label of its own is the
            # group label of rows whose first lost its label (三、本年度办理结果 over a blank).
            carried, labels = carried + labels, []
        if labels or values:
            out.append((carried + labels, values, carried))
    return out


def _stream_rows(table: Table) -> list[tuple[list[Cell], list[Cell], list[Cell]]]:
    """Rows of a cell stream: a run of labels, then the run of values that follows it.

    A section title inside the stream closes the row before it, so that a table's
    heading never becomes part of the next table's first row label.
    """
    out: list[tuple[list[Cell], list[Cell], list[Cell]]] = []
    labels: list[Cell] = []
    values: list[Cell] = []
    for cell in sorted(table.cells, key=lambda c: c.row):
        if _is_label(cell):
            if values or section_of(cell.text):
                out.append((labels, values, []))
                labels, values = [], []
            labels.append(cell)
        else:
            values.append(cell)
    if labels or values:
        out.append((labels, values, []))
    return [row for row in out if row[0] or row[1]]
