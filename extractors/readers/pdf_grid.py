"""Born-digital PDF tables through the scan path's own grid detection, filled from the text layer.

One table-structure path for both kinds of page: a page with a real text layer is
rasterised at a modest resolution, `scan.grid.find_grids` finds its ruled tables and
merged cells exactly as it does on a scan, and each cell is filled with the text-layer
characters whose centre lies inside it. So a born-digital page is read at least as well
as its own scan: value cells spanning several columns, narrow columns with vertical
header text and merged cells come out as the grid draws them, and a label that runs
across a cell rule is cut where the rule is (its characters past the rule belong to the
next cell, as a scan's clipped text line does; see `_flag_cut_runs`).

camelot is retired from reading: on the report-drawing libraries' PDFs it assigned whole
pdfminer text lines to one cell (a label running into a value cell took the value with
it) and missed rules it does not parse, dropping fields the scan path read.

Coordinates: pdfium renders the page's visible box; pixel positions are turned back into
PDF points measured from that box's top-left corner, as pdf_text flips everything it emits.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from gongkai.models import BBox, Cell, GridCell, GridTable, PageError, TablePart

from ..scan.grid import PAGE_SHORT_SIDE_IN, find_grids
from ..text import collapse_spaces
from ..values import is_number_text

RENDER_DPI = 100  # as dpi of an A4 page: 0.6 pt rules are ~1 px, the narrowest column (6 mm) ~24 px
EDGE_TOL = 4.0  # points: column rules of two table parts count as the same line within this
LINE_OVERLAP = 0.5  # of the smaller height: characters whose boxes overlap this much in y are on one line
SPACE_GAP = 0.6  # of a character's height: a wider gap between two characters of a line is a space
RUN_GAP = 0.25  # of a character's height: closer characters are one run (two cells' paddings leave ~0.5)
CUT_SLACK = 0.3  # of a character's height a run may stick out of its cell before a rule counts as cutting it


@dataclass(frozen=True)
class PageChar:
    """A visible character of the text layer; box in points, top-left origin."""

    text: str
    box: BBox


@dataclass(frozen=True)
class _Frame:
    """How a rendered page's pixels map back onto the page's points (top-left origin)."""

    scale: float  # pixels per point
    left: float  # the rendered box's left edge, points (y is already measured from its top)

    def box(self, px: BBox) -> BBox:
        x0, y0, x1, y1 = px
        s = self.scale
        return (self.left + x0 / s, y0 / s, self.left + x1 / s, y1 / s)

    def x(self, px: float) -> float:
        return self.left + px / self.scale


def ruled_tables(
    path: Path, pages: Sequence[tuple[int, Sequence[PageChar]]]
) -> tuple[dict[int, list[TablePart]], list[PageError]]:
    """The ruled tables of each (1-based page number, its characters); a page the grid pass
    fails on is that page's PageError, its text is still read."""
    found: dict[int, list[TablePart]] = {}
    problems: list[PageError] = []
    if not pages:
        return found, problems
    pdf = pdfium.PdfDocument(str(path))
    try:
        for number, chars in pages:
            try:
                found[number] = page_tables(pdf, number - 1, chars)
            except (pdfium.PdfiumError, MemoryError, ValueError) as exc:
                problems.append(PageError(page=number, stage="tables", kind="table-detection-failed",
                                          message=f"table detection failed: {type(exc).__name__}: {exc}"))
    finally:
        pdf.close()
    return found, problems


def page_tables(pdf: pdfium.PdfDocument, index: int, chars: Sequence[PageChar]) -> list[TablePart]:
    """The ruled tables of page `index` (0-based), cells filled from `chars`."""
    image, frame = _render(pdf, index)
    return [_fill(grid, frame, chars, index + 1) for grid in find_grids(image)]


def _render(pdf: pdfium.PdfDocument, index: int) -> tuple[np.ndarray, _Frame]:
    """The page as grey pixels, scaled so that its short side is an A4's at RENDER_DPI:
    grid.py sizes its kernels in inches of an A4 page guessed from the short side."""
    page = pdf[index]
    try:
        left = page.get_bbox()[0]  # the box pdfium renders; pdf_text flips y at its top
        width, height = page.get_size()
        scale = PAGE_SHORT_SIDE_IN * RENDER_DPI / max(min(width, height), 1.0)
        _drop_text(page)
        # pdfium renders a page turned by its /Rotate; the text layer's boxes are not turned
        bitmap = page.render(scale=scale, rotation=(360 - page.get_rotation()) % 360, grayscale=True)
        image = np.array(bitmap.to_numpy(), dtype=np.uint8).squeeze()
    finally:
        page.close()
    return image, _Frame(scale=scale, left=left)


def _drop_text(page: pdfium.PdfPage) -> None:
    """Text objects removed from the page in memory (never saved): the rules are what the grid
    needs, and a bold heading set right on a table's top rule draws strokes that pass for rules."""
    texts = list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT]))
    for obj in reversed(texts):  # deepest last found first: a form's text before the form's siblings
        page.remove_obj(obj)
        obj.close()


