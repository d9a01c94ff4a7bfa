"""Types of the scan path: what OCR reads and what grid detection finds on a page image.

Pixel coordinates of the page image the stage worked on, origin top-left.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .document import BBox, Confidence, PageRegion  # noqa: F401  (PageRegion: re-exported)


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
