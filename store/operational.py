"""Operational store: extraction results, the review queue and reviewers' corrections.

SQLite (the default, one file) or PostgreSQL (by URL), through SQLAlchemy 2.0 Core.
store/ is the only code that speaks SQL: this module saves and loads results; the review
queue's reads and writes are review.py, review_actions.py, users.py and reprocess.py. The
schema is owned by the Alembic migrations in ./migrations; schema.py mirrors them (a test
compares).

The pipeline, the review web app and the crawler share one SQLite file concurrently, so
every connection runs in WAL mode with a 30 s busy timeout, and write transactions take
the write lock up front (BEGIN IMMEDIATE) so a writer waits instead of failing when it
upgrades a read lock.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from gongkai.config import amount_field_ids
from gongkai.models import (
    CheckResult,
    ExtractionResult,
    FieldValue,
    LearnedLabel,
    Report,
    SourceInfo,
    StageError,
    UnmappedCell,
)

from . import enqueue
from .agencies import after_document_stored
from .audit import aware, utc_now
from .page_issues import load_page_issues, save_page_issues
from .reprocess import reprocess_document
from .schema import (  # TABLES and metadata re-exported: tests and migrations/env.py use them here
    TABLES,
    checks,
    documents,
    fields,
    label_variants,
    metadata,
    reports,
    review_queue,
    unmapped,
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DB_URL_ENV = "GONGKAI_DB_URL"
DEFAULT_SQLITE_PATH = Path(".gongkai") / "gongkai.sqlite"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Any constant works; it only has to be the same in every process that migrates.
PG_MIGRATION_LOCK = 0x60_6E_6B_41

Number = int | float | None

# ---------------------------------------------------------------------------------------
# What the read helpers return
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SaveOutcome:
    """inserted: new document; unchanged: sha256 already stored, nothing written;
    replaced: a stored failed run (error, no corrections) gave way to a successful one;
    reprocessed: a stored document re-extracted, people's work kept."""

    outcome: Literal["inserted", "unchanged", "replaced", "reprocessed"]
    sha256: str
    document_id: int
    reports: int = 0
    fields: int = 0
    review_items: int = 0
    unmapped_items: int = 0
    conflicts: int = 0  # reprocessed: machine readings that differ from a person's value
    changed: int = 0  # reprocessed: machine fields whose value or routing changed


@dataclass(frozen=True, slots=True)
class StoredDocument:
    id: int
    sha256: str
    name: str
    media_type: str
    pages: int | None
    size_bytes: int | None
    source_url: str | None
    path: str | None
    pipeline_version: str | None
    error_stage: str | None
    error_kind: str | None
    error_message: str | None
    created_at: datetime
    superseded_by: str | None = None  # sha256 of the newer version of its page (store/versions.py)
    superseded_at: datetime | None = None
    status: str = "complete"  # complete | partial (a page error is stored) | failed


