"""Operational store: extraction results, the review queue and reviewers' corrections.

SQLite (the default, one file) or PostgreSQL (by URL), through SQLAlchemy 2.0 Core.
store/ is the only code that speaks SQL. OperationalStore is the handle every caller holds;
its concerns live beside it: engine.py (the default URL, connection settings, migrations'
configuration), results.py (saving and loading results), review.py, review_actions.py and
enqueue.py (the review queue), users.py and audit.py, crawl.py. The schema is owned by the
Alembic migrations in ./migrations; schema.py mirrors them (a test compares).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from gongkai.models import ExtractionResult, LearnedLabel

from .agencies import after_document_stored
from .audit import aware, utc_now
from .engine import (  # re-exported: tests, bench/ and migrations/env.py use them here
    SQLITE_BUSY_TIMEOUT_MS,
    alembic_config,
    default_url,
    head_revision,
    make_engine,
)
from .errors import DocumentNotFound, ReviewItemNotOpen
from .records import FieldRow, Number, ReportRow, ReviewItem, SaveOutcome, StoredDocument
from .reprocess import reprocess_document
from .results import (
    after_store,
    check_unique_field_ids,
    existing_document,
    field_row,
    field_select,
    insert_result,
    read_result,
    replaceable,
    to_float,
)
from .schema import TABLES, checks, documents, fields, label_variants, metadata, reports, review_queue

# Any constant works; it only has to be the same in every process that migrates.
PG_MIGRATION_LOCK = 0x60_6E_6B_41


class OperationalStore:
    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        self.engine = make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> OperationalStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _write_transaction(self) -> Iterator[Connection]:
        """A transaction that will write: on SQLite it takes the write lock first."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn

    def migrate(self) -> None:
        """alembic upgrade head; safe to call from several processes at once."""
        cfg = alembic_config()
        with self._write_transaction() as conn:
            if not self.is_sqlite:  # SQLite is already serialised by BEGIN IMMEDIATE
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def optimize(self) -> None:
        """SQLite: refresh the planner's statistics of the queue's tables, so the queue is read
        in id order instead of sorting every open item (without statistics SQLite takes the
        state index). Cheap: these tables are small beside fields. PostgreSQL's autovacuum
        does this by itself."""
        if self.is_sqlite:
            with self._write_transaction() as conn:  # ANALYZE writes sqlite_stat1: commit it
                for table in ("review_queue", "reports", "documents"):
                    conn.exec_driver_sql(f"ANALYZE {table}")

    # -- writing --------------------------------------------------------------------------
    def save_result(
        self,
        result: ExtractionResult,
        path: str | None = None,
        source_url: str | None = None,
        reprocess: bool = False,
    ) -> SaveOutcome:
        """Store one file's result in one transaction; a known sha256 changes nothing, unless
        `reprocess`: then the new machine values replace the old and people's work stays
        (see reprocess.py). A failed re-extraction never replaces a stored result."""
        check_unique_field_ids(result)
        sha = result.source.sha256
        try:
            with self._write_transaction() as conn:
                existing = existing_document(conn, sha)
                if existing is None:
                    return after_store(conn, insert_result(conn, result, path, source_url, "inserted"))
                if replaceable(conn, existing, result):
                    conn.execute(sa.delete(documents).where(documents.c.id == existing["id"]))
                    return after_store(conn, insert_result(conn, result, path, source_url, "replaced"))
                if reprocess and result.error is None and existing["error_stage"] is None:
                    counts = reprocess_document(conn, existing["id"], result, path)
                    after_document_stored(conn, existing["id"])
                    return SaveOutcome(
                        "reprocessed", sha, existing["id"], counts.reports, counts.fields,
                        counts.review_items, conflicts=counts.conflicts, changed=counts.changed,
                    )
                return SaveOutcome("unchanged", sha, existing["id"])
        except IntegrityError:
            # Another process stored the same file between our check and our insert
            # (PostgreSQL only; SQLite's BEGIN IMMEDIATE serialises writers).
            stored = self.get_document(sha)
            if stored is None:
                raise
            return SaveOutcome("unchanged", sha, stored.id)

    def apply_correction(
        self, queue_id: int, value: Number, reviewer: str, note: str | None = None
    ) -> None:
        """A reviewer's value: the field becomes 'corrected' (raw kept), the item resolved."""
        with self._write_transaction() as conn:
            item = conn.execute(
                sa.select(review_queue.c.field_pk, review_queue.c.state)
                .where(review_queue.c.id == queue_id)
                .with_for_update()  # two reviewers on one item: the second sees 'resolved'
            ).one_or_none()
            if item is None:
                raise KeyError(f"no review item {queue_id}")
            if item.state != "open":
                raise ReviewItemNotOpen(f"review item {queue_id} is already {item.state}")
            stored = to_float(value)
            conn.execute(
                sa.update(fields)
                .where(fields.c.id == item.field_pk)
                .values(value=stored, status="corrected", reviewed_by=reviewer, reviewed_at=utc_now())
            )
            conn.execute(
                sa.update(review_queue)
                .where(review_queue.c.id == queue_id)
                .values(
                    version=review_queue.c.version + 1,
                    state="resolved",
                    resolved_at=utc_now(),
                    reviewer=reviewer,
                    corrected_value=stored,
                    note=note,
                )
            )

    # -- reading --------------------------------------------------------------------------
    def get_document(self, sha256: str) -> StoredDocument | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(*(documents.c[f] for f in StoredDocument.__slots__)).where(
                        documents.c.sha256 == sha256
                    )
                )
                .mappings()
                .one_or_none()
            )
        if row is None:
            return None
        return StoredDocument(**{**row, "created_at": aware(row["created_at"]),
                                 "superseded_at": aware(row["superseded_at"])})

    def load_result(self, sha256: str) -> ExtractionResult:
        """The stored result as the pydantic model (corrections included)."""
        with self.engine.connect() as conn:
            return read_result(conn, sha256)

    def iter_reports(self, report_id: int | None = None, *, include_superseded: bool = False) -> Iterator[ReportRow]:
        """Reports in id order; only current versions unless include_superseded (an old
        version of a changed page is still stored, for its history)."""
        stmt = (
            sa.select(
                reports.c.id.label("report_id"),
                documents.c.sha256,
                documents.c.name.label("document_name"),
                documents.c.source_url,
                reports.c.ordinal,
                reports.c.agency,
                reports.c.agency_key,
                reports.c.year,
                reports.c.template,
                reports.c.kind,
                reports.c.title,
                ~sa.exists().where(
                    review_queue.c.report_id == reports.c.id,
                    review_queue.c.state.in_(["open", "claimed", "skipped"]),
                ).label("complete"),
                documents.c.status.label("document_status"),
            )
            .join_from(reports, documents)
            .order_by(reports.c.id)
        )
        if report_id is not None:
            stmt = stmt.where(reports.c.id == report_id)
        if not include_superseded:
            stmt = stmt.where(documents.c.superseded_by.is_(None))
        for row in self._stream(stmt):
            yield ReportRow(**row)

    def iter_fields(
        self,
        *,
        statuses: Iterable[str] | None = None,
        table: str | None = None,
        field_id: str | None = None,
        year: int | None = None,
        sha256: str | None = None,
        report_id: int | None = None,
        include_superseded: bool = False,
    ) -> Iterator[FieldRow]:
        """Stored fields joined with report and document, in insertion order; filters AND.
        Only current versions' fields unless include_superseded."""
        stmt = field_select().order_by(fields.c.id)
        if not include_superseded:
            stmt = stmt.where(documents.c.superseded_by.is_(None))
        if statuses is not None:
            stmt = stmt.where(fields.c.status.in_(list(statuses)))
        if table is not None:
            stmt = stmt.where(fields.c.field_id.startswith(f"{table}.", autoescape=True))
        if field_id is not None:
            stmt = stmt.where(fields.c.field_id == field_id)
        if year is not None:
            stmt = stmt.where(reports.c.year == year)
        if sha256 is not None:
            stmt = stmt.where(documents.c.sha256 == sha256)
        if report_id is not None:
            stmt = stmt.where(fields.c.report_id == report_id)
        for row in self._stream(stmt):
            yield field_row(row)

    def open_review_items(self, limit: int = 100) -> list[ReviewItem]:
        """Oldest open items first."""
        stmt = (
            field_select()
            .add_columns(
                review_queue.c.id.label("queue_id"),
                review_queue.c.reasons.label("queue_reasons"),
                review_queue.c.created_at.label("queued_at"),
                review_queue.c.crop_png,
            )
            .join(review_queue, review_queue.c.field_pk == fields.c.id)
            .where(review_queue.c.state == "open")
            .order_by(review_queue.c.created_at, review_queue.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [
            ReviewItem(
                r["queue_id"], list(r["queue_reasons"]), aware(r["queued_at"]), field_row(r),
                r["crop_png"],
            )
            for r in rows
        ]

    def learned_labels(self) -> list[LearnedLabel]:
        """Active label variants reviewers taught (mapping takes each as one more alias)."""
        stmt = (
            sa.select(label_variants)
            .where(label_variants.c.revoked_at.is_(None))
            .order_by(label_variants.c.id)
        )
        with self.engine.connect() as conn:
            return [
                LearnedLabel(template=v.template, table=v.table_id, row_id=v.row_id, label=v.label)
                for v in conn.execute(stmt)
            ]

    def outcome_counts(self, sha256s: Iterable[str]) -> dict[str, int]:
        """What the store holds now for these documents: their fields by status and their failed
        checks, the form's and the cross-year ones the store adds when it compares a report with
        another year (warnings included): a run's summary counts these, not only what extraction saw."""
        counts: dict[str, int] = {"accepted": 0, "needs_review": 0, "corrected": 0, "failed_checks": 0}
        wanted = sorted(set(sha256s))
        of_documents = reports.join(documents, documents.c.id == reports.c.document_id)
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):  # bounded IN lists
                chunk = documents.c.sha256.in_(wanted[start:start + 500])
                by_status = (sa.select(fields.c.status, sa.func.count())
                             .select_from(fields.join(of_documents, reports.c.id == fields.c.report_id))
                             .where(chunk).group_by(fields.c.status))
                for status, n in conn.execute(by_status):
                    counts[status] = counts.get(status, 0) + n
                failed = (sa.select(sa.func.count())
                          .select_from(checks.join(of_documents, reports.c.id == checks.c.report_id))
                          .where(chunk, checks.c.ok.is_(False)))
                counts["failed_checks"] += conn.execute(failed).scalar_one()
        return counts

    def table_counts(self) -> dict[str, int]:
        """Row count per table, for the operator and for tests."""
        with self.engine.connect() as conn:
            return {
                name: conn.execute(
                    sa.select(sa.func.count()).select_from(metadata.tables[name])
                ).scalar_one()
                for name in TABLES
            }

    def _stream(self, stmt: sa.Select[Any]) -> Iterator[RowMapping]:
        # yield_per streams (a server-side cursor on PostgreSQL) so memory stays flat.
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=2000).execute(stmt).mappings()
            yield from result


__all__ = [  # what callers import from here; store/__init__.py exports the package's names
    "SQLITE_BUSY_TIMEOUT_MS", "TABLES", "DocumentNotFound", "FieldRow", "OperationalStore", "ReportRow",
    "ReviewItem", "ReviewItemNotOpen", "SaveOutcome", "StoredDocument", "alembic_config", "default_url",
    "head_revision", "make_engine", "metadata",
]
