"""A reviewer maps an unknown printed row once; the next document printing it is mapped.

The whole loop on real parts: extraction (the flow's task functions), the store, the review
service's map_row, the store's learned labels handed back to extraction, the cache key.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from gongkai.flows.process_documents import extract_task, file_cache_key, store_task
from gongkai.models.review import QueueFilter
from gongkai.review.service import ReviewService

pytestmark = pytest.mark.flow  # the flow's task functions

ROOT = Path(__file__).resolve().parents[1]
RENDERED = ROOT / "samples" / "rendered"
LABEL = "2.没有现成信息需要另行制作"
UNKNOWN = "2.甲乙丙丁戊己庚辛"
ROW = "unavailable.needs_creation"


def _with_unknown_label(source: Path, folder: Path) -> Path:
    html = source.read_text(encoding="utf-8")
    assert html.count(f"<td>{LABEL}</td>") == 1
    path = folder / source.name
    path.write_text(html.replace(f"<td>{LABEL}</td>", f"<td>{UNKNOWN}</td>"), encoding="utf-8")
    return path


def test_a_mapped_row_label_maps_that_row_on_the_next_document(tmp_path: Path) -> None:
    first = _with_unknown_label(RENDERED / "000_liaocheng_wjw_2022.html", tmp_path)
    second = _with_unknown_label(RENDERED / "000_liaocheng_wjw_2021.html", tmp_path)
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    service = ReviewService(url, tmp_path / "analytics.duckdb")
    try:
        service.store.migrate()
        store_task.fn(extract_task.fn(str(first), service.store.learned_labels()), str(first), url)
        reviewer = service.add_user(None, "wang", "reviewer", "correct horse battery")
        (item,) = [i for i in service.queue(reviewer, QueueFilter()) if i.kind == "unmapped"]
        assert service.item(reviewer, item.id).row_label == UNKNOWN
        service.map_row(reviewer, item.id, ROW)
        learned = service.store.learned_labels()
        assert [(x.template, x.table, x.row_id, x.label) for x in learned] == [("gov-2021", "requests", ROW, UNKNOWN)]

        before = extract_task.fn(str(second), [])
        after = extract_task.fn(str(second), learned)
        (old,), (new,) = ([r for r in res.reports if r.kind == "tabular"] for res in (before, after))
        assert {u.row_label for u in old.unmapped} == {UNKNOWN}
        assert new.unmapped == []
        row_fields = [f for f in new.fields if f.id.startswith(f"requests.{ROW}.")]
        assert len(row_fields) == 7 and all(f.row_label == UNKNOWN and f.value is not None for f in row_fields)
        assert all(f.status == "accepted" for f in row_fields)
        assert file_cache_key(None, {"path": str(second), "learned": []}) != file_cache_key(
            None, {"path": str(second), "learned": learned})
    finally:
        service.close()
