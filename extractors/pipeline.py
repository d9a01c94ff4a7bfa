"""The extraction stages over one state: read → segment → classify → map → check → route.

Each stage is `(ExtractionState) -> ExtractionState` (models/extraction.py) and returns a new
state; what an earlier stage made is read, not changed (a stage copies what it fills in).
flows/ wraps these in Prefect tasks; the CLI's `extract` calls `extract_file` directly.
Every failure of a document ends up in that document's result, never as an exception.
"""
from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gongkai import __version__
from gongkai.models import (
    Document,
    ExtractionResult,
    ExtractionState,
    FieldValue,
    LearnedLabel,
    PageState,
    Report,
    ReportState,
    SourceInfo,
    StageError,
    Template,
)

from .agency import agency_key
from .checks import run_checks, suggest_blanks
from .classify import detect_agency, detect_kind, detect_template, detect_year, report_title
from .completeness import missing_fields
from .degradation import page_errors_of, page_notes_of
from .detect import MEDIA_TYPES, describe_source, detect_media_type
from .flattened import read_flattened
from .mapping import TableMapping, map_template
from .narrative import find_statements, narrative_checks, narrative_text
from .readers import read_document
from .readers.base import ReaderError
from .routing import route_fields
from .rows import comparison_years, logical_rows
from .scan.crops import page_pngs, review_crops
from .segment import split_reports

log = logging.getLogger(__name__)
PIPELINE_VERSION = __version__
Stage = Callable[[ExtractionState], ExtractionState]


def extract_file(path: Path, learned: Sequence[LearnedLabel] = ()) -> ExtractionResult:
    """One file's result; `learned`: reviewers' label variants, each one more alias of its template row."""
    try:
        source = describe_source(path)
    except ReaderError as exc:  # a FIFO or device: refused before anything opens it
        guessed = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
        unread = SourceInfo(name=path.name, sha256="", media_type=guessed)
        return failed(ExtractionState(source=unread), "read", exc.kind, exc.message).to_result()
    state = read(ExtractionState(source=source, path=path, learned=list(learned), pipeline_version=PIPELINE_VERSION))
    if state.document is None:
        return state.to_result()
    try:
        return extract_state(state).to_result()
    except Exception as exc:
        log.exception("extraction failed on %s", path)
        return failed(
            ExtractionState(source=state.document.source), "extract", "unexpected", _describe(exc)
        ).to_result()


def extract_document(document: Document, learned: Sequence[LearnedLabel] = ()) -> ExtractionResult:
    """A document a reader has already read, through the stages after `read`."""
    return extract_state(state_of(document, learned)).to_result()


def extract_state(state: ExtractionState) -> ExtractionState:
    for stage in STAGES:
        state = stage(state)
        if state.error is not None:
            break
    return state


def read(state: ExtractionState) -> ExtractionState:
    """The file into a Document: its pages, blocks and what could not be read; a reader's failure is the
    state's error."""
    assert state.path is not None  # extract_file starts every state it reads with its path
    source = state.source
    try:
        source = source.model_copy(update={"media_type": detect_media_type(state.path)})
        document = read_document(state.path)
    except ReaderError as exc:
        return failed(state.model_copy(update={"source": source}), "read", exc.kind, exc.message)
    except Exception as exc:  # a reader bug must not stop the batch
        log.exception("reader failed on %s", state.path)
        return failed(state.model_copy(update={"source": source}), "read", "unexpected", _describe(exc))
    return state_of(document, state.learned)


def state_of(document: Document, learned: Sequence[LearnedLabel] = ()) -> ExtractionState:
    """The state once `document` is read: its pages (with their images) and what reading lost."""
    pages = [PageState(page=page, image=document.page_images.get(page.number)) for page in document.pages]
    return ExtractionState(
        source=document.source, learned=list(learned), document=document, pages=pages,
        page_errors=page_errors_of(document), page_notes=page_notes_of(document), pipeline_version=PIPELINE_VERSION,
    )


def segment(state: ExtractionState) -> ExtractionState:
    """The document's blocks split into one segment per report; none is the state's error."""
    assert state.document is not None
    segments = split_reports(state.document.blocks)
    updated = state.model_copy(update={"segments": segments})
    if not segments:
        return failed(updated, "segment", "empty", "no text or tables could be read from the document")
    return updated


def classify(state: ExtractionState) -> ExtractionState:
    """Each segment's year, template, title and agency; one agency printed two ways gets one name."""
    metadata = state.document.metadata if state.document is not None else None
    reports = []
    for part in state.segments:
        year = detect_year(part)
        template = detect_template(part, year)
        title = report_title(part)
        report = Report(agency=detect_agency(part, metadata), year=year, template=template.id if template else None,
                        kind="not-a-report", title=title.group(0) if title else None)
        reports.append(ReportState(segment=part, report=report, template=template))
    unify_agency_names([r.report for r in reports])  # the reports this stage just made
    return state.model_copy(update={"reports": reports})


def map_fields(state: ExtractionState) -> ExtractionState:
    return state.model_copy(update={"reports": [map_report(r, state.learned) for r in state.reports]})


