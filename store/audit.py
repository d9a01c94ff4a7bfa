"""The audit log: one row per action on the review queue, by a person or by the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .schema import audit_log

Number = int | float | None


def utc_now() -> datetime:
    return datetime.now(UTC)


@overload
def aware(moment: datetime) -> datetime: ...
@overload
def aware(moment: None) -> None: ...
def aware(moment: datetime | None) -> datetime | None:
    """SQLite keeps no time zone; every timestamp the store writes is UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def write_audit(
    conn: Connection,
    action: str,
    *,
    user: str | None,
    item_id: int | None = None,
    report_id: int | None = None,
    field_id: str | None = None,
    old_value: Number = None,
    new_value: Number = None,
    note: str | None = None,
) -> None:
    conn.execute(
        sa.insert(audit_log).values(
            at=utc_now(), user_name=user, item_id=item_id, report_id=report_id, field_id=field_id,
            old_value=None if old_value is None else float(old_value),
            new_value=None if new_value is None else float(new_value),
            action=action, note=note,
        )
    )


def read_audit(conn: Connection, item_id: int | None, limit: int) -> list[dict[str, Any]]:
    """Newest first."""
    stmt = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if item_id is not None:
        stmt = stmt.where(audit_log.c.item_id == item_id)
    rows = conn.execute(stmt).mappings().all()
    return [{**r, "at": aware(r["at"])} for r in rows]
