"""The typed parts stages hand each other below the level of a document: a report's segment,
a table of one page (or joined pages), one page as pixels, one OCR reading.

Plain dataclasses, not pydantic: none of these is ever serialised, and a page yields hundreds to
thousands of readings (a pydantic Reading was measured at ~7 µs to build, the dataclass ~2.6 µs;
small beside OCR, but nothing is gained for it). No I/O here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .document import BBox, Block, Cell, Table, TableMethod, TextBlock

if TYPE_CHECKING:
    import numpy as np

MIN_CONTENT_CHARS = 30  # of text: less, and no table, is page chrome rather than a report


@dataclass
class Segment:
    """The blocks of one report, as split from its document (extractors/segment.py)."""

    blocks: list[Block] = field(default_factory=list)

    def text_blocks(self) -> list[TextBlock]:
        return [b for b in self.blocks if isinstance(b, TextBlock)]

    def text(self) -> str:
        return "\n".join(b.text for b in self.text_blocks())

    def has_content(self) -> bool:
        chars = sum(len(b.text) for b in self.text_blocks())
        return chars >= MIN_CONTENT_CHARS or any(isinstance(b, Table) for b in self.blocks)


@dataclass
class TablePart:
    """A table of one page (or joined pages) with the column rules it was cut by."""

    page: int
    bbox: BBox
    bounds: list[float]
    n_rows: int
    cells: list[Cell]
    edge_tolerance: float  # column rules of two parts count as one line within this (page units)
    continued: bool = False
    last_page: int = 0  # the page its last part sits on, once joined across pages
    last_bottom: float = 0.0
    method: TableMethod = "pdf_grid"  # how its grid was found; a joined table keeps its first part's
    quality: str | None = None  # what is doubtful about the grid as a whole (models.Table.quality)

    def to_table(self) -> Table:
        cells = sorted(self.cells, key=lambda c: (c.row, c.col))
        return Table(cells=cells, n_rows=self.n_rows, n_cols=len(self.bounds) - 1, page=self.page, bbox=self.bbox,
                     continued_from_previous=self.continued, method=self.method, quality=self.quality)


@dataclass
class PageImage:
    """One page as pixels (BGR, or the normalised grey page once read), or the reason it could not be had."""

    number: int
    image: np.ndarray | None
    error: str | None = None
    dpi: float | None = None


@dataclass(frozen=True)
class Reading:
    """What a recogniser read in one crop, with each character's probability.

    `constrained`: the reading of the same crop limited to the charset asked for, where
    the backend can decode that from the same pass (None where it cannot).
    """

    text: str
    char_confidences: tuple[float, ...]
    constrained: Reading | None = None

    @property
    def confidence(self) -> float:
        # The weakest character, not the mean: one misread digit makes the whole number wrong.
        return min(self.char_confidences, default=0.0)


ScanMethod = Literal["lattice", "wired-model", "aligned"]
SCAN_TABLE_METHODS: dict[str, TableMethod] = {"lattice": "lattice", "wired-model": "wired", "aligned": "aligned"}
"""A scanned grid's method (models.GridTable.method) as its table's provenance."""
SCAN_TABLE_QUALITY: dict[str, str] = {
    "wired-model": "faint or broken ruling lines: rows and columns drawn by the wired-table model",
    "aligned": "no ruling lines: rows and columns from the alignment of its text",
}
"""What a scanned table's method leaves in doubt, as its quality note."""


@dataclass
class LogicalRow:
    """A printed row as mapping sees it: its label cells, its value cells, the template table
    it belongs to (extractors/rows.py builds it)."""

    labels: list[Cell]
    values: list[Cell]
    section: str | None
    table_no: int
    carried: list[Cell] = field(default_factory=list, repr=False)
    years: list[int] = field(default_factory=list)
    """the years its table's header prints side by side (a comparison), empty for one report"""
    doubts: list[str] = field(default_factory=list)
    """reasons that send every field of the row to review"""
    method: TableMethod | None = None
    """how its table's grid was found (models.Table.method): weighs its fields' confidence"""

    @property
    def leaf(self) -> str | None:
        return self.labels[-1].text if self.labels else None
