"""The review queue as the review service reads it: items, groups, reports, images, variants.

Writes (claims, saves, rechecks) live in review_actions.py. A claim is a lease: an item
claimed by someone whose lease has run out counts as open again, computed here in SQL, so
reading the queue never writes.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from gongkai.extractors.cross_year import other_year_lines
from gongkai.models import CheckResult
from gongkai.models.review import (
    ItemDetail,
    LabelVariant,
    QueueFilter,
    QueueGroup,
    QueueItem,
    ReportCell,
    ReportView,
)

from .audit import aware, utc_now
from .operational import OperationalStore
from .page_issues import load_page_issues, page_error_counts
from .results import _restore_number
from .schema import checks, documents, fields, label_variants, page_images, reports, review_queue

q, f, r, d = review_queue.c, fields.c, reports.c, documents.c
PENDING = sa.text("review_queue.state IN ('open', 'claimed')")


def live_claim(now: datetime) -> sa.ColumnElement[bool]:
    """Claimed, and the lease has not run out."""
    return sa.and_(q.state == "claimed", q.lease_expires_at > now)


def available(now: datetime) -> sa.ColumnElement[bool]:
    """Open, or claimed by someone whose lease ran out."""
    return sa.or_(q.state == "open", sa.and_(q.state == "claimed", q.lease_expires_at <= now))


def _states_clause(states: list[str], now: datetime) -> sa.ColumnElement[bool] | sa.TextClause:
    done = [s for s in states if s in ("resolved", "skipped")]
    if "open" in states and "claimed" in states:
        # every pending item, expired leases or not: the partial index ix_review_queue_pending_id
        pending = PENDING  # literal: a bound IN list cannot use a partial index in SQLite
        return sa.or_(pending, q.state.in_(done)) if done else pending
    parts: list[sa.ColumnElement[bool]] = [q.state.in_(done)]
    if "open" in states:
        parts.append(available(now))
    if "claimed" in states:
        parts.append(live_claim(now))
    return sa.or_(*parts)


def _item_select() -> sa.Select[Any]:
    return (
        sa.select(
            q.id, q.kind, q.state, q.version, q.reasons, q.report_id, q.claimed_by, q.lease_expires_at,
            q.created_at, q.table_id.label("item_table"), q.row_label.label("item_row_label"),
            q.page.label("item_page"), q.bbox.label("item_bbox"), q.cells, q.mapped_row_id,
            (q.crop_png.is_not(None)).label("has_crop"),
            f.id.label("field_pk"), f.field_id, f.value, f.raw, f.row_label, f.col_label, f.page, f.bbox,
            f.confidence, f.suggestion, f.status.label("field_status"), f.source,
            d.sha256.label("document_sha256"), d.name.label("document_name"),
            r.agency, r.year, r.template, r.source_kind,
        )
        .select_from(review_queue.outerjoin(fields, f.id == q.field_pk).join(reports, r.id == q.report_id)
                     .join(documents, d.id == r.document_id))
    )


def current_version() -> sa.ColumnElement[bool]:
    """The item belongs to a current document, not to an old version a changed page superseded
    (store/versions.py): superseded documents are few, so this is one small subquery."""
    old_r, old_d = reports.alias("old_r"), documents.alias("old_d")  # never correlated with the outer query
    superseded = (sa.select(old_r.c.id).select_from(old_r.join(old_d, old_d.c.id == old_r.c.document_id))
                  .where(old_d.c.superseded_by.is_not(None)).correlate(None))
    return q.report_id.not_in(superseded)


def _filtered(stmt: sa.Select[Any], filters: QueueFilter, now: datetime) -> sa.Select[Any]:
    stmt = stmt.where(_states_clause(list(filters.states), now), current_version())
    if filters.agency is not None:
        stmt = stmt.where(r.agency == filters.agency)
    if filters.year is not None:
        stmt = stmt.where(r.year == filters.year)
    if filters.template is not None:
        stmt = stmt.where(r.template == filters.template)
    if filters.source_kind is not None:
        stmt = stmt.where(r.source_kind == filters.source_kind)
    if filters.report_id is not None:
        stmt = stmt.where(q.report_id == filters.report_id)
    if filters.reason:
        stmt = stmt.where(sa.cast(q.reasons, sa.Text).contains(filters.reason, autoescape=True))
    return stmt


def _filters_reports(filters: QueueFilter) -> bool:
    return any(v is not None for v in (filters.agency, filters.year, filters.template, filters.source_kind))


def _queue_item(row: RowMapping, now: datetime) -> dict[str, Any]:
    lease = aware(row["lease_expires_at"])
    expired = row["state"] == "claimed" and (lease is None or lease <= now)
    unmapped = row["kind"] == "unmapped"
    raw = " | ".join(c["raw"] for c in row["cells"] or []) if unmapped else row["raw"]
    return {
        "id": row["id"], "kind": row["kind"], "state": "open" if expired else row["state"],
        "version": row["version"], "field_id": row["field_id"],
        "value": None if unmapped else _restore_number(row["field_id"], row["value"]),
        "raw": raw or "", "reasons": list(row["reasons"]), "report_id": row["report_id"],
        "document_sha256": row["document_sha256"], "document_name": row["document_name"],
        "agency": row["agency"], "year": row["year"], "template": row["template"],
        "source_kind": row["source_kind"],
        "claimed_by": None if expired else row["claimed_by"],
        "lease_expires_at": None if expired else lease,
        "created_at": aware(row["created_at"]),
    }


def _detail(row: RowMapping, now: datetime) -> ItemDetail:
    base = _queue_item(row, now)
    unmapped = row["kind"] == "unmapped"
    bbox = row["item_bbox"] if unmapped else row["bbox"]
    return ItemDetail(
        **base,
        row_label=row["item_row_label"] if unmapped else row["row_label"],
        col_label=None if unmapped else row["col_label"],
        page=row["item_page"] if unmapped else row["page"],
        bbox=tuple(bbox) if bbox else None,
        confidence=None if unmapped else row["confidence"],
        suggestion=None if unmapped else _restore_number(row["field_id"], row["suggestion"]),
        has_crop=bool(row["has_crop"]),
        table=row["item_table"] if unmapped else (row["field_id"] or "").split(".", 1)[0],
    )


class ReviewReader:
    """Read side of the review queue over an OperationalStore's engine."""

    def __init__(self, store: OperationalStore) -> None:
        self.store = store
        self.engine = store.engine

    def queue(self, filters: QueueFilter, limit: int, offset: int) -> list[QueueItem]:
        now = utc_now()
        stmt = _filtered(_item_select(), filters, now).order_by(q.id).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            return [QueueItem(**_queue_item(row, now)) for row in conn.execute(stmt).mappings()]

    def queue_groups(self, filters: QueueFilter, limit: int) -> list[QueueGroup]:
        """Reports with pending work, oldest first; counted in SQL, reasons for the page's groups only."""
        now = utc_now()
        source = review_queue.join(reports, r.id == q.report_id) if _filters_reports(filters) else review_queue
        counted = _filtered(
            sa.select(q.report_id, sa.func.count().label("n"), sa.func.min(q.id).label("first")).select_from(source),
            filters, now,
        ).group_by(q.report_id).order_by(sa.text("first")).limit(limit)
        with self.engine.connect() as conn:
            counts = {row.report_id: row.n for row in conn.execute(counted)}
            if not counts:
                return []
            meta = {row["id"]: row for row in conn.execute(
                sa.select(r.id, d.name, r.agency, r.year, r.template, r.source_kind, r.document_id, d.status)
                .select_from(reports.join(documents, d.id == r.document_id)).where(r.id.in_(list(counts)))
            ).mappings()}
            lost = page_error_counts(conn, {m["document_id"] for m in meta.values()})
            reason_counts = _filtered(
                sa.select(q.report_id, sa.cast(q.reasons, sa.Text).label("rs"), sa.func.count().label("n"))
                .select_from(source), filters, now,
            ).where(q.report_id.in_(list(counts))).group_by(q.report_id, sa.cast(q.reasons, sa.Text))
            by_report: dict[int, Counter[str]] = {}
            for row in conn.execute(reason_counts).mappings():
                for reason in _json_list(row["rs"]):
                    by_report.setdefault(row["report_id"], Counter())[reason] += row["n"]
        return [
            QueueGroup(report_id=rid, document_name=meta[rid]["name"], agency=meta[rid]["agency"],
                       year=meta[rid]["year"], template=meta[rid]["template"], source_kind=meta[rid]["source_kind"],
                       open_items=n, reasons=dict(by_report.get(rid, {})), document_status=meta[rid]["status"],
                       page_errors=lost.get(meta[rid]["document_id"], 0))
            for rid, n in counts.items()
        ]

    def size_by_reason(self) -> dict[str, int]:
        now = utc_now()
        stmt = (
            sa.select(sa.cast(q.reasons, sa.Text).label("rs"), sa.func.count().label("n"))
            .where(sa.or_(available(now), live_claim(now)), current_version())
            .group_by(sa.cast(q.reasons, sa.Text))
        )
        out: Counter[str] = Counter()
        with self.engine.connect() as conn:
            for row in conn.execute(stmt).mappings():
                for reason in _json_list(row["rs"]):
                    out[reason] += row["n"]
        return dict(out.most_common())

    def item(self, item_id: int) -> ItemDetail | None:
        now = utc_now()
        with self.engine.connect() as conn:
            row = conn.execute(_item_select().where(q.id == item_id)).mappings().one_or_none()
            if row is None:
                return None
            detail = _detail(row, now)
            detail.failed_checks = [c for c in _checks(conn, row["report_id"])
                                    if not c.ok and detail.field_id in c.fields]
            detail.other_years = other_year_lines(detail.reasons)
            detail.next_item_id = conn.execute(
                sa.select(sa.func.min(q.id)).where(q.id > item_id, available(now), current_version())
            ).scalar_one_or_none()
        return detail

    def next_available(self, filters: QueueFilter, after_id: int | None, user: str, limit: int = 20) -> list[int]:
        now = utc_now()
        stmt = sa.select(q.id).select_from(review_queue.join(reports, r.id == q.report_id))
        stmt = _filtered(stmt, filters.model_copy(update={"states": ["open"]}), now)
        if after_id is not None:
            stmt = stmt.where(q.id > after_id)
        with self.engine.connect() as conn:
            return list(conn.execute(stmt.order_by(q.id).limit(limit)).scalars())

    def crop(self, item_id: int) -> bytes | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(q.crop_png).where(q.id == item_id)).scalar_one_or_none()

    def report_ids(self, document_id: int) -> list[int]:
        with self.engine.connect() as conn:
            return list(conn.execute(
                sa.select(r.id).where(r.document_id == document_id).order_by(r.ordinal)).scalars())

    def report_exists(self, report_id: int) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(r.id).where(r.id == report_id)).first() is not None

    def report_view(self, report_id: int) -> ReportView | None:
        with self.engine.connect() as conn:
            meta = conn.execute(
                sa.select(r.id, r.agency, r.year, r.template, r.source_kind, r.document_id, d.name, d.sha256,
                          d.status)
                .select_from(reports.join(documents, d.id == r.document_id)).where(r.id == report_id)
            ).mappings().one_or_none()
            if meta is None:
                return None
            latest = (sa.select(q.field_pk, sa.func.max(q.id).label("item_id"))
                      .where(q.report_id == report_id, q.field_pk.is_not(None)).group_by(q.field_pk).subquery())
            rows = conn.execute(
                sa.select(f.id, f.field_id, f.value, f.raw, f.status, f.page, f.bbox, latest.c.item_id)
                .select_from(fields.outerjoin(latest, latest.c.field_pk == f.id))
                .where(f.report_id == report_id).order_by(f.id)
            ).mappings().all()
            cells = [ReportCell(field_id=c["field_id"], value=_restore_number(c["field_id"], c["value"]),
                                raw=c["raw"], status=c["status"], item_id=c["item_id"], page=c["page"],
                                bbox=tuple(c["bbox"]) if c["bbox"] else None) for c in rows]
            pages = list(conn.execute(
                sa.select(page_images.c.page).where(page_images.c.document_id == meta["document_id"])
                .order_by(page_images.c.page)).scalars())
            return ReportView(
                report_id=report_id, document_name=meta["name"], document_sha256=meta["sha256"],
                agency=meta["agency"], year=meta["year"], template=meta["template"],
                source_kind=meta["source_kind"], complete=report_complete(conn, report_id),
                cells=cells, checks=_checks(conn, report_id), pages=pages,
                document_status=meta["status"], page_errors=load_page_issues(conn, meta["document_id"])[0],
            )

    def page_image(self, report_id: int, page: int) -> bytes | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(page_images.c.png)
                .select_from(page_images.join(reports, r.document_id == page_images.c.document_id))
                .where(r.id == report_id, page_images.c.page == page)
            ).scalar_one_or_none()

    def label_variants(self, include_revoked: bool) -> list[LabelVariant]:
        stmt = sa.select(label_variants).order_by(label_variants.c.id)
        if not include_revoked:
            stmt = stmt.where(label_variants.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            return [variant_model(v) for v in conn.execute(stmt).mappings()]



def variant_model(v: RowMapping) -> LabelVariant:
    return LabelVariant(id=v["id"], template=v["template"], table=v["table_id"], row_id=v["row_id"],
                        label=v["label"], created_by=v["created_by"], created_at=aware(v["created_at"]),
                        revoked_at=aware(v["revoked_at"]))


def report_complete(conn: Connection, report_id: int) -> bool:
    """Nothing in the report is open, claimed or skipped (a skipped item still needs a person)."""
    pending = conn.execute(
        sa.select(sa.func.count()).select_from(review_queue)
        .where(q.report_id == report_id, q.state.in_(["open", "claimed", "skipped"]))
    ).scalar_one()
    return pending == 0


def _checks(conn: Connection, report_id: int) -> list[CheckResult]:
    rows = conn.execute(sa.select(checks).where(checks.c.report_id == report_id).order_by(checks.c.id)).mappings()
    return [CheckResult(rule=c["rule"], ok=c["ok"], detail=c["detail"], fields=c["fields"]) for c in rows]


def _json_list(text: str | None) -> list[str]:
    return list(json.loads(text)) if text else []
