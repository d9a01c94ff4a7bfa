"""Saving a re-extraction of a stored document without losing people's work.

Machine values are replaced by the new pipeline's; a value a person confirmed or corrected
always stays. Where the new machine value differs from a human one, a new open item says
what the pipeline now reads: never a silent overwrite. Every item whose field changed gets
its version bumped, so a reviewer saving what they read before gets a version conflict.
Each change writes an audit row (action pipeline_changed, no user).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from gongkai.models import ExtractionResult, FieldValue, Report

from . import enqueue
from .audit import utc_now, write_audit
from .page_issues import save_page_issues
from .results import insert_checks, insert_fields, insert_report, insert_unmapped
from .schema import checks, documents, fields, reports, review_queue, unmapped

q, f = review_queue.c, fields.c
PENDING = ("open", "claimed", "skipped")


@dataclass
class ReprocessCounts:
    reports: int = 0
    fields: int = 0
    review_items: int = 0
    conflicts: int = 0
    changed: int = 0


def reprocess_document(
    conn: Connection, document_id: int, result: ExtractionResult, path: str | None
) -> ReprocessCounts:
    counts = ReprocessCounts(reports=len(result.reports))
    # the document's reports first, as every review writer does (no deadlock with a save)
    conn.execute(sa.select(reports.c.id).where(reports.c.document_id == document_id)
                 .order_by(reports.c.id).with_for_update())
    conn.execute(sa.update(documents).where(documents.c.id == document_id).values(
        pipeline_version=result.pipeline_version, **({"path": path} if path else {})))
    save_page_issues(conn, document_id, result)  # what the new reading lost, not the old one
    known: dict[int, int] = {ordinal: report_id for ordinal, report_id in conn.execute(
        sa.select(reports.c.ordinal, reports.c.id).where(reports.c.document_id == document_id))}
    media_type = result.source.media_type
    for ordinal, report in enumerate(result.reports):
        report_id = known.get(ordinal)
        if report_id is None:
            report_id = insert_report(conn, document_id, ordinal, report, media_type)
            pks = insert_fields(conn, report_id, report.fields)
            insert_unmapped(conn, report_id, report.unmapped)
            insert_checks(conn, report_id, report.checks)
            counts.review_items += enqueue.enqueue_fields(conn, report_id, report.fields, pks, report.crops)
            counts.review_items += enqueue.enqueue_unmapped(conn, report_id, report.unmapped)
        else:
            _update_report(conn, report_id, report, media_type)
            _reprocess_fields(conn, report_id, report, counts)
            _replace_unmapped(conn, report_id, report, counts)
            conn.execute(sa.delete(checks).where(checks.c.report_id == report_id))
            insert_checks(conn, report_id, report.checks)
        enqueue.store_page_images(conn, document_id, report.page_images)
        counts.fields += len(report.fields)
    return counts


def _update_report(conn: Connection, report_id: int, report: Report, media_type: str) -> None:
    values = report.model_dump(include={"agency", "agency_key", "year", "template", "kind", "kind_reason", "title"})
    values["source_kind"] = enqueue.source_kind(media_type, (x.source for x in report.fields))
    conn.execute(sa.update(reports).where(reports.c.id == report_id).values(**values))


def _same(a: float | int | None, b: float | int | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(float(a) - float(b)) < 1e-9)


def _fmt(value: float | int | None) -> str:
    if value is None:
        return "blank"
    return str(int(value)) if float(value).is_integer() else str(value)


def _reprocess_fields(conn: Connection, report_id: int, report: Report, counts: ReprocessCounts) -> None:
    old = {r["field_id"]: r for r in conn.execute(sa.select(fields).where(f.report_id == report_id)).mappings()}
    new_fields = [x for x in report.fields if x.id not in old]
    pks = insert_fields(conn, report_id, new_fields)
    counts.review_items += enqueue.enqueue_fields(conn, report_id, new_fields, pks, report.crops)
    for value in report.fields:
        row = old.get(value.id)
        if row is None:
            continue
        if row["reviewed_by"] is not None or row["status"] == "corrected":
            _against_human(conn, report_id, row, value, report.crops.get(value.id), counts)
        else:
            _replace_machine(conn, report_id, row, value, report.crops.get(value.id), counts)


def _pending(conn: Connection, field_pk: int) -> list[int]:
    return list(conn.execute(
        sa.select(q.id).where(q.field_pk == field_pk, q.state.in_(PENDING)).order_by(q.id)).scalars())


def _new_item(conn: Connection, report_id: int, field_pk: int, reasons: list[str], crop: bytes | None) -> int:
    return conn.execute(sa.insert(review_queue).returning(q.id).values(
        field_pk=field_pk, report_id=report_id, kind="field", reasons=reasons, state="open", version=1,
        created_at=utc_now(), crop_png=crop)).scalar_one()


def _against_human(conn: Connection, report_id: int, row: RowMapping | Mapping[str, Any], value: FieldValue,
                   crop: bytes | None, counts: ReprocessCounts) -> None:
    """A person's value stands; a different machine reading becomes an item of its own."""
    if _same(row["value"], value.value):
        return
    reason = (f"pipeline now reads {_fmt(value.value)} (printed {value.raw.strip() or 'blank'!r});"
              f" {row['reviewed_by'] or 'a reviewer'} set {_fmt(row['value'])}")
    pending = _pending(conn, row["id"])
    if pending:
        conn.execute(sa.update(review_queue).where(q.id.in_(pending)).values(
            version=q.version + 1, reasons=[reason]))
        item_id = pending[0]
    else:
        item_id = _new_item(conn, report_id, row["id"], [reason], crop)
        counts.review_items += 1
    counts.conflicts += 1
    write_audit(conn, "pipeline_changed", user=None, item_id=item_id, report_id=report_id,
                field_id=row["field_id"], old_value=row["value"], new_value=value.value,
                note="the human value stands; " + reason)


