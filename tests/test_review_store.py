"""The review parts of the store: migration 0002 -> 0003 with data, page images, crops,
the learned labels the flow reads. SQLite and PostgreSQL (see tests/pg.py)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from review_samples import WRONG_CELL, broken_result

from gongkai.models.review import QueueFilter
from gongkai.review.service import ReviewService
from gongkai.store import operational as op_module
from gongkai.store.operational import OperationalStore, alembic_config, head_revision


@pytest.fixture
def url(db_url: str) -> str:
    return db_url


@pytest.fixture
def store_at_0002(url: str) -> Iterator[OperationalStore]:
    store = OperationalStore(url)
    cfg = alembic_config()
    with store._write_transaction() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    yield store
    store.close()


def _fill_0002(store: OperationalStore) -> None:
    """A stored HTML report at revision 0002: one corrected field, one still open, an unmapped row."""
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    with store._write_transaction() as conn:
        ex = lambda sql, **kw: conn.execute(sa.text(sql), kw)  # noqa: E731
        ex("INSERT INTO documents (id, sha256, name, media_type, result_schema, created_at)"
           " VALUES (1, :sha, 'lc.html', 'text/html', 'report-extraction/1', :now)", sha="a1" * 32, now=now)
        ex("INSERT INTO reports (id, document_id, ordinal, year, template, kind)"
           " VALUES (1, 1, 0, 2021, 'gov-2021', 'tabular')")
        for pk, fid, value, status in ((1, "requests.new.natural_person", 13, "corrected"),
                                       (2, "requests.new.total", None, "needs_review"),
                                       (3, "requests.new.commercial", 0, "accepted")):
            ex("INSERT INTO fields (id, report_id, field_id, value, raw, confidence, status, reasons, source)"
               " VALUES (:pk, 1, :fid, :v, '', 0.9, :st, '[]', 'html')", pk=pk, fid=fid, v=value, st=status)
        ex("INSERT INTO review_queue (id, field_pk, reasons, state, created_at, resolved_at, reviewer,"
           " corrected_value) VALUES (1, 1, '[\"x\"]', 'resolved', :now, :now, 'wang', 13)", now=now)
        ex("INSERT INTO review_queue (id, field_pk, reasons, state, created_at, crop_png)"
           " VALUES (2, 2, '[\"blank cell\"]', 'open', :now, :png)", now=now, png=b"\x89PNG")
        for col, raw in (("本年处理决定数量", "3"), ("备注", "无")):
            ex("INSERT INTO unmapped (report_id, table_id, row_label, col_label, raw, page)"
               " VALUES (1, 'active', '其他对外管理服务事项', :col, :raw, 2)", col=col, raw=raw)
        if not store.is_sqlite:  # the ids above were given, so the sequences did not move
            for table in ("documents", "reports", "fields", "review_queue"):
                ex(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def test_upgrade_0002_to_0003_keeps_and_completes_the_data(store_at_0002: OperationalStore) -> None:
    store = store_at_0002
    _fill_0002(store)
    store.migrate()
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()
        assert compare_metadata(MigrationContext.configure(conn), op_module.metadata) == []
        rows = conn.execute(sa.text(
            "SELECT id, kind, report_id, version, state, field_pk, crop_png IS NOT NULL, row_label, page"
            " FROM review_queue ORDER BY id")).all()
        reviewed = conn.execute(sa.text("SELECT field_id, reviewed_by FROM fields ORDER BY id")).all()
        kind = conn.execute(sa.text("SELECT source_kind FROM reports")).scalar_one()
    assert [tuple(r) for r in rows] == [
        (1, "field", 1, 1, "resolved", 1, False, None, None),
        (2, "field", 1, 1, "open", 2, True, None, None),
        (3, "unmapped", 1, 1, "open", None, False, "其他对外管理服务事项", 2),
    ]
    assert [tuple(r) for r in reviewed] == [
        ("requests.new.natural_person", "wang"), ("requests.new.total", None), ("requests.new.commercial", None)]
    assert kind == "web"
    # the migrated queue works with the service
    svc = ReviewService(store.url)
    wang = svc.add_user(None, "wang", "reviewer", "correct horse battery")
    items = svc.queue(wang, QueueFilter())
    assert [i.kind for i in items] == ["field", "unmapped"] and items[1].raw == "3 | 无"
    assert svc.crop(wang, 2) == b"\x89PNG"
    assert svc.correct(wang, 2, 13, version=1).item.state == "resolved"
    svc.close()


def test_page_images_and_crops_are_stored(url: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.getbasetemp() / "review-samples"
    folder.mkdir(exist_ok=True)
    result = broken_result(folder)
    report = result.reports[0]
    report.page_images = {1: b"\x89PNG page one", 2: b"\x89PNG page two"}
    report.crops = {WRONG_CELL: b"\x89PNG cell"}
    svc = ReviewService(url)
    svc.store.save_result(result)
    wang = svc.add_user(None, "wang", "reviewer", "correct horse battery")
    item = next(i for i in svc.queue(wang, QueueFilter()) if i.field_id == WRONG_CELL)
    detail = svc.item(wang, item.id)
    assert detail.has_crop and svc.crop(wang, item.id) == b"\x89PNG cell"
    assert detail.row_label == "一、本年新收政府信息公开申请数量" and detail.col_label == "自然人"
    assert {c.rule for c in detail.failed_checks} == {"requests.balance.natural_person", "requests.row.new"}
    view = svc.report(wang, item.report_id)
    assert view.pages == [1, 2] and not view.complete
    assert svc.page_image(wang, item.report_id, 2) == b"\x89PNG page two"
    assert svc.page_image(wang, item.report_id, 3) is None
    assert len(view.cells) == len(report.fields)
    svc.close()