def map_report(current: ReportState, learned: Sequence[LearnedLabel] = ()) -> ReportState:
    """The template's fields from the segment's tables, or from its text where a table was flattened into
    it; the report's kind. A report that is not tabular leaves map without template, fields or mapping."""
    template, part, report = current.template, current.segment, current.report
    rows = logical_rows(part.blocks, template.tables) if template else []
    mapping = map_template(template, rows, learned) if template else None
    flat = (
        None
        if mapping and any(f.value is not None for f in mapping.fields)
        else read_flattened(part, report.year, learned)
    )
    update: dict[str, Any] = {}
    if flat is not None:  # a table flattened into text: tabular even where no run could be split
        template, mapping = flat.template, flat.mapping
        update["template"] = template.id
    if mapping is not None:
        update["fields"], update["unmapped"] = mapping.fields, mapping.unmapped
    fields = update.get("fields", report.fields)
    filled = sum(f.value is not None for f in fields)
    update["kind"] = "tabular" if flat else detect_kind(part, len(fields), filled)
    compared = comparison_years(rows)
    if compared and fields:  # template tables, but each printed for several years
        update["kind"], update["kind_reason"] = "not-a-report", comparison_note(compared)
    if update["kind"] != "tabular" or template is None or mapping is None:
        update.update(template=None, fields=[], unmapped=[])
        return ReportState(segment=part, report=report.model_copy(update=update), rows=rows)
    return ReportState(segment=part, report=report.model_copy(update=update), template=template, rows=rows,
                       mapping=mapping)


def check(state: ExtractionState) -> ExtractionState:
    return state.model_copy(update={"reports": [check_report(r) if r.tabular else r for r in state.reports]})


def check_report(current: ReportState) -> ReportState:
    """The form's rules and the report's sentences judged on the printed fields (a missing one is no
    verdict); then the suggestions for blanks, and every canonical field not found, in template order."""
    template, report = current.template, current.report
    assert template is not None
    checks = run_checks(template, report.fields)
    statements = find_statements(narrative_text(current.segment.blocks), report.year)
    checks += narrative_checks(statements, template.id, report.fields)
    found = [f.model_copy() for f in report.fields]  # suggestions are this stage's: map's fields stay as made
    fields = _suggested_and_complete(template, found, current.mapping)
    return current.model_copy(update={"report": report.model_copy(update={"checks": checks, "fields": fields})})


def route(state: ExtractionState) -> ExtractionState:
    """Which fields are accepted and which go to review, with reasons; crops of the scanned ones for review."""
    images = state.page_images()
    return state.model_copy(update={"reports": [route_report(r, images) for r in state.reports]})


def route_report(current: ReportState, images: dict[int, Any]) -> ReportState:
    report = current.report
    if current.tabular:
        fields = [f.model_copy(update={"reasons": list(f.reasons)}) for f in report.fields]  # route owns these copies
        report = report.model_copy(update={"fields": route_fields(fields, report.checks)})
    if images:
        report = report.model_copy(update={"crops": review_crops(report.fields, images),
                                           "page_images": page_pngs(report.fields, images)})
    return current.model_copy(update={"report": report})


def _suggested_and_complete(template: Template, found: list[FieldValue], mapping: TableMapping) -> list[FieldValue]:
    """The found fields with their suggestions, and every canonical field not found, in template order.

    The rules were judged on the found fields alone, so a missing field never makes a rule
    hold or fail. Suggestions for found blanks are made first, as before; a missing field
    then gets one where it is the only unknown of a rule.
    """
    suggest_blanks(template, found)
    missing = missing_fields(template, found, mapping.seen)
    everything = found + missing
    suggest_blanks(template, everything)
    order = {field_id: k for k, field_id in enumerate(template.field_ids())}
    return sorted(everything, key=lambda f: order.get(f.id, len(order)))


def comparison_note(years: list[int]) -> str:
    shown = ", ".join(str(y) for y in years)
    return f"a comparison, not a report: every template table prints several years side by side ({shown})"


def unify_agency_names(reports: list[Report]) -> None:
    """One page naming its agency two ways (…委 / …委员会, with and without its city) prints
    the longest of the names that share its key (extractors/agency.py folds the spellings), and
    that key as its agency_key: each name's key is computed once."""
    keys = {name: agency_key(name) for name in {r.agency for r in reports if r.agency}}
    for report in reports:
        report.agency_key = keys.get(report.agency) if report.agency else None
        same = [name for name, key in keys.items() if key is not None and key == report.agency_key]
        if same:
            report.agency = max(same, key=lambda n: (len(n), n))


STAGES: tuple[Stage, ...] = (segment, classify, map_fields, check, route)
"""What follows `read`, in order; a stage that sets the state's error ends the run."""


def failed(state: ExtractionState, stage: str, kind: str, message: str) -> ExtractionState:
    return state.model_copy(update={"error": StageError(stage=stage, kind=kind, message=message), "reports": [],
                                    "pipeline_version": PIPELINE_VERSION})


def _describe(exc: Exception) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"
