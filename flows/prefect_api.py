"""The Prefect API servers gongkai starts itself, each tied to the life of the gongkai process.

`gongkai run` and `gongkai crawl --once` need an API: without PREFECT_API_URL, Prefect 3
would start an ephemeral one (a uvicorn subprocess) lazily, from whatever thread first asks,
and stop it only at a clean exit — a `kill -9` left it running. `owned_ephemeral_api` starts
Prefect's own ephemeral server up front, from the calling (main) thread, once per process
(later flows in the same process reuse it, as Prefect's lazy start did), and `gongkai serve`'s
`prefect_server` runs `prefect server start`; both child processes get Linux's
PR_SET_PDEATHSIG (`die_with_parent`), so they receive SIGTERM when gongkai ends, however it ends.
The signal follows the *thread* that started the child, so both are started from the thread
that runs the command, never from a worker thread.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

SERVER_START_TIMEOUT_S = 120
_PATCH_LOCK = threading.Lock()


def die_with_parent() -> None:
    """In a child before it execs: SIGTERM when the thread that started it ends (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before the prctl: nobody would signal us
            os.kill(os.getpid(), signal.SIGTERM)


class _PopenDyingWithParent(ModuleType):
    """The subprocess module as one Prefect module sees it while it starts its server."""

    def __init__(self) -> None:
        super().__init__("subprocess")

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    Popen = partial(subprocess.Popen, preexec_fn=die_with_parent)


_ephemeral: Any = None  # this process's ephemeral server, started once and reused (Prefect does the same)


@contextmanager
def owned_ephemeral_api() -> Iterator[str]:
    """PREFECT_API_URL when set (yields it); else this process's ephemeral Prefect server,
    started on first use and kept until the process ends, its process dying with ours; its URL
    is set for the block in this process's settings and environment (the workers it starts)."""
    existing = os.environ.get("PREFECT_API_URL")
    if existing:
        yield existing
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api_url = _ephemeral_server().api_url
    os.environ["PREFECT_API_URL"] = api_url
    try:
        with temporary_settings({PREFECT_API_URL: api_url}):
            yield api_url
    finally:
        from prefect.logging.handlers import APILogHandler

        APILogHandler().flush()  # the block's last log lines go out while the server is known
        os.environ.pop("PREFECT_API_URL", None)


def _ephemeral_server() -> Any:
    """Prefect's SubprocessASGIServer, started from this thread with die_with_parent; started
    again when it is gone. From a thread other than the main one the signal would come when
    that thread ends, so there it is started as Prefect starts it (stopped at a clean exit)."""
    global _ephemeral
    from prefect.server.api import server as prefect_server_module

    alive = _ephemeral is not None and _ephemeral.server_process is not None \
        and _ephemeral.server_process.poll() is None
    if alive:
        return _ephemeral
    if _ephemeral is not None:
        _ephemeral.stop()  # a dead server: forget its process, then a new start
    server = prefect_server_module.SubprocessASGIServer()
    with _PATCH_LOCK:  # Prefect's own Popen call, given our preexec_fn for this one start
        if threading.current_thread() is threading.main_thread():
            prefect_server_module.subprocess = _PopenDyingWithParent()
        try:
            server.start(timeout=SERVER_START_TIMEOUT_S)
        finally:
            prefect_server_module.subprocess = subprocess
    _ephemeral = server
    return server


@contextmanager
def prefect_server(data_dir: Path) -> Iterator[str]:
    """PREFECT_API_URL when set; else `prefect server start` on 127.0.0.1 (state under the
    data directory, with the services a schedule needs), stopped on exit."""
    existing = os.environ.get("PREFECT_API_URL")
    if existing:
        yield existing
        return
    port = free_port()
    home = data_dir / "prefect-server"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": os.environ.get(
               "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS", "10")}
    prefect = shutil.which("prefect", path=str(Path(sys.executable).parent)) or "prefect"
    with (home / "server.log").open("ab") as log:
        server = subprocess.Popen(
            [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent)
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        _wait_healthy(api_url, server)
        os.environ["PREFECT_API_URL"] = api_url
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: api_url}):
            yield api_url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        _stop(server)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(api_url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"prefect server exited with {server.returncode} before it was healthy")
        try:
            if httpx.get(f"{api_url}/health", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"prefect server at {api_url} not healthy after {SERVER_START_TIMEOUT_S} s")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)  # its own session: the server and its workers, nothing else
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