def _replace_machine(conn: Connection, report_id: int, row: RowMapping, value: FieldValue, crop: bytes | None,
                     counts: ReprocessCounts) -> None:
    changed = not _same(row["value"], value.value) or row["status"] != value.status or \
        list(row["reasons"]) != list(value.reasons)
    if not changed:
        return
    conn.execute(sa.update(fields).where(f.id == row["id"]).values(
        value=None if value.value is None else float(value.value), raw=value.raw, confidence=value.confidence,
        status=value.status, reasons=list(value.reasons), page=value.page,
        bbox=list(value.bbox) if value.bbox is not None else None, row_label=value.row_label,
        col_label=value.col_label, source=value.source,
        suggestion=None if value.suggestion is None else float(value.suggestion)))
    pending = _pending(conn, row["id"])
    item_id = pending[0] if pending else None
    if value.status == "needs_review":
        if pending:
            conn.execute(sa.update(review_queue).where(q.id.in_(pending)).values(
                version=q.version + 1, reasons=list(value.reasons), **({"crop_png": crop} if crop else {})))
        else:
            item_id = _new_item(conn, report_id, row["id"], list(value.reasons), crop)
            counts.review_items += 1
    elif pending:
        conn.execute(sa.update(review_queue).where(q.id.in_(pending)).values(
            version=q.version + 1, state="resolved", resolved_at=utc_now(), claimed_by=None,
            lease_expires_at=None, note="the pipeline now reads it with confidence"))
    counts.changed += 1
    write_audit(conn, "pipeline_changed", user=None, item_id=item_id, report_id=report_id,
                field_id=row["field_id"], old_value=row["value"], new_value=value.value,
                note=f"{row['status']} -> {value.status}")


def _replace_unmapped(conn: Connection, report_id: int, report: Report, counts: ReprocessCounts) -> None:
    """The report's unmapped cells as now read; a printed row already reviewed or queued is not queued again."""
    conn.execute(sa.delete(unmapped).where(unmapped.c.report_id == report_id))
    insert_unmapped(conn, report_id, report.unmapped)
    seen = {tuple(r) for r in conn.execute(
        sa.select(q.table_id, q.row_label, q.page).where(q.report_id == report_id, q.kind == "unmapped"))}
    counts.review_items += enqueue.enqueue_unmapped(conn, report_id, report.unmapped, skip=seen)
