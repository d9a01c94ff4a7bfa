"""Accuracy, speed and memory of `extract_file` on the scans and screenshots of bench/make_scans.py.

Usage:
  python bench/make_scans.py                 # writes bench/out/scans/ first
  python bench/bench_scans.py [--dir DIR] [--kinds KIND ...] [--only PREFIX ...] [--list-wrong]
  python bench/bench_scans.py --kinds born   # the original PDFs: checks this comparison (100 %)

Each kind runs in a subprocess of its own (`--worker`), so its peak memory (ru_maxrss) is its own.
A worker imports the pipeline and extracts one small image first, so model loading is timed
apart from the first file.  Per kind: field accuracy (right/total), wrong fields the extractor
accepted (the safety number), share of fields accepted, template/year/agency right, seconds
per page and per image, peak memory.  A missing report or an extraction error counts every
expected field of the document as wrong and not accepted.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pypdfium2 as pdfium
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import FieldCounts, count_field, same_value  # noqa: E402
from make_scans import DEFAULT_OUT, KINDS, ROOT, SCAN_KINDS, expected_path, sources  # noqa: E402

if TYPE_CHECKING:  # the pipeline is imported in the worker, where its import is timed
    from gongkai.models import ExtractionResult, FieldValue, Report

BORN = "born"  # pseudo-kind: the born-digital PDFs themselves
ALL_KINDS = (*KINDS, BORN)
SUMMARY_TAG = "@@summary "
IMAGE_SUFFIXES = {".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg"}
WARMUP_DPI = 120
WARMUP_SHARE = 0.3  # top share of the first page used as the warm-up image

# Targets (printed next to the results)
TARGET_ACCURACY = {"scan150": 0.98}
TARGET_ACCURACY_DEFAULT = 0.995
TARGET_WRONG_ACCEPTED = 0
TARGET_ACCEPTED = 0.90
TARGET_S_PER_PAGE = 3.0
TARGET_PEAK_MIB = 2.5 * 1024


@dataclass
class Wrong:
    """One field the extractor got wrong."""

    doc: str
    field: str
    expected: float | None
    raw: str | None
    value: float | None
    status: str
    confidence: float | None


@dataclass
class Tally:
    """Totals of one kind."""

    kind: str
    docs: int = 0
    pages: int = 0
    images: int = 0
    seconds: float = 0.0
    fields: int = 0
    right: int = 0
    accepted: int = 0
    wrong_accepted: int = 0
    template: int = 0
    year: int = 0
    agency: int = 0
    errors: int = 0
    load_seconds: float = 0.0
    import_seconds: float = 0.0
    peak_mib: float = 0.0
    wrong: list[Wrong] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "<doc>: <why>" for documents without a report


# ---------------------------------------------------------------- inputs


def inputs(folder: Path, kind: str, only: list[str]) -> list[Path]:
    """The files of one kind, each with an expected JSON beside it."""
    found = sources() if kind == BORN else sorted(
        p for p in (folder / kind).glob("*") if p.suffix.lower() in IMAGE_SUFFIXES and expected_path(p).exists()
    )
    return [p for p in found if not only or any(p.name.startswith(o) for o in only)]


def load_manifest(folder: Path) -> dict:
    path = folder / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def page_count(path: Path) -> int:
    """Pages of a PDF or frames of a TIFF; 1 for other images."""
    if path.suffix.lower() == ".pdf":
        doc = pdfium.PdfDocument(path)
        count = len(doc)
        doc.close()
        return count
    with Image.open(path) as img:
        return getattr(img, "n_frames", 1)


def source_pages(path: Path, folder: Path, manifest: dict) -> int:
    """Pages of the original report (what a screenshot shows)."""
    entry = manifest.get(str(path.relative_to(folder))) if path.is_relative_to(folder) else None
    if entry:
        return int(entry["source_pages"])
    original = next((p for p in sources() if p.stem == path.stem), None)
    return page_count(original) if original else page_count(path)


# ---------------------------------------------------------------- comparison


def pick_report(result: ExtractionResult) -> tuple[Report | None, str]:
    """The document's tabular report, or None, and a note on what went wrong."""
    if result.error is not None:
        return None, f"ERROR {result.error.stage}/{result.error.kind}: {result.error.message[:160]}"
    tabular = [r for r in result.reports if r.kind == "tabular"]
    if not tabular:
        return None, f"no tabular report ({len(result.reports)} reports)"
    note = f"{len(tabular)} tabular reports, the largest compared" if len(tabular) > 1 else ""
    return max(tabular, key=lambda r: len(r.fields)), note


