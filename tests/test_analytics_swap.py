"""An analyst's open read-only DuckDB connection never stops a rebuild of the analytics file
(issue 11 item 12): the next version is built beside it and swapped in, the open reader
keeps its snapshot, a new connection sees the new data; writers take turns on a lock file."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from gongkai.extractors.anomalies import find_anomalies
from gongkai.extractors.pipeline import extract_file
from gongkai.store.analytics import load_analytics
from gongkai.store.analytics_file import AnalyticsBusy, lock_path, rewrite, writer_lock
from gongkai.store.operational import OperationalStore
from samples import ROOT, seed

# Opens the file read-only and keeps it open: prints the report count, then again on each stdin line.
READER = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select count(*) from reports").fetchone()[0], flush=True)
for _ in sys.stdin:
    print(con.execute("select count(*) from reports").fetchone()[0], flush=True)
"""


@contextmanager
def analyst(path: Path) -> Iterator[subprocess.Popen]:
    """A second process with a read-only connection open on `path` until the block ends."""
    reader = subprocess.Popen([sys.executable, "-c", READER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield reader
    finally:
        reader.stdin.close()
        reader.wait(30)


def ask(reader: subprocess.Popen) -> int:
    reader.stdin.write("again\n")
    reader.stdin.flush()
    return int(reader.stdout.readline())


def reports_in(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select count(*) from reports").fetchone()[0]


def test_a_rebuild_goes_through_while_an_analyst_holds_the_file_open(tmp_path: Path) -> None:
    analytics = tmp_path / "analytics.duckdb"
    with OperationalStore(f"sqlite:///{tmp_path / 'ops.sqlite'}") as store:
        store.migrate()
        store.save_result(extract_file(seed("001")))
        load_analytics(store, analytics, find_anomalies=find_anomalies)
        with analyst(analytics) as reader:
            assert int(reader.stdout.readline()) == 1
            store.save_result(extract_file(seed("004")))
            counts = load_analytics(
                store, analytics, find_anomalies=find_anomalies
            )  # before the swap this raised "Could not set lock"
            assert counts["reports"] == 2
            assert ask(reader) == 1  # the open connection keeps its snapshot
            assert reports_in(analytics) == 2  # a new connection opens the new file
        assert reader.returncode == 0, reader.stderr.read()
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".analytics"))
    assert leftovers == [] and not (tmp_path / "analytics.duckdb.wal").exists()


def test_a_failed_rebuild_leaves_the_old_file_as_it_was(tmp_path: Path) -> None:
    analytics = tmp_path / "a.duckdb"
    with rewrite(analytics) as con:
        con.execute("create table t as select 1 as x")
    with pytest.raises(ZeroDivisionError):
        with rewrite(analytics) as con:
            con.execute("insert into t values (2)")
            raise ZeroDivisionError
    with duckdb.connect(str(analytics), read_only=True) as con:
        assert con.execute("select x from t").fetchall() == [(1,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.duckdb", "a.duckdb.lock"]


def test_tables_a_writer_does_not_touch_are_kept(tmp_path: Path) -> None:
    analytics = tmp_path / "a.duckdb"
    with rewrite(analytics) as con:
        con.execute("create table kept as select 7 as x")
    with rewrite(analytics) as con:
        con.execute("create table added as select 8 as y")
    with duckdb.connect(str(analytics), read_only=True) as con:
        assert con.execute("select x, y from kept, added").fetchall() == [(7, 8)]


def test_two_writers_take_turns_and_a_hurried_one_is_told_the_file_is_busy(tmp_path: Path) -> None:
    analytics = tmp_path / "a.duckdb"
    with rewrite(analytics) as con:
        con.execute("create table n (i integer)")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from gongkai.store.analytics_file import writer_lock\n"
         "with writer_lock(Path(sys.argv[1])):\n print('held', flush=True); time.sleep(1.5)",
         str(analytics)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(AnalyticsBusy, match="being rebuilt"):
            with rewrite(analytics, wait_s=0.2):
                pass
        started = time.monotonic()
        with rewrite(analytics, wait_s=30) as con:  # waits its turn, then writes
            assert time.monotonic() - started > 0.5
            con.execute("insert into n values (1)")
    finally:
        holder.wait(30)
    assert holder.returncode == 0
    assert lock_path(analytics).exists()


def test_concurrent_writers_in_threads_lose_no_write(tmp_path: Path) -> None:
    analytics = tmp_path / "a.duckdb"
    with rewrite(analytics) as con:
        con.execute("create table n (i integer)")

    def add(i: int) -> None:
        with rewrite(analytics) as con:
            con.execute("insert into n values (?)", [i])

    threads = [threading.Thread(target=add, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with duckdb.connect(str(analytics), read_only=True) as con:
        assert sorted(r[0] for r in con.execute("select i from n").fetchall()) == list(range(6))


def test_the_lock_is_free_again_after_a_writer_fails(tmp_path: Path) -> None:
    analytics = tmp_path / "a.duckdb"
    with pytest.raises(RuntimeError):
        with writer_lock(analytics):
            raise RuntimeError("boom")
    with writer_lock(analytics, wait_s=0):
        pass


@pytest.mark.slow
def test_gongkai_run_succeeds_while_an_analyst_keeps_a_notebook_open(tmp_path: Path) -> None:
    """The real command in its own process, with a second process's read-only connection open."""
    analytics, store = tmp_path / "analytics.duckdb", f"sqlite:///{tmp_path / 'ops.sqlite'}"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "GONGKAI_DATA_DIR": str(tmp_path / "data")}
    gongkai = [sys.executable, "-m", "gongkai.cli", "run", "--store", store, "--analytics", str(analytics),
               "--no-progress"]
    first = subprocess.run([*gongkai, str(seed("001"))], env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    with analyst(analytics) as reader:
        assert int(reader.stdout.readline()) == 1
        second = subprocess.run([*gongkai, str(seed("004"))], env=env, capture_output=True, text=True,
                                timeout=600)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "lock" not in second.stderr.lower()
        assert ask(reader) == 1
        assert reports_in(analytics) == 2
