"""What review shares between the store, the review service, the web app and the CLI.

A review item is work for a person: a field gongkai is unsure of or could not find
(`kind="field"`), or a printed row it could not map onto the template (`kind="unmapped"`).
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from .document import BBox, PageError
from .report import CheckResult, Value

ItemKind = Literal["field", "unmapped"]
ItemState = Literal["open", "claimed", "resolved", "skipped"]
Role = Literal["reviewer", "admin"]
SourceKind = Literal["scan", "born-digital", "web", "text"]
AuditAction = Literal[
    "claim", "release", "confirm", "correct", "skip", "map_row", "not_a_row",
    "confirmed_by_rule", "pipeline_changed", "variant_revoked", "user_added", "token_issued",
    "rule_failed", "user_updated", "version_carried", "superseded",
    "cross_year_failed", "agency_merge",
]


class User(BaseModel):
    id: int
    name: str
    role: Role
    active: bool = True


WAITING_STATES: tuple[ItemState, ...] = ("open", "claimed")  # what the queue shows unless asked


class QueueFilter(BaseModel):
    """Filters of the queue page and GET /api/queue; every one optional, they AND."""

    agency: str | None = None
    year: int | None = None
    template: str | None = None
    reason: str | None = Field(default=None, description="substring of one of the item's reasons")
    source_kind: SourceKind | None = None
    report_id: int | None = None
    states: list[ItemState] = Field(default_factory=lambda: list(WAITING_STATES))


class QueueItem(BaseModel):
    """One line of the queue: what GET /api/queue returns in `items`."""

    id: int
    kind: ItemKind
    state: ItemState
    version: int = Field(description="bumped by every change; a save names the version it saw")
    field_id: str | None = Field(description="canonical id; for an unmapped row, null until mapped")
    value: Value
    raw: str
    reasons: list[str]
    report_id: int
    document_sha256: str
    document_name: str
    agency: str | None
    year: int | None
    template: str | None
    source_kind: SourceKind
    claimed_by: str | None = None
    lease_expires_at: datetime | None = None
    created_at: datetime


class RowChoice(BaseModel):
    """A template row an unmapped printed row can be mapped to."""

    table: str
    row_id: str = Field(description="the row's id in the template, e.g. 'denied.state_secret'")
    label: str


class ItemDetail(QueueItem):
    """The item page: everything a reviewer needs to decide."""

    row_label: str | None = None
    col_label: str | None = None
    page: int | None = None
    bbox: BBox | None = None
    confidence: float | None = None
    suggestion: Value = None
    has_crop: bool = False
    snippet: str | None = Field(default=None, description="the source text around the cell, for text inputs")
    failed_checks: list[CheckResult] = Field(default_factory=list)
    table: str | None = None
    row_choices: list[RowChoice] = Field(default_factory=list, description="unmapped rows: where it may belong")
    next_item_id: int | None = Field(default=None, description="the next open item, to preload its crop")
    other_years: list[str] = Field(
        default_factory=list,
        description="what the same agency's other year prints, for a field in a failed cross-year rule "
        "(\"2020 report: 结转下年度 = 1\")",
    )


class ActionOutcome(BaseModel):
    """What a save did: the item, and what re-running the report's rules changed."""

    item: ItemDetail
    confirmed_by_rule: list[str] = Field(
        default_factory=list, description="field ids accepted because a rule now holds"
    )
    report_complete: bool = Field(description="nothing in the report needs review any more")


class QueueGroup(BaseModel):
    """The queue page groups items by report."""

    report_id: int
    document_name: str
    agency: str | None
    year: int | None
    template: str | None
    source_kind: SourceKind
    open_items: int
    reasons: dict[str, int] = Field(default_factory=dict)
    document_status: str = Field(default="complete", description="partial: some of the document could not be read")
    page_errors: int = Field(default=0, description="how many page errors its document has")


class AuditEntry(BaseModel):
    id: int
    at: datetime
    user: str | None = Field(description="null for the pipeline")
    item_id: int | None
    field_id: str | None
    old_value: Value = None
    new_value: Value = None
    action: AuditAction
    note: str | None = None


class LabelVariant(BaseModel):
    """A printed row label a reviewer mapped onto a template row; mapping uses it from the next run."""

    id: int
    template: str
    table: str
    row_id: str
    label: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None


class ReportCell(BaseModel):
    """One value cell of the report page, laid out as the template prints it."""

    field_id: str
    value: Value
    raw: str
    status: str
    item_id: int | None = None
    page: int | None = None
    bbox: BBox | None = None


class ReportView(BaseModel):
    report_id: int
    document_name: str
    document_sha256: str
    agency: str | None
    year: int | None
    template: str | None
    source_kind: SourceKind
    complete: bool
    cells: list[ReportCell]
    checks: list[CheckResult]
    pages: list[int] = Field(default_factory=list, description="pages with a stored image")
    document_status: str = Field(default="complete", description="partial: some of the document could not be read")
    page_errors: list[PageError] = Field(default_factory=list, description="what of its document could not be read")
