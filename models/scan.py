"""Types of the scan path: what OCR reads and what grid detection finds on a page image.

Pixel coordinates of the page image the stage worked on, origin top-left.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .document import BBox, Confidence, Page, PageError, PageRegion  # noqa: F401  (PageRegion: re-exported)


class OcrLine(BaseModel):
    """One recognised line of text."""

    bbox: BBox
    text: str
    confidence: Confidence = Field(description="the weakest character's probability, not the mean")
    char_confidences: list[float] = Field(default_factory=list)


class GridCell(BaseModel):
    """A cell of a detected ruled grid; a merged cell appears once with its spans."""

    row: int = Field(ge=0)
    col: int = Field(ge=0)
    row_span: int = Field(default=1, ge=1)
    col_span: int = Field(default=1, ge=1)
    bbox: BBox


class GridTable(BaseModel):
    """A ruled table found on a page image: its outer box, row and column rules, cells."""

    bbox: BBox
    row_lines: list[float] = Field(description="y of each horizontal rule, top to bottom")
    col_lines: list[float] = Field(description="x of each vertical rule, left to right")
    cells: list[GridCell]
    method: Literal["lattice", "wired-model", "aligned"] = "lattice"

    @property
    def n_rows(self) -> int:
        return max(len(self.row_lines) - 1, 0)

    @property
    def n_cols(self) -> int:
        return max(len(self.col_lines) - 1, 0)


class ScanPageState(BaseModel):
    """One page image on its way through the scan stages (extractors/scan/page.py): normalise,
    detect lines, find grids, upside-down check, layout, unruled grids, assign lines, read
    cells, cut numbers, parts. Each stage returns a new state; the working images, the
    reader and the layout are dropped by the last, which leaves the page's text blocks and
    table parts (`items`) and its normalised image."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    number: int = Field(ge=1)
    image: Any = Field(default=None, exclude=True, repr=False,
                       description="numpy: the input pixels, then the normalised grey page (the space of every bbox)")
    bgr: Any = Field(default=None, exclude=True, repr=False, description="numpy: the normalised page in BGR, for OCR")
    backend: Any = Field(default=None, exclude=True, repr=False, description="extractors.ocr OcrBackend")
    reader: Any = Field(default=None, exclude=True, repr=False,
                        description="extractors.ocr.base BoxReader: every reading of the page, read once")
    layout: Any = Field(default=None, exclude=True, repr=False, description="the layout model's regions (layoutparser)")
    dpi: float | None = Field(default=None, description="as the page image came (PageImage.dpi)")
    blank: bool = False
    notes: list[str] = Field(default_factory=list, description="what normalisation and reading did to the page")
    boxes: list[BBox] = Field(default_factory=list, description="detected text line boxes")
    grids: list[GridTable] = Field(default_factory=list, description="ruled and unruled grids, top to bottom")
    lost: list[str] = Field(default_factory=list, description="tables whose structure no method found")
    cells: list[list[Any]] = Field(
        default_factory=list, description="extractors/scan/cells.py CellReading per cell of each grid: made by "
        "the assign stage, filled in by read cells and cut numbers (they own them until parts turns them into Cells)")
    outside: list[BBox] = Field(default_factory=list, description="line boxes in no grid: the page's text")
    regions: list[PageRegion] = Field(default_factory=list)
    errors: list[PageError] = Field(default_factory=list, description="what of the page could not be read")
    items: list[Any] = Field(default_factory=list, description="TextBlock | TablePart, top to bottom")

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    def to_page(self) -> Page:
        return Page(number=self.number, width=self.width, height=self.height, ocr=True, dpi=self.dpi, notes=self.notes,
                    regions=self.regions)


class ScannedPages(BaseModel):
    """What the scan reader made of a run of page images: the pages read, what could not be, how many there were."""

    pages: list[ScanPageState]
    errors: list[PageError] = Field(default_factory=list, description="pages (or tables of pages) not read")
    count: int = Field(ge=0, description="page images offered, read or not")
