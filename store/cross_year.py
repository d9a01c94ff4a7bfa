"""Cross-year rules in the store: which reports are compared, their checks, their fields' routing.

A report of an agency (reports.agency_key) and year Y is compared, as the later report, with
one current report of the same agency and year Y-1 (of several copies of that year, the one
printing most of the rules' fields, then the first stored). Its `cross_year.*` checks are
replaced on every evaluation; a failed error rule sends the fields it names on both sides to
review (never a person's value), each reason naming the rule and the other year's value; a
rule that holds again (after a correction on either side) takes its reason back, and a field
held by nothing else is accepted again ("confirmed by rule"). Values are never changed.

Entry points: refresh_around (a report stored, re-processed or corrected), refresh_agency
(an operator's merge). Both run inside the caller's write transaction, in a fixed number of
statements however many years are stored (plus one per field whose routing changes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from gongkai.extractors.cross_year import (
    YearValues,
    cross_year_reason,
    cross_year_rules,
    evaluate_cross_year,
    is_cross_year_reason,
)

from .audit import utc_now, write_audit
from .schema import checks, documents, fields, reports, review_queue

r, f, q = reports.c, fields.c, review_queue.c
PENDING = ("open", "claimed", "skipped")
CROSS_YEAR_RULES_LIKE = "cross_year.%"


@dataclass(slots=True)
class _Field:
    """A rule field of a stored report as routing sees it (kept in step with what it writes)."""

    pk: int
    field_id: str
    value: float | None
    status: str
    reasons: list[str]
    human: bool


def refresh_around(conn: Connection, report_ids: Iterable[int]) -> None:
    """Every comparison these reports take part in: as the later one and as the earlier one."""
    ids = list(report_ids)
    if not ids:
        return
    mine = conn.execute(_current().where(r.id.in_(ids), r.agency_key.is_not(None), r.year.is_not(None))).all()
    if not mine:
        return
    years = {y for row in mine for y in (row.year - 1, row.year, row.year + 1)}
    peers = conn.execute(_current().where(r.agency_key.in_({row.agency_key for row in mine}),
                                          r.year.in_(years))).all()
    wanted = {(row.agency_key, row.year) for row in mine} | {(row.agency_key, row.year + 1) for row in mine}
    _evaluate(conn, [p for p in peers if (p.agency_key, p.year) in wanted], peers)


def refresh_agency(conn: Connection, agency_key: str) -> None:
    peers = conn.execute(_current().where(r.agency_key == agency_key, r.year.is_not(None))).all()
    _evaluate(conn, peers, peers)


def _evaluate(conn: Connection, laters: Sequence[Row], peers: Sequence[Row]) -> None:
    """Each later report against its agency's previous year: checks replaced, fields routed."""
    if not laters:
        return
    fields_of = _field_states(conn, {p.id for p in peers})
    by_year: dict[tuple[str, int], list[int]] = defaultdict(list)
    for p in sorted(peers, key=lambda p: p.id):
        by_year[(p.agency_key, p.year)].append(p.id)
    later_ids = sorted({row.id for row in laters})
    conn.execute(sa.delete(checks).where(checks.c.report_id.in_(later_ids), checks.c.rule.like(CROSS_YEAR_RULES_LIKE)))
    new_checks: list[dict] = []
    for later in sorted(laters, key=lambda row: row.id):
        earlier_id = _pick_earlier(by_year.get((later.agency_key, later.year - 1), []), fields_of)
        wanted_later: dict[str, list[str]] = defaultdict(list)
        if earlier_id is not None:
            wanted_earlier: dict[str, list[str]] = defaultdict(list)
            outcomes = evaluate_cross_year(YearValues(later.year - 1, _values(fields_of[earlier_id])),
                                           YearValues(later.year, _values(fields_of[later.id])))
            new_checks += [{"report_id": later.id, "rule": o.check.rule, "ok": o.check.ok, "detail": o.check.detail,
                            "fields": list(o.check.fields)} for o in outcomes]
            for o in (o for o in outcomes if o.routes):
                for field_id in o.later_fields:
                    wanted_later[field_id].append(cross_year_reason(o.rule.id, o.other_side["later"]))
                for field_id in o.earlier_fields:
                    wanted_earlier[field_id].append(cross_year_reason(o.rule.id, o.other_side["earlier"]))
            _route(conn, earlier_id, fields_of[earlier_id], later.year, wanted_earlier)
        _route(conn, later.id, fields_of[later.id], later.year - 1, wanted_later)
    if new_checks:
        conn.execute(sa.insert(checks), new_checks)


