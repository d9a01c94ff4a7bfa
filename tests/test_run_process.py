"""`gongkai run` as a process (issue 11 item 14): the Prefect API server it starts dies with
it, even when it is killed outright (`kill -9`: no atexit, no finally)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from samples import ROOT, seed


def children(pid: int) -> list[int]:
    """Every living descendant of `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == current]
        found += kids
        frontier += kids
    return found


def alive(pid: int) -> bool:
    """A zombie waiting for its new parent to reap it counts as dead."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def api_server_of(pid: int, timeout: float) -> tuple[int, str]:
    """The ephemeral Prefect API server started by `pid`, once it answers: (its pid, its URL)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children(pid):
            args = cmdline(child)
            if "prefect.server.api.server:create_app" in args and "--port" in args:
                url = f"http://127.0.0.1:{args[args.index('--port') + 1]}/api"
                try:
                    if httpx.get(f"{url}/health", timeout=2, trust_env=False).status_code == 200:
                        return child, url
                except httpx.HTTPError:
                    pass
        time.sleep(0.2)
    raise AssertionError(f"no Prefect API server under {pid} after {timeout} s")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_prefect_api_server_dies_with_a_killed_gongkai_run(tmp_path: Path) -> None:
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "GONGKAI_DATA_DIR": str(tmp_path / "data")}
    env.pop("PREFECT_API_URL", None)
    inputs = [str(seed(p)) for p in ("000", "001", "002", "003", "004")]
    inputs += [str(p) for p in sorted((ROOT / "samples" / "rendered").glob("*.pdf"))[:6]]
    run = subprocess.Popen(
        [sys.executable, "-m", "gongkai.cli", "run", "--store", f"sqlite:///{tmp_path / 'ops.sqlite'}",
         "--analytics", str(tmp_path / "a.duckdb"), "--no-progress", *inputs],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    family: list[int] = []
    try:
        server, url = api_server_of(run.pid, timeout=240)
        family = children(run.pid)
        assert run.poll() is None, "the run ended before it could be killed: give it more to do"
        os.kill(run.pid, signal.SIGKILL)
        run.wait(10)
        deadline = time.monotonic() + 15
        while any(alive(p) for p in family) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(server), f"the Prefect API server {server} outlived its killed parent"
        assert [p for p in family if alive(p)] == []
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{url}/health", timeout=2, trust_env=False)
    finally:  # what this test started, by pid, should it fail
        if run.poll() is None:
            run.kill()
            run.wait(10)
        for pid in family:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
