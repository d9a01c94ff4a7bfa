"""Agencies: every printed name seen, each mapped to one key; an operator joins two keys.

The matcher (extractors/agency.py) proposes a key for a new spelling; once stored, a spelling
keeps its key, so an operator's merge survives every later run: a report printed like the
merged name gets the kept key, and so does a new spelling whose proposed key was merged.
"""

from __future__ import annotations

import builtins
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from gongkai.extractors.agency import agency_region
from gongkai.models.agency import Agency

from .audit import utc_now, write_audit
from .cross_year import neighbours, refresh_agency, refresh_around
from .schema import agencies, agency_spellings, documents, reports

if TYPE_CHECKING:
    from .operational import OperationalStore

a, s, r = agencies.c, agency_spellings.c, reports.c


class AgencyNotFound(LookupError):
    pass


def register_reports(conn: Connection, report_ids: Iterable[int]) -> None:
    """Each report's printed name → its key (a stored spelling's, else the matcher's through
    any merge), written to reports.agency_key; new spellings and agencies recorded."""
    for row in conn.execute(sa.select(r.id, r.agency, r.agency_key).where(r.id.in_(list(report_ids)))).all():
        if not row.agency or not row.agency_key:
            continue
        key = spelling_key(conn, row.agency) or _record_spelling(conn, row.agency, row.agency_key)
        if key != row.agency_key:
            conn.execute(sa.update(reports).where(r.id == row.id).values(agency_key=key))


def spelling_key(conn: Connection, spelling: str) -> str | None:
    return conn.execute(sa.select(s.agency_key).where(s.spelling == spelling)).scalar_one_or_none()


def _record_spelling(conn: Connection, spelling: str, proposed: str) -> str:
    """A new spelling takes the matcher's key; two processes storing it at once (PostgreSQL)
    both end with the one that was written first."""
    key = _current_key(conn, proposed)
    _insert_new(conn, agencies, "key", key=key, name=spelling, region=agency_region(spelling), created_at=utc_now())
    _insert_new(conn, agency_spellings, "spelling", spelling=spelling, agency_key=key, source="matcher",
                created_at=utc_now())
    return spelling_key(conn, spelling) or key


def _insert_new(conn: Connection, table: sa.Table, unique: str, **values: object) -> None:
    """INSERT … ON CONFLICT (unique) DO NOTHING, in the store's dialect."""
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    conn.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=[unique]))


def _current_key(conn: Connection, key: str) -> str:
    """A key an operator merged into another is that other (merges never chain: see merge)."""
    merged = conn.execute(sa.select(a.merged_into).where(a.key == key)).scalar_one_or_none()
    return merged or key


def merge(conn: Connection, key: str, other: str, user: str | None) -> list[int]:
    """OTHER's reports and spellings take KEY; OTHER is kept, pointing at KEY. Returns the
    moved report ids. Audited."""
    if key == other:
        raise ValueError(f"{key}: an agency cannot be merged into itself")
    found = {row.key: row.merged_into for row in conn.execute(sa.select(a.key, a.merged_into)
                                                             .where(a.key.in_([key, other])))}
    for wanted in (key, other):
        if wanted not in found:
            raise AgencyNotFound(f"no agency with key {wanted}")
    if found[key] is not None:
        raise ValueError(f"{key} was merged into {found[key]}: merge into {found[key]} instead")
    moved = list(conn.execute(sa.select(r.id).where(r.agency_key == other)).scalars())
    conn.execute(sa.update(reports).where(r.agency_key == other).values(agency_key=key))
    conn.execute(sa.update(agency_spellings).where(s.agency_key == other).values(agency_key=key, source="merge"))
    conn.execute(sa.update(agencies).where(sa.or_(a.key == other, a.merged_into == other)).values(merged_into=key))
    write_audit(conn, "agency_merge", user=user, note=f"{other} -> {key} ({len(moved)} report(s))")
    refresh_agency(conn, key)  # the two keys' years now meet: their cross-year rules run
    return moved


def list_agencies(conn: Connection, include_merged: bool = True) -> list[Agency]:
    spellings: dict[str, list[str]] = defaultdict(list)
    for row in conn.execute(sa.select(s.agency_key, s.spelling).order_by(s.id)):
        spellings[row.agency_key].append(row.spelling)
    years: dict[str, set[int]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    current = (sa.select(r.agency_key, r.year).join_from(reports, documents)
               .where(documents.c.superseded_by.is_(None), r.agency_key.is_not(None)))
    for row in conn.execute(current):
        counts[row.agency_key] += 1
        if row.year is not None:
            years[row.agency_key].add(row.year)
    stmt = sa.select(agencies).order_by(a.key)
    if not include_merged:
        stmt = stmt.where(a.merged_into.is_(None))
    return [
        Agency(key=row.key, name=row.name, region=row.region, spellings=spellings.get(row.key, []),
               reports=counts.get(row.key, 0), years=sorted(years.get(row.key, ())), merged_into=row.merged_into)
        for row in conn.execute(stmt)
    ]


def after_document_stored(conn: Connection, document_id: int) -> None:
    """The store's one hook after a save or a re-extraction (same transaction): the reports'
    agencies, then the cross-year rules they take part in."""
    ids = list(conn.execute(sa.select(r.id).where(r.document_id == document_id)).scalars())
    register_reports(conn, ids)
    refresh_around(conn, ids)


class AgencyStore:
    """The operator's and the admin page's view of agencies (each call one transaction)."""

    def __init__(self, store: OperationalStore) -> None:
        self.store = store

    def list(self, include_merged: bool = True) -> list[Agency]:
        with self.store.engine.connect() as conn:
            return list_agencies(conn, include_merged)

    # builtins.list: this class's own list method shadows the builtin in its body
    def merge(self, key: str, other: str, user: str | None) -> builtins.list[int]:
        with self.store._write_transaction() as conn:
            return merge(conn, key, other, user)

    def neighbours(self, report_id: int) -> builtins.list[int]:
        with self.store.engine.connect() as conn:
            return neighbours(conn, report_id)
