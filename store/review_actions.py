"""The review queue's writes: claims (leases), a person's save, the recheck that follows it,
skips, mapping an unmapped row, revoking a label variant.

Each action is one short transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: the item and its
report are locked FOR UPDATE) and writes its audit row. The recheck is computed by the
caller (the review service runs the form's rules) and applied inside the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime, timedelta
from enum import Enum
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from gongkai.models import CheckResult, FieldValue
from gongkai.models.review import LabelVariant

from .audit import aware, utc_now, write_audit
from .cross_year import CROSS_YEAR_RULES_LIKE, refresh_around
from .operational import OperationalStore
from .results import _restore_number, field_model
from .review import report_complete, variant_model
from .schema import checks, fields, label_variants, reports, review_queue

q, f = review_queue.c, fields.c
Number = int | float | None


class Keep(Enum):
    """Confirm: the value stands. An enum member, so that `value is KEEP` narrows the type."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


class ItemGone(LookupError):
    pass


class ItemBusy(RuntimeError):
    """Claimed by someone else (live lease) or already resolved."""


class StaleVersion(RuntimeError):
    pass


@dataclass
class RecheckPlan:
    """What re-running the report's rules decided: the new checks, fields a rule now
    confirms, and accepted machine fields a failing rule sends to review (id -> their reasons)."""

    checks: list[CheckResult] | None  # None: the report has no template; keep its checks
    confirm: list[str] = dc_field(default_factory=list)
    to_review: dict[str, list[str]] = dc_field(default_factory=dict)


NARRATIVE_RULE_PREFIX = "narrative."  # checks of a report's sentences (extractors/narrative.py): kept on recheck

# (template, the report's current fields, ids of fields a person set) -> plan
Recheck = Callable[[str | None, list[FieldValue], set[str]], RecheckPlan]


@dataclass
class SaveResult:
    report_id: int
    confirmed_by_rule: list[str]
    report_complete: bool


