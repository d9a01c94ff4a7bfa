"""One document's extraction state, carried through every stage (as docling carries its
ConversionResult): read → segment → classify → map → check → route.

Each stage takes the state and returns a new one (`model_copy(update=...)`): what an earlier
stage made is read, never changed in place. `to_result()` ends it as the JSON contract
(models/report.py ExtractionResult), which stays as it was.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from .document import Document, Page, PageError, PageNote, SourceInfo, Table
from .parts import LogicalRow, Segment
from .report import ExtractionResult, Report, StageError
from .scan import PageRegion
from .template import LearnedLabel, Template

ExtractionStatus = Literal["success", "partial", "failure"]
RESULT_STATUS: dict[str, ExtractionStatus] = {"complete": "success", "partial": "partial", "failed": "failure"}
"""ExtractionResult.status (the contract's words) as the state's status: one rule, two vocabularies."""


class PageState(BaseModel):
    """One page as read: the reader's Page (dpi, notes, regions) and its image. The OCR lines and grids stay in
    the scan path's page state (models/scan.py ScanPageState): the reader hands back a Document."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    page: Page
    image: Any = Field(default=None, exclude=True, repr=False,
                       description="the normalised page image (numpy) the OCR read: the space of its bboxes")

    @property
    def number(self) -> int:
        return self.page.number

    @property
    def dpi(self) -> float | None:
        return self.page.dpi

    @property
    def regions(self) -> list[PageRegion]:
        return self.page.regions

    @property
    def notes(self) -> list[str]:
        return self.page.notes


class ReportState(BaseModel):
    """One report of the document on its way: its segment, the report so far, and what
    classify and map found for check and route (the template; its rows and mapping)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    segment: Segment
    report: Report
    template: Template | None = Field(default=None, description="None once the report is not a tabular one")
    rows: list[LogicalRow] = Field(default_factory=list, description="the printed rows (extractors/rows.py)")
    mapping: Any = Field(default=None, description="extractors/mapping.py TableMapping, by map")

    @property
    def tabular(self) -> bool:
        """Whether check and route have work here: map kept a template and its mapping."""
        return self.template is not None and self.mapping is not None


class ExtractionState(BaseModel):
    """Everything known about one input file so far; each stage fills its own part."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    source: SourceInfo
    path: Path | None = Field(default=None, description="the input file, for the read stage")
    learned: list[LearnedLabel] = Field(default_factory=list, description="reviewers' label variants, for map")
    error: StageError | None = Field(default=None, description="the stage that failed the whole document")
    page_errors: list[PageError] = Field(default_factory=list)
    page_notes: list[PageNote] = Field(default_factory=list)
    document: Document | None = Field(default=None, description="what the reader recovered (blocks in reading order)")
    pages: list[PageState] = Field(default_factory=list)
    segments: list[Segment] = Field(default_factory=list, description="one per report the document holds")
    reports: list[ReportState] = Field(default_factory=list)
    pipeline_version: str | None = None

    @property
    def tables(self) -> list[Table]:
        """The document's tables, each with its provenance (`method`) and `quality`."""
        return self.document.tables() if self.document is not None else []

    def page_images(self) -> dict[int, Any]:
        return {p.number: p.image for p in self.pages if p.image is not None}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> ExtractionStatus:
        """The result's rule (ExtractionResult.status) in the state's words."""
        return RESULT_STATUS[self.to_result().status]

    def to_result(self) -> ExtractionResult:
        return ExtractionResult(
            source=self.source,
            error=self.error,
            pipeline_version=self.pipeline_version,
            reports=[r.report for r in self.reports],
            page_errors=self.page_errors,
            page_notes=self.page_notes,
        )
