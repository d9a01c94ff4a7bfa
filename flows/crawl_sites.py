"""The `crawl_sites` Prefect flow: crawl the configured agency sites, then hand only the new
and changed documents to process_documents (same store, same analytics file).

`gongkai crawl --once` runs it against an ephemeral API; `gongkai serve` serves it as a
deployment on the config's cron (see serve_crawl: a schedule fires only against a real
Prefect server, so one is started on 127.0.0.1 when no PREFECT_API_URL is set).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from tqdm import tqdm

from gongkai.crawl.config import load_config
from gongkai.crawl.crawler import SiteSummary
from gongkai.crawl.run import chosen_sites, crawl
from gongkai.flows.process_documents import process_documents

SUMMARY_COLUMNS = ("pages_fetched", "new", "changed", "not_modified", "duplicates", "refused", "errors")
SERVER_START_TIMEOUT_S = 120


@task(name="crawl")
def crawl_task(config_path: str | None, site: str | None, store_url: str, data_dir: str,
               progress: bool) -> tuple[str, list[SiteSummary]]:
    sites = chosen_sites(load_config(Path(config_path) if config_path else None), site)
    with tqdm(unit="fetch", disable=not progress, desc="crawl") as bar:
        return crawl(sites, store_url, Path(data_dir), on_fetch=lambda: bar.update(1))


@flow(name="crawl_sites", log_prints=True)
def crawl_sites(store_url: str, analytics_path: str, data_dir: str, config_path: str | None = None,
                site: str | None = None, progress: bool = False) -> dict[str, Any]:
    """One crawl of every configured site (or one), then the pipeline on what is new or changed."""
    run_id, summaries = crawl_task(config_path, site, store_url, data_dir, progress)
    found = [d for s in summaries for d in s.documents]
    processed: dict[str, Any] = {}
    if found:
        paths = [str(d.path) for d in found]
        processed = process_documents(
            paths, store_url, analytics_path, progress=progress,
            source_urls={str(d.path): d.url for d in found},
            previous_versions={str(d.path): d.previous_sha256 for d in found if d.previous_sha256},
        )
    text = summary_text(summaries, processed)
    print(text)
    create_markdown_artifact(key="crawl-sites-summary", markdown=summary_markdown(run_id, summaries, processed),
                             description="Per-site summary of gongkai's crawl_sites flow")
    return {"run_id": run_id, "sites": [_site_dict(s) for s in summaries], "processed": processed,
            "summary": text}


def _site_dict(summary: SiteSummary) -> dict[str, Any]:
    out = asdict(summary)
    out["documents"] = [{"url": d.url, "sha256": d.sha256, "outcome": d.outcome} for d in summary.documents]
    return out


def summary_text(summaries: list[SiteSummary], processed: dict[str, Any]) -> str:
    lines = []
    for s in summaries:
        counts = ", ".join(f"{c.replace('_', ' ')}: {getattr(s, c)}" for c in SUMMARY_COLUMNS)
        lines.append(f"{s.site}: {counts}")
        lines += [f"  warning: {w}" for w in s.warnings]
    if processed:
        lines.append("processed: " + ", ".join(f"{k}: {v}" for k, v in processed.items() if k != "analytics"))
    else:
        lines.append("processed: nothing new or changed")
    return "\n".join(lines)


def summary_markdown(run_id: str, summaries: list[SiteSummary], processed: dict[str, Any]) -> str:
    header = "| site | " + " | ".join(c.replace("_", " ") for c in SUMMARY_COLUMNS) + " | warnings |\n"
    header += "|---" * (len(SUMMARY_COLUMNS) + 2) + "|\n"
    body = "".join(
        f"| {_cell(s.site)} | " + " | ".join(str(getattr(s, c)) for c in SUMMARY_COLUMNS)
        + f" | {_cell('; '.join(s.warnings))} |\n" for s in summaries)
    done = ", ".join(f"{k}: {v}" for k, v in processed.items() if k != "analytics") or "nothing new or changed"
    return f"# crawl_sites\n\nrun {run_id}\n\n{header}{body}\nprocessed: {done}\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# ---------------------------------------------------------------------------------------
# Serving the flow on the config's schedule
# ---------------------------------------------------------------------------------------
def serve_crawl(store_url: str, analytics_path: str, data_dir: Path, config_path: str | None = None,
                cron: str | None = None, interval_seconds: int | None = None) -> None:
    """Serve crawl_sites as a deployment until interrupted; own a Prefect server when needed."""
    config = load_config(Path(config_path) if config_path else None)
    schedule = {"interval": interval_seconds} if interval_seconds else {"cron": cron or config.schedule}
    with prefect_server(data_dir) as api_url:
        print(f"gongkai serve: Prefect API at {api_url}; schedule {schedule}", flush=True)
        crawl_sites.serve(
            name="scheduled-crawl",
            parameters={"store_url": store_url, "analytics_path": analytics_path, "data_dir": str(data_dir),
                        "config_path": config_path},
            pause_on_shutdown=False,
            **schedule,
        )


@contextmanager
def prefect_server(data_dir: Path) -> Iterator[str]:
    """PREFECT_API_URL when set; else `prefect server start` on 127.0.0.1 (state under the
    data directory), stopped on exit."""
    existing = os.environ.get("PREFECT_API_URL")
    if existing:
        yield existing
        return
    port = _free_port()
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
            preexec_fn=_die_with_parent)
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


def _die_with_parent() -> None:
    """In the server's process before it starts: it gets SIGTERM when `gongkai serve` ends,
    however it ends (killed outright, the finally below never runs). Linux's PR_SET_PDEATHSIG."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _free_port() -> int:
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
