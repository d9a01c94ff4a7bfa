"""Field accuracy of every document with known values, by set: the figures of the README's tables.

Usage: python bench/bench_accuracy.py [--list-wrong]

Sets: the hand-checked specs (samples/specs: seed transcriptions, and real published documents
under samples/real), and every folder holding `<name>.expected.json` beside `<name>.<fmt>`
(samples/rendered, tests/fixtures/*). A field is *right* when its value equals the expected
one (both null for a blank cell), *accepted* when routing let it through, *wrong but
accepted* when both (the number that must stay 0), *absent* when the expected field is not
in the result or only as a `not found` placeholder.
"""
from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from common import count_field, same_value

from gongkai.extractors.pipeline import extract_file
from gongkai.models import Report

ROOT = Path(__file__).resolve().parent.parent
FORMATS = (".html", ".docx", ".pdf", ".doc", ".txt", ".png", ".tif", ".tiff", ".jpg")
PLACEHOLDER_REASONS = ("not found in the document", "its row was not recognised")


@dataclass
class Case:
    set_name: str
    path: Path
    year: int
    expected: dict[str, float | None]
    identity: tuple[str | None, int | None, str | None]


@dataclass
class Tally:
    documents: int = 0
    fields: int = 0
    right: int = 0
    accepted: int = 0
    wrong_accepted: int = 0
    absent: int = 0
    identity_wrong: int = 0
    wrong: list[str] = field(default_factory=list)


def spec_cases() -> Iterator[Case]:
    for spec_file in sorted((ROOT / "samples" / "specs").glob("*.yaml")):
        spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
        if "seed" in spec:
            set_name, path = "seed transcriptions", ROOT / "samples" / "seeds" / spec["seed"]
        else:
            set_name, path = "real published documents", ROOT / "samples" / spec["file"]
        yield Case(set_name, path, spec["year"], spec["fields"], (spec["agency"], spec["year"], spec["template"]))


def expected_json_cases() -> Iterator[Case]:
    folders = [
        ROOT / "samples" / "rendered",
        *sorted(p for p in (ROOT / "tests" / "fixtures").rglob("*") if p.is_dir()),
    ]
    for folder in folders:
        for expected_file in sorted(folder.glob("*.expected.json")):
            stem = expected_file.name.removesuffix(".expected.json")
            expected = json.loads(expected_file.read_text(encoding="utf-8"))
            for doc in sorted(folder.glob(stem + ".*")):
                if doc.suffix.lower() not in FORMATS or (doc.suffix == ".doc" and not shutil.which("soffice")):
                    continue
                set_name = f"{folder.relative_to(ROOT)} {doc.suffix.lstrip('.')}"
                identity = (expected.get("agency"), expected.get("year"), expected.get("template"))
                yield Case(set_name, doc, expected["year"], expected["fields"], identity)


def report_for(case: Case, cache: dict[Path, list[Report]]) -> Report | None:
    if case.path not in cache:
        cache[case.path] = extract_file(case.path).reports
    found = [r for r in cache[case.path] if r.year == case.year and r.kind == "tabular"]
    return found[0] if len(found) == 1 else None


def tally_case(case: Case, report: Report | None, tally: Tally) -> None:
    tally.documents += 1
    tally.fields += len(case.expected)
    if report is None:
        tally.absent += len(case.expected)
        tally.identity_wrong += 1
        return
    tally.identity_wrong += (report.agency, report.year, report.template) != case.identity
    got = {f.id: f for f in report.fields}
    for field_id, want in case.expected.items():
        have = got.get(field_id)
        if have is None or any(r.startswith(PLACEHOLDER_REASONS) for r in have.reasons):
            tally.absent += 1
            continue
        right = same_value(have.value, want)
        count_field(tally, right, have.status == "accepted")
        if not right:
            tally.wrong.append(
                f"{case.path.name} {field_id}: read {have.raw!r} → {have.value}, expected {want} ({have.status})"
            )


def _pct(n: int, tally: Tally) -> str:
    return f"{100 * n / tally.fields:.1f} %" if tally.fields else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list-wrong", action="store_true")
    args = parser.parse_args()
    tallies: dict[str, Tally] = {}
    cache: dict[Path, list[Report]] = {}
    for case in [*spec_cases(), *expected_json_cases()]:
        tally_case(case, report_for(case, cache), tallies.setdefault(case.set_name, Tally()))
    print("| set | documents | fields | right | accepted | wrong but accepted | absent | agency/year/template wrong |")
    print("|---|---|---|---|---|---|---|---|")
    for name, t in tallies.items():
        print(
            f"| {name} | {t.documents} | {t.fields} | {t.right} ({_pct(t.right, t)}) "
            f"| {t.accepted} ({_pct(t.accepted, t)}) "
            f"| {t.wrong_accepted} | {t.absent} | {t.identity_wrong} |"
        )
    if args.list_wrong:
        for name, t in tallies.items():
            for line in t.wrong:
                print(f"{name}: {line}")


if __name__ == "__main__":
    main()
