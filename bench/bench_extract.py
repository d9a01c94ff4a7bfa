"""Times `extract` per input format on the bundled samples (interpreter start excluded).

Usage: python bench/bench_extract.py [--repeat N] [PATH ...]
Prints seconds per document, per page (paged formats) and per report, by format.
Targets (issue 2, 2-core machine): born-digital PDF <= 0.5 s/page, HTML and DOCX <= 0.2 s/report.
"""
from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from pathlib import Path

from gongkai.extractors.pipeline import extract_file

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUTS = [ROOT / "samples" / "seeds", ROOT / "samples" / "real", ROOT / "samples" / "rendered"]
SUFFIXES = {".pdf", ".html", ".htm", ".docx", ".txt"}


def inputs(paths: list[Path]) -> list[Path]:
    found = []
    for path in paths:
        found += sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES) if path.is_dir() else [path]
    return found


def time_file(path: Path, repeat: int) -> tuple[float, int, int]:
    """Median seconds of `repeat` runs after one warm-up; pages and tabular reports."""
    result = extract_file(path)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        extract_file(path)
        runs.append(time.perf_counter() - start)
    reports = sum(r.kind == "tabular" for r in result.reports) or len(result.reports) or 1
    return statistics.median(runs), result.source.pages or 0, reports


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    extract_file(ROOT / "samples" / "seeds" / "001_0f777a005b457583.txt")  # import and config warm-up
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0, 0])
    print(f"{'file':58} {'s/doc':>7} {'pages':>5} {'s/page':>7} {'s/report':>8}")
    for path in inputs(args.paths or DEFAULT_INPUTS):
        seconds, pages, reports = time_file(path, args.repeat)
        per_page = f"{seconds / pages:7.3f}" if pages else "      -"
        shown = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        print(f"{shown:58.58} {seconds:7.3f} {pages:5} {per_page} {seconds / reports:8.3f}")
        total = totals[path.suffix.lower()]
        total[0] += seconds
        total[1] += pages
        total[2] += reports
        total[3] += 1
    print("\nby format (totals over the files above)")
    for suffix, (seconds, pages, reports, docs) in sorted(totals.items()):
        per_page = f"{seconds / pages:.3f} s/page, " if pages else ""
        print(f"  {suffix:6} {docs:3} docs  {per_page}{seconds / reports:.3f} s/report, {seconds / docs:.3f} s/doc")


if __name__ == "__main__":
    main()
