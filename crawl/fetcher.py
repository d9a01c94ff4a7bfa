"""One polite, bounded HTTP GET: the only code that talks to agency sites.

Per host one request at a time with `delay_seconds` between them (a larger robots.txt
Crawl-delay wins); retries with exponential backoff on 5xx, 429 (Retry-After honoured up
to a cap) and timeouts; conditional GET from the validators stored last time; the body is
read as a stream and cut off at `max_bytes` whatever Content-Length says; redirects are
followed by hand so that every hop is checked against the allowed hosts and the public
address rule before it is requested.
"""
from __future__ import annotations

import asyncio
import email.utils
import time
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin

import httpx

from .config import Site
from .safety import Refused, check_addresses, check_url, host_port

MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
Outcome = Literal["ok", "not_modified", "refused", "error"]


@dataclass(frozen=True, slots=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # as asked for
    final_url: str  # after redirects
    outcome: Outcome
    status: int | None = None
    reason: str | None = None  # refused / error: why
    body: bytes | None = None  # outcome ok only
    validators: Validators = Validators()
    content_type: str | None = None
    content_disposition: str | None = None  # recorded, never used as a file name
    attempts: int = 1
    location: str | None = None  # a redirect's target
    retry_after: str | None = None  # 429/5xx: the server's Retry-After


class _TooLarge(Exception):
    pass


class HostGate:
    """One request at a time per host:port, spaced by the host's delay."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}
        self.delays: dict[str, float] = {}  # host:port -> seconds (site delay or Crawl-delay)

    def key(self, url: str) -> str:
        host, port = host_port(url)
        return f"{host}:{port}"

    def lock(self, url: str) -> asyncio.Lock:
        return self._locks.setdefault(self.key(url), asyncio.Lock())

    async def wait_turn(self, url: str, delay: float) -> None:
        key = self.key(url)
        wait = self._last.get(key, float("-inf")) + max(delay, self.delays.get(key, 0.0)) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def done(self, url: str) -> None:
        self._last[self.key(url)] = time.monotonic()


class Fetcher:
    def __init__(self, clients: dict[bool, httpx.AsyncClient], gate: HostGate) -> None:
        self.clients = clients  # by allow_private_addresses (safety.checked_client)
        self.gate = gate

    async def get(self, url: str, site: Site, validators: Validators = Validators(),
                  referrer: str | None = None) -> Fetched:
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                check_url(current, site.allowed_hosts)
                await check_addresses(current, site.allow_private_addresses)
            except Refused as exc:
                why = str(exc) if current == url else f"redirect to {current[:200]}: {exc}"
                return Fetched(url, current, "refused", reason=why)
            fetched = await self._with_retries(url, current, site, validators if current == url else Validators(),
                                               referrer)
            if fetched.status not in (301, 302, 303, 307, 308):
                return fetched
            location = fetched.location or ""
            if not location:
                return Fetched(url, current, "error", fetched.status, "redirect without a Location")
            current = urljoin(current, location)
        return Fetched(url, current, "error", reason=f"more than {MAX_REDIRECTS} redirects")

    async def _with_retries(self, url: str, current: str, site: Site, validators: Validators,
                            referrer: str | None) -> Fetched:
        attempt = 0
        while True:
            attempt += 1
            async with self.gate.lock(current):
                await self.gate.wait_turn(current, site.delay_seconds)
                try:
                    fetched = await self._once(url, current, site, validators, referrer, attempt)
                finally:
                    self.gate.done(current)
            retry_in = _retry_delay(fetched, site, attempt)
            if retry_in is None:
                return fetched
            await asyncio.sleep(retry_in)

    async def _once(self, url: str, current: str, site: Site, validators: Validators, referrer: str | None,
                    attempt: int) -> Fetched:
        headers = {"User-Agent": site.user_agent, **validators.headers()}
        if referrer:
            headers["Referer"] = referrer
        try:
            # A total deadline too: a server dripping one byte per second never trips a read timeout.
            async with asyncio.timeout(site.max_fetch_seconds):
                client = self.clients[site.allow_private_addresses]
                async with client.stream("GET", current, headers=headers, timeout=site.timeout_seconds) as resp:
                    return await _read(url, current, resp, site, attempt)
        except Refused as exc:  # the address check at connect time
            return Fetched(url, current, "refused", reason=str(exc), attempts=attempt)
        except httpx.TimeoutException:
            return Fetched(url, current, "error", reason=f"timed out after {site.timeout_seconds:g} s",
                           attempts=attempt)
        except TimeoutError:
            return Fetched(url, current, "error", reason=f"not done after max_fetch_seconds {site.max_fetch_seconds:g}",
                           attempts=attempt)
        except httpx.HTTPError as exc:
            return Fetched(url, current, "error", reason=f"{type(exc).__name__}: {exc}"[:500], attempts=attempt)


async def _read(url: str, current: str, resp: httpx.Response, site: Site, attempt: int) -> Fetched:
    status = resp.status_code
    validators = Validators(resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
    common = {"validators": validators, "content_type": resp.headers.get("Content-Type"),
              "content_disposition": resp.headers.get("Content-Disposition"), "attempts": attempt}
    if status in (301, 302, 303, 307, 308):
        return Fetched(url, current, "ok", status, location=resp.headers.get("Location"), **common)
    if status == 304:
        return Fetched(url, current, "not_modified", status, **common)
    if status != 200:
        return Fetched(url, current, "error", status, f"HTTP {status}", retry_after=resp.headers.get("Retry-After"),
                       **common)
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > site.max_bytes:
        return Fetched(url, current, "refused", status, f"Content-Length {declared} over max_bytes {site.max_bytes}",
                       **common)
    try:
        body = await _capped_body(resp, site.max_bytes)
    except _TooLarge:
        return Fetched(url, current, "refused", status, f"body over max_bytes {site.max_bytes} (cut off while "
                       "streaming)", **common)
    return Fetched(url, current, "ok", status, body=body, **common)


async def _capped_body(resp: httpx.Response, limit: int) -> bytes:
    chunks = bytearray()
    async for chunk in resp.aiter_bytes():
        chunks += chunk
        if len(chunks) > limit:
            raise _TooLarge
    return bytes(chunks)


def _retry_delay(fetched: Fetched, site: Site, attempt: int) -> float | None:
    """Seconds to wait before trying again, or None: done (success, a final error, no retries left)."""
    retryable = fetched.status in RETRY_STATUSES or (fetched.outcome == "error" and fetched.status is None)
    if not retryable or attempt > site.retries:
        return None
    backoff = site.backoff_seconds * 2 ** (attempt - 1)
    retry_after = _retry_after_seconds(fetched.retry_after)
    if retry_after is not None:
        if retry_after > site.max_retry_after_seconds:
            return None
        return max(backoff, retry_after)
    return backoff


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
