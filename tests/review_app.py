"""The review app for tests: a store made by really extracting a bundled sample (edited so
it needs review), users, and the app served by uvicorn on 127.0.0.1 on a free port."""
from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from gongkai.extractors.anomalies import find_anomalies
from gongkai.extractors.pipeline import extract_file
from gongkai.review.service import ReviewService
from gongkai.review.web.app import create_app
from gongkai.store import OperationalStore, load_analytics
from samples import ROOT

SAMPLE = ROOT / "samples" / "rendered" / "000_liaocheng_wjw_2021.html"
XSS = "<script>alert(1)</script>"
PASSWORDS = {"rita": "rita-password-1", "adam": "adam-password-1"}


@dataclass(frozen=True)
class Broken:
    """The sample with one number changed: the cell, what it printed, what it prints now."""

    path: Path
    field_id: str
    true_value: int
    printed: int
    blank_field: str | None = None
    """with blank=True: a cell printed blank whose rules suggest its value (0)"""


def broken_sample(folder: Path, *, xss: bool = False, blank: bool = False, blank_fee: bool = False) -> Broken:
    """The sample with 表三's 自然人 新收 number changed so its rules fail (and, with xss, a
    row of 表二 whose label reads as a script tag; with blank, the 商业企业 cell of that row
    left blank, a doubt of its own that its rule's suggestion answers; with blank_fee, the
    万元 fee cell of 表二 left blank)."""
    html = SAMPLE.read_text(encoding="utf-8")
    # The first row of 表三 is （一）新收政府信息公开申请数量: its first value cell is 自然人.
    cell = re.compile(r"(新收政府信息公开申请数量</td>\s*<td[^>]*>)(\d+)(</td>)")
    found = cell.search(html)
    assert found, "the sample's 新收 row moved: update tests/review_app.py"
    true_value = int(found.group(2))
    printed = true_value + 7
    html = html[: found.start(2)] + str(printed) + html[found.end(2):]
    if blank:
        after = re.compile(r"(新收政府信息公开申请数量</td>\s*<td[^>]*>\d+</td>\s*<td[^>]*>)(0)(</td>)")
        hit = after.search(html)
        assert hit, "the sample's 新收 row changed: update tests/review_app.py"
        html = html[: hit.start(2)] + html[hit.end(2):]
    if xss:
        # A printed row whose label is a script tag: it maps onto nothing, so it becomes an
        # unmapped-row item whose label every page must show as text.
        row = '<tr><td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td colspan="3">5</td></tr>\n'
        anchor = "<tr><td>行政强制</td>"
        assert anchor in html, "the sample's 行政强制 row moved: update tests/review_app.py"
        html = html.replace(anchor, row + anchor, 1)
    if blank_fee:
        fee = re.compile(r"(行政事业性收费</td>\s*<td[^>]*>)([\d.]+)(</td>)")
        hit = fee.search(html)
        assert hit, "the sample's 行政事业性收费 row moved: update tests/review_app.py"
        html = html[: hit.start(2)] + html[hit.end(2):]
    path = folder / SAMPLE.name
    path.write_text(html, encoding="utf-8")
    return Broken(path, "requests.new.natural_person", true_value, printed,
                  "requests.new.commercial" if blank else None)


def make_store(folder: Path, inputs: list[Path], url: str | None = None) -> tuple[str, Path]:
    """Extract the inputs into a fresh store (SQLite unless url) and its analytics file, as
    `gongkai run` does."""
    url = url or f"sqlite:///{folder / 'review.sqlite'}"
    analytics = folder / "analytics.duckdb"
    with OperationalStore(url) as store:
        store.migrate()
        for path in inputs:
            result = extract_file(path)
            assert result.error is None, result.error
            store.save_result(result, path=str(path))
        load_analytics(store, analytics, find_anomalies=find_anomalies)
    return url, analytics


def add_users(service: ReviewService) -> None:
    service.add_user(None, "rita", "reviewer", PASSWORDS["rita"])
    service.add_user(None, "adam", "admin", PASSWORDS["adam"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(service: ReviewService, **app_options: object) -> Iterator[str]:
    """The app (create_app's options) on a real HTTP server in a thread; yields its base URL."""
    port = free_port()
    app = create_app(service, **app_options)  # type: ignore[arg-type]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the review app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def served_with_users(url: str, analytics: Path | None = None) -> Iterator[str]:
    """A review service over the store, with the test users, served; closed afterwards."""
    service = ReviewService(url, analytics)
    add_users(service)
    try:
        with serve(service) as base:
            yield base
    finally:
        service.close()
