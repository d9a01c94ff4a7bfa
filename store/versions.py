"""A changed page is a new version: people's work on the old version carries over where the
printed values agree.

The crawl stores a changed report page (new bytes, new sha256) as a new document from the
same source URL. For every field a person confirmed or corrected in the previous version:
- the new version prints the same text in that cell: the person's value, status and name
  are kept on the new field and its pending items are resolved (they judged this very cell);
- it prints something else: the agency changed the number, so the old value is not carried;
  the new field goes to review with the same 'pipeline now reads X; <person> set Y' item that
  reprocessing raises (reprocess._against_human: one mechanism for a machine reading that
  differs from a person's value), and the field is needs_review until someone decides.
Each carried value writes an audit row (action version_carried, no user).

In the same transaction the old version is superseded (documents.superseded_by): analytics
and the review queue read current versions only, and the old version's pending items are
closed with a 'superseded' audit row. The old document stays stored and loadable.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from .audit import utc_now, write_audit
from .cross_year import refresh_around
from .operational import OperationalStore
from .reprocess import ReprocessCounts, _against_human, _pending
from .results import field_model
from .schema import documents, fields, reports, review_queue

f, q = fields.c, review_queue.c


@dataclass
class CarryCounts:
    carried: int = 0  # human values kept on the new version
    disagreed: int = 0  # printed value changed: sent to review beside the old human value
    review_items: int = 0
    superseded_items: int = 0  # the old version's pending items, closed


def carry_reviews(store: OperationalStore, old_sha256: str, new_sha256: str) -> CarryCounts:
    counts = CarryCounts()
    with store._write_transaction() as conn:
        old_doc, new_doc = (_document_id(conn, sha) for sha in (old_sha256, new_sha256))
        if old_doc is None or new_doc is None:
            return counts
        # both versions' reports before any item, in id order, as every review writer takes a
        # report before its items: a save on either version waits instead of deadlocking
        conn.execute(sa.select(reports.c.id).where(reports.c.document_id.in_([old_doc, new_doc]))
                     .order_by(reports.c.id).with_for_update())
        old_reports, new_reports = _reports(conn, old_doc), _reports(conn, new_doc)
        for key, new_report in new_reports.items():
            old_report = old_reports.get(key)
            if old_report is not None:
                _carry_report(conn, old_report, new_report, old_sha256, counts)
        counts.superseded_items = _supersede(conn, old_doc, list(old_reports.values()), new_sha256)
        # people's values carried and the old version gone: the new version's years compared again
        refresh_around(conn, list(new_reports.values()))
    return counts


def _supersede(conn: Connection, old_doc: int, old_reports: list[int], new_sha: str) -> int:
    """The old version leaves analytics and the queue; its pending items are closed, each with
    an audit row (no user). Resolved and skipped items and their audit rows stay as they are."""
    now = utc_now()
    conn.execute(sa.update(documents).where(documents.c.id == old_doc)
                 .values(superseded_by=new_sha, superseded_at=now))
    note = f"superseded by the new version {new_sha[:12]} of the page"
    is_pending = sa.and_(q.report_id.in_(old_reports), q.state.in_(["open", "claimed"]))
    pending = conn.execute(
        sa.select(q.id, q.report_id, f.field_id).select_from(review_queue.outerjoin(fields, f.id == q.field_pk))
        .where(is_pending).order_by(q.id)).all()
    if not pending:
        return 0
    conn.execute(sa.update(review_queue).where(is_pending).values(
        version=q.version + 1, state="resolved", resolved_at=now, claimed_by=None, lease_expires_at=None,
        reviewer=None, corrected_value=None, note=note))
    for item in pending:
        write_audit(conn, "superseded", user=None, item_id=item.id, report_id=item.report_id,
                    field_id=item.field_id, note=note)
    return len(pending)


def _document_id(conn: Connection, sha256: str) -> int | None:
    return conn.execute(sa.select(documents.c.id).where(documents.c.sha256 == sha256)).scalar_one_or_none()


def _reports(conn: Connection, document_id: int) -> dict[tuple, int]:
    """Report id by (ordinal, year, template): a report moved or re-dated is not the same report."""
    rows = conn.execute(sa.select(reports.c.id, reports.c.ordinal, reports.c.year, reports.c.template)
                        .where(reports.c.document_id == document_id))
    return {(r.ordinal, r.year, r.template): r.id for r in rows}


def _carry_report(conn: Connection, old_report: int, new_report: int, old_sha: str, counts: CarryCounts) -> None:
    human = conn.execute(sa.select(fields).where(
        f.report_id == old_report, sa.or_(f.reviewed_by.is_not(None), f.status == "corrected"))).mappings().all()
    if not human:
        return
    new = {r["field_id"]: r for r in conn.execute(
        sa.select(fields).where(f.report_id == new_report, f.field_id.in_([h["field_id"] for h in human]))).mappings()}
    for old in human:
        row = new.get(old["field_id"])
        if row is None:
            continue
        if old["raw"].strip() == row["raw"].strip():
            _keep(conn, new_report, old, row, old_sha)
            counts.carried += 1
        else:
            _disagree(conn, new_report, old, row, counts)


def _keep(conn: Connection, report_id: int, old: RowMapping, row: RowMapping, old_sha: str) -> None:
    conn.execute(sa.update(fields).where(f.id == row["id"]).values(
        value=old["value"], status=old["status"], reviewed_by=old["reviewed_by"], reviewed_at=old["reviewed_at"]))
    note = f"kept from the previous version {old_sha[:12]}: same printed value {row['raw'].strip()!r}"
    pending = _pending(conn, row["id"])
    if pending:
        conn.execute(sa.update(review_queue).where(q.id.in_(pending)).values(
            version=q.version + 1, state="resolved", resolved_at=utc_now(), claimed_by=None, lease_expires_at=None,
            reviewer=old["reviewed_by"], corrected_value=old["value"] if old["status"] == "corrected" else None,
            note=note))
    write_audit(conn, "version_carried", user=None, item_id=pending[0] if pending else None, report_id=report_id,
                field_id=row["field_id"], old_value=row["value"], new_value=old["value"], note=note)


def _disagree(conn: Connection, report_id: int, old: RowMapping, row: RowMapping, counts: CarryCounts) -> None:
    """The new print differs from what a person settled on the old one: never silently either."""
    machine = field_model(row)
    as_human = {**row, "value": old["value"], "reviewed_by": old["reviewed_by"]}
    tally = ReprocessCounts()
    _against_human(conn, report_id, as_human, machine, None, tally)
    if tally.conflicts:
        reasons = [*row["reasons"], "the previous version had a reviewer's value; this version prints another"]
        conn.execute(sa.update(fields).where(f.id == row["id"]).values(status="needs_review", reasons=reasons))
        counts.disagreed += 1
        counts.review_items += tally.review_items
