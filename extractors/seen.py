"""Where mapping saw each template table and its printed rows, in printed order.

Mapping records this beside the fields it found, so that a template row it did not
find can still be placed: between which printed rows it would stand, which printed
row stayed unmapped there, and on which page and where the table was seen.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gongkai.models import BBox, Cell

from .rows import LogicalRow


@dataclass
class SeenRow:
    """One printed data row: the template row it landed on, or None when it stayed unmapped."""

    row_id: str | None
    label: str | None
    page: int | None
    bbox: BBox | None


@dataclass
class SeenTable:
    """A template table as printed: its data rows in order, and its extent on each page."""

    rows: list[SeenRow] = field(default_factory=list)
    boxes: dict[int, BBox] = field(default_factory=dict)
    first_page: int | None = None


def seen_table(section_rows: list[LogicalRow], data_rows: list[tuple[LogicalRow, str | None]]) -> SeenTable:
    """The table's extent from all its rows; `data_rows`: the rows mapping considered, with their row id."""
    cells = [c for r in section_rows for c in r.labels + r.values]
    pages = [c.page for c in cells if c.page is not None]
    return SeenTable(
        rows=[seen_row(row, row_id) for row, row_id in data_rows],
        boxes=boxes_by_page(cells),
        first_page=min(pages) if pages else None,
    )


def seen_row(row: LogicalRow, row_id: str | None) -> SeenRow:
    own = row.labels[len(row.carried):] + row.values
    page = next((c.page for c in row.values + own if c.page is not None), None)
    return SeenRow(row_id=row_id, label=row.leaf, page=page, bbox=boxes_by_page(own).get(page) if page else None)


def boxes_by_page(cells: list[Cell]) -> dict[int, BBox]:
    """page -> the union of the cells' boxes on that page (cells without page or box are skipped)."""
    boxes: dict[int, BBox] = {}
    for cell in cells:
        if cell.page is None or cell.bbox is None:
            continue
        box = boxes.get(cell.page)
        boxes[cell.page] = cell.bbox if box is None else union(box, cell.bbox)
    return boxes


def union(a: BBox, b: BBox) -> BBox:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
