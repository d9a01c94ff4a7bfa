"""robots.txt, read with Protego (Scrapy's parser: wildcards, Crawl-delay, Request-rate).

Missing (4xx) means everything is allowed; a robots.txt that cannot be read (5xx after the
retries, a timeout, a refusal) means nothing is, for this run: a site that is down is not
crawled blind.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from protego import Protego


@dataclass(frozen=True, slots=True)
class Robots:
    parser: Protego | None  # None: no rules (allow all) or unreadable (see allow_all)
    allow_all: bool
    why_closed: str | None = None

    def allowed(self, url: str, user_agent: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return self.parser.can_fetch(url, user_agent)

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        rate = self.parser.request_rate(user_agent)
        if rate is not None and rate.requests:
            per_request = rate.seconds / rate.requests
            delay = max(delay or 0.0, per_request)
        return None if delay is None else float(delay)


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


def from_text(text: str) -> Robots:
    return Robots(Protego.parse(text), allow_all=True)


def missing() -> Robots:
    return Robots(None, allow_all=True)


def unreadable(why: str) -> Robots:
    return Robots(None, allow_all=False, why_closed=why)
