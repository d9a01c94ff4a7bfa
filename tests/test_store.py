"""The operational store on SQLite and PostgreSQL, and the DuckDB analytics store.

PostgreSQL runs need $GONGKAI_TEST_PG_URL (scripts/start_test_postgres.sh); see tests/pg.py.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from gongkai.extractors.anomalies import find_anomalies
from gongkai.models import (
    CheckResult,
    ExtractionResult,
    FieldValue,
    Report,
    SourceInfo,
    StageError,
    UnmappedCell,
)
from gongkai.store import (
    OperationalStore,
    ReviewItemNotOpen,
    StoreBusy,
    export_analytics,
    load_analytics,
)
from gongkai.store import operational as op_module

SHA_2021 = "a1" * 32
SHA_LEGACY = "b2" * 32
SHA_BROKEN = "c3" * 32
SHA_OTHER = "d4" * 32
NEEDS_REVIEW_ID = "requests.carried_over.natural_person"


# ---------------------------------------------------------------------------------------
# Sample results, built straight from the models
# ---------------------------------------------------------------------------------------
def _field(
    fid: str, value: int | float | None, raw: str, status: str = "accepted", **kw
) -> FieldValue:
    return FieldValue(
        id=fid, value=value, raw=raw, confidence=kw.pop("confidence", 0.97), status=status, **kw
    )


def gov_2021_result(sha: str = SHA_2021) -> ExtractionResult:
    """A crawled page holding a 2023 gov-2021 report and an older narrative one."""
    fields = [
        _field(
            "requests.new.natural_person",
            9,
            "9",
            page=2,
            bbox=(412.0, 233.5, 460.0, 251.0),
            row_label="一、本年新收政府信息公开申请数量",
            col_label="自然人",
            source="pdf_text",
        ),
        _field("requests.new.commercial", 0, "0", page=2),
        _field(
            NEEDS_REVIEW_ID,
            None,
            "",
            "needs_review",
            confidence=0.4,
            page=2,
            reasons=["blank cell", "rule requests.balance.natural_person fails"],
            suggestion=0,
            row_label="二、上年结转政府信息公开申请数量",
            col_label="自然人",
        ),
        _field("requests.total.natural_person", 7, "7", page=2),
        _field("requests.carried_forward.natural_person", 2, "２", page=3),
        _field("active.fees.amount_wan", 60.62, "60.62万元", page=1),
        _field("active.licensing.decisions", 1480, "1,480", page=1),
        _field("appeals.review.total", 1, "1", page=3),
    ]
    checks = [
        CheckResult(
            rule="requests.balance.natural_person",
            ok=False,
            detail="9 + ? ≠ 7 + 2",
            fields=[
                "requests.new.natural_person",
                NEEDS_REVIEW_ID,
                "requests.total.natural_person",
                "requests.carried_forward.natural_person",
            ],
        ),
        CheckResult(
            rule="appeals.review.sum",
            ok=True,
            detail="1 = 0 + 0 + 0 + 1",
            fields=["appeals.review.total"],
        ),
    ]
    tabular = Report(
        agency="聊城市卫生健康委员会",
        year=2023,
        template="gov-2021",
        kind="tabular",
        title="聊城市卫生健康委员会2023年政府信息公开工作年度报告",
        fields=fields,
        checks=checks,
        unmapped=[
            UnmappedCell(
                table="active",
                row_label="其他对外管理服务事项",
                col_label="本年处理决定数量",
                raw="3",
                page=1,
            )
        ],
    )
    narrative = Report(agency="聊城市卫生健康委员会", year=2012, kind="narrative")
    return ExtractionResult(
        source=SourceInfo(
            name="lc-wjw-2023.html", sha256=sha, media_type="text/html", size_bytes=48213
        ),
        pipeline_version="0.1.0",
        reports=[tabular, narrative],
    )


def legacy_result() -> ExtractionResult:
    report = Report(
        agency="昌乐县人民政府",
        year=2015,
        template="legacy-stat",
        kind="tabular",
        fields=[
            _field("legacy.requests.received", 12, "12", page=4),
            _field("legacy.fees_wan", 0.0, "0", page=4),
            _field("legacy.org.budget_wan", 1480.8758, "1480.8758万元", page=4),
        ],
    )
    return ExtractionResult(
        source=SourceInfo(
            name="cl-2015.pdf", sha256=SHA_LEGACY, media_type="application/pdf", pages=5
        ),
        reports=[report],
    )


def broken_result(sha: str = SHA_BROKEN) -> ExtractionResult:
    return ExtractionResult(
        source=SourceInfo(name="broken.pdf", sha256=sha, media_type="application/pdf"),
        error=StageError(
            stage="read", kind="PdfiumError", message="Failed to load document (data format error)"
        ),
        pipeline_version="0.1.0",
    )


# ---------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------
def _sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ops' / 'gongkai.sqlite'}"


@pytest.fixture
def store(db_url: str) -> Iterator[OperationalStore]:
    with OperationalStore(db_url) as s:
        s.migrate()
        yield s


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[OperationalStore]:
    with OperationalStore(_sqlite_url(tmp_path)) as s:
        s.migrate()
        yield s


@contextmanager
def on_statement(store: OperationalStore, table: str, action: Callable[[], None]) -> Iterator[None]:
    """Runs `action` on this store's engine just before each INSERT INTO `table` (in the
    thread that saves): a real save, stopped or failed by the database layer mid-transaction."""
    insert = re.compile(rf"\s*INSERT INTO {table}\b", re.IGNORECASE)

    def before(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if insert.match(statement):
            action()

    sa.event.listen(store.engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", before)


def _raise(error: Exception) -> None:
    raise error


def _queue_id(store: OperationalStore) -> int:
    (item,) = store.open_review_items()
    return item.queue_id


# ---------------------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------------------
def test_migrate_creates_tables_and_indexes(store: OperationalStore) -> None:
    inspector = sa.inspect(store.engine)
    assert set(op_module.TABLES) | {"alembic_version"} <= set(inspector.get_table_names())
    indexes = {
        ix["name"] for t in ("fields", "reports", "review_queue") for ix in inspector.get_indexes(t)
    }
    assert {"ix_fields_field_id", "ix_reports_year", "ix_reports_agency_key", "ix_review_queue_state"} <= indexes
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == op_module.head_revision()
    store.migrate()  # a second upgrade is a no-op


def test_tables_match_migration(store: OperationalStore) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), op_module.metadata)
    assert diff == []


# ---------------------------------------------------------------------------------------
# save / load
# ---------------------------------------------------------------------------------------
def test_save_then_load_round_trips(store: OperationalStore) -> None:
    result = gov_2021_result()
    outcome = store.save_result(
        result, path="/data/lc-wjw-2023.html", source_url="http://wjw.liaocheng.gov.cn/x"
    )
    assert (outcome.outcome, outcome.reports, outcome.fields, outcome.review_items) == (
        "inserted",
        2,
        8,
        1,
    )

    loaded = store.load_result(SHA_2021)
    assert loaded.model_dump(mode="json", by_alias=True) == result.model_dump(
        mode="json", by_alias=True
    )
    fees, count = (
        loaded.reports[0].field("active.fees.amount_wan"),
        loaded.reports[0].field("active.licensing.decisions"),
    )
    assert isinstance(count.value, int) and isinstance(fees.value, float)

    doc = store.get_document(SHA_2021)
    assert (
        doc.path == "/data/lc-wjw-2023.html" and doc.source_url == "http://wjw.liaocheng.gov.cn/x"
    )


def test_amounts_stay_float_counts_int(store: OperationalStore) -> None:
    store.save_result(legacy_result())
    report = store.load_result(SHA_LEGACY).reports[0]
    assert type(report.field("legacy.requests.received").value) is int
    assert type(report.field("legacy.fees_wan").value) is float
    assert report.field("legacy.org.budget_wan").value == 1480.8758


def test_same_sha_twice_changes_nothing(store: OperationalStore) -> None:
    first = store.save_result(gov_2021_result())
    before = store.table_counts()
    again = store.save_result(gov_2021_result(), path="/elsewhere/copy.html")
    assert again.outcome == "unchanged" and again.document_id == first.document_id
    assert store.table_counts() == before
    assert store.get_document(SHA_2021).path is None


def test_concurrent_saves_of_one_file_store_it_once(store: OperationalStore) -> None:
    barrier = threading.Barrier(4)

    def save() -> str:
        barrier.wait()
        return store.save_result(gov_2021_result()).outcome

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(lambda _: save(), range(4)))
    assert outcomes == ["inserted", "unchanged", "unchanged", "unchanged"]
    assert store.table_counts()["documents"] == 1


def test_error_document_is_stored_without_reports(store: OperationalStore) -> None:
    outcome = store.save_result(broken_result())
    assert (outcome.outcome, outcome.reports) == ("inserted", 0)
    doc = store.get_document(SHA_BROKEN)
    assert (doc.error_stage, doc.error_kind) == ("read", "PdfiumError")
    assert store.table_counts()["reports"] == 0
    assert store.load_result(SHA_BROKEN) == broken_result()


def test_stored_failure_gives_way_to_a_later_success(store: OperationalStore) -> None:
    store.save_result(broken_result(SHA_2021))
    assert store.save_result(broken_result(SHA_2021)).outcome == "unchanged"
    assert store.save_result(gov_2021_result()).outcome == "replaced"
    assert store.get_document(SHA_2021).error_stage is None
    assert store.table_counts()["documents"] == 1


def test_failed_save_leaves_nothing_half_written(store: OperationalStore) -> None:
    store.save_result(legacy_result())
    before = store.table_counts()

    # The database fails the checks insert: the document, report and fields rows of the new
    # result were inserted before it, in the same transaction.
    with on_statement(store, "checks", lambda: _raise(RuntimeError("disk on fire"))):
        with pytest.raises(RuntimeError, match="disk on fire"):
            store.save_result(gov_2021_result())

    assert store.get_document(SHA_2021) is None
    assert store.table_counts() == before
    assert store.load_result(SHA_LEGACY) == legacy_result()


def test_postgres_url_without_the_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # makes `import psycopg` fail, as without the extra
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'gongkai\[postgres\]'"):
        OperationalStore("postgresql+psycopg://reader@127.0.0.1:1/gongkai")


def test_duplicate_field_ids_are_refused(store: OperationalStore) -> None:
    result = gov_2021_result()
    result.reports[0].fields.append(result.reports[0].fields[0])
    with pytest.raises(ValueError, match="requests.new.natural_person"):
        store.save_result(result)
    assert store.table_counts()["documents"] == 0


# ---------------------------------------------------------------------------------------
# Review queue
# ---------------------------------------------------------------------------------------
def test_needs_review_field_lands_in_queue(store: OperationalStore) -> None:
    store.save_result(gov_2021_result())
    (item,) = store.open_review_items()
    assert item.field.field_id == NEEDS_REVIEW_ID
    assert item.reasons == ["blank cell", "rule requests.balance.natural_person fails"]
    assert (item.field.sha256, item.field.year, item.field.suggestion) == (SHA_2021, 2023, 0)
    assert item.field.row_label == "二、上年结转政府信息公开申请数量"


def test_review_item_carries_the_scanned_cell_image(store: OperationalStore) -> None:
    result = gov_2021_result()
    png = b"\x89PNG\r\n\x1a\n cell pixels"
    result.reports[0].crops = {NEEDS_REVIEW_ID: png}
    store.save_result(result)
    (item,) = store.open_review_items()
    assert item.crop_png == png


def test_apply_correction_sets_value_keeps_raw(store: OperationalStore) -> None:
    store.save_result(gov_2021_result())
    queue_id = _queue_id(store)
    store.apply_correction(queue_id, 0, reviewer="wang", note="blank means none")

    corrected = store.load_result(SHA_2021).reports[0].field(NEEDS_REVIEW_ID)
    assert (corrected.value, corrected.raw, corrected.status) == (0, "", "corrected")
    assert store.open_review_items() == []
    with pytest.raises(ReviewItemNotOpen):
        store.apply_correction(queue_id, 5, reviewer="li")
    with pytest.raises(KeyError):
        store.apply_correction(queue_id + 1000, 5, reviewer="li")

    # Re-processing the same file must not undo the reviewer's work.
    assert store.save_result(gov_2021_result()).outcome == "unchanged"
    assert store.load_result(SHA_2021).reports[0].field(NEEDS_REVIEW_ID).status == "corrected"


def test_iter_fields_filters(store: OperationalStore) -> None:
    store.save_result(gov_2021_result())
    store.save_result(legacy_result())
    assert len(list(store.iter_fields())) == 11
    requests = list(store.iter_fields(table="requests", statuses=["accepted"]))
    assert {f.field_id for f in requests} == {
        "requests.new.natural_person",
        "requests.new.commercial",
        "requests.total.natural_person",
        "requests.carried_forward.natural_person",
    }
    (legacy,) = store.iter_fields(year=2015, field_id="legacy.fees_wan")
    assert (legacy.agency, legacy.template, legacy.value) == ("昌乐县人民政府", "legacy-stat", 0.0)


# ---------------------------------------------------------------------------------------
# SQLite specifics: shared by the pipeline, the review app and the crawler
# ---------------------------------------------------------------------------------------
def test_sqlite_connection_settings(sqlite_store: OperationalStore) -> None:
    with sqlite_store.engine.connect() as conn:
        def pragma(name: str) -> object:
            return conn.exec_driver_sql(f"PRAGMA {name}").scalar()

        assert pragma("journal_mode") == "wal"
        assert pragma("busy_timeout") == op_module.SQLITE_BUSY_TIMEOUT_MS
        assert pragma("foreign_keys") == 1


def _hold_write_lock(
    store: OperationalStore,
    result: ExtractionResult,
    locked: threading.Event,
    release: threading.Event,
) -> None:
    """Saves `result`, its transaction kept open (document and report written) until `release` is set."""

    def hold() -> None:
        locked.set()
        release.wait(10)

    with on_statement(store, "fields", hold):
        store.save_result(result)


def test_sqlite_reader_thread_reads_while_writer_holds_lock(sqlite_store: OperationalStore) -> None:
    sqlite_store.save_result(legacy_result())
    locked, release = threading.Event(), threading.Event()
    writer = threading.Thread(
        target=_hold_write_lock, args=(sqlite_store, gov_2021_result(), locked, release)
    )
    writer.start()
    try:
        assert locked.wait(10)
        reader = OperationalStore(sqlite_store.url)  # like the review app: its own engine
        with ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            seen = pool.submit(
                lambda: (reader.get_document(SHA_LEGACY), reader.get_document(SHA_2021))
            ).result(5)
        assert time.monotonic() - started < 2  # WAL: the reader did not wait for the writer
        assert seen[0] is not None and seen[1] is None  # and it saw only committed data
    finally:
        release.set()
        writer.join()
    assert reader.get_document(SHA_2021) is not None
    reader.close()


def test_sqlite_second_writer_waits_instead_of_failing(sqlite_store: OperationalStore) -> None:
    locked, release = threading.Event(), threading.Event()
    writer = threading.Thread(
        target=_hold_write_lock, args=(sqlite_store, legacy_result(), locked, release)
    )
    writer.start()
    assert locked.wait(10)
    threading.Timer(0.5, release.set).start()
    other = OperationalStore(sqlite_store.url)
    started = time.monotonic()
    assert other.save_result(gov_2021_result()).outcome == "inserted"
    assert time.monotonic() - started >= 0.4  # it waited on busy_timeout
    writer.join()
    other.close()
    assert sqlite_store.table_counts()["documents"] == 2


def test_sqlite_lock_held_past_the_busy_timeout_is_store_busy(sqlite_store: OperationalStore) -> None:
    """The flow retries StoreBusy; SQLite's other errors are not worth a retry and stay SQLAlchemy's."""
    holder = OperationalStore(sqlite_store.url)
    other = OperationalStore(sqlite_store.url)
    try:
        with holder.engine.connect() as held:
            held.execution_options(sqlite_begin="IMMEDIATE")
            with held.begin(), other.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA busy_timeout = 0")  # give up at once, not after 30 s
                conn.commit()
                conn.execution_options(sqlite_begin="IMMEDIATE")
                with pytest.raises(StoreBusy, match="locked"):
                    conn.begin()
            with pytest.raises(sa.exc.OperationalError):
                held.exec_driver_sql("SELECT * FROM no_such_table")
    finally:
        holder.close()
        other.close()


# ---------------------------------------------------------------------------------------
# Analytics (DuckDB)
# ---------------------------------------------------------------------------------------
def _filled(store: OperationalStore) -> OperationalStore:
    store.save_result(gov_2021_result())
    store.save_result(legacy_result())
    store.save_result(broken_result())
    return store


def test_load_analytics_keeps_needs_review_out(store: OperationalStore, tmp_path: Path) -> None:
    db = tmp_path / "analytics.duckdb"
    counts = load_analytics(_filled(store), db, find_anomalies=find_anomalies)
    assert counts == {
        "reports": 3,
        "field_values": 10,
        "wide_active": 1,
        "wide_requests": 1,
        "wide_appeals": 1,
        "wide_legacy": 1,
        "panel": 11,  # every stored field, the one in review too (flagged by its status)
        "checks": 2,
        "anomalies": 0,
    }
    con = duckdb.connect(str(db), read_only=True)
    try:
        ids = {r[0] for r in con.execute("SELECT field_id FROM field_values").fetchall()}
        assert NEEDS_REVIEW_ID not in ids and "requests.new.natural_person" in ids
        row = con.execute(
            "SELECT template, requests__new__natural_person,"
            " requests__carried_over__natural_person FROM wide_requests"
        ).fetchone()
        assert row == ("gov-2021", 9.0, None)  # the column exists, NULL until reviewed
        assert con.execute("SELECT legacy__org__budget_wan FROM wide_legacy").fetchone() == (
            1480.8758,
        )
        assert con.execute("SELECT count(*) FROM reports WHERE kind = 'narrative'").fetchone() == (
            1,
        )
    finally:
        con.close()


def test_corrected_value_reaches_analytics(store: OperationalStore, tmp_path: Path) -> None:
    db = tmp_path / "analytics.duckdb"
    load_analytics(_filled(store), db, find_anomalies=find_anomalies)
    store.apply_correction(_queue_id(store), 0, reviewer="wang")
    counts = load_analytics(
        store, db, find_anomalies=find_anomalies, field_ids=["requests.granted.total"]
    )  # rebuild in place
    assert counts["field_values"] == 11
    con = duckdb.connect(str(db), read_only=True)
    try:
        status = con.execute(
            "SELECT status, value FROM field_values WHERE field_id = ?", [NEEDS_REVIEW_ID]
        ).fetchone()
        assert status == ("corrected", 0.0)
        wide = con.execute(
            "SELECT requests__carried_over__natural_person, requests__granted__total"
            " FROM wide_requests"
        )
        assert wide.fetchone() == (0.0, None)
    finally:
        con.close()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_is_readable_by_duckdb(
    sqlite_store: OperationalStore, tmp_path: Path, fmt: str
) -> None:
    db = tmp_path / "analytics.duckdb"
    counts = load_analytics(_filled(sqlite_store), db, find_anomalies=find_anomalies)
    paths = export_analytics(db, tmp_path / "export", fmt)  # type: ignore[arg-type]
    assert {p.name for p in paths} == {f"{t}.{fmt}" for t in counts}
    reader = "read_parquet" if fmt == "parquet" else "read_csv"
    con = duckdb.connect()  # in-memory: reads the exported files only
    for path in paths:
        n = con.execute(f"SELECT count(*) FROM {reader}(?)", [str(path)]).fetchone()[0]
        assert n == counts[path.stem], path
    names = con.execute(
        f"SELECT name FROM {reader}(?) ORDER BY name", [str(tmp_path / "export" / f"reports.{fmt}")]
    )
    assert [r[0] for r in names.fetchall()] == [
        "cl-2015.pdf",
        "lc-wjw-2023.html",
        "lc-wjw-2023.html",
    ]
    wide = con.execute(
        f"SELECT requests__new__natural_person FROM {reader}(?)",
        [str(tmp_path / "export" / f"wide_requests.{fmt}")],
    ).fetchall()
    assert wide == [(9.0,)]
    con.close()


def test_export_needs_a_loaded_store(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        export_analytics(tmp_path / "missing.duckdb", tmp_path / "out", "csv")