class ReviewWriter:
    def __init__(self, store: OperationalStore) -> None:
        self.store = store

    # -- leases -------------------------------------------------------------------------
    def claim(self, item_id: int, user: str, lease_seconds: int) -> None:
        now = utc_now()
        with self.store._write_transaction() as conn:
            taken = conn.execute(
                sa.update(review_queue)
                .where(q.id == item_id, sa.or_(
                    q.state.in_(["open", "skipped"]),
                    sa.and_(q.state == "claimed", sa.or_(q.lease_expires_at <= now, q.claimed_by == user)),
                ))
                .values(state="claimed", claimed_by=user, lease_expires_at=now + timedelta(seconds=lease_seconds))
            ).rowcount
            if taken != 1:
                row = _locked_item(conn, item_id)  # raises ItemGone
                raise ItemBusy(_busy_message(item_id, row, now))
            report_id = conn.execute(sa.select(q.report_id).where(q.id == item_id)).scalar_one()
            write_audit(conn, "claim", user=user, item_id=item_id, report_id=report_id,
                        note=f"lease {lease_seconds} s")

    def skip(self, item_id: int, user: str, note: str | None) -> None:
        with self.store._write_transaction() as conn:
            row = _usable_item(conn, item_id, user, None)
            conn.execute(sa.update(review_queue).where(q.id == item_id)
                         .values(state="skipped", claimed_by=None, lease_expires_at=None))
            write_audit(conn, "skip", user=user, item_id=item_id, report_id=row["report_id"],
                        field_id=_field_id(conn, row), note=note)

    # -- saves ------------------------------------------------------------------------------
    def save_field(
        self, item_id: int, user: str, value: Number | Keep, version: int | None, note: str | None,
        recheck: Recheck,
    ) -> SaveResult:
        """confirm (value KEEP) or correct (a number or None) a field item, then recheck."""
        now = utc_now()
        with self.store._write_transaction() as conn:
            row = _usable_item(conn, item_id, user, version)
            if row["kind"] != "field":
                raise ItemBusy(f"item {item_id} is an unmapped row: map it to a template row instead")
            current = conn.execute(sa.select(f.field_id, f.value).where(f.id == row["field_pk"])).one()
            old = _restore_number(current.field_id, current.value)
            new: Number
            if value is KEEP:
                action, new, status = "confirm", old, "accepted"
            else:
                action, new, status = "correct", value, "corrected"
            conn.execute(sa.update(fields).where(f.id == row["field_pk"]).values(
                value=None if new is None else float(new), status=status, reviewed_by=user, reviewed_at=now))
            _resolve(conn, item_id, user, now, note, corrected=None if value is KEEP else new)
            write_audit(conn, action, user=user, item_id=item_id, report_id=row["report_id"],
                        field_id=current.field_id, old_value=old, new_value=new, note=note)
            confirmed = _apply_recheck(conn, row["report_id"], user, recheck)
            return SaveResult(row["report_id"], confirmed, report_complete(conn, row["report_id"]))

    def map_row(
        self, item_id: int, user: str, template: str | None, table: str | None, row_id: str | None,
        version: int | None, note: str | None,
    ) -> SaveResult:
        """An unmapped printed row: its label becomes a label variant, or it is not a template row."""
        now = utc_now()
        with self.store._write_transaction() as conn:
            row = _usable_item(conn, item_id, user, version)
            if row["kind"] != "unmapped":
                raise ItemBusy(f"item {item_id} is a field: confirm or correct it instead")
            if row_id is not None:
                if not template or not table or not row["row_label"]:
                    raise ItemBusy(f"item {item_id}: the row has no template, table or label to learn")
                conn.execute(sa.insert(label_variants).values(
                    template=template, table_id=table, row_id=row_id, label=row["row_label"],
                    created_by=user, created_at=now))
            conn.execute(sa.update(review_queue).where(q.id == item_id).values(mapped_row_id=row_id))
            _resolve(conn, item_id, user, now, note, corrected=None)
            write_audit(conn, "map_row" if row_id else "not_a_row", user=user, item_id=item_id,
                        report_id=row["report_id"], note=note or (f"{row['row_label']} -> {row_id}" if row_id else
                                                                  f"{row['row_label']}: not a template row"))
            return SaveResult(row["report_id"], [], report_complete(conn, row["report_id"]))

    def recheck(self, report_id: int, user: str | None, recheck: Recheck) -> list[str]:
        with self.store._write_transaction() as conn:
            _lock_report(conn, report_id)
            return _apply_recheck(conn, report_id, user, recheck)

    # -- label variants -----------------------------------------------------------------------
    def revoke_variant(self, variant_id: int, user: str) -> LabelVariant | None:
        with self.store._write_transaction() as conn:
            conn.execute(sa.update(label_variants)
                         .where(label_variants.c.id == variant_id, label_variants.c.revoked_at.is_(None))
                         .values(revoked_at=utc_now(), revoked_by=user))
            row = (
                conn.execute(sa.select(label_variants).where(label_variants.c.id == variant_id))
                .mappings()
                .one_or_none()
            )
            if row is None:
                return None
            write_audit(
                conn,
                "variant_revoked",
                user=user,
                note=f"variant {variant_id}: {row['label']} -> {row['table_id']}.{row['row_id']} ({row['template']})",
            )
            return variant_model(row)


# ---------------------------------------------------------------------------------------
def _locked_item(conn: Connection, item_id: int) -> RowMapping:
    row = conn.execute(
        sa.select(q.id, q.kind, q.state, q.version, q.claimed_by, q.lease_expires_at, q.field_pk, q.report_id,
                  q.table_id, q.row_label)
        .where(q.id == item_id).with_for_update()
    ).mappings().one_or_none()
    if row is None:
        raise ItemGone(f"no review item {item_id}")
    return row


def _busy_message(item_id: int, row: RowMapping, now: datetime) -> str:
    if row["state"] == "resolved":
        return f"item {item_id} is already resolved"
    lease = aware(row["lease_expires_at"])
    return f"item {item_id} is claimed by {row['claimed_by']} until {lease:%H:%M:%S} UTC" if lease else \
        f"item {item_id} is {row['state']}"


def _usable_item(conn: Connection, item_id: int, user: str, version: int | None) -> RowMapping:
    """The item, locked, if `user` may act on it now: not resolved, not claimed by another.

    Its report is locked first: every writer (saves, rechecks, re-processing) takes the report
    before its items, so two of them on PostgreSQL wait for each other instead of deadlocking."""
    now = utc_now()
    report_id = conn.execute(sa.select(q.report_id).where(q.id == item_id)).scalar_one_or_none()
    if report_id is None:
        raise ItemGone(f"no review item {item_id}")
    _lock_report(conn, report_id)
    row = _locked_item(conn, item_id)
    lease = aware(row["lease_expires_at"])
    held_by_other = row["state"] == "claimed" and row["claimed_by"] != user and lease is not None and lease > now
    if row["state"] == "resolved" or held_by_other:
        raise ItemBusy(_busy_message(item_id, row, now))
    if version is not None and version != row["version"]:
        raise StaleVersion(
            f"item {item_id} changed since you opened it (version {version}, now {row['version']}): "
            "reload it and decide again")
    return row


