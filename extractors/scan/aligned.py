"""Tables drawn without ruling lines: rows and columns from how the text lines align.

A region comes from the layout model (a table, or a figure it took a table for) or from
`text_table_regions` (runs of text lines set in cells, with numbers: tables the model
missed). Its detected line boxes are read first (the BoxReader keeps the readings for the
cells), numbers the detector missed on lines of numbers are recovered from ink, and the
grid is rebuilt:
- a section title inside the region starts a new table (their columns differ);
- value columns are the x-ranges the number boxes share; a run of numbers with label
  text to its right (item numbers "1.") is label, not a column;
- label columns are the left edges the label boxes share, left of the first value column;
- each text line is a row; a line whose box touches the line above (wrapped text in one
  cell) and starts no new item joins that row;
- a box taller than two lines, or short pieces stacked in a narrow column (a vertical
  label such as 三、本年度办理结果), spans the rows it covers.
Every body row gets a cell in every value column, so a blank keeps its place.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from statistics import median

import cv2
import numpy as np

from gongkai.models import BBox, GridCell, GridTable

from ..ocr.base import BoxReader
from ..rows import ends_section, section_of
from .boxes import centre_in, union
from .cells import reads_as_number

MIN_BOXES = 4  # fewer line boxes than this in a region make no table
MIN_RUN_NUMBERS = 3  # number cells in a run of cell lines (on one line, or one per line) that make it a table
TALL_RATIO = 2.0  # a box this many times the median line height is vertical text
LINE_OVERLAP = 0.5  # of the smaller height: two boxes on one text line
CONTINUATION_GAP = 0.05  # of the line height: a line this close below the one above is the same cell's text
STACK_WIDTH = 3.0  # line heights: a piece of a label wrapped in a narrow column is at most this wide
MIN_STACK = 3  # pieces, each touching the one above, that make a vertical label
INK_LEVEL = 200  # gray below this is print on an evened page (thin strokes of a small 1 stay light)
MIN_INK_PIXELS = 8  # fewer dark pixels are specks, not a digit
CELL_PAD = 8  # px around a cell's boxes: more than the inset cells.py clips crops by, so no box is cut
WIDE_NUMBER = 3.0  # a number box wider than this many median number widths spans columns: not used to find them
_NEW_ITEM = re.compile(r"^\s*(?:[(（]?[一二三四五六七八九十]+[)）、]|[(（]\d+[)）]|\d+[.．、])")


@dataclass
class _Item:
    box: BBox
    text: str
    number: bool

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


@dataclass
class _Row:
    items: list[_Item] = field(default_factory=list)

    @property
    def top(self) -> float:
        return min(it.box[1] for it in self.items)

    @property
    def bottom(self) -> float:
        return max(it.box[3] for it in self.items)


def aligned_grids(region: BBox, boxes: list[BBox], reader: BoxReader, ruled: list[GridTable]) -> list[GridTable]:
    """The grids of the unruled table(s) in `region`, one per section it holds; [] if none.

    Whole text lines are taken, as far as they reach left and right: the layout model's
    box around a table often stops short of its last column. Lines inside `ruled` grids
    belong to those."""
    inside = [b for b in _outside(boxes, ruled) if region[1] <= (b[1] + b[3]) / 2 <= region[3]]
    if len(inside) < MIN_BOXES:
        return []
    items = _items(inside, reader)
    if not items:
        return []
    line_height = median(it.height for it in items)
    items = _stacked(items + _missed_numbers(items, reader, line_height), line_height)
    tall = [it for it in items if it.height > TALL_RATIO * line_height]
    lines = _lines([it for it in items if it.height <= TALL_RATIO * line_height])
    grids = [_grid(section, tall, line_height) for section in _sections(lines)]
    return [g for g in grids if g is not None]


def text_table_regions(boxes: list[BBox], reader: BoxReader, grids: list[GridTable]) -> list[BBox]:
    """Tables the layout model missed, found from the text alone: runs of lines set in
    separate cells (boxes a line's height apart or more), with MIN_RUN_NUMBERS number cells
    on one line or on as many lines. One line of a single cell may sit inside a run (a wrapped or
    parent label); a section title ends it. Lines inside ruled grids are not looked at."""
    items = _items(_outside(boxes, grids), reader)
    if not items:
        return []
    line_height = median(it.height for it in items)
    runs: list[list[_Row]] = []
    current: list[_Row] = []
    held: list[_Row] = []
    for line in _lines([it for it in items if it.height <= TALL_RATIO * line_height]):
        if _in_cells(line, line_height):
            current += [*held, line]
            held = []
        elif current and not held and not _is_title(line):
            held = [line]
        else:
            runs.append(current)
            current, held = [], []
    runs.append(current)
    return [union([it.box for line in run for it in line.items]) for run in runs
            if _numbers_in_cells(run)]


def _numbers_in_cells(run: list[_Row]) -> bool:
    per_line = [sum(it.number for it in line.items) for line in run]
    return max(per_line, default=0) >= MIN_RUN_NUMBERS or sum(n > 0 for n in per_line) >= MIN_RUN_NUMBERS


def _missed_numbers(items: list[_Item], reader: BoxReader, line_height: float) -> list[_Item]:
    """Numbers the detector left out of lines that hold numbers (a lone small 0 is easy to
    miss): ink right of the line's first number that no box covers, read like any box. Without
    them the line would hold fewer values than the table has columns, and its values shift."""
    gray = reader.image if reader.image.ndim == 2 else cv2.cvtColor(reader.image, cv2.COLOR_BGR2GRAY)
    found: list[BBox] = []
    x1 = max(it.box[2] for it in items)
    for line in _lines([it for it in items if it.height <= TALL_RATIO * line_height]):
        numbers = [it for it in line.items if it.number]
        if not numbers:
            continue
        x0 = min(it.box[0] for it in numbers)
        found += _uncovered_ink(gray, (x0, line.top, x1, line.bottom), [it.box for it in line.items], line_height)
    return [it for it in _items(found, reader) if it.number]


def _uncovered_ink(gray: np.ndarray, area: BBox, boxes: list[BBox], line_height: float) -> list[BBox]:
    """Boxes around clusters of ink in `area` outside `boxes`, clusters apart by a line height."""
    x0, y0, x1, y1 = (int(round(v)) for v in area)
    patch = gray[max(y0, 0):y1, max(x0, 0):x1]
    if patch.size == 0:
        return []
    ink = (patch < INK_LEVEL).astype(np.uint8)
    for b in boxes:  # what the detector found is not missing
        ink[:, max(int(b[0]) - x0, 0):max(int(b[2]) - x0, 0)] = 0
    columns = np.flatnonzero(ink.sum(axis=0) > 0)
    if columns.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(columns) > line_height / 2)
    starts = np.r_[columns[0], columns[breaks + 1]]
    ends = np.r_[columns[breaks], columns[-1]]
    pad = 3
    return [(x0 + a - pad, y0, x0 + b + 1 + pad, y1) for a, b in zip(starts, ends)
            if ink[:, a:b + 1].sum() >= MIN_INK_PIXELS]


def _stacked(items: list[_Item], line_height: float) -> list[_Item]:
    """Short pieces of words set one under another, each touching the next (a parent label
    wrapped in a narrow column: 三、本 / 年度办 / 理结果), as one tall item."""
    narrow = sorted((it for it in items if not it.number and it.box[2] - it.box[0] <= STACK_WIDTH * line_height),
                    key=lambda it: it.box[1])
    stacks: list[list[_Item]] = []
    for it in narrow:
        below = next((s for s in stacks if it.box[1] - s[-1].box[3] <= -CONTINUATION_GAP * line_height
                      and _overlap(it.box, (s[-1].box[0], s[-1].box[2])) > 0), None)
        if below is not None:
            below.append(it)
        else:
            stacks.append([it])
    joined = {id(it) for stack in stacks if len(stack) >= MIN_STACK for it in stack}
    tall = [_Item(union([it.box for it in stack]), " ".join(it.text for it in stack), False)
            for stack in stacks if len(stack) >= MIN_STACK]
    return [it for it in items if id(it) not in joined] + tall


def _outside(boxes: list[BBox], grids: list[GridTable]) -> list[BBox]:
    return [b for b in boxes if not any(centre_in(b, g.bbox) for g in grids)]


def _items(boxes: list[BBox], reader: BoxReader) -> list[_Item]:
    return [_Item(b, r.text, reads_as_number(r.text)) for b, r in zip(boxes, reader.read(boxes)) if r.text.strip()]


def _in_cells(line: _Row, line_height: float) -> bool:
    ordered = sorted(line.items, key=lambda it: it.box[0])
    return any(b.box[0] - a.box[2] >= line_height for a, b in zip(ordered, ordered[1:]))


def _is_title(line: _Row) -> bool:
    text = _text(line)
    return section_of(text) is not None or ends_section(text)


def _text(line: _Row) -> str:
    return "".join(it.text for it in sorted(line.items, key=lambda i: i.box[0]))


def _lines(items: list[_Item]) -> list[_Row]:
    """Boxes grouped into text lines (vertical overlap with the line's first box), top down."""
    lines: list[_Row] = []
    for it in sorted(items, key=lambda i: (i.box[1] + i.box[3]) / 2):
        if lines:
            anchor = lines[-1].items[0].box
            overlap = min(anchor[3], it.box[3]) - max(anchor[1], it.box[1])
            if overlap > LINE_OVERLAP * min(anchor[3] - anchor[1], it.height):
                lines[-1].items.append(it)
                continue
        lines.append(_Row([it]))
    return lines


def _sections(lines: list[_Row]) -> list[list[_Row]]:
    """The lines cut before each line of labels alone that is a section title."""
    out: list[list[_Row]] = [[]]
    for line in lines:
        if out[-1] and not any(it.number for it in line.items) and section_of(_text(line)):
            out.append([])
        out[-1].append(line)
    return [s for s in out if s]


def _grid(lines: list[_Row], tall: list[_Item], line_height: float) -> GridTable | None:
    columns = _value_columns(lines)
    if not columns:
        return None
    first_value_x = columns[0][0]
    labels = [it for line in lines for it in line.items if _value_column(it, columns) is None and
              (it.box[0] + it.box[2]) / 2 < first_value_x]
    label_starts = _label_starts(labels + [t for t in tall if t.box[2] <= first_value_x], line_height)
    rows = _rows(lines, columns)
    first_body = _first_body_row(rows, columns)
    if first_body is None:
        return None
    cells = _cells(rows, columns, label_starts, first_body)
    _add_tall(cells, tall, rows, label_starts)
    return _table(cells, rows, columns, label_starts)


def _first_body_row(rows: list[_Row], columns: list[tuple[float, float]]) -> int | None:
    """The first row under the column headings (a row of blanks may come before the first value)."""
    first_value = next(
        (i for i, row in enumerate(rows) if any(_value_column(it, columns) is not None for it in row.items)), None
    )
    if first_value is None:
        return None
    headings = [
        i for i in range(first_value) if any((it.box[0] + it.box[2]) / 2 >= columns[0][0] for it in rows[i].items)
    ]
    return headings[-1] + 1 if headings else first_value


def _value_columns(lines: list[_Row]) -> list[tuple[float, float]]:
    """x-ranges shared by number boxes, left to right, without runs that have label text to their right."""
    numbers = [it for line in lines for it in line.items if it.number]
    if not numbers:
        return []
    usual = median(it.box[2] - it.box[0] for it in numbers)
    spans: list[list[float]] = []
    for it in sorted((n for n in numbers if n.box[2] - n.box[0] <= WIDE_NUMBER * usual), key=lambda n: n.box[0]):
        if spans and it.box[0] <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], it.box[2])
        else:
            spans.append([it.box[0], it.box[2]])
    return [(a, b) for a, b in spans if not _numbering((a, b), lines)]


