"""Writing the DuckDB analytics file without ever locking its readers out, or being locked out.

DuckDB lets one process hold a file read-write and then no other may open it, and an
analyst's read-only connection (a notebook left open) keeps every writer out. So no writer
opens the analysts' file: `rewrite` builds the next version in a file beside it (a copy of
the current one, so tables a writer does not rebuild are kept, and checkpointed), and
`os.replace` swaps it in atomically. A reader that has the old file open keeps reading its
snapshot (the old inode) until it reconnects; every new connection opens the new file. In
one process DuckDB reuses an open database for the same path, so a process sees the new
file once it has closed its own connections to the old one.

Writers take turns through an flock on `<file>.lock` beside it (never deleted: removing a
lock file races with its next taker); one that cannot get it within `wait_s` raises
AnalyticsBusy, so a review save can hand the work to a background retry instead of waiting.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

DEFAULT_WAIT_S = 120.0  # a full rebuild of 100 000 fields takes seconds, a report's refresh ~1 s
POLL_S = 0.05


class AnalyticsBusy(RuntimeError):
    """Another writer is rebuilding the analytics file; try again later."""


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def wal_path(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


@contextmanager
def writer_lock(path: Path, wait_s: float = DEFAULT_WAIT_S) -> Iterator[None]:
    """The analytics file's one-writer lock; AnalyticsBusy after `wait_s` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise AnalyticsBusy(f"{path} is being rebuilt by another process (lock {lock_path(path)} "
                                        f"held for more than {wait_s:g} s)") from None
                time.sleep(POLL_S)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def rewrite(path: Path, *, wait_s: float = DEFAULT_WAIT_S) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the next version of `path`; when the block ends without an
    exception the new version replaces the old one at once, else it is thrown away."""
    path = Path(path)
    with writer_lock(path, wait_s):
        scratch = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            _start_from(path, scratch)
            con = duckdb.connect(str(scratch))
            try:
                yield con
                con.execute("CHECKPOINT")  # everything in the file itself: no WAL travels with it
            finally:
                con.close()
            _fsync(scratch)
            os.replace(scratch, path)
            with suppress(FileNotFoundError):  # a crashed direct writer's log belongs to the old file
                os.unlink(wal_path(path))
            _fsync(path.parent)
        finally:
            for leftover in (scratch, wal_path(scratch)):
                with suppress(FileNotFoundError):
                    os.unlink(leftover)


def _start_from(path: Path, scratch: Path) -> None:
    """The current file (and a WAL an unclean close left beside it) as the scratch's start."""
    if path.exists():
        shutil.copyfile(path, scratch)
        if wal_path(path).exists():
            shutil.copyfile(wal_path(path), wal_path(scratch))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