def wrong_field(doc: str, field_id: str, want: float | None, got: FieldValue | None) -> Wrong:
    if got is None:
        return Wrong(doc, field_id, want, None, None, "missing", None)
    return Wrong(doc, field_id, want, got.raw, got.value, got.status, got.confidence)


def identity(report: Report | None, expected: dict) -> str:
    """T, Y, A for a right template, year, agency; lower case where wrong."""
    if report is None:
        return "---"
    return "".join(letter if getattr(report, key) == expected[key] else letter.lower()
                   for letter, key in (("T", "template"), ("Y", "year"), ("A", "agency")))


def score(doc: str, report: Report | None, expected: dict, tally: Tally) -> tuple[int, int, int]:
    """Adds one document's fields to the tally; returns its right, accepted and wrong-accepted counts."""
    got = {f.id: f for f in report.fields} if report is not None else {}
    counts = FieldCounts()
    for field_id, want in expected["fields"].items():
        value = got.get(field_id)
        ok = value is not None and same_value(value.value, want)
        taken = value is not None and value.status == "accepted"
        count_field(counts, ok, taken)
        count_field(tally, ok, taken)
        if not ok and report is not None:
            tally.wrong.append(wrong_field(doc, field_id, want, value))
    tally.fields += len(expected["fields"])
    if report is not None:
        tally.template += report.template == expected["template"]
        tally.year += report.year == expected["year"]
        tally.agency += report.agency == expected["agency"]
    return counts.right, counts.accepted, counts.wrong_accepted


# ---------------------------------------------------------------- worker


def warm_up(kind: str) -> float:
    """Extracts small files (a one-page PDF; for image kinds also a strip of a page as PNG) so
    imports, configuration and OCR models are loaded; seconds taken."""
    from gongkai.extractors.pipeline import extract_file

    doc = pdfium.PdfDocument(sources()[0])
    with tempfile.TemporaryDirectory() as tmp:
        one_page = pdfium.PdfDocument.new()
        one_page.import_pages(doc, [0])
        one_page.save(Path(tmp) / "warmup.pdf")
        one_page.close()
        img = doc[0].render(scale=WARMUP_DPI / 72).to_pil()
        img.crop((0, 0, img.width, int(img.height * WARMUP_SHARE))).save(Path(tmp) / "warmup.png")
        doc.close()
        start = time.perf_counter()
        for name in ["warmup.pdf"] if kind == BORN else ["warmup.pdf", "warmup.png"]:
            result = extract_file(Path(tmp) / name)
            if result.error is not None:
                print(f"{kind}: warm-up {name}: {result.error.stage}/{result.error.kind}: {result.error.message[:120]}")
        return time.perf_counter() - start


def run_file(path: Path, pages: int, tally: Tally) -> None:
    """Extracts one file, scores it and prints its line."""
    from gongkai.extractors.pipeline import extract_file

    expected = json.loads(expected_path(path).read_text(encoding="utf-8"))
    start = time.perf_counter()
    try:
        result = extract_file(path)
        report, note = pick_report(result)
    except Exception as exc:  # the pipeline should not raise; count it and go on
        report, note = None, f"ERROR raised {type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    right, accepted, wrong_accepted = score(path.stem, report, expected, tally)
    tally.docs += 1
    tally.pages += pages
    tally.images += 1
    tally.seconds += seconds
    if report is None:
        tally.errors += 1
        tally.failed.append(f"{path.stem}: all {len(expected['fields'])} fields wrong ({note})")
    total = len(expected["fields"])
    print(f"  {path.name:40.40} {right:4}/{total:<4} {right / total:7.1%} {wrong_accepted:4} "
          f"{accepted / total:7.1%} {identity(report, expected):>4} {seconds:7.2f} {seconds / pages:7.2f}  {note}",
          flush=True)


def worker(folder: Path, kind: str, only: list[str]) -> Tally:
    """Runs one kind in this process and returns its tally (peak memory included)."""
    tally = Tally(kind)
    start = time.perf_counter()
    import gongkai.extractors.pipeline  # noqa: F401

    tally.import_seconds = time.perf_counter() - start
    tally.load_seconds = warm_up(kind)
    print(f"{kind}: import {tally.import_seconds:.2f} s, warm-up extract (model loading) {tally.load_seconds:.2f} s",
          flush=True)
    files = inputs(folder, kind, only)
    if not files:
        print(f"  no files under {folder / kind} (run bench/make_scans.py)")
    manifest = load_manifest(folder)
    print(f"  {'file':40} {'right':>9} {'acc':>7} {'w.acc':>4} {'accept':>7} {'TYA':>4} {'s':>7} {'s/page':>7}")
    for path in files:
        run_file(path, source_pages(path, folder, manifest), tally)
    tally.peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return tally


