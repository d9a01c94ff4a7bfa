"""How much storing a report costs for its cross-year work, with 10 years of the same agency
already stored (issue 12: at most 50 ms).

The reports are the real 聊城 2021 sample, extracted once and stored as years 2011…2020
(each its own sha256); the 2021 copy is then stored, and the store's hook after a save (the
agency's spellings, then the cross-year rules it takes part in) is timed on its own, inside
the save's transaction as the store runs it. Prints the median and the worst of the runs.

    .venv/bin/python bench/bench_cross_year.py [--runs 30] [--url sqlite:///…]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from gongkai.extractors.pipeline import extract_file
from gongkai.models import ExtractionResult
from gongkai.store import OperationalStore
from gongkai.store.agencies import after_document_stored
from gongkai.store.schema import documents

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "rendered" / "000_liaocheng_wjw_2021.html"
TARGET_MS = 50.0


def as_year(result: ExtractionResult, year: int) -> ExtractionResult:
    copy = result.model_copy(deep=True)
    copy.source.sha256 = f"{year:04d}".ljust(64, "0")
    copy.source.name = f"liaocheng_{year}.html"
    for report in copy.reports:
        report.year = year
    return copy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--url", help="a store URL (default: a SQLite file in a temporary folder)")
    args = parser.parse_args()
    base = extract_file(SAMPLE)
    assert base.error is None and base.reports and base.reports[0].agency_key, "the sample lost its agency"
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        with OperationalStore(url) as store:
            store.migrate()
            for year in range(2011, 2021):
                store.save_result(as_year(base, year))
            started = time.perf_counter()
            saved = store.save_result(as_year(base, 2021))
            whole_ms = (time.perf_counter() - started) * 1000
            timings = []
            for _ in range(args.runs):
                with store._write_transaction() as conn:
                    doc_id = conn.execute(
                        sa.select(documents.c.id).where(documents.c.id == saved.document_id)
                    ).scalar_one()
                    started = time.perf_counter()
                    after_document_stored(conn, doc_id)
                    timings.append((time.perf_counter() - started) * 1000)
            fields = sum(len(r.fields) for r in base.reports)
    median, worst = statistics.median(timings), max(timings)
    print(f"store: {url.split(':', 1)[0]}, 10 years of one agency stored, {fields} fields a report")
    print(f"save_result of the 11th year (everything): {whole_ms:.1f} ms")
    print(f"cross-year work of that save: median {median:.1f} ms, worst {worst:.1f} ms over {args.runs} runs "
          f"(target <= {TARGET_MS:.0f} ms: {'met' if median <= TARGET_MS else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
