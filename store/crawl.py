"""Every SQL statement of the crawl: the fetch log, what is known of each URL, and which
stored document an URL last gave (so a changed page becomes the next version of it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa

from .audit import aware, utc_now
from .operational import OperationalStore
from .schema import crawl_fetches, crawl_urls, documents

u = crawl_urls.c


@dataclass(frozen=True, slots=True)
class KnownUrl:
    """What the last successful fetch of a URL left: its validators and its stored body."""

    url: str
    etag: str | None
    last_modified: str | None
    sha256: str | None
    media_type: str | None
    path: str | None  # relative to the data directory
    report_links: int | None
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class FetchRecord:
    run_id: str
    site: str
    kind: str  # robots | listing | report | attachment
    url: str
    outcome: str  # new | changed | unchanged | not_modified | duplicate | refused | error
    final_url: str | None = None
    referrer: str | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    media_type: str | None = None
    reason: str | None = None
    attempts: int = 1
    content_disposition: str | None = None


class CrawlLog:
    """The crawl's side of the operational store (same database, same migrations)."""

    def __init__(self, store: OperationalStore) -> None:
        self.store = store

    def known(self, url: str) -> KnownUrl | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(
                sa.select(u.url, u.etag, u.last_modified, u.sha256, u.media_type, u.path, u.report_links,
                          u.fetched_at).where(u.url == url)
            ).mappings().one_or_none()
        if row is None:
            return None
        return KnownUrl(**{**row, "fetched_at": aware(row["fetched_at"])})

    def record(self, fetch: FetchRecord, path: str | None = None) -> None:
        """The fetch's log row; a fetch that got the URL's content (or confirmed it) also
        updates what is known of the URL, in the same transaction."""
        now = utc_now()
        with self.store._write_transaction() as conn:
            conn.execute(sa.insert(crawl_fetches).values(at=now, **asdict(fetch)))
            if fetch.outcome in ("new", "changed", "unchanged", "duplicate"):
                _upsert_url(conn, fetch, path, now, changed=fetch.outcome != "unchanged")
            elif fetch.outcome == "not_modified":
                conn.execute(sa.update(crawl_urls).where(u.url == fetch.url).values(fetched_at=now))

    def set_report_links(self, url: str, count: int) -> None:
        with self.store._write_transaction() as conn:
            conn.execute(sa.update(crawl_urls).where(u.url == url).values(report_links=count))

    def sha_known(self, sha256: str) -> bool:
        """A document with this content is already stored (from another URL, or by `gongkai run`)."""
        with self.store.engine.connect() as conn:
            stored = conn.execute(sa.select(documents.c.id).where(documents.c.sha256 == sha256)).first()
            return stored is not None

    def previous_document(self, source_url: str, not_sha256: str) -> str | None:
        """The sha256 of the newest stored document that came from this URL, other than `not_sha256`."""
        with self.store.engine.connect() as conn:
            return conn.execute(
                sa.select(documents.c.sha256)
                .where(documents.c.source_url == source_url, documents.c.sha256 != not_sha256,
                       documents.c.error_stage.is_(None))
                .order_by(documents.c.id.desc())
                .limit(1)
            ).scalar_one_or_none()

    def fetches(self, run_id: str | None = None) -> list[dict]:
        """The fetch log (one run's, or all), oldest first: for the operator and tests."""
        stmt = sa.select(crawl_fetches).order_by(crawl_fetches.c.id)
        if run_id is not None:
            stmt = stmt.where(crawl_fetches.c.run_id == run_id)
        with self.store.engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]


def _upsert_url(conn: sa.Connection, fetch: FetchRecord, path: str | None, now: datetime, changed: bool) -> None:
    values = {"site": fetch.site, "etag": fetch.etag, "last_modified": fetch.last_modified,
              "sha256": fetch.sha256, "media_type": fetch.media_type, "path": path, "fetched_at": now}
    if changed:
        values["changed_at"] = now
    updated = conn.execute(sa.update(crawl_urls).where(u.url == fetch.url).values(**values)).rowcount
    if not updated:
        conn.execute(sa.insert(crawl_urls).values(url=fetch.url, first_seen_at=now, **values))
