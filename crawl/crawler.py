"""One site's crawl: robots.txt, the listing's pages, the report pages, their attachments.

Every fetch is logged (store/crawl.py) with its outcome; a body is kept under the data
directory so that a 304 next time still gives the page's links. What comes out is the list
of new and changed documents for process_documents and a summary for the operator.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gongkai.extractors.readers.base import ReaderError
from gongkai.store.crawl import CrawlLog, FetchRecord, KnownUrl

from . import robots as robots_txt
from .attachments import SUFFIX_OF, is_attachment, sniff
from .bodies import BodyStore, sha256_bytes
from .config import Site
from .fetcher import Fetched, Fetcher, Validators
from .listing import Link, decode_page, holds_report, links, matches_keywords, page_urls, parse
from .safety import host_allowed

DOCUMENT_KINDS = ("report", "attachment")


@dataclass(frozen=True, slots=True)
class FoundDocument:
    """A new or changed document for process_documents."""

    path: Path
    url: str
    sha256: str
    outcome: str  # new | changed
    previous_sha256: str | None  # changed: the stored version it replaces


@dataclass
class SiteSummary:
    site: str
    pages_fetched: int = 0
    new: int = 0
    changed: int = 0
    not_modified: int = 0
    duplicates: int = 0
    refused: int = 0
    errors: int = 0
    warnings: list[str] = field(default_factory=list)
    documents: list[FoundDocument] = field(default_factory=list)

    def count(self, kind: str, outcome: str, status: int | None) -> None:
        """One fetch; new and changed count documents handed on (see SiteCrawl._hand_on)."""
        if kind != "robots":
            self.pages_fetched += outcome != "refused"
        if outcome == "not_modified":
            self.not_modified += 1
        elif outcome == "duplicate":
            self.duplicates += 1
        elif outcome == "refused":
            self.refused += 1
        elif outcome == "error" and not (kind == "robots" and status is not None and 400 <= status < 500):
            self.errors += 1  # a missing robots.txt is no error; an unreachable one is


@dataclass(frozen=True, slots=True)
class Body:
    data: bytes
    sha256: str
    media_type: str | None
    outcome: str
    path: str | None  # relative to the data directory


class SiteCrawl:
    def __init__(self, site: Site, fetcher: Fetcher, log: CrawlLog, bodies: BodyStore, run_id: str,
                 on_fetch: Callable[[], None] = lambda: None) -> None:
        self.site, self.fetcher, self.log, self.bodies, self.run_id = site, fetcher, log, bodies, run_id
        self.on_fetch = on_fetch
        self.summary = SiteSummary(site.name)
        self._robots: dict[str, robots_txt.Robots] = {}
        self._seen_urls: set[str] = set()
        self._seen_shas: set[str] = set()
        self._last_problem: str | None = None  # the last refusal's or error's reason

    async def run(self) -> SiteSummary:
        report_links: dict[str, tuple[Link, str]] = {}
        for start in self.site.start_urls:
            for link, listing_page in await self._listing(start):
                report_links.setdefault(link.url, (link, listing_page))
        for link, listing_page in report_links.values():
            await self._report(link, listing_page)
        return self.summary

    # -- listing ---------------------------------------------------------------------------
    async def _listing(self, start: str) -> list[tuple[Link, str]]:
        """The report links of every page of the listing at `start`, each with the page it was on."""
        pending: list[tuple[str, str | None]] = [(start, None)]  # (page, the page that pointed to it)
        done: set[str] = set()
        found: dict[str, tuple[Link, str]] = {}
        while pending and len(done) < self.site.max_listing_pages:
            url, referrer = pending.pop(0)
            if url in done:
                continue
            done.add(url)
            body = await self._fetch(url, "listing", referrer)
            if body is None:
                if url == start:
                    self.summary.warnings.append(f"start page {url} not read: {self._last_problem or 'seen already'}")
                continue
            text = _decoded(body.data, url)
            root = parse(text)
            page_links = links(root, url)
            reports = [lk for lk in page_links if matches_keywords(lk, self.site.link_keywords)
                       and host_allowed(lk.url, self.site.allowed_hosts) and lk.url not in done]
            self._check_layout(url, len(reports))
            for link in reports:
                found.setdefault(link.url, (link, url))
            queued = {u for u, _ in pending}
            pending += [(u, url) for u in page_urls(text, root, url)
                        if u not in done and u not in queued and host_allowed(u, self.site.allowed_hosts)]
        if pending:
            self.summary.warnings.append(f"{start}: stopped at max_listing_pages={self.site.max_listing_pages}")
        return [(lk, page) for lk, page in found.values() if lk.url not in done]

    def _check_layout(self, url: str, count: int) -> None:
        known = self.log.known(url)
        before = known.report_links if known is not None else None
        if count == 0 and before:
            self.summary.warnings.append(f"listing page {url} had {before} report links before, none now "
                                         "(its layout may have changed)")
        self.log.set_report_links(url, count)

    # -- reports and attachments -----------------------------------------------------------
    async def _report(self, link: Link, referrer: str | None) -> None:
        if is_attachment(link):
            await self._attachment(link.url, referrer)
            return
        body = await self._fetch(link.url, "report", referrer)
        if body is None:
            return
        if body.media_type != "text/html":  # the link led straight to a document
            self._hand_on(link.url, body)
            return
        root = parse(_decoded(body.data, link.url))
        if holds_report(root, self.site.link_keywords):
            self._hand_on(link.url, body)
        for attachment in links(root, link.url):
            if is_attachment(attachment) and host_allowed(attachment.url, self.site.allowed_hosts):
                await self._attachment(attachment.url, link.url)
            elif is_attachment(attachment):
                self._refuse(attachment.url, "attachment", link.url, "host is not in allowed_hosts")

    async def _attachment(self, url: str, referrer: str | None) -> None:
        body = await self._fetch(url, "attachment", referrer)
        if body is not None:
            self._hand_on(url, body)

    def _hand_on(self, url: str, body: Body) -> None:
        if body.outcome not in ("new", "changed") or body.path is None or body.media_type not in SUFFIX_OF:
            return
        path = self.bodies.path(body.path)
        previous = self.log.previous_document(url, body.sha256) if body.outcome == "changed" else None
        self.summary.documents.append(FoundDocument(path, url, body.sha256, body.outcome, previous))
        if body.outcome == "new":
            self.summary.new += 1
        else:
            self.summary.changed += 1

    # -- one fetch ---------------------------------------------------------------------------
    async def _fetch(self, url: str, kind: str, referrer: str | None) -> Body | None:
        """The URL's body (fetched, or as stored when the server says 304), or None."""
        if url in self._seen_urls:
            return None  # a duplicate URL in one run: fetched once
        self._seen_urls.add(url)
        rules = await self._robots_for(url)
        if not rules.allowed(url, self.site.user_agent):
            self._refuse(url, kind, referrer, rules.why_closed or "disallowed by robots.txt")
            return None
        return (await self._get(url, kind, referrer))[0]

    async def _get(self, url: str, kind: str, referrer: str | None) -> tuple[Body | None, Fetched]:
        known = self.log.known(url)
        stored = self.bodies.read(known.path) if known is not None else None
        validators = Validators(known.etag, known.last_modified) if known is not None and stored else Validators()
        fetched = await self.fetcher.get(url, self.site, validators, referrer)
        self.on_fetch()
        if fetched.outcome == "not_modified" and known is not None and stored is not None:
            self._record(fetched, kind, referrer, "not_modified", known.sha256, len(stored), known.media_type)
            body = Body(stored, known.sha256 or sha256_bytes(stored), known.media_type, "not_modified", known.path)
            return body, fetched
        if fetched.outcome != "ok" or fetched.body is None:
            outcome = "error" if fetched.outcome == "not_modified" else fetched.outcome  # 304 to no request of ours
            self._record(fetched, kind, referrer, outcome, reason=fetched.reason or "HTTP 304 to an unconditional GET")
            return None, fetched
        return self._keep(fetched, kind, referrer, known), fetched

    def _keep(self, fetched: Fetched, kind: str, referrer: str | None, known: KnownUrl | None) -> Body | None:
        data = fetched.body or b""
        sha = sha256_bytes(data)
        media_type = "text/plain" if kind == "robots" else sniff(data, self.bodies.scratch)
        if kind == "attachment" and media_type in (None, "text/plain"):
            self._record(fetched, kind, referrer, "refused", sha, len(data), media_type,
                         "its bytes are no document format gongkai reads")
            return None
        if known is not None and known.sha256 == sha:
            outcome = "unchanged"  # the server sent it all again (no validators honoured)
        elif sha in self._seen_shas or (kind in DOCUMENT_KINDS and known is None and self.log.sha_known(sha)):
            outcome = "duplicate"
        else:
            outcome = "changed" if known is not None else "new"
        self._seen_shas.add(sha)
        path = self.bodies.write(data, sha, SUFFIX_OF.get(media_type or "", ".bin"))
        self._record(fetched, kind, referrer, outcome, sha, len(data), media_type, path=path)
        return Body(data, sha, media_type, outcome, path)

    async def _robots_for(self, url: str) -> robots_txt.Robots:
        where = robots_txt.robots_url(url)
        if where not in self._robots:
            self._robots[where] = await self._read_robots(where)
        return self._robots[where]

    async def _read_robots(self, where: str) -> robots_txt.Robots:
        body, fetched = await self._get(where, "robots", None)
        if body is not None:
            try:
                rules = robots_txt.from_text(decode_page(body.data, where))
            except (ReaderError, ValueError) as exc:
                return robots_txt.unreadable(f"robots.txt unreadable: {exc}")
            delay = rules.crawl_delay(self.site.user_agent)
            if delay is not None:
                key = self.fetcher.gate.key(where)
                self.fetcher.gate.delays[key] = min(delay, self.site.max_crawl_delay_seconds)
            return rules
        if fetched.status is not None and 400 <= fetched.status < 500:
            return robots_txt.missing()
        return robots_txt.unreadable(f"robots.txt could not be read ({fetched.reason})")

    # -- the log -----------------------------------------------------------------------------
    def _refuse(self, url: str, kind: str, referrer: str | None, why: str) -> None:
        self._last_problem = why
        record = FetchRecord(self.run_id, self.site.name, kind, url, "refused", referrer=referrer, reason=why)
        self.log.record(record)
        self.summary.count(kind, "refused", None)

    def _record(self, fetched: Fetched, kind: str, referrer: str | None, outcome: str, sha: str | None = None,
                size: int | None = None, media_type: str | None = None, reason: str | None = None,
                path: str | None = None) -> None:
        record = FetchRecord(
            self.run_id, self.site.name, kind, fetched.url, outcome, final_url=fetched.final_url, referrer=referrer,
            http_status=fetched.status, etag=fetched.validators.etag, last_modified=fetched.validators.last_modified,
            size_bytes=size, sha256=sha, media_type=media_type, reason=reason or fetched.reason,
            attempts=fetched.attempts, content_disposition=fetched.content_disposition)
        self.log.record(record, path)
        self.summary.count(kind, outcome, fetched.status)
        if outcome in ("refused", "error"):
            self._last_problem = record.reason


def _decoded(data: bytes, url: str) -> str:
    try:
        return decode_page(data, url)
    except ReaderError:
        return ""