def _numbering(column: tuple[float, float], lines: list[_Row]) -> bool:
    """Numbers with words after them on most of their lines: item numbers of labels."""
    hits = followed = 0
    for line in lines:
        inside = [it for it in line.items if it.number and _overlap(it.box, column) > 0]
        if not inside:
            continue
        hits += 1
        followed += any(not it.number and it.box[0] >= column[1] for it in line.items)
    return followed * 2 > hits


def _overlap(box: BBox, span: tuple[float, float]) -> float:
    return min(box[2], span[1]) - max(box[0], span[0])


def _value_column(item: _Item, columns: list[tuple[float, float]]) -> int | None:
    """The value column a number box lies in (most overlap), or None for a label box."""
    if not item.number:
        return None
    best = max(range(len(columns)), key=lambda c: _overlap(item.box, columns[c]))
    return best if _overlap(item.box, columns[best]) > 0 else None


def _label_starts(labels: list[_Item], line_height: float) -> list[float]:
    """Left edges of the label columns: the x0 of label boxes, clustered within a line height."""
    starts: list[float] = []
    for x0 in sorted(it.box[0] for it in labels):
        if not starts or x0 - starts[-1] > line_height:
            starts.append(x0)
    return starts or [0.0]


def _rows(lines: list[_Row], columns: list[tuple[float, float]]) -> list[_Row]:
    """Lines joined into table rows: a line touching the one above, starting no new item and
    putting no second value in a column, is more text of the same cells."""
    rows: list[_Row] = []
    gap_limit = CONTINUATION_GAP * median(it.height for line in lines for it in line.items)
    for line in lines:
        if rows and _continues(rows[-1], line, columns, gap_limit):
            rows[-1].items.extend(line.items)
        else:
            rows.append(_Row(list(line.items)))
    return rows


