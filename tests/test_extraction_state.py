"""The one extraction state: each stage returns a new state and leaves what earlier stages made
as it was; the state's status says what the result's does, in its own words."""
from pathlib import Path

import pytest

from gongkai.extractors.detect import describe_source
from gongkai.extractors.pipeline import STAGES, extract_file, read
from gongkai.models import ExtractionState, PageError, SourceInfo, StageError
from samples import ROOT, seed


def _read(path: Path) -> ExtractionState:
    return read(ExtractionState(source=describe_source(path), path=path))


def test_stages_leave_earlier_states_as_they_were() -> None:
    states = [_read(seed("001"))]
    for stage in STAGES:
        states.append(stage(states[-1]))
    mapped, checked, routed = states[3], states[4], states[5]
    before = [f.model_dump() for r in mapped.reports for f in r.report.fields]
    assert all(f.status == "needs_review" and not f.suggestion for r in mapped.reports for f in r.report.fields)
    assert routed.reports[0].report.fields != mapped.reports[0].report.fields  # route decided, on its own copies
    assert [f.model_dump() for r in mapped.reports for f in r.report.fields] == before
    assert not any(a is b for a, b in zip(checked.reports[0].report.fields, routed.reports[0].report.fields))
    assert routed.to_result().model_dump() == extract_file(seed("001")).model_dump()


def test_tables_carry_how_they_were_found() -> None:
    state = _read(seed("001"))
    assert state.tables and {t.method for t in state.tables} == {"txt"}
    assert all(t.quality is None for t in state.tables)


def test_status_follows_the_result_rule() -> None:
    source = SourceInfo(name="x.txt", sha256="", media_type="text/plain")
    assert ExtractionState(source=source).status == "success"
    lost = PageError(page=2, stage="ocr", kind="undecodable", message="page 2")
    assert ExtractionState(source=source, page_errors=[lost]).status == "partial"
    failed = StageError(stage="read", kind="corrupt", message="no")
    assert ExtractionState(source=source, error=failed, page_errors=[lost]).status == "failure"
    assert ExtractionState(source=source, error=failed).to_result().status == "failed"


@pytest.mark.slow
def test_a_scanned_table_without_rules_says_how_it_was_rebuilt() -> None:
    state = _read(ROOT / "samples" / "scans" / "004_helan_wjj_2017_lineless.png")
    (table,) = state.tables
    assert table.method == "aligned" and table.quality is not None and "alignment" in table.quality
    assert [p.number for p in state.pages] == [1] and state.pages[0].image is not None  # the image the crops cut
    assert state.pages[0].dpi == pytest.approx(112, abs=0.5)  # as the PNG says (pHYs)
