"""A whole crawl: every chosen site at once over one HTTP client and one per-host gate.

One failing site does not stop the others: its exception becomes an error in its summary.
"""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

from gongkai.store.crawl import CrawlLog
from gongkai.store.operational import OperationalStore

from .bodies import BodyStore
from .config import CrawlConfig, Site
from .crawler import SiteCrawl, SiteSummary
from .fetcher import Fetcher, HostGate
from .safety import checked_client


def chosen_sites(config: CrawlConfig, name: str | None) -> list[Site]:
    return [config.site(name)] if name else list(config.sites)


def crawl(sites: list[Site], store_url: str, data_dir: Path, on_fetch: Callable[[], None] = lambda: None,
          run_id: str | None = None) -> tuple[str, list[SiteSummary]]:
    run_id = run_id or str(uuid.uuid4())
    with OperationalStore(store_url) as store:
        store.migrate()
        summaries = asyncio.run(_crawl(sites, CrawlLog(store), BodyStore(data_dir), run_id, on_fetch))
    return run_id, summaries


async def _crawl(sites: list[Site], log: CrawlLog, bodies: BodyStore, run_id: str,
                 on_fetch: Callable[[], None]) -> list[SiteSummary]:
    gate = HostGate()  # one request at a time per host, across all sites
    connections = len(sites) * 2 + 2
    async with checked_client(False, connections) as public, checked_client(True, connections) as private:
        fetcher = Fetcher({False: public, True: private}, gate)
        crawls = [SiteCrawl(site, fetcher, log, bodies, run_id, on_fetch) for site in sites]
        results = await asyncio.gather(*(c.run() for c in crawls), return_exceptions=True)
    summaries = []
    for crawl_, result in zip(crawls, results):
        if isinstance(result, BaseException) and not isinstance(result, Exception):
            raise result  # cancelled or interrupted: not one site's failure
        if isinstance(result, Exception):
            crawl_.summary.errors += 1
            crawl_.summary.warnings.append(f"the crawl of this site stopped: {type(result).__name__}: {result}")
        summaries.append(crawl_.summary)
    return summaries