# ---------------------------------------------------------------------------------------
def _current() -> sa.Select:
    return (sa.select(r.id, r.agency_key, r.year).join_from(reports, documents)
            .where(documents.c.superseded_by.is_(None), r.kind == "tabular"))


@cache
def _rule_field_ids() -> list[str]:
    return sorted({t.field for rule in cross_year_rules() for t in rule.terms()})


# Built once, with expanding IN parameters: SQLAlchemy compiles it once (the save path's cost
# is this statement's building, not SQLite's work).
_FIELD_STATES = sa.select(f.id, f.report_id, f.field_id, f.value, f.status, f.reasons, f.reviewed_by).where(
    f.report_id.in_(sa.bindparam("reports", expanding=True)), f.field_id.in_(sa.bindparam("fields", expanding=True)))


def _pick_earlier(candidates: list[int], fields_of: Mapping[int, Mapping[str, _Field]]) -> int | None:
    """Of several copies of one year, the one printing most of the rules' fields, then the first."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (-sum(f.value is not None for f in fields_of[c].values()), c))


def _field_states(conn: Connection, report_ids: set[int]) -> dict[int, dict[str, _Field]]:
    found: dict[int, dict[str, _Field]] = {report_id: {} for report_id in report_ids}
    params = {"reports": sorted(report_ids), "fields": _rule_field_ids()}
    for row in conn.execute(_FIELD_STATES, params):
        found[row.report_id][row.field_id] = _Field(
            row.id, row.field_id, row.value, row.status, list(row.reasons or []),
            row.reviewed_by is not None or row.status == "corrected")
    return found


def _values(states: Mapping[str, _Field]) -> dict[str, float | None]:
    return {field_id: state.value for field_id, state in states.items()}


def _route(conn: Connection, report_id: int, states: Mapping[str, _Field], other_year: int,
           wanted: Mapping[str, list[str]]) -> None:
    """Each field's reasons about `other_year`'s report become `wanted`'s (none for a person's
    value): a new failure sends the field to review, a failure gone takes its reason back."""
    for field_id, state in states.items():
        failing = [] if state.human else list(wanted.get(field_id, []))
        new = [x for x in state.reasons if not is_cross_year_reason(x, other_year)] + failing
        if new == state.reasons:
            continue
        if failing:
            _send_to_review(conn, report_id, state, new)
        elif not new and state.status == "needs_review" and state.value is not None and not state.human:
            _accept_again(conn, report_id, state)
        else:
            conn.execute(sa.update(fields).where(f.id == state.pk).values(reasons=new))
            conn.execute(sa.update(review_queue).where(q.field_pk == state.pk, q.state.in_(PENDING))
                         .values(reasons=new, version=q.version + 1))
        state.reasons = new


def _send_to_review(conn: Connection, report_id: int, row: _Field, reasons: list[str]) -> None:
    row.status = "needs_review"
    conn.execute(sa.update(fields).where(f.id == row.pk).values(status="needs_review", reasons=reasons))
    pending = list(conn.execute(sa.select(q.id).where(q.field_pk == row.pk, q.state.in_(PENDING)).order_by(q.id))
                   .scalars())
    if pending:
        conn.execute(sa.update(review_queue).where(q.id.in_(pending)).values(reasons=reasons, version=q.version + 1))
        item_id = pending[0]
    else:
        item_id = conn.execute(sa.insert(review_queue).returning(q.id).values(
            field_pk=row.pk, report_id=report_id, kind="field", reasons=reasons, state="open", version=1,
            created_at=utc_now())).scalar_one()
    write_audit(conn, "cross_year_failed", user=None, item_id=item_id, report_id=report_id, field_id=row.field_id,
                note="; ".join(x for x in reasons if is_cross_year_reason(x)))


def _accept_again(conn: Connection, report_id: int, row: _Field) -> None:
    now = utc_now()
    row.status = "accepted"
    conn.execute(sa.update(fields).where(f.id == row.pk).values(status="accepted", reasons=[]))
    for item_id in conn.execute(sa.select(q.id).where(q.field_pk == row.pk, q.state.in_(PENDING))).scalars().all():
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
    stmt = (
        _current()
        .with_only_columns(r.id)
        .where(r.agency_key == row.agency_key, r.year.in_([row.year - 1, row.year + 1]))
    )
    return sorted(conn.execute(stmt).scalars())
