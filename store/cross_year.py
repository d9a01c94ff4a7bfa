"""Cross-year rules in the store: which reports are compared, their checks, their fields' routing.

A report of an agency (reports.agency_key) and year Y is compared, as the later report, with
one current report of the same agency and year Y-1 (of several copies of that year, the one
printing most of the rules' fields, then the first stored). Its `cross_year.*` checks are
replaced on every evaluation; a failed error rule sends the fields it names on both sides to
review (never a person's value), each reason naming the rule and the other year's value; a
rule that holds again (after a correction on either side) takes its reason back, and a field
held by nothing else is accepted again ("confirmed by rule"). Values are never changed.

Entry points: refresh_around (a report stored, re-processed or corrected), refresh_agency
(an operator's merge). Both run inside the caller's write transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from gongkai.extractors.cross_year import (
    CrossYearOutcome, YearValues, cross_year_reason, cross_year_rules, evaluate_cross_year, is_cross_year_reason,
)

from .audit import utc_now, write_audit
from .schema import checks, documents, fields, reports, review_queue

r, f, q = reports.c, fields.c, review_queue.c
PENDING = ("open", "claimed", "skipped")
CROSS_YEAR_RULES_LIKE = "cross_year.%"


def refresh_around(conn: Connection, report_ids: Iterable[int]) -> None:
    """Every comparison these reports take part in: as the later one and as the earlier one."""
    ids = list(report_ids)
    if not ids:
        return
    later: set[int] = set()
    for row in conn.execute(_current().where(r.id.in_(ids), r.agency_key.is_not(None), r.year.is_not(None))):
        later.add(row.id)
        later.update(_reports_of(conn, row.agency_key, row.year + 1))
    for report_id in sorted(later):
        evaluate_later(conn, report_id)


def refresh_agency(conn: Connection, agency_key: str) -> None:
    for row in conn.execute(_current().where(r.agency_key == agency_key).order_by(r.id)).all():
        evaluate_later(conn, row.id)


def evaluate_later(conn: Connection, report_id: int) -> list[CrossYearOutcome]:
    """The report against its agency's previous year: checks replaced, fields routed."""
    row = conn.execute(sa.select(r.agency_key, r.year).where(r.id == report_id)).one()
    conn.execute(sa.delete(checks).where(checks.c.report_id == report_id, checks.c.rule.like(CROSS_YEAR_RULES_LIKE)))
    later_fields = _field_rows(conn, report_id)
    earlier_id = None
    if row.agency_key is not None and row.year is not None:
        earlier_id = _pick_earlier(conn, row.agency_key, row.year - 1, report_id)
    outcomes: list[CrossYearOutcome] = []
    wanted_later: dict[str, list[str]] = defaultdict(list)
    wanted_earlier: dict[str, list[str]] = defaultdict(list)
    if earlier_id is not None:
        earlier_fields = _field_rows(conn, earlier_id)
        outcomes = evaluate_cross_year(YearValues(row.year - 1, _values(earlier_fields)),
                                       YearValues(row.year, _values(later_fields)))
        if outcomes:
            conn.execute(sa.insert(checks), [
                {"report_id": report_id, "rule": o.check.rule, "ok": o.check.ok, "detail": o.check.detail,
                 "fields": list(o.check.fields)} for o in outcomes])
        for o in (o for o in outcomes if o.routes):
            for field_id in o.later_fields:
                wanted_later[field_id].append(cross_year_reason(o.rule.id, o.other_side["later"]))
            for field_id in o.earlier_fields:
                wanted_earlier[field_id].append(cross_year_reason(o.rule.id, o.other_side["earlier"]))
        _route(conn, earlier_id, earlier_fields, row.year, wanted_earlier)
    if row.year is not None:
        _route(conn, report_id, later_fields, row.year - 1, wanted_later)
    return outcomes


# ---------------------------------------------------------------------------------------
def _current() -> sa.Select:
    return (sa.select(r.id, r.agency_key, r.year).join_from(reports, documents)
            .where(documents.c.superseded_by.is_(None), r.kind == "tabular"))


def _reports_of(conn: Connection, agency_key: str, year: int) -> list[int]:
    return list(conn.execute(_current().with_only_columns(r.id).where(r.agency_key == agency_key, r.year == year))
                .scalars())


