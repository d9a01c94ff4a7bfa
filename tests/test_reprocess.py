"""Re-processing keeps people's work: `gongkai run --reprocess` on the store (SQLite and
PostgreSQL), through the flow's tasks (.fn(): no Prefect start), and one real flow run."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from review_samples import RULE_FIELDS, UNRECOGNISED_FIELD, WRONG_CELL, broken_html, broken_result

from gongkai.models.review import QueueFilter, User
from gongkai.review.errors import VersionConflict
from gongkai.review.rules import recheck_document
from gongkai.review.service import ReviewService

PASSWORD = "correct horse battery"


@pytest.fixture
def service(db_url: str) -> Iterator[ReviewService]:
    svc = ReviewService(db_url)
    yield svc
    svc.close()


@pytest.fixture
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.getbasetemp() / "review-samples"
    path.mkdir(exist_ok=True)
    return path


def _item(service: ReviewService, actor: User, field_id: str) -> int:
    return next(i.id for i in service.queue(actor, QueueFilter()) if i.field_id == field_id)


def _reprocess(service: ReviewService, result) -> None:  # noqa: ANN001
    outcome = service.store.save_result(result, reprocess=True)
    assert outcome.outcome == "reprocessed"
    recheck_document(service.store, outcome.document_id)


def test_reprocess_keeps_a_correction_and_raises_a_conflict_item(service: ReviewService, folder: Path) -> None:
    service.store.save_result(broken_result(folder))
    wang = service.add_user(None, "wang", "reviewer", PASSWORD)
    boss = service.add_user(None, "boss", "admin", PASSWORD)
    corrected = service.correct(wang, _item(service, wang, WRONG_CELL), 13)
    report_id = corrected.item.report_id
    assert service.store.save_result(broken_result(folder)).outcome == "unchanged"  # a plain run: nothing

    _reprocess(service, broken_result(folder))  # the pipeline still reads 31 where wang set 13
    cells = {c.field_id: c for c in service.report(wang, report_id).cells}
    assert (cells[WRONG_CELL].value, cells[WRONG_CELL].status) == (13, "corrected")  # the human value wins
    (conflict,) = [i for i in service.queue(wang, QueueFilter()) if i.field_id == WRONG_CELL]
    assert conflict.id != corrected.item.id and conflict.state == "open"
    assert conflict.reasons[0].startswith("pipeline now reads 31") and "wang set 13" in conflict.reasons[0]
    # the machine routed the other fields to review again (its 31 breaks the rules), the
    # recheck on the human 13 confirms them by rule: no item for them
    assert all(cells[f].status == "accepted" for f in RULE_FIELDS)
    assert {i.field_id for i in service.queue(wang, QueueFilter()) if i.kind == "field"} == {
        WRONG_CELL,
        UNRECOGNISED_FIELD,
    }
    assert len([i for i in service.queue(wang, QueueFilter()) if i.kind == "unmapped"]) == 1  # not twice
    changed = [a for a in service.audit(boss, limit=1000) if a.action == "pipeline_changed"]
    assert changed and all(a.user is None for a in changed)
    assert any(a.field_id == WRONG_CELL and (a.old_value, a.new_value) == (13, 31) for a in changed)
    # the reviewer settles it: confirming keeps 13
    done = service.confirm(wang, conflict.id)
    assert done.item.value == 13


def test_a_reviewer_saving_a_replaced_item_gets_a_conflict(service: ReviewService, folder: Path) -> None:
    service.store.save_result(broken_result(folder))
    wang = service.add_user(None, "wang", "reviewer", PASSWORD)
    item_id = _item(service, wang, WRONG_CELL)
    seen = service.item(wang, item_id)
    newer = broken_result(folder)  # as if a better pipeline now read the cell as 32
    newer.reports[0].field(WRONG_CELL).value = 32
    newer.reports[0].field(WRONG_CELL).raw = "32"
    _reprocess(service, newer)
    now = service.item(wang, item_id)
    assert now.version > seen.version and now.value == 32
    with pytest.raises(VersionConflict):
        service.correct(wang, item_id, 13, version=seen.version)
    assert service.correct(wang, item_id, 13, version=now.version).item.value == 13


@pytest.mark.flow
def test_reprocess_through_the_flow_tasks(tmp_path: Path, folder: Path) -> None:
    from gongkai.flows.process_documents import extract_task, store_task

    path = broken_html(tmp_path)
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    svc = ReviewService(url)
    assert store_task.fn(extract_task.fn(str(path)), str(path), url)["outcome"] == "inserted"
    wang = svc.add_user(None, "wang", "reviewer", PASSWORD)
    svc.correct(wang, _item(svc, wang, WRONG_CELL), 13)
    saved = store_task.fn(extract_task.fn(str(path)), str(path), url, reprocess=True)
    assert (saved["outcome"], saved["conflicts"]) == ("reprocessed", 1)
    (item,) = [i for i in svc.queue(wang, QueueFilter()) if i.kind == "field" and i.field_id != UNRECOGNISED_FIELD]
    assert item.field_id == WRONG_CELL and item.value == 13 and "pipeline now reads 31" in item.reasons[0]
    svc.close()


@pytest.mark.slow
@pytest.mark.flow
def test_gongkai_run_reprocess_publishes_the_queue(tmp_path: Path, prefect_home: Path) -> None:
    from gongkai.flows.process_documents import run_flow

    path = broken_html(tmp_path)
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    first = run_flow([path], url, tmp_path / "a.duckdb", progress=False)
    assert first["inserted"] == 1 and first["open_review_items"] == 12
    svc = ReviewService(url)
    wang = svc.add_user(None, "wang", "reviewer", PASSWORD)
    svc.correct(wang, _item(svc, wang, WRONG_CELL), 13)
    again = run_flow([path], url, tmp_path / "a.duckdb", progress=False, reprocess=True)
    assert again["reprocessed"] == 1 and again["conflicts"] == 1 and again["open_review_items"] == 3
    svc.close()
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        (latest,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["process-documents-summary"])),
            sort="CREATED_DESC", limit=1)
    assert "## Open review queue by reason" in latest.data
    assert (
        "| its row was not recognised: 其他对外管理服务事项 | 2 |" in latest.data
    )  # the unmapped row and its template row's field
    assert "| pipeline now reads 31" in latest.data