@dataclass(frozen=True, slots=True)
class ReportRow:
    report_id: int
    sha256: str
    document_name: str
    source_url: str | None
    ordinal: int
    agency: str | None
    agency_key: str | None
    year: int | None
    template: str | None
    kind: str
    title: str | None
    complete: bool = True  # nothing in it open, claimed or skipped in the review queue
    document_status: str = "complete"  # its document's: complete | partial (something could not be read)


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One stored field with the report and document it belongs to."""

    pk: int
    field_id: str
    value: Number
    raw: str
    confidence: float
    status: str
    reasons: list[str]
    page: int | None
    bbox: list[float] | None
    row_label: str | None
    col_label: str | None
    source: str | None
    suggestion: Number
    report_id: int
    ordinal: int
    agency: str | None
    year: int | None
    template: str | None
    kind: str
    sha256: str
    document_name: str

    @property
    def table(self) -> str:
        return self.field_id.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class ReviewItem:
    queue_id: int
    reasons: list[str]
    created_at: datetime
    field: FieldRow
    crop_png: bytes | None = None  # the cell as scanned (OCR input only)


class DocumentNotFound(KeyError):
    pass


class ReviewItemNotOpen(ValueError):
    """The queue row was already resolved (another reviewer got there first)."""


# ---------------------------------------------------------------------------------------
# Engine and migrations
# ---------------------------------------------------------------------------------------
def default_url() -> str:
    """$GONGKAI_DB_URL, else a SQLite file under ./.gongkai/ (git-ignored)."""
    return os.environ.get(DB_URL_ENV) or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _json_dumps(obj: Any) -> str:
    # Keep Chinese labels and reasons readable in the database.
    return json.dumps(obj, ensure_ascii=False)


def make_engine(url: str) -> Engine:
    """An engine with the connection settings the store depends on."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        try:
            return sa.create_engine(parsed, json_serializer=_json_dumps, pool_pre_ping=True)
        except ModuleNotFoundError as exc:  # the driver is an optional extra
            if parsed.get_backend_name() != "postgresql":
                raise
            raise ModuleNotFoundError(
                f"{parsed.drivername}:// needs the PostgreSQL driver ({exc.name} is not installed): "
                "pip install 'gongkai[postgres]' (scripts/bootstrap.sh installs it), "
                "and write the URL as postgresql+psycopg://…", name=exc.name) from exc
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, json_serializer=_json_dumps)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # The driver's own implicit BEGIN would defeat BEGIN IMMEDIATE; _sqlite_on_begin
    # emits BEGIN instead (SQLAlchemy's documented pysqlite recipe).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
    cur.execute("PRAGMA foreign_keys = ON")  # off by default in SQLite, per connection
    cur.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config built in code: no alembic.ini needed.

    For developers: `command.revision(alembic_config(url), autogenerate=True, message=…)`.
    """
    cfg = Config()
    # Config values go through ConfigParser interpolation, hence the %% escapes.
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest migration: what `migrate()` brings a database to."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


# ---------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------
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
        _check_unique_field_ids(result)
        sha = result.source.sha256
        try:
            with self._write_transaction() as conn:
                existing = _existing_document(conn, sha)
                if existing is None:
                    return _after_store(conn, _insert_result(conn, result, path, source_url, "inserted"))
                if _replaceable(conn, existing, result):
                    conn.execute(sa.delete(documents).where(documents.c.id == existing["id"]))
                    return _after_store(conn, _insert_result(conn, result, path, source_url, "replaced"))
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
            stored = _to_float(value)
            conn.execute(
                sa.update(fields)
                .where(fields.c.id == item.field_pk)
                .values(value=stored, status="corrected", reviewed_by=reviewer, reviewed_at=_now())
            )
            conn.execute(
                sa.update(review_queue)
                .where(review_queue.c.id == queue_id)
                .values(
                    version=review_queue.c.version + 1,
                    state="resolved",
                    resolved_at=_now(),
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
        return StoredDocument(**{**row, "created_at": _aware(row["created_at"]),
                                 "superseded_at": _aware(row["superseded_at"])})

    def load_result(self, sha256: str) -> ExtractionResult:
        """The stored result as the pydantic model (corrections included)."""
        with self.engine.connect() as conn:
            doc = (
                conn.execute(sa.select(documents).where(documents.c.sha256 == sha256))
                .mappings()
                .one_or_none()
            )
            if doc is None:
                raise DocumentNotFound(sha256)
            report_rows = (
                conn.execute(
                    sa.select(reports)
                    .where(reports.c.document_id == doc["id"])
                    .order_by(reports.c.ordinal)
                )
                .mappings()
                .all()
            )
            children = _load_children(conn, doc["id"])
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
            error=_stage_error(doc),
            pipeline_version=doc["pipeline_version"],
            reports=[_report_model(r, children) for r in report_rows],
            page_errors=page_errors,
            page_notes=page_notes,
        )

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
        stmt = _field_select().order_by(fields.c.id)
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
            yield _field_row(row)

    def open_review_items(self, limit: int = 100) -> list[ReviewItem]:
        """Oldest open items first."""
        stmt = (
            _field_select()
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
                r["queue_id"], list(r["queue_reasons"]), _aware(r["queued_at"]), _field_row(r),
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


# ---------------------------------------------------------------------------------------
# Writing helpers (module level so a test can make one fail mid-transaction)
# ---------------------------------------------------------------------------------------
_now = utc_now
_aware = aware


def _to_float(value: Number) -> float | None:
    return None if value is None else float(value)


def _check_unique_field_ids(result: ExtractionResult) -> None:
    # The UNIQUE(report_id, field_id) would reject it anyway; this names the culprit.
    for ordinal, report in enumerate(result.reports):
        seen: set[str] = set()
        for f in report.fields:
            if f.id in seen:
                raise ValueError(f"report {ordinal} of {result.source.name}: field {f.id} twice")
            seen.add(f.id)


def _after_store(conn: Connection, outcome: SaveOutcome) -> SaveOutcome:
    after_document_stored(conn, outcome.document_id)
    return outcome


def _existing_document(conn: Connection, sha256: str) -> RowMapping | None:
    stmt = sa.select(documents.c.id, documents.c.error_stage).where(documents.c.sha256 == sha256)
    return conn.execute(stmt).mappings().one_or_none()


def _replaceable(conn: Connection, existing: RowMapping, result: ExtractionResult) -> bool:
    """A stored failure may be replaced by a success, unless a reviewer touched it."""
    if existing["error_stage"] is None or result.error is not None:
        return False
    reviewed = conn.execute(
        sa.select(sa.func.count())
        .select_from(fields.join(reports))
        .where(reports.c.document_id == existing["id"], fields.c.status == "corrected")
    ).scalar_one()
    return reviewed == 0


def _insert_result(
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
        report_id = _insert_report(conn, doc_id, ordinal, report, result.source.media_type)
        field_pks = _insert_fields(conn, report_id, report.fields)
        _insert_unmapped(conn, report_id, report.unmapped)
        _insert_checks(conn, report_id, report.checks)
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
            "created_at": _now(),
        },
    ).scalar_one()


def _insert_report(conn: Connection, document_id: int, ordinal: int, report: Report, media_type: str) -> int:
    row = report.model_dump(include={"agency", "agency_key", "year", "template", "kind", "kind_reason", "title"})
    kind = enqueue.source_kind(media_type, (f.source for f in report.fields))
    stmt = sa.insert(reports).returning(reports.c.id)
    return conn.execute(
        stmt, {"document_id": document_id, "ordinal": ordinal, "source_kind": kind, **row}
    ).scalar_one()


def _insert_fields(conn: Connection, report_id: int, values: list[FieldValue]) -> dict[str, int]:
    """Insert a report's fields; returns field id -> primary key."""
    if not values:
        return {}
    rows = [
        {
            "report_id": report_id,
            "field_id": f.id,
            "value": _to_float(f.value),
            "raw": f.raw,
            "confidence": f.confidence,
            "status": f.status,
            "reasons": list(f.reasons),
            "page": f.page,
            "bbox": list(f.bbox) if f.bbox is not None else None,
            "row_label": f.row_label,
            "col_label": f.col_label,
            "source": f.source,
            "suggestion": _to_float(f.suggestion),
        }
        for f in values
    ]
    stmt = sa.insert(fields).returning(fields.c.id, fields.c.field_id, sort_by_parameter_order=True)
    return {r.field_id: r.id for r in conn.execute(stmt, rows)}


