"""The extraction stages as plain functions: read → segment → classify → map → check → route.

flows/ wraps these in Prefect tasks; the CLI's `extract` calls `extract_file` directly.
Every failure of a document ends up in that document's result, never as an exception.
"""
from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

from gongkai import __version__
from gongkai.models import (
    Document,
    ExtractionResult,
    FieldValue,
    LearnedLabel,
    Report,
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
from .segment import Segment, split_reports

log = logging.getLogger(__name__)
PIPELINE_VERSION = __version__


def extract_file(path: Path, learned: Sequence[LearnedLabel] = ()) -> ExtractionResult:
    """One file's result; `learned`: reviewers' label variants, each one more alias of its template row."""
    try:
        source = describe_source(path)
    except ReaderError as exc:  # a FIFO or device: refused before anything opens it
        guessed = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
        unread = SourceInfo(name=path.name, sha256="", media_type=guessed)
        return _failed(unread, "read", exc.kind, exc.message)
    try:
        source.media_type = detect_media_type(path)
        document = read_document(path)
    except ReaderError as exc:
        return _failed(source, "read", exc.kind, exc.message)
    except Exception as exc:  # a reader bug must not stop the batch
        log.exception("reader failed on %s", path)
        return _failed(source, "read", "unexpected", _describe(exc))
    try:
        return extract_document(document, learned)
    except Exception as exc:
        log.exception("extraction failed on %s", path)
        return _failed(document.source, "extract", "unexpected", _describe(exc))


def extract_document(document: Document, learned: Sequence[LearnedLabel] = ()) -> ExtractionResult:
    segments = split_reports(document.blocks)
    reports = [extract_report(s, learned, document.metadata) for s in segments]
    unify_agency_names(reports)
    if document._page_images:
        for report in reports:
            report.crops = review_crops(report.fields, document._page_images)
            report.page_images = page_pngs(report.fields, document._page_images)
    page_errors, page_notes = page_errors_of(document), page_notes_of(document)
    if not reports:
        failed = _failed(document.source, "segment", "empty", "no text or tables could be read from the document")
        return failed.model_copy(update={"page_errors": page_errors, "page_notes": page_notes})
    return ExtractionResult(source=document.source, reports=reports, pipeline_version=PIPELINE_VERSION,
                            page_errors=page_errors, page_notes=page_notes)


def extract_report(
    segment: Segment, learned: Sequence[LearnedLabel] = (), metadata: Mapping[str, str] | None = None
) -> Report:
    year = detect_year(segment)
    template = detect_template(segment, year)
    title = report_title(segment)
    report = Report(
        agency=detect_agency(segment, metadata),
        year=year,
        template=template.id if template else None,
        kind="not-a-report",
        title=title.group(0) if title else None,
    )
    rows = logical_rows(segment.blocks, template.tables) if template else []
    mapping = map_template(template, rows, learned) if template else None
    flat = (
        None if mapping and any(f.value is not None for f in mapping.fields) else read_flattened(segment, year, learned)
    )
    if flat is not None:  # a table flattened into text: tabular even where no run could be split
        template, mapping = flat.template, flat.mapping
        report.template = template.id
    if mapping is not None:
        report.fields, report.unmapped = mapping.fields, mapping.unmapped
    filled = sum(f.value is not None for f in report.fields)
    report.kind = "tabular" if flat else detect_kind(segment, len(report.fields), filled)
    compared = comparison_years(rows)
    if compared and report.fields:  # template tables, but each printed for several years
        report.kind = "not-a-report"
        report.kind_reason = comparison_note(compared)
    if report.kind != "tabular" or template is None or mapping is None:
        report.template, report.fields, report.unmapped = None, [], []
        return report
    report.checks = run_checks(template, report.fields)  # on the printed fields: a missing one is no verdict
    statements = find_statements(narrative_text(segment.blocks), report.year)
    report.checks += narrative_checks(statements, template.id, report.fields)  # likewise
    report.fields = _suggested_and_complete(template, report.fields, mapping)
    route_fields(report.fields, report.checks)
    return report


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


def _failed(source, stage: str, kind: str, message: str) -> ExtractionResult:  # noqa: ANN001
    return ExtractionResult(
        source=source, error=StageError(stage=stage, kind=kind, message=message), pipeline_version=PIPELINE_VERSION
    )


def _describe(exc: Exception) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"
