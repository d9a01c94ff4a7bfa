"""The commands as a user runs them: `gongkai serve` starts its own `prefect server` on
127.0.0.1, serves the crawl on the config's one-minute cron, runs it on schedule and stops the
server on exit; `gongkai crawl --once` against that server (PREFECT_API_URL) keeps Prefect's
INFO lines off the terminal and warns about a listing that lost its report links; a bad sites
file exits naming key and line. (The flow without any server: test_crawl_site.py.)"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from crawl_site import AgencySite, Route, attachments_page, listing_page

pytestmark = [pytest.mark.slow, pytest.mark.flow]
GONGKAI = str(Path(sys.executable).with_name("gongkai"))
SITE = "小站"


def tiny_site(site: AgencySite, with_report: bool) -> None:
    site.add("/robots.txt", Route(b"User-agent: *\nAllow: /\n", "text/plain"))
    entries = [("./t1.htm", "某局2023年度政府信息公开工作年度报告")] if with_report else []
    site.add("/nb/index.html", Route(listing_page(entries, "")))
    site.add("/nb/t1.htm", Route(attachments_page([])))  # a report page with nothing in it yet


def config(path: Path, site: AgencySite) -> Path:
    path.write_text(f'''schedule: "* * * * *"
defaults: {{delay_seconds: 0, timeout_seconds: 2, retries: 0}}
sites:
  - name: {SITE}
    start_urls: ["{site.base}/nb/index.html"]
    allowed_hosts: ["127.0.0.1:{site.port}"]
    link_keywords: ["年度报告"]
    allow_private_addresses: true
''', encoding="utf-8")
    return path


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(GONGKAI_DATA_DIR=str(home / "data"), PREFECT_HOME=str(home / "prefect"),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_RUNNER_POLL_FREQUENCY="2",
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120")
    return env


def fetch_rows(store: Path) -> list[tuple]:
    if not store.exists():
        return []
    with sqlite3.connect(store) as con:
        try:
            return con.execute("SELECT site, kind, url, outcome, run_id FROM crawl_fetches ORDER BY id").fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            return []


def test_bad_config_exits_with_the_key_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "sites.yaml"
    bad.write_text("schedule: '* * * * *'\nsites:\n  - name: x\n    start_url: ['http://127.0.0.1/']\n",
                   encoding="utf-8")
    done = subprocess.run([GONGKAI, "crawl", "--once", "--config", str(bad)], env=env_for(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "line 4: sites.0.start_url: Extra inputs are not permitted" in done.stderr
    assert "line 3: sites.0.start_urls: Field required" in done.stderr


def test_serve_runs_the_crawl_on_schedule_against_its_own_prefect_server(tmp_path: Path) -> None:
    store = tmp_path / "ops.sqlite"
    with AgencySite() as site:
        tiny_site(site, with_report=False)
        cfg = config(tmp_path / "sites.yaml", site)
        serve = subprocess.Popen(
            [GONGKAI, "serve", "--config", str(cfg), "--store", f"sqlite:///{store}",
             "--analytics", str(tmp_path / "a.duckdb")],
            env=env_for(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        output: list[str] = []
        reader = threading.Thread(target=lambda: output.extend(iter(serve.stdout.readline, "")), daemon=True)
        reader.start()
        server_pids: set[int] = set()
        try:
            deadline = time.monotonic() + 240  # server start, the next minute, the run (a loaded box)
            rows: list[tuple] = []
            while time.monotonic() < deadline and not rows:
                assert serve.poll() is None, "".join(output)
                server_pids |= {p.pid for p in psutil.Process(serve.pid).children(recursive=True)
                                if "server" in p.cmdline() and "start" in p.cmdline()}
                rows = [r for r in fetch_rows(store) if r[1] == "listing"]
                time.sleep(2)
            assert rows, "no scheduled crawl ran within the bounded wait:\n" + "".join(output)
            assert rows[0][0] == SITE and rows[0][3] == "new"
            assert server_pids, "gongkai serve did not start a prefect server of its own"
            prefect_db = tmp_path / "data" / "prefect-server" / "prefect.db"
            with sqlite3.connect(prefect_db) as con:
                auto = con.execute("SELECT count(*) FROM flow_run WHERE auto_scheduled = 1").fetchone()[0]
            assert auto >= 1  # the run came from the deployment's schedule, not by hand
            (api_url,) = [line.split("Prefect API at ")[1].split(";")[0] for line in output if "Prefect API at" in line]
            crawl_once_against(api_url, tmp_path, site, cfg)
        finally:
            os.kill(serve.pid, signal.SIGINT)
            try:
                serve.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(serve.pid, signal.SIGKILL)
                serve.wait()
    for pid in server_pids:  # stopped on exit (given a bounded moment to finish on a loaded box)
        assert _gone_within(pid, 30), f"the prefect server {pid} outlived gongkai serve"


def crawl_once_against(api_url: str, tmp_path: Path, site: AgencySite, cfg: Path) -> None:
    """`gongkai crawl --once` with PREFECT_API_URL (the served server: no second server start):
    a quiet terminal, and the warning for a listing page that lost its report links."""
    from gongkai.crawl.config import load_config
    from gongkai.crawl.run import crawl

    store = tmp_path / "once.sqlite"
    tiny_site(site, with_report=True)
    _run_id, (before,) = crawl(load_config(cfg).sites, f"sqlite:///{store}", tmp_path / "once-data")
    assert before.warnings == [] and before.pages_fetched == 2
    tiny_site(site, with_report=False)  # the CMS changed its layout: no report links any more
    done = subprocess.run(
        [GONGKAI, "crawl", "--once", "--config", str(cfg), "--store", f"sqlite:///{store}",
         "--analytics", str(tmp_path / "once.duckdb"), "--no-progress"],
        env={**env_for(tmp_path), "PREFECT_API_URL": api_url, "GONGKAI_DATA_DIR": str(tmp_path / "once-data")},
        capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert f"{SITE}: pages fetched: 1" in done.stdout
    assert f"listing page {site.base}/nb/index.html had 1 report links before, none now" in done.stdout
    assert "processed: nothing new or changed" in done.stdout
    assert "| INFO" not in done.stdout + done.stderr  # Prefect's INFO lines only with --verbose


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.5)
    return False
