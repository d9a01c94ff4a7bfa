"""Times the review app's queue page and item page with 100 000 open items in SQLite.

Usage: python bench/bench_review.py [--items 100000] [--requests 60] [--keep DIR]
Builds a store (one sample extracted once, then saved again under new sha256s with every
field sent to review, through the store's own save path), starts `gongkai review serve` in
its own process on 127.0.0.1, logs in over HTTP and prints the median and p95 response
time of GET /queue and GET /items/{id} (random open items). Target (issue 9): <= 150 ms each.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from gongkai.extractors.pipeline import extract_file
from gongkai.models import ExtractionResult
from gongkai.store import OperationalStore

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "rendered" / "000_liaocheng_wjw_2021.html"
CLI = [sys.executable, "-m", "gongkai.cli"]
PASSWORD = "bench-password-1"


def build_store(url: str, items: int) -> int:
    """Save copies of one extracted report, every field needing review, until `items` are open."""
    base = extract_file(SAMPLE)
    report = base.reports[0]
    for field in report.fields:
        field.status = "needs_review"
        field.reasons = field.reasons or ["bench: sent to review"]
    per_doc = len(report.fields)
    docs = -(-items // per_doc)
    start = time.perf_counter()
    with OperationalStore(url) as store:
        store.migrate()
        for n in range(docs):
            copy: ExtractionResult = base.model_copy(deep=True)
            copy.source.sha256 = f"{n:064x}"
            copy.source.name = f"bench_{n:05d}.html"
            copy.reports[0].agency = f"机构{n % 97}"
            copy.reports[0].year = 2019 + n % 6
            store.save_result(copy)
        store.optimize()  # as the flow does after a run
    print(f"stored {docs} documents, {docs * per_doc} open items in {time.perf_counter() - start:.0f} s")
    return docs * per_doc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, analytics: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    server = subprocess.Popen(
        [*CLI, "review", "serve", "--store", url, "--analytics", str(analytics), "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return server
        except httpx.TransportError:
            if server.poll() is not None:
                raise RuntimeError(f"review serve exited: {server.stderr.read() if server.stderr else ''}") from None
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("review serve did not start in 60 s")


def log_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    answer = client.post("/login", data={"name": "bench", "password": PASSWORD, "csrf": token})
    if answer.status_code != 303:
        raise RuntimeError(f"login failed: {answer.status_code}")
    return client


def timed(client: httpx.Client, paths: list[str]) -> list[float]:
    client.get(paths[0])  # warm-up (template compile, caches)
    times = []
    for path in paths:
        start = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path}: {answer.status_code}")
    return times


def report(name: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    print(f"{name:28} median {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms   ({len(ordered)} requests)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the store in this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_review_"))
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    if not (folder / "bench.sqlite").exists():
        build_store(url, args.items)
        subprocess.run([*CLI, "users", "add", "bench", "--role", "reviewer", "--password-stdin", "--store", url],
                       input=PASSWORD + "\n", text=True, check=True)
    port = free_port()
    server = start_server(url, folder / "analytics.duckdb", port)
    try:
        client = log_in(f"http://127.0.0.1:{port}")
        ids = [i["id"] for i in client.get("/api/queue", params={"limit": 1000}).json()["items"]]
        deep = client.get("/api/queue", params={"limit": 1000, "offset": max(0, args.items - 1000)}).json()["items"]
        ids += [i["id"] for i in deep]
        random.seed(9)
        report("GET /queue", timed(client, ["/queue"] * args.requests))
        report("GET /queue?year=2021", timed(client, ["/queue?year=2021"] * args.requests))
        report("GET /items/{id}", timed(client, [f"/items/{random.choice(ids)}" for _ in range(args.requests)]))
        report("GET /api/queue", timed(client, ["/api/queue"] * args.requests))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
