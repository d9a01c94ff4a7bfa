"""Tables that run on from one page to the next, joined into one grid.

Shared by every reader that sees pages (born-digital PDFs, scans). A part is joined
to the table closing the previous page when that table ends in the lower part of its
page, the part opens the next page, and their column rules agree. Rules are compared
relative to each part's left edge: a scanned page sits a few pixels off its neighbour.
"""
from __future__ import annotations

import re

from gongkai.models import Cell, TablePart, TextBlock

from .text import collapse_spaces
from .values import is_number_text

# A table runs on when it ends in the bottom part of its page and the next page
# opens with a table. The bottom allowance is wide: rows that cannot break (tall
# merged label cells) are pushed whole to the next page, leaving a gap.
TAIL_MARGIN_FRACTION = 0.4
HEAD_MARGIN_FRACTION = 0.25
SAME_PAGE_GAP_FRACTION = 0.06  # of the table's width: a wider gap on one page separates two tables
__all__ = ["TablePart", "join_across_pages"]  # TablePart lives in models/ (models/parts.py)
_PAGE_NUMBER = re.compile(r"^[-—–\s]*(?:第\s*)?\d+\s*(?:页)?(?:\s*/\s*(?:共\s*)?\d+\s*页?)?[-—–\s]*$")


def _is_furniture(item: TextBlock | TablePart) -> bool:
    """Page numbers between two parts of a table do not separate them."""
    return isinstance(item, TextBlock) and bool(_PAGE_NUMBER.match(item.text))


def _continues(a: TablePart, b: TablePart, heights: dict[int, float]) -> bool:
    """b opens the page after a's last part, a ends near that page's bottom, b starts near its top;
    or b follows a on the same page after a small gap with nothing between them (a page break
    cropped out of a stitched screenshot)."""
    if b.page == a.last_page:
        return 0 <= b.bbox[1] - a.last_bottom <= SAME_PAGE_GAP_FRACTION * (a.bbox[2] - a.bbox[0])
    if b.page != a.last_page + 1:
        return False
    return (heights[a.last_page] - a.last_bottom <= TAIL_MARGIN_FRACTION * heights[a.last_page]
            and b.bbox[1] <= HEAD_MARGIN_FRACTION * heights[b.page])


def _unified_bounds(a: list[float], b: list[float], tol: float) -> list[float] | None:
    """Column rules shared by both parts (b moved onto a's left edge): equal sets, or one a subset."""
    shift = a[0] - b[0]
    b = [x + shift for x in b]

    def near(x: float, y: float) -> bool:
        return abs(x - y) <= tol

    if not near(a[-1], b[-1]):
        return None
    if all(any(near(y, x) for x in a) for y in b):
        return a
    if all(any(near(x, y) for y in b) for x in a):
        return b
    return None


def _regrid(cells: list[Cell], bounds: list[float], row_offset: int, shift: float = 0.0) -> list[Cell]:
    """Column indices from each cell's x extent against the joined table's rules."""
    def nearest(x: float) -> int:
        return min(range(len(bounds)), key=lambda i: abs(bounds[i] - x))

    out = []
    for cell in cells:
        assert cell.bbox is not None  # every pdf_text cell has one
        col, end = nearest(cell.bbox[0] + shift), nearest(cell.bbox[2] + shift)
        out.append(cell.model_copy(update={"row": cell.row + row_offset, "col": col, "col_span": max(1, end - col)}))
    return out


def _merge_split_cells(upper: list[Cell], lower: list[Cell], boundary: int) -> list[Cell]:
    """A label cell cut by the page break ('（四）无' / '法提供') becomes one cell again.

    Only a row label of the table body is cut in two: a cell spanning several rows
    on one side, whose rows hold numbers. Header cells (no numbers in their rows),
    single-row cells and numbers themselves are rows of their own.
    """
    value_rows = {c.row for c in upper if is_number_text(c.text)}
    bottoms = {(c.col, c.col_span): c for c in upper if c.row + c.row_span == boundary}
    kept = []
    for cell in lower:
        above = bottoms.get((cell.col, cell.col_span)) if cell.row == boundary else None
        if above is not None and _is_cut_label(above, cell, value_rows):
            above.row_span += cell.row_span
            above.text = collapse_spaces(f"{above.text} {cell.text}")
            continue
        kept.append(cell)
    return kept


def _is_cut_label(above: Cell, below: Cell, value_rows: set[int]) -> bool:
    return ((above.row_span > 1 or below.row_span > 1)
            and not is_number_text(above.text) and not is_number_text(below.text)
            and any(r in value_rows for r in range(above.row, above.row + above.row_span)))


def _join(a: TablePart, b: TablePart) -> TablePart | None:
    bounds = _unified_bounds(a.bounds, b.bounds, max(a.edge_tolerance, b.edge_tolerance))
    if bounds is None:
        return None
    upper = _regrid(a.cells, bounds, 0)
    lower = _merge_split_cells(upper, _regrid(b.cells, bounds, a.n_rows, a.bounds[0] - b.bounds[0]), a.n_rows)
    return TablePart(page=a.page, bbox=a.bbox, bounds=bounds, n_rows=a.n_rows + b.n_rows, cells=upper + lower,
                     edge_tolerance=a.edge_tolerance, continued=True, last_page=b.page, last_bottom=b.bbox[3],
                     method=a.method, quality=a.quality)


def join_across_pages(items: list[TextBlock | TablePart], heights: dict[int, float]) -> list[TextBlock | TablePart]:
    """Fold a table opening a page into the table closing the previous page when their columns agree."""
    out: list[TextBlock | TablePart] = []
    for item in items:
        body = [i for i, done in enumerate(out) if not _is_furniture(done)]
        prev = out[body[-1]] if body else None
        if isinstance(item, TablePart) and isinstance(prev, TablePart) and _continues(prev, item, heights):
            joined = _join(prev, item)
            if joined is not None:
                out[body[-1]] = joined
                continue
        out.append(item)
    return out