def _insert_unmapped(conn: Connection, report_id: int, cells: list[UnmappedCell]) -> None:
    if cells:
        rows = [
            {
                "report_id": report_id,
                "table_id": c.table,
                "row_label": c.row_label,
                "col_label": c.col_label,
                "raw": c.raw,
                "page": c.page,
                "bbox": list(c.bbox) if c.bbox is not None else None,
            }
            for c in cells
        ]
        conn.execute(sa.insert(unmapped), rows)


def _insert_checks(conn: Connection, report_id: int, results: list[CheckResult]) -> None:
    if results:
        rows = [
            {
                "report_id": report_id,
                "rule": c.rule,
                "ok": c.ok,
                "detail": c.detail,
                "fields": list(c.fields),
            }
            for c in results
        ]
        conn.execute(sa.insert(checks), rows)


# ---------------------------------------------------------------------------------------
# Reading helpers
# ---------------------------------------------------------------------------------------
def _restore_number(field_id: str, value: float | None) -> Number:
    """Floats from the database back to the model's types: integral counts are ints."""
    if value is None or field_id in amount_field_ids():  # 万元 decimals, as the template types them
        return value
    return int(value) if float(value).is_integer() else value


def _field_select() -> sa.Select[Any]:
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


def _field_row(row: RowMapping) -> FieldRow:
    values = {name: row[name] for name in FieldRow.__slots__}
    values["value"] = _restore_number(row["field_id"], row["value"])
    values["suggestion"] = _restore_number(row["field_id"], row["suggestion"])
    return FieldRow(**values)