def _continues(row: _Row, line: _Row, columns: list[tuple[float, float]], gap_limit: float) -> bool:
    if line.top - row.bottom > -gap_limit:  # lines of one cell overlap (detector boxes are padded)
        return False
    first = min(line.items, key=lambda it: it.box[0])
    if not first.number and _NEW_ITEM.match(first.text):
        return False
    taken = {_value_column(it, columns) for it in row.items} - {None}
    return not any(_value_column(it, columns) in taken for it in line.items)


def _cells(rows: list[_Row], columns: list[tuple[float, float]], label_starts: list[float],
           first_body: int) -> dict[tuple[int, int], GridCell]:
    """One cell per (row, column) holding boxes; empty value cells in every body row."""
    n_labels = len(label_starts)
    boxes: dict[tuple[int, int], list[BBox]] = {}
    spans: dict[tuple[int, int], int] = {}
    for r, row in enumerate(rows):
        for it in row.items:
            col, span = _column_of(it, columns, label_starts)
            boxes.setdefault((r, col), []).append(it.box)
            spans[(r, col)] = max(spans.get((r, col), 1), span)
    cells = {key: GridCell(row=key[0], col=key[1], col_span=spans[key], bbox=_padded(union(bs)))
             for key, bs in boxes.items()}
    for r in range(first_body, len(rows)):
        top, bottom = rows[r].top, rows[r].bottom
        for c, (x0, x1) in enumerate(columns):
            cells.setdefault((r, n_labels + c), GridCell(row=r, col=n_labels + c, bbox=(x0 - 4, top, x1 + 4, bottom)))
    return _without_overlapping_spans(cells)


