"""Saving and loading ExtractionResult: the rows of a document, its reports, fields, unmapped
cells and checks, and the models and records read back from them.

Module-level functions over a Connection, so save_result, reprocess.py and versions.py share
them inside their own transactions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from gongkai.config import amount_field_ids
from gongkai.models import (
    CheckResult,
    ExtractionResult,
    FieldValue,
    Report,
    SourceInfo,
    StageError,
    UnmappedCell,
)

from . import enqueue
from .agencies import after_document_stored
from .audit import utc_now
from .errors import DocumentNotFound
from .page_issues import load_page_issues, save_page_issues
from .records import FieldRow, Number, SaveOutcome
from .schema import checks, documents, fields, reports, unmapped

# The models' fields stored as they are, in columns of the same name (a field's id goes to
# field_id, its numbers through to_float and _restore_number; a cell's table to table_id).
_FIELD_COLUMNS = {"raw", "confidence", "status", "reasons", "page", "bbox", "row_label", "col_label", "source"}
_UNMAPPED_COLUMNS = {"row_label", "col_label", "raw", "page", "bbox"}
_CHECK_COLUMNS = {"rule", "ok", "detail", "fields"}


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------
def to_float(value: Number) -> float | None:
    return None if value is None else float(value)


def check_unique_field_ids(result: ExtractionResult) -> None:
    # The UNIQUE(report_id, field_id) would reject it anyway; this names the culprit.
    for ordinal, report in enumerate(result.reports):
        seen: set[str] = set()
        for f in report.fields:
            if f.id in seen:
                raise ValueError(f"report {ordinal} of {result.source.name}: field {f.id} twice")
            seen.add(f.id)


def after_store(conn: Connection, outcome: SaveOutcome) -> SaveOutcome:
    after_document_stored(conn, outcome.document_id)
    return outcome


def existing_document(conn: Connection, sha256: str) -> RowMapping | None:
    stmt = sa.select(documents.c.id, documents.c.error_stage).where(documents.c.sha256 == sha256)
    return conn.execute(stmt).mappings().one_or_none()


def replaceable(conn: Connection, existing: RowMapping, result: ExtractionResult) -> bool:
    """A stored failure may be replaced by a success, unless a reviewer touched it."""
    if existing["error_stage"] is None or result.error is not None:
        return False
    reviewed = conn.execute(
        sa.select(sa.func.count())
        .select_from(fields.join(reports))
        .where(reports.c.document_id == existing["id"], fields.c.status == "corrected")
    ).scalar_one()
    return reviewed == 0


def insert_result(
    conn: Connection,
    result: ExtractionResult,
    path: str | None,
    source_url: str | None,
    outcome: Literal["inserted", "replaced"],
) -> SaveOutcome:
    doc_id = _insert_document(conn, result, path, source_url)
    save_page_issues(conn, doc_id, result)
    n_fields = n_review = n_unmapped = 0
    for ordinal, report in enumerate(result.reports):
        report_id = insert_report(conn, doc_id, ordinal, report, result.source.media_type)
        field_pks = insert_fields(conn, report_id, report.fields)
        insert_unmapped(conn, report_id, report.unmapped)
        insert_checks(conn, report_id, report.checks)
        n_review += enqueue.enqueue_fields(conn, report_id, report.fields, field_pks, report.crops)
        n_unmapped += enqueue.enqueue_unmapped(conn, report_id, report.unmapped)
        enqueue.store_page_images(conn, doc_id, report.page_images)
        n_fields += len(report.fields)
    return SaveOutcome(
        outcome, result.source.sha256, doc_id, len(result.reports), n_fields, n_review, n_unmapped
    )


def _insert_document(
    conn: Connection, result: ExtractionResult, path: str | None, source_url: str | None
) -> int:
    src, err = result.source, result.error
    stmt = sa.insert(documents).returning(documents.c.id)
    return conn.execute(
        stmt,
        {
            "sha256": src.sha256,
            "name": src.name,
            "media_type": src.media_type,
            "pages": src.pages,
            "size_bytes": src.size_bytes,
            "source_url": source_url,
            "path": path,
            "result_schema": result.schema_,
            "pipeline_version": result.pipeline_version,
            "error_stage": err.stage if err else None,
            "error_kind": err.kind if err else None,
            "error_message": err.message if err else None,
            "created_at": utc_now(),
        },
    ).scalar_one()


def insert_report(conn: Connection, document_id: int, ordinal: int, report: Report, media_type: str) -> int:
    row = report.model_dump(include={"agency", "agency_key", "year", "template", "kind", "kind_reason", "title"})
    kind = enqueue.source_kind(media_type, (f.source for f in report.fields))
    stmt = sa.insert(reports).returning(reports.c.id)
    return conn.execute(
        stmt, {"document_id": document_id, "ordinal": ordinal, "source_kind": kind, **row}
    ).scalar_one()


def insert_fields(conn: Connection, report_id: int, values: list[FieldValue]) -> dict[str, int]:
    """Insert a report's fields; returns field id -> primary key."""
    if not values:
        return {}
    rows = [
        {"report_id": report_id, "field_id": f.id, "value": to_float(f.value), "suggestion": to_float(f.suggestion),
         **f.model_dump(include=_FIELD_COLUMNS)}
        for f in values
    ]
    stmt = sa.insert(fields).returning(fields.c.id, fields.c.field_id, sort_by_parameter_order=True)
    return {r.field_id: r.id for r in conn.execute(stmt, rows)}