# ---------------------------------------------------------------- parent


def run_kind(folder: Path, kind: str, only: list[str]) -> Tally | None:
    """Runs one kind in a fresh interpreter, echoing its lines; its tally, or None if it died."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--dir", str(folder), "--kinds", kind]
    command += ["--only", *only] if only else []
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    tally = None
    for line in process.stdout:  # type: ignore[union-attr]
        if line.startswith(SUMMARY_TAG):
            data = json.loads(line[len(SUMMARY_TAG):])
            tally = Tally(**{**data, "wrong": [Wrong(**w) for w in data["wrong"]]})
        else:
            print(line, end="", flush=True)
    if process.wait() != 0:
        print(f"{kind}: worker exited with {process.returncode}")
    return tally


def share(part: float, whole: float) -> str:
    return f"{part / whole:6.1%}" if whole else "     -"


def mark(ok: bool) -> str:
    return "ok" if ok else "MISS"


def summary_line(t: Tally) -> str:
    accuracy_target = TARGET_ACCURACY.get(t.kind, TARGET_ACCURACY_DEFAULT)
    accuracy = t.right / t.fields if t.fields else 0.0
    accepted = t.accepted / t.fields if t.fields else 0.0
    per_page = t.seconds / t.pages if t.pages else 0.0
    speed = mark(per_page <= TARGET_S_PER_PAGE) if t.errors < t.docs else "-"  # failures are fast
    per_image = f"{t.seconds / t.images:6.2f}" if t.kind not in SCAN_KINDS and t.kind != BORN and t.images else "     -"
    return (
        f"{t.kind:15} {t.docs:4} {t.errors:4} {t.fields:6} "
        f"{share(t.right, t.fields)} {mark(accuracy >= accuracy_target):4} "
        f"{t.wrong_accepted:5} {mark(t.wrong_accepted <= TARGET_WRONG_ACCEPTED):4} "
        f"{share(t.accepted, t.fields)} {mark(accepted >= TARGET_ACCEPTED):4} "
        f"{f'{t.template}/{t.year}/{t.agency}':14} {per_page:6.2f} {speed:4} {per_image} "
        f"{t.peak_mib:7.0f} {mark(t.peak_mib <= TARGET_PEAK_MIB):4} {t.load_seconds:6.2f}"
    )


def print_summary(tallies: list[Tally]) -> None:
    print("\ntargets: accuracy >= 99.5 % at 200 dpi, split and screenshots (>= 98 % scan150: 150 dpi, blur, seal); "
          f"0 wrong accepted; >= {TARGET_ACCEPTED:.0%} accepted; <= {TARGET_S_PER_PAGE:g} s/page; "
          f"peak <= {TARGET_PEAK_MIB / 1024:g} GiB")
    print(f"{'kind':15} {'docs':>4} {'err':>4} {'fields':>6} {'acc':>6} {'':4} {'w.acc':>5} {'':4} "
          f"{'accept':>6} {'':4} "
          f"{'tmpl/year/agcy':14} {'s/page':>6} {'':4} {'s/img':>6} {'peakMiB':>7} {'':4} {'load s':>6}")
    for t in tallies:
        print(summary_line(t))


def print_wrong(tallies: list[Tally]) -> None:
    for t in tallies:
        for failure in t.failed:
            print(f"  {t.kind:14} {failure}")
        for w in t.wrong:
            conf = "-" if w.confidence is None else f"{w.confidence:.2f}"
            print(f"  {t.kind:14} {w.doc:28} {w.field:52} want {w.expected!s:>10}  got {w.raw!r}->{w.value}  "
                  f"{w.status} {conf}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_OUT, help="what bench/make_scans.py wrote")
    parser.add_argument("--kinds", nargs="*", default=list(KINDS), choices=ALL_KINDS)
    parser.add_argument("--only", nargs="*", default=[], metavar="PREFIX")
    parser.add_argument("--list-wrong", action="store_true", help="print every wrong field")
    parser.add_argument("--worker", action="store_true", help="run the one kind given in this process")
    args = parser.parse_args()
    if args.worker:
        tally = worker(args.dir, args.kinds[0], args.only)
        print(SUMMARY_TAG + json.dumps(asdict(tally), ensure_ascii=False), flush=True)
        return
    tallies = [t for kind in args.kinds if (t := run_kind(args.dir, kind, args.only))]
    print_summary(tallies)
    if args.list_wrong:
        print("\nwrong fields")
        print_wrong(tallies)


if __name__ == "__main__":
    main()