@dataclass
class _Children:
    fields: dict[int, list[FieldValue]]
    unmapped: dict[int, list[UnmappedCell]]
    checks: dict[int, list[CheckResult]]


def _load_children(conn: Connection, document_id: int) -> _Children:
    """Fields, unmapped cells and checks of one document, grouped by report id."""
    mine = sa.select(reports.c.id).where(reports.c.document_id == document_id)
    out = _Children(defaultdict(list), defaultdict(list), defaultdict(list))
    for r in conn.execute(
        sa.select(fields).where(fields.c.report_id.in_(mine)).order_by(fields.c.id)
    ).mappings():
        out.fields[r["report_id"]].append(_field_model(r))
    for r in conn.execute(
        sa.select(unmapped).where(unmapped.c.report_id.in_(mine)).order_by(unmapped.c.id)
    ).mappings():
        out.unmapped[r["report_id"]].append(
            UnmappedCell(
                table=r["table_id"],
                row_label=r["row_label"],
                col_label=r["col_label"],
                raw=r["raw"],
                page=r["page"],
                bbox=tuple(r["bbox"]) if r["bbox"] is not None else None,
            )
        )
    for r in conn.execute(
        sa.select(checks).where(checks.c.report_id.in_(mine)).order_by(checks.c.id)
    ).mappings():
        out.checks[r["report_id"]].append(
            CheckResult(rule=r["rule"], ok=r["ok"], detail=r["detail"], fields=r["fields"])
        )
    return out


def _field_model(r: RowMapping) -> FieldValue:
    return FieldValue(
        id=r["field_id"],
        value=_restore_number(r["field_id"], r["value"]),
        raw=r["raw"],
        confidence=r["confidence"],
        status=r["status"],
        reasons=r["reasons"],
        page=r["page"],
        bbox=tuple(r["bbox"]) if r["bbox"] is not None else None,
        row_label=r["row_label"],
        col_label=r["col_label"],
        source=r["source"],
        suggestion=_restore_number(r["field_id"], r["suggestion"]),
    )


def _report_model(r: RowMapping, children: _Children) -> Report:
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


def _stage_error(doc: RowMapping) -> StageError | None:
    if doc["error_stage"] is None:
        return None
    return StageError(
        stage=doc["error_stage"], kind=doc["error_kind"], message=doc["error_message"]
    )


__all__ = [
    "DB_URL_ENV",
    "MIGRATIONS_DIR",
    "DocumentNotFound",
    "FieldRow",
    "OperationalStore",
    "ReportRow",
    "ReviewItem",
    "ReviewItemNotOpen",
    "SaveOutcome",
    "StoredDocument",
    "alembic_config",
    "default_url",
    "make_engine",
    "metadata",
]