def insert_unmapped(conn: Connection, report_id: int, cells: list[UnmappedCell]) -> None:
    _insert_rows(conn, unmapped, [
        {"report_id": report_id, "table_id": c.table, **c.model_dump(include=_UNMAPPED_COLUMNS)}
        for c in cells
    ])


def insert_checks(conn: Connection, report_id: int, results: list[CheckResult]) -> None:
    _insert_rows(conn, checks, [
        {"report_id": report_id, **c.model_dump(include=_CHECK_COLUMNS)} for c in results
    ])


def _insert_rows(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if rows:  # sa.insert with no rows would insert one row of defaults
        conn.execute(sa.insert(table), rows)


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------
def read_result(conn: Connection, sha256: str) -> ExtractionResult:
    """The stored result as the pydantic model (corrections included)."""
    doc = conn.execute(sa.select(documents).where(documents.c.sha256 == sha256)).mappings().one_or_none()
    if doc is None:
        raise DocumentNotFound(sha256)
    report_rows = conn.execute(
        sa.select(reports).where(reports.c.document_id == doc["id"]).order_by(reports.c.ordinal)
    ).mappings().all()
    children = load_children(conn, doc["id"])
    page_errors, page_notes = load_page_issues(conn, doc["id"])
    return ExtractionResult(
        schema=doc["result_schema"],
        source=SourceInfo(
            name=doc["name"],
            sha256=doc["sha256"],
            media_type=doc["media_type"],
            pages=doc["pages"],
            size_bytes=doc["size_bytes"],
        ),
        error=stage_error(doc),
        pipeline_version=doc["pipeline_version"],
        reports=[report_model(r, children) for r in report_rows],
        page_errors=page_errors,
        page_notes=page_notes,
    )


def _restore_number(field_id: str, value: float | None) -> Number:
    """Floats from the database back to the model's types: integral counts are ints."""
    if value is None or field_id in amount_field_ids():  # 万元 decimals, as the template types them
        return value
    return int(value) if float(value).is_integer() else value


def field_select() -> sa.Select[Any]:
    return sa.select(
        fields.c.id.label("pk"),
        fields.c.field_id,
        fields.c.value,
        fields.c.raw,
        fields.c.confidence,
        fields.c.status,
        fields.c.reasons,
        fields.c.page,
        fields.c.bbox,
        fields.c.row_label,
        fields.c.col_label,
        fields.c.source,
        fields.c.suggestion,
        reports.c.id.label("report_id"),
        reports.c.ordinal,
        reports.c.agency,
        reports.c.year,
        reports.c.template,
        reports.c.kind,
        documents.c.sha256,
        documents.c.name.label("document_name"),
    ).select_from(fields.join(reports).join(documents))


def field_row(row: RowMapping) -> FieldRow:
    values = {name: row[name] for name in FieldRow.__slots__}
    values["value"] = _restore_number(row["field_id"], row["value"])
    values["suggestion"] = _restore_number(row["field_id"], row["suggestion"])
    return FieldRow(**values)


@dataclass
class ReportChildren:
    """What a document's reports hold, by report id."""

    fields: dict[int, list[FieldValue]]
    unmapped: dict[int, list[UnmappedCell]]
    checks: dict[int, list[CheckResult]]


def load_children(conn: Connection, document_id: int) -> ReportChildren:
    """Fields, unmapped cells and checks of one document, grouped by report id."""
    mine = sa.select(reports.c.id).where(reports.c.document_id == document_id)
    out = ReportChildren(defaultdict(list), defaultdict(list), defaultdict(list))
    for r in conn.execute(
        sa.select(fields).where(fields.c.report_id.in_(mine)).order_by(fields.c.id)
    ).mappings():
        out.fields[r["report_id"]].append(field_model(r))
    for r in conn.execute(
        sa.select(unmapped).where(unmapped.c.report_id.in_(mine)).order_by(unmapped.c.id)
    ).mappings():
        out.unmapped[r["report_id"]].append(UnmappedCell(table=r["table_id"], **{k: r[k] for k in _UNMAPPED_COLUMNS}))
    for r in conn.execute(
        sa.select(checks).where(checks.c.report_id.in_(mine)).order_by(checks.c.id)
    ).mappings():
        out.checks[r["report_id"]].append(CheckResult(**{k: r[k] for k in _CHECK_COLUMNS}))
    return out


def field_model(r: RowMapping) -> FieldValue:
    return FieldValue(
        id=r["field_id"],
        value=_restore_number(r["field_id"], r["value"]),
        suggestion=_restore_number(r["field_id"], r["suggestion"]),
        **{k: r[k] for k in _FIELD_COLUMNS},
    )


def report_model(r: RowMapping, children: ReportChildren) -> Report:
    return Report(
        agency=r["agency"],
        agency_key=r["agency_key"],
        year=r["year"],
        template=r["template"],
        kind=r["kind"],
        kind_reason=r["kind_reason"],
        title=r["title"],
        fields=children.fields.get(r["id"], []),
        unmapped=children.unmapped.get(r["id"], []),
        checks=children.checks.get(r["id"], []),
    )


def stage_error(doc: RowMapping) -> StageError | None:
    if doc["error_stage"] is None:
        return None
    return StageError(
        stage=doc["error_stage"], kind=doc["error_kind"], message=doc["error_message"]
    )

