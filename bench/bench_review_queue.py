"""Times the review service's queue reads with 100 000 open items in SQLite.

Usage: python bench/bench_review_queue.py [--items N] [--repeat N] [--db PATH]
Builds (once, kept at --db) a store of synthetic reports made from a bundled sample:
every field of the rendered 2021 liaocheng HTML report sent to review, one document per
200 items, agencies and years varied. Prints the median milliseconds of the reads the
queue and item pages make. Target (issue 9): queue and item page <= 150 ms each.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from gongkai.extractors.pipeline import extract_file
from gongkai.models.review import QueueFilter
from gongkai.review.service import ReviewService

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "rendered" / "000_liaocheng_wjw_2021.html"


def fill(service: ReviewService, items: int) -> None:
    base = extract_file(SAMPLE)
    report = base.reports[0]
    for f in report.fields:
        f.status, f.reasons = "needs_review", [f"confidence 0.{len(f.id) % 9 + 1}0 below 0.80"]
    per_doc = len(report.fields)
    for n in range((items + per_doc - 1) // per_doc):
        result = base.model_copy(deep=True)
        result.source.sha256 = f"{n:064x}"
        result.source.name = f"synthetic-{n}.html"
        result.reports[0].agency = f"agency {n % 40}"
        result.reports[0].year = 2019 + n % 5
        service.store.save_result(result)


def median_ms(fn, repeat: int) -> float:  # noqa: ANN001
    fn()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "gongkai-bench-review.sqlite")
    args = parser.parse_args()
    service = ReviewService(f"sqlite:///{args.db}")
    if service.store.table_counts()["review_queue"] < args.items:
        started = time.perf_counter()
        fill(service, args.items)
        service.store.optimize()  # as the flow does after a run
        print(f"filled in {time.perf_counter() - started:.0f} s")
    if service.users.by_name("bench") is None:
        service.add_user(None, "bench", "admin", "bench-password")
    actor = service.authenticate("bench", "bench-password")
    open_items = service.store.table_counts()["review_queue"]
    first = service.queue(actor, QueueFilter(), limit=1)[0].id
    middle = service.queue(actor, QueueFilter(), limit=1, offset=open_items // 2)[0].id
    reads = {
        "queue (100 items)": lambda: service.queue(actor, QueueFilter(), limit=100),
        "queue, 2nd half (offset)": lambda: service.queue(actor, QueueFilter(), limit=100, offset=open_items // 2),
        "queue filtered (agency, year)": lambda: service.queue(actor, QueueFilter(agency="agency 7", year=2021)),
        "queue filtered (reason text)": lambda: service.queue(actor, QueueFilter(reason="0.30 below")),
        "queue groups (200)": lambda: service.queue_groups(actor, QueueFilter()),
        "queue page (items + groups)": lambda: (service.queue(actor, QueueFilter()),
                                                service.queue_groups(actor, QueueFilter())),
        "item page (first)": lambda: service.item(actor, first),
        "item page (middle)": lambda: service.item(actor, middle),
        "report page": lambda: service.report(actor, service.item(actor, middle).report_id),
    }
    print(f"{open_items} items in {args.db}")
    for name, fn in reads.items():
        print(f"{name:32s} {median_ms(fn, args.repeat):8.1f} ms")
    service.close()


if __name__ == "__main__":
    main()
