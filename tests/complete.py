"""What "complete" means for a tabular report, read from docs/canonical-fields.md, for tests.

Independent of extractors/completeness.py on purpose: the canonical ids of each template
come from the contract's own tables, not from the code under test.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from gongkai.models import FieldValue, Report

SPEC = Path(__file__).resolve().parent.parent / "docs" / "canonical-fields.md"
NOT_FOUND = "not found in the document"
NOT_RECOGNISED = "its row was not recognised: "
REQUEST_COLUMNS = ("natural_person", "commercial", "research", "public_interest", "legal_service", "other_org", "total")


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    nxt = text.find("\n## ", start + 1)
    return text[start : nxt if nxt > 0 else None]


def _rows(section: str) -> list[list[str]]:
    """The cells of each markdown table row whose first cell is an id."""
    return [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if re.match(r"^\| [a-z_.]+ \|", line)
        and not re.match(r"^\| (id|row id|group id|outcome id|column id) \|", line)
    ]


def _in(templates: str, template: str) -> bool:
    """The contract's templates cell: `2021`, `2019`, `both`, or `2019` with a note on 2021 reports that keep it."""
    first = templates.split()[0].rstrip(";")
    return first == "both" or f"gov-{first}" == template


@cache
def canonical_ids(template: str) -> frozenset[str]:
    text = SPEC.read_text(encoding="utf-8")
    if template == "legacy-stat":
        return frozenset(r[0] for r in _rows(_section(text, "## Table `legacy`")) if not r[1].endswith("(variant)"))
    active = {r[0] for r in _rows(_section(text, "## Table `active`")) if _in(r[4], template)}
    columns, rows = _section(text, "## Table `requests`").split("Rows:")
    requests = {f"requests.{r[0]}.{c[0]}" for r in _rows(rows) if _in(r[3], template) for c in _rows(columns)}
    groups, outcomes = _section(text, "## Table `appeals`").split("| outcome id")
    appeals = {f"appeals.{g[0]}.{o[0]}" for g in _rows(groups) for o in _rows("| outcome id" + outcomes)}
    return frozenset(active | requests | appeals)


def is_not_found(field: FieldValue) -> bool:
    return any(r == NOT_FOUND or r.startswith(NOT_RECOGNISED) for r in field.reasons)


def assert_complete(report: Report) -> dict[str, FieldValue]:
    """Every canonical field of the report's template is listed; the not-found ones (returned) are
    null, raw "", confidence 0, needs_review, with exactly their reason and nothing else."""
    assert report.kind == "tabular" and report.template
    got = {f.id: f for f in report.fields}
    assert len(got) == len(report.fields), "a field id listed twice"
    required = set(canonical_ids(report.template))
    one_row_other = {f"requests.other.{c}" for c in REQUEST_COLUMNS} & {
        i for i, f in got.items() if not is_not_found(f)
    }
    if report.template == "gov-2021" and one_row_other:  # （六）其他处理 printed as one row holds its sub-rows
        required = {i for i in required if not re.match(r"requests\.other\.[a-z_]+\.", i)}
    assert sorted(required - set(got)) == [], "canonical fields missing from the result"
    not_found = {i: f for i, f in got.items() if is_not_found(f)}
    assert sorted(set(not_found) - required) == [], "a not-found field the template does not require"
    for field in not_found.values():
        assert (field.value, field.raw, field.confidence, field.status) == (None, "", 0.0, "needs_review"), field
        assert len(field.reasons) == 1, field.reasons
    return not_found
