"""Every tabular seed report and real sample against its hand-checked spec (samples/specs/*.yaml)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from complete import assert_complete

from gongkai.extractors.pipeline import extract_file
from gongkai.models import ExtractionResult, Report
from samples import ROOT, SEEDS, SPECS

SPEC_FILES = sorted(SPECS.glob("*.yaml"))
_results: dict[str, ExtractionResult] = {}


def _extract(seed_name: str) -> ExtractionResult:
    if seed_name not in _results:
        _results[seed_name] = extract_file(SEEDS / seed_name)
    return _results[seed_name]


def _report_for(spec: dict) -> Report:
    """The spec's document: a seed transcription, or a real file under samples/."""
    result = _extract(spec["seed"]) if "seed" in spec else extract_file(ROOT / "samples" / spec["file"])
    matches = [r for r in result.reports if r.year == spec["year"] and r.kind == "tabular"]
    assert len(matches) == 1, f"{spec.get('seed', spec.get('file'))}: {len(matches)} tabular reports for {spec['year']}"
    return matches[0]


@pytest.mark.parametrize("spec_file", SPEC_FILES, ids=[p.stem for p in SPEC_FILES])
def test_seed_report_matches_spec(spec_file: Path) -> None:
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    report = _report_for(spec)
    assert (report.agency, report.year, report.template) == (spec["agency"], spec["year"], spec["template"])
    not_found = assert_complete(report)  # the template's other fields: null, needs_review, with their reason
    got = {f.id: f.value for f in report.fields if f.id not in not_found}
    expected = spec["fields"]
    assert sorted(set(got) - set(expected)) == [], "fields extracted that the document does not print"
    assert sorted(set(expected) - set(got)) == [], "printed fields not extracted"
    wrong = {
        i: (got[i], v) for i, v in expected.items() if got[i] != pytest.approx(v) and not (got[i] is None and v is None)
    }
    assert wrong == {}


@pytest.mark.parametrize("spec_file", SPEC_FILES, ids=[p.stem for p in SPEC_FILES])
def test_no_blank_or_failed_field_is_accepted(spec_file: Path) -> None:
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    report = _report_for(spec)
    failed = {i for c in report.checks if not c.ok for i in c.fields}
    for field in report.fields:
        if field.status == "accepted":
            assert field.value is not None and field.id not in failed and not field.reasons


def test_seed_000_parts_are_classified() -> None:
    reports = _extract("000_fe7de62670042d10.txt").reports
    kinds = {(r.year, r.kind, r.template) for r in reports}
    assert (None, "not-a-report", None) in kinds  # the 指南 at the top of the page
    assert (2019, "tabular", "legacy-stat") in kinds  # the 2019 report's 统计表 attachment
    assert {2008, 2009, 2010, 2011, 2012, 2013, 2014} <= {r.year for r in reports if r.kind == "narrative"}
    assert {r.year for r in reports if r.kind == "tabular"} == {2019, 2020, 2021, 2022, 2023}


def test_legacy_variant_rows_are_unmapped_not_forced() -> None:
    report = next(r for r in _extract("000_fe7de62670042d10.txt").reports if r.year == 2019)
    assert [(u.row_label, u.raw) for u in report.unmapped] == [("(二)通过不同渠道和方式公开政府信息的情况", "1761")]
