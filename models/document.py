"""What a reader recovers from a file: pages, text blocks and tables of cells.

Readers fill these; every later stage reads them. No I/O here.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

Confidence = Annotated[float, Field(ge=0.0, le=1.0)]
BBox = tuple[float, float, float, float]
"""(x0, y0, x1, y1) in the page's own space: PDF points or image pixels, origin top-left."""

RegionType = Literal["title", "text", "table", "figure", "other"]
CellSource = Literal["html", "docx", "doc", "pdf_text", "txt", "ocr"]
TableMethod = Literal["lattice", "wired", "aligned", "pdf_grid", "html", "docx", "doc", "txt", "flattened"]
"""How a table's grid was found: a scan's ruling lines (lattice), the wired-table model (wired) or
the alignment of its text (aligned); a born-digital PDF's drawn rules (pdf_grid); a file's own
table markup (html, docx, doc, txt); a table run together into text, split again (flattened)."""


class Cell(BaseModel):
    """One cell of a recovered grid; a merged cell appears once, with its spans."""

    row: int = Field(ge=0)
    col: int = Field(ge=0)
    row_span: int = Field(default=1, ge=1)
    col_span: int = Field(default=1, ge=1)
    text: str = ""
    bbox: BBox | None = None
    page: int | None = Field(default=None, ge=1, description="1-based page number")
    confidence: Confidence = 1.0
    source: CellSource = "txt"
    flags: list[str] = Field(
        default_factory=list,
        description="why the reader doubts this cell (e.g. an OCR misread); sends its field to review",
    )


class Table(BaseModel):
    """A grid of cells in reading order within its document."""

    type: Literal["table"] = "table"
    cells: list[Cell]
    n_rows: int = Field(ge=0)
    n_cols: int = Field(ge=0)
    page: int | None = Field(default=None, ge=1)
    bbox: BBox | None = None
    continued_from_previous: bool = Field(
        default=False, description="joined from a table that ran on from the previous page"
    )
    grid: bool = Field(
        default=True,
        description="False: a cell stream (one cell per row, in reading order) whose row "
        "breaks were lost, as in text transcriptions that put each cell on its own line",
    )
    method: TableMethod = Field(default="txt", description="how its grid was found (provenance; weighs its fields)")
    quality: str | None = Field(default=None, description="what the reader doubts about the grid as a whole")


class TextBlock(BaseModel):
    """A paragraph or line of narrative text."""

    type: Literal["text"] = "text"
    text: str
    page: int | None = Field(default=None, ge=1)
    bbox: BBox | None = None


Block = Annotated[TextBlock | Table, Field(discriminator="type")]


class SourceInfo(BaseModel):
    name: str
    sha256: str
    media_type: str
    pages: int | None = None
    size_bytes: int | None = None


class PageRegion(BaseModel):
    """A layout region of a page image: what kind of content lies where, and who said so."""

    type: RegionType
    bbox: BBox
    score: Confidence
    source: Literal["cdla", "rules"] = Field(description="cdla: the layout model; rules: a ruled grid (exact)")


class Page(BaseModel):
    number: int = Field(ge=1)
    width: float | None = None
    height: float | None = None
    ocr: bool = Field(default=False, description="read by OCR from an image; sizes are pixels")
    dpi: float | None = Field(
        default=None, description="an OCR'd page's resolution: what its image file says, or what a PDF was rendered at")
    notes: list[str] = Field(default_factory=list, description="what normalisation did (rotation, skew, seal)")
    regions: list[PageRegion] = Field(default_factory=list, description="layout regions of an OCR'd page")


class PageError(BaseModel):
    """Something of the document that could not be read: a page that would not decode, a table
    the table detector gave up on, a damaged span of text. Kept as data, it makes the
    document's result `partial`; what was read around it is still extracted and stored."""

    page: int | None = Field(default=None, ge=1, description="1-based; null: not tied to one page")
    stage: str = Field(description="where it was lost: raster, ocr, tables, read")
    kind: str = Field(description="a short word: undecodable, out-of-memory, unexpected, table-detection-failed, "
                      "table-structure-lost, reader-warning")
    message: str


class PageNote(BaseModel):
    """What reading a page did to it (turned, deskewed, seal removed, blank): nothing lost."""

    page: int = Field(ge=1)
    note: str


class Document(BaseModel):
    """A whole input file as a reader recovered it: blocks in reading order."""

    source: SourceInfo
    pages: list[Page] = Field(default_factory=list)
    blocks: list[Block] = Field(default_factory=list)
    warnings: list[str] = Field(
        default_factory=list, description="free-text losses a reader noted (a damaged span); each becomes a "
        "PageError of kind reader-warning in the result ('page N: ...' names its page)")
    page_errors: list[PageError] = Field(default_factory=list, description="what could not be read, page by page")
    metadata: dict[str, str] = Field(
        default_factory=dict,
        description="what the page says about itself: HTML <meta name=…> content, a crawl's `key: value` "
        "header lines (e.g. ContentSource, 发布机构); the names kept are config/patterns.yaml page_metadata",
    )
    page_images: dict[int, Any] = Field(  # numpy arrays: models/ does not import numpy
        default_factory=dict, exclude=True, repr=False,
        description="the normalised image of each OCR'd page (the space of its bboxes): the reader hands them "
        "to the extraction state's pages (models/extraction.py), never serialised")

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def text(self) -> str:
        return "\n".join(b.text for b in self.blocks if isinstance(b, TextBlock))
