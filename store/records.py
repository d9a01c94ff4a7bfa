"""What the operational store's reads and writes return: plain frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Number = int | float | None


@dataclass(frozen=True, slots=True)
class SaveOutcome:
    """inserted: new document; unchanged: sha256 already stored, nothing written;
    replaced: a stored failed run (error, no corrections) gave way to a successful one;
    reprocessed: a stored document re-extracted, people's work kept."""

    outcome: Literal["inserted", "unchanged", "replaced", "reprocessed"]
    sha256: str
    document_id: int
    reports: int = 0
    fields: int = 0
    review_items: int = 0
    unmapped_items: int = 0
    conflicts: int = 0  # reprocessed: machine readings that differ from a person's value
    changed: int = 0  # reprocessed: machine fields whose value or routing changed


@dataclass(frozen=True, slots=True)
class StoredDocument:
    id: int
    sha256: str
    name: str
    media_type: str
    pages: int | None
    size_bytes: int | None
    source_url: str | None
    path: str | None
    pipeline_version: str | None
    error_stage: str | None
    error_kind: str | None
    error_message: str | None
    created_at: datetime
    superseded_by: str | None = None  # sha256 of the newer version of its page (store/versions.py)
    superseded_at: datetime | None = None
    status: str = "complete"  # complete | partial (a page error is stored) | failed


@dataclass(frozen=True, slots=True)
class ReportRow:
    report_id: int
    sha256: str
    document_name: str
    source_url: str | None
    ordinal: int
    agency: str | None
    agency_key: str | None
    year: int | None
    template: str | None
    kind: str
    title: str | None
    complete: bool = True  # nothing in it open, claimed or skipped in the review queue
    document_status: str = "complete"  # its document's: complete | partial (something could not be read)


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One stored field with the report and document it belongs to."""

    pk: int
    field_id: str
    value: Number
    raw: str
    confidence: float
    status: str
    reasons: list[str]
    page: int | None
    bbox: list[float] | None
    row_label: str | None
    col_label: str | None
    source: str | None
    suggestion: Number
    report_id: int
    ordinal: int
    agency: str | None
    year: int | None
    template: str | None
    kind: str
    sha256: str
    document_name: str

    @property
    def table(self) -> str:
        return self.field_id.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class ReviewItem:
    queue_id: int
    reasons: list[str]
    created_at: datetime
    field: FieldRow
    crop_png: bytes | None = None  # the cell as scanned (OCR input only)