def _field_id(conn: Connection, row: RowMapping) -> str | None:
    if row["field_pk"] is None:
        return None
    return conn.execute(sa.select(f.field_id).where(f.id == row["field_pk"])).scalar_one()


def _lock_report(conn: Connection, report_id: int) -> None:
    # Serialises saves and rechecks of one report on PostgreSQL (SQLite: BEGIN IMMEDIATE already).
    conn.execute(sa.select(reports.c.id).where(reports.c.id == report_id).with_for_update())


def _resolve(conn: Connection, item_id: int, user: str | None, now: datetime, note: str | None,
             corrected: Number) -> None:
    conn.execute(sa.update(review_queue).where(q.id == item_id).values(
        state="resolved", version=q.version + 1, claimed_by=None, lease_expires_at=None, resolved_at=now,
        reviewer=user, note=note, corrected_value=None if corrected is None else float(corrected)))


def _apply_recheck(conn: Connection, report_id: int, user: str | None, recheck: Recheck) -> list[str]:
    template = conn.execute(sa.select(reports.c.template).where(reports.c.id == report_id)).scalar_one()
    rows = conn.execute(sa.select(fields).where(f.report_id == report_id).order_by(f.id)).mappings().all()
    human = {r["field_id"] for r in rows if r["reviewed_by"] is not None or r["status"] == "corrected"}
    plan = recheck(template, [field_model(r) for r in rows], human)
    if plan.checks is not None:
        # The form's rules are re-run; the cross-year ones are re-run below, and what the
        # report's sentences said stays as extracted.
        conn.execute(sa.delete(checks).where(
            checks.c.report_id == report_id,
            checks.c.rule.not_like(CROSS_YEAR_RULES_LIKE),
            ~checks.c.rule.startswith(NARRATIVE_RULE_PREFIX, autoescape=True)))
    if plan.checks:
        conn.execute(sa.insert(checks), [
            {"report_id": report_id, "rule": c.rule, "ok": c.ok, "detail": c.detail, "fields": list(c.fields)}
            for c in plan.checks])
    by_id = {r["field_id"]: r for r in rows}
    now = utc_now()
    for field_id in plan.confirm:
        pk = by_id[field_id]["id"]
        # accepted fields carry no reasons (the output contract); the audit keeps the history
        conn.execute(sa.update(fields).where(f.id == pk).values(status="accepted", reasons=[]))
        for item_id in _pending_items(conn, pk):
            _resolve(conn, item_id, None, now, "confirmed by rule", corrected=None)
            write_audit(conn, "confirmed_by_rule", user=user, item_id=item_id, report_id=report_id,
                        field_id=field_id, note="every rule it was held for now holds")
    for field_id, reasons in plan.to_review.items():
        row = by_id[field_id]
        conn.execute(sa.update(fields).where(f.id == row["id"]).values(status="needs_review", reasons=reasons))
        pending = _pending_items(conn, row["id"])
        if pending:
            conn.execute(sa.update(review_queue).where(q.id.in_(pending))
                         .values(version=q.version + 1, reasons=reasons))
            item_id = pending[0]
        else:
            item_id = conn.execute(sa.insert(review_queue).returning(q.id).values(
                field_pk=row["id"], report_id=report_id, kind="field", reasons=reasons, state="open",
                version=1, created_at=now)).scalar_one()
        write_audit(conn, "rule_failed", user=user, item_id=item_id, report_id=report_id, field_id=field_id,
                    note="; ".join(reasons))
    refresh_around(conn, [report_id])  # a value of either year changed: that agency's cross-year rules again
    return list(plan.confirm)


def _pending_items(conn: Connection, field_pk: int) -> list[int]:
    return list(conn.execute(
        sa.select(q.id).where(q.field_pk == field_pk, q.state.in_(["open", "claimed", "skipped"])).order_by(q.id)
    ).scalars())


