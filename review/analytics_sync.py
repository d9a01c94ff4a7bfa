"""Keeping the DuckDB analytics store in step with reviewers' saves.

A save replaces its report's rows at once (a full rebuild when the file lacks a table or
column the report needs). Every write builds the file's next version and swaps it in
(store/analytics_file.py), so analysts' open connections never block it; writers take
turns on the file's lock. While another writer (`gongkai run`) holds it for more than
WRITE_WAIT_S, the save returns and a background thread retries, with a growing delay and a
bounded number of tries, until it gets through. Saves made meanwhile are picked up by that
retry (every rebuild reads the whole operational store).
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import duckdb

from gongkai.config import load_templates
from gongkai.extractors.anomalies import find_anomalies
from gongkai.store.analytics import NeedsRebuild, load_analytics, refresh_report
from gongkai.store.analytics_file import AnalyticsBusy
from gongkai.store.operational import OperationalStore

log = logging.getLogger(__name__)
RETRY_DELAYS = (0.5, 1, 1, 2, 2, 4, 4, 8, 8, 15, 15, 30)  # about 90 s in all
WRITE_WAIT_S = 1.0  # a save waits this long for another writer, then leaves it to the retry


class AnalyticsSync:
    def __init__(self, store: OperationalStore, path: Path | None, delays: tuple[float, ...] = RETRY_DELAYS) -> None:
        self.store, self.path, self.delays = store, path, delays
        self._lock = threading.Lock()
        self._retry: threading.Thread | None = None
        self._dirty = False  # a save arrived while a retry was pending
        self.last_error: str | None = None

    def refresh(self, report_id: int | None = None) -> bool:
        """Bring the analytics store up to date now (one report's rows when given, else a
        rebuild); True when done, False when the file was locked (a retry is running)."""
        if self.path is None:
            return True
        with self._lock:
            if self._retry is not None and self._retry.is_alive():
                self._dirty = True  # the pending retry rebuilds (again) after this save
                return False
            if self._try_once(self.path, report_id):
                return True
            self._retry = threading.Thread(
                target=self._retry_loop, args=(self.path,), name="analytics-retry", daemon=True
            )
            self._retry.start()
            return False

    def wait(self, timeout: float) -> bool:
        """For tests and shutdown: True when no retry is pending (any more)."""
        thread = self._retry
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive() and self.last_error is None
        return self.last_error is None

    def _try_once(self, path: Path, report_id: int | None = None) -> bool:
        try:
            if report_id is not None:
                try:
                    refresh_report(self.store, path, report_id, find_anomalies=find_anomalies,
                                   wait_s=WRITE_WAIT_S)
                    self.last_error = None
                    return True
                except NeedsRebuild:
                    pass
            field_ids = [i for t in load_templates() for i in t.field_ids()]
            load_analytics(self.store, path, find_anomalies=find_anomalies, field_ids=field_ids,
                           wait_s=WRITE_WAIT_S)
        except (AnalyticsBusy, duckdb.IOException) as exc:  # another writer holds the file
            self.last_error = str(exc)
            return False
        self.last_error = None
        return True

    def _retry_loop(self, path: Path) -> None:
        for delay in self.delays:
            time.sleep(delay)
            with self._lock:
                self._dirty = False
            if self._try_once(path):
                with self._lock:
                    if not self._dirty:
                        return
        log.error("analytics store %s still locked after %d retries: %s", self.path, len(self.delays),
                  self.last_error)