def _column_of(item: _Item, columns: list[tuple[float, float]], label_starts: list[float]) -> tuple[int, int]:
    """(first column, span) of a box: its value column, its label column, or the value columns a heading covers."""
    n_labels = len(label_starts)
    value = _value_column(item, columns)
    if value is not None:
        return n_labels + value, 1
    if (item.box[0] + item.box[2]) / 2 < columns[0][0]:
        return max(bisect_right(label_starts, item.box[0] + 1) - 1, 0), 1
    covered = [c for c, span in enumerate(columns) if _overlap(item.box, span) > 0]
    if not covered:  # between columns: the nearest one
        centre = (item.box[0] + item.box[2]) / 2
        covered = [min(range(len(columns)), key=lambda c: abs((columns[c][0] + columns[c][1]) / 2 - centre))]
    return n_labels + covered[0], covered[-1] - covered[0] + 1


def _without_overlapping_spans(cells: dict[tuple[int, int], GridCell]) -> dict[tuple[int, int], GridCell]:
    """A heading's span cut back where another cell of its row starts inside it."""
    for (r, c), cell in list(cells.items()):
        for k in range(1, cell.col_span):
            if (r, c + k) in cells:
                cells[(r, c)] = cell.model_copy(update={"col_span": k})
                break
    return cells


def _add_tall(
    cells: dict[tuple[int, int], GridCell], tall: list[_Item], rows: list[_Row], label_starts: list[float]
) -> None:
    """A vertical label as one cell spanning the rows whose middle it covers, where its column is free."""
    for it in tall:
        if it.box[2] > label_starts[-1] + 4 * CELL_PAD and (it.box[0] + it.box[2]) / 2 > label_starts[-1]:
            continue  # only label columns hold vertical labels
        covered = [r for r, row in enumerate(rows) if it.box[1] <= (row.top + row.bottom) / 2 <= it.box[3]]
        col = max(bisect_right(label_starts, it.box[0] + 1) - 1, 0)
        if covered and not any((r, col) in cells for r in covered):
            cells[(covered[0], col)] = GridCell(row=covered[0], col=col, row_span=len(covered), bbox=_padded(it.box))


def _table(cells: dict[tuple[int, int], GridCell], rows: list[_Row], columns: list[tuple[float, float]],
           label_starts: list[float]) -> GridTable:
    found = list(cells.values())
    x0, y0 = min(c.bbox[0] for c in found), min(c.bbox[1] for c in found)
    x1, y1 = max(c.bbox[2] for c in found), max(c.bbox[3] for c in found)
    row_lines = [y0, *((a.bottom + b.top) / 2 for a, b in zip(rows, rows[1:])), y1]
    value_edges = [(a[1] + b[0]) / 2 for a, b in zip(columns, columns[1:])]
    col_lines = [x0, *label_starts[1:], columns[0][0] - CELL_PAD / 2, *value_edges, x1]
    return GridTable(bbox=(x0, y0, x1, y1), row_lines=row_lines, col_lines=sorted(col_lines),
                     cells=sorted(found, key=lambda c: (c.row, c.col)), method="aligned")


def _padded(box: BBox) -> BBox:
    return (box[0] - CELL_PAD, box[1] - CELL_PAD, box[2] + CELL_PAD, box[3] + CELL_PAD)