def _fill(grid: GridTable, frame: _Frame, chars: Sequence[PageChar], page: int) -> TablePart:
    boxes = np.array([frame.box(c.bbox) for c in grid.cells]).reshape(-1, 4)
    runs = _runs(chars)
    owner = _owners(boxes, [r.box for r in runs])
    texts = [_cell_text([ch for run, o in zip(runs, owner) if o == i for ch in run.chars]) for i in range(len(boxes))]
    cells = [_cell(c, tuple(boxes[i]), texts[i], page) for i, c in enumerate(grid.cells)]
    _flag_cut_runs(cells, boxes, runs, owner)
    bbox = frame.box(grid.bbox)
    return TablePart(page=page, bbox=bbox, bounds=[frame.x(x) for x in grid.col_lines], n_rows=grid.n_rows,
                     cells=cells, edge_tolerance=EDGE_TOL, last_page=page, last_bottom=bbox[3], method="pdf_grid")


@dataclass
class _Run:
    """Characters set one after another with no gap: a word, a number or a label's line."""

    chars: list[PageChar]

    @property
    def box(self) -> BBox:
        b = [c.box for c in self.chars]
        return (min(x[0] for x in b), min(x[1] for x in b), max(x[2] for x in b), max(x[3] for x in b))


def _runs(chars: Sequence[PageChar]) -> list[_Run]:
    """The text layer cut into runs, in its own order: a run goes into a cell whole, as a scan's
    detected text line does, so a label printed past its cell's rule stays one label and
    the value beside it (set apart by the cells' padding) stays a clean number."""
    runs: list[_Run] = []
    for ch in chars:
        if runs and _adjacent(runs[-1].chars[-1], ch):
            runs[-1].chars.append(ch)
        else:
            runs.append(_Run([ch]))
    return runs


def _adjacent(a: PageChar, b: PageChar) -> bool:
    """b follows a on the same line, closer than the padding of two neighbouring cells."""
    h = max(a.box[3] - a.box[1], b.box[3] - b.box[1])
    return _same_line(b.box, (a.box[1], a.box[3])) and -0.2 * h <= b.box[0] - a.box[2] <= RUN_GAP * h


def _cell(grid_cell: GridCell, box: BBox, text: str, page: int) -> Cell:
    x0, y0, x1, y1 = (float(v) for v in box)
    return Cell(row=grid_cell.row, col=grid_cell.col, row_span=grid_cell.row_span, col_span=grid_cell.col_span,
                text=text, bbox=(x0, y0, x1, y1), page=page, source="pdf_text")


def _owners(boxes: np.ndarray, items: Sequence[BBox]) -> list[int]:
    """For each box, the cell its centre lies in (-1: none of this table's)."""
    if not items or not len(boxes):
        return [-1] * len(items)
    centres = np.array([((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b in items])
    inside = ((boxes[None, :, 0] <= centres[:, None, 0]) & (centres[:, None, 0] < boxes[None, :, 2])
              & (boxes[None, :, 1] <= centres[:, None, 1]) & (centres[:, None, 1] < boxes[None, :, 3]))
    return [int(np.argmax(row)) if row.any() else -1 for row in inside]


def _cell_text(chars: list[PageChar]) -> str:
    """A cell's characters as text: lines top to bottom, each left to right, joined by a space
    (vertical header text, one character a line, reads as spaced words: labels ignore spaces)."""
    lines: list[list[PageChar]] = []
    for ch in sorted(chars, key=lambda c: (c.box[1] + c.box[3]) / 2):
        last = lines[-1] if lines else None
        if last is not None and _same_line(ch.box, _span(last)):
            last.append(ch)
        else:
            lines.append([ch])
    return collapse_spaces(" ".join(_line_text(sorted(line, key=lambda c: c.box[0])) for line in lines))


def _line_text(line: list[PageChar]) -> str:
    out = [line[0].text]
    for prev, ch in zip(line, line[1:]):
        gap = ch.box[0] - prev.box[2]
        out.append((" " if gap > SPACE_GAP * max(ch.box[3] - ch.box[1], prev.box[3] - prev.box[1]) else "") + ch.text)
    return "".join(out)


def _span(line: list[PageChar]) -> tuple[float, float]:
    return min(c.box[1] for c in line), max(c.box[3] for c in line)


def _same_line(box: BBox, span: tuple[float, float]) -> bool:
    """Whether a character's box overlaps a line's vertical span by most of its height."""
    overlap = min(box[3], span[1]) - max(box[1], span[0])
    return overlap >= LINE_OVERLAP * min(box[3] - box[1], span[1] - span[0])


def _flag_cut_runs(cells: list[Cell], boxes: np.ndarray, runs: list[_Run], owner: list[int]) -> None:
    """A run that a cell rule cuts, where it touches a cell that reads as a number: the number
    may have lost characters to its neighbour, or a neighbour's characters may sit in it.
    Such cells are flagged, as the scan path flags a text line a rule cuts; a label printed
    over into an empty or text cell costs nothing."""
    for run, own in zip(runs, owner):
        if own < 0:
            continue
        x0, y0, x1, y1 = run.box
        h = y1 - y0
        cell_box = boxes[own]
        if x0 >= cell_box[0] - CUT_SLACK * h and x1 <= cell_box[2] + CUT_SLACK * h:
            continue
        cy = (y0 + y1) / 2
        touched = np.flatnonzero((boxes[:, 0] < x1) & (boxes[:, 2] > x0) & (boxes[:, 1] <= cy) & (cy < boxes[:, 3]))
        for i in touched:
            if is_number_text(cells[i].text) and not cells[i].flags:
                cells[i].flags.append("a run of text in the PDF crosses this cell's rule: the cell may hold "
                                      "only part of it, or part of its neighbour's, check the page")
