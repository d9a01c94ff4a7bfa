"""What extraction produces: reports with canonical fields, checks and routing.

This is the shape of `report-extraction/1` (see docs/output-contract.md); keys may be
added, none removed.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, computed_field

from .document import BBox, Confidence, PageError, PageNote, SourceInfo


def _known_template(template_id: str) -> str:
    """A template id is one of the templates config/ discovers; the JSON stays a plain string."""
    from gongkai.config import template_ids  # config loads these models: imported when first used

    known = template_ids()
    if template_id not in known:
        raise ValueError(f"unknown template {template_id!r}: not one of {', '.join(known)}")
    return template_id


TemplateId = Annotated[str, AfterValidator(_known_template)]
ReportKind = Literal["tabular", "narrative", "not-a-report"]
FieldStatus = Literal["accepted", "needs_review", "corrected"]
DocumentStatus = Literal["complete", "partial", "failed"]
Value = int | float | None

SCHEMA = "report-extraction/1"


class FieldValue(BaseModel):
    id: str
    value: Value
    raw: str
    confidence: Confidence
    status: FieldStatus = "needs_review"
    reasons: list[str] = Field(default_factory=list, description="why it needs review")
    notes: list[str] = Field(default_factory=list, description="how the raw text was read")
    page: int | None = None
    bbox: BBox | None = None
    row_label: str | None = None
    col_label: str | None = None
    source: str | None = None
    suggestion: Value = Field(
        default=None, description="what the form's rules imply for this cell; never the value"
    )


class UnmappedCell(BaseModel):
    table: str | None
    row_label: str | None
    col_label: str | None
    raw: str
    page: int | None = None
    bbox: BBox | None = None


class CheckResult(BaseModel):
    rule: str
    ok: bool
    detail: str
    fields: list[str] = Field(default_factory=list, description="ids of the fields the rule touches")


class StageError(BaseModel):
    """A failure of one stage for one document, kept as data so the batch goes on."""

    stage: str
    kind: str
    message: str


class Report(BaseModel):
    agency: str | None = None
    agency_key: str | None = Field(
        default=None, description="one key for one agency, however its name is printed (extractors/agency.py)"
    )
    year: int | None = None
    template: TemplateId | None = None
    kind: ReportKind
    kind_reason: str | None = Field(
        default=None, description="why a document with template tables is not a report (a comparison of two years)"
    )
    title: str | None = None
    fields: list[FieldValue] = Field(default_factory=list)
    unmapped: list[UnmappedCell] = Field(default_factory=list)
    checks: list[CheckResult] = Field(default_factory=list)
    crops: dict[str, bytes] = Field(
        default_factory=dict, exclude=True,
        description="field id -> PNG of the cell as scanned, for fields sent to review (not in the JSON)",
    )
    page_images: dict[int, bytes] = Field(
        default_factory=dict, exclude=True,
        description="page number -> PNG of the normalised page the OCR read (field bboxes are in its "
        "pixels), for each scanned page holding the report's fields (not in the JSON)",
    )

    def field(self, field_id: str) -> FieldValue | None:
        return next((f for f in self.fields if f.id == field_id), None)


class ExtractionResult(BaseModel):
    """One input file's result: the JSON that `gongkai extract` writes."""

    schema_: str = Field(default=SCHEMA, alias="schema")
    source: SourceInfo
    error: StageError | None = None
    pipeline_version: str | None = None
    reports: list[Report] = Field(default_factory=list)
    page_errors: list[PageError] = Field(
        default_factory=list, description="what of the document could not be read (pages, tables, text spans)")
    page_notes: list[PageNote] = Field(default_factory=list, description="what reading each page did to it")

    model_config = {"populate_by_name": True}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> DocumentStatus:
        """failed: nothing could be extracted (`error`); partial: something could not be read
        (`page_errors`), the rest is extracted as usual; complete: every page was read."""
        if self.error is not None:
            return "failed"
        return "partial" if self.page_errors else "complete"

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)
