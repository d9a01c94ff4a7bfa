"""Born-digital HTML, DOCX and PDF reports against their expected values.

samples/rendered/: the seed reports rendered as real agencies publish them.
tests/fixtures/unseen/: synthetic reports the extractor was never tuned on, with the
perturbations real reports show (units in cells, signed changes, split and merged
labels, lost labels, misprints, broken rules).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from complete import assert_complete

from gongkai.config import load_template
from gongkai.extractors.checks import run_checks
from gongkai.extractors.pipeline import extract_file
from gongkai.models import FieldValue, Report
from samples import ROOT

FOLDERS = [ROOT / "samples" / "rendered", ROOT / "tests" / "fixtures" / "unseen"]
CASES = sorted(
    doc
    for folder in FOLDERS
    for expected in folder.glob("*.expected.json")
    for doc in folder.glob(expected.name.removesuffix(".expected.json") + ".*")
    if doc.suffix in (".html", ".docx", ".pdf") or (doc.suffix == ".doc" and shutil.which("soffice"))
)


def _expected(doc: Path) -> dict:
    return json.loads(doc.with_name(doc.stem + ".expected.json").read_text(encoding="utf-8"))


def _report(doc: Path) -> Report:
    result = extract_file(doc)
    assert result.error is None, result.error
    tabular = [r for r in result.reports if r.kind == "tabular"]
    assert len(tabular) == 1
    return tabular[0]


def _same(got: object, want: object) -> bool:
    return got is None and want is None or (got is not None and want is not None and abs(got - want) < 1e-6)  # type: ignore[operator]


def _rules_broken_by(expected: dict) -> set[str]:
    """The rules the document's own printed numbers break, whatever an extractor does."""
    fields = [
        FieldValue(id=i, value=v, raw="" if v is None else str(v), confidence=1.0)
        for i, v in expected["fields"].items()
    ]
    return {c.rule for c in run_checks(load_template(expected["template"]), fields) if not c.ok}


@pytest.mark.parametrize("doc", CASES, ids=[f"{d.parent.name}/{d.name}" for d in CASES])
def test_every_field_right_and_no_wrong_field_accepted(doc: Path) -> None:
    expected, report = _expected(doc), _report(doc)
    assert (report.agency, report.year, report.template) == (expected["agency"], expected["year"], expected["template"])
    not_found = assert_complete(report)  # the template's other fields: null, needs_review, with their reason
    got = {f.id: f for f in report.fields if f.id not in not_found}
    assert sorted(set(got) ^ set(expected["fields"])) == []
    wrong = {
        i: (got[i].raw, got[i].value, v, got[i].status)
        for i, v in expected["fields"].items()
        if not _same(got[i].value, v)
    }
    assert wrong == {}


@pytest.mark.parametrize("doc", CASES, ids=[f"{d.parent.name}/{d.name}" for d in CASES])
def test_every_broken_rule_is_flagged(doc: Path) -> None:
    expected, report = _expected(doc), _report(doc)
    failed = {c.rule for c in report.checks if not c.ok}
    assert failed == _rules_broken_by(expected)
    for field in report.fields:
        if any(field.id in c.fields for c in report.checks if not c.ok):
            assert field.status == "needs_review"


def test_there_are_cases_in_every_format() -> None:
    assert {".html", ".docx", ".pdf"} <= {d.suffix for d in CASES}