def _rule_field_ids() -> list[str]:
    return sorted({t.field for rule in cross_year_rules() for t in rule.terms()})


def _pick_earlier(conn: Connection, agency_key: str, year: int, later_id: int) -> int | None:
    candidates = [c for c in _reports_of(conn, agency_key, year) if c != later_id]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    printed = dict(conn.execute(
        sa.select(f.report_id, sa.func.count()).where(f.report_id.in_(candidates), f.field_id.in_(_rule_field_ids()),
                                                       f.value.is_not(None)).group_by(f.report_id)).all())
    return min(candidates, key=lambda c: (-printed.get(c, 0), c))


def _field_rows(conn: Connection, report_id: int) -> dict[str, Row]:
    stmt = sa.select(f.id, f.field_id, f.value, f.status, f.reasons, f.reviewed_by).where(
        f.report_id == report_id, f.field_id.in_(_rule_field_ids()))
    return {row.field_id: row for row in conn.execute(stmt)}


def _values(rows: Mapping[str, Row]) -> dict[str, float | None]:
    return {field_id: row.value for field_id, row in rows.items()}


def _route(conn: Connection, report_id: int, rows: Mapping[str, Row], other_year: int,
           wanted: Mapping[str, list[str]]) -> None:
    """Each field's reasons about `other_year`'s report become `wanted`'s (none for a person's
    value): a new failure sends the field to review, a failure gone takes its reason back."""
    for field_id, row in rows.items():
        old = list(row.reasons or [])
        human = row.reviewed_by is not None or row.status == "corrected"
        failing = [] if human else list(wanted.get(field_id, []))
        new = [x for x in old if not is_cross_year_reason(x, other_year)] + failing
        if new == old:
            continue
        if failing:
            _send_to_review(conn, report_id, row, new)
        elif not new and row.status == "needs_review" and row.value is not None and not human:
            _accept_again(conn, report_id, row)
        else:
            conn.execute(sa.update(fields).where(f.id == row.id).values(reasons=new))
            conn.execute(sa.update(review_queue).where(q.field_pk == row.id, q.state.in_(PENDING))
                         .values(reasons=new, version=q.version + 1))


def _send_to_review(conn: Connection, report_id: int, row: Row, reasons: list[str]) -> None:
    conn.execute(sa.update(fields).where(f.id == row.id).values(status="needs_review", reasons=reasons))
    pending = list(conn.execute(sa.select(q.id).where(q.field_pk == row.id, q.state.in_(PENDING)).order_by(q.id))
                   .scalars())
    if pending:
        conn.execute(sa.update(review_queue).where(q.id.in_(pending)).values(reasons=reasons, version=q.version + 1))
        item_id = pending[0]
    else:
        item_id = conn.execute(sa.insert(review_queue).returning(q.id).values(
            field_pk=row.id, report_id=report_id, kind="field", reasons=reasons, state="open", version=1,
            created_at=utc_now())).scalar_one()
    write_audit(conn, "cross_year_failed", user=None, item_id=item_id, report_id=report_id, field_id=row.field_id,
                note="; ".join(x for x in reasons if is_cross_year_reason(x)))


def _accept_again(conn: Connection, report_id: int, row: Row) -> None:
    now = utc_now()
    conn.execute(sa.update(fields).where(f.id == row.id).values(status="accepted", reasons=[]))
    for item_id in conn.execute(sa.select(q.id).where(q.field_pk == row.id, q.state.in_(PENDING))).scalars().all():
        conn.execute(sa.update(review_queue).where(q.id == item_id).values(
            state="resolved", version=q.version + 1, claimed_by=None, lease_expires_at=None, resolved_at=now,
            note="confirmed by rule"))
        write_audit(conn, "confirmed_by_rule", user=None, item_id=item_id, report_id=report_id,
                    field_id=row.field_id, note="the cross-year rules it was held for now hold")


def neighbours(conn: Connection, report_id: int) -> list[int]:
    """The current reports of the same agency a year before and after (what a save there may route)."""
    row = conn.execute(sa.select(r.agency_key, r.year).where(r.id == report_id)).one_or_none()
    if row is None or row.agency_key is None or row.year is None:
        return []
    return sorted(set(_reports_of(conn, row.agency_key, row.year - 1)) | set(_reports_of(conn, row.agency_key, row.year + 1)))
