"""`gongkai users …` and `gongkai review …` on a real SQLite store made from a sample."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from review_app import Broken, broken_sample, free_port, make_store
from typer.testing import CliRunner

from gongkai.cli import app
from gongkai.review.errors import AuthenticationFailed
from gongkai.review.service import ReviewService

runner = CliRunner()


@pytest.fixture()
def sample(tmp_path: Path) -> Broken:
    return broken_sample(tmp_path)


@pytest.fixture()
def store_url(tmp_path: Path, sample: Broken) -> str:
    return make_store(tmp_path, [sample.path])[0]


def test_users_add_from_stdin_and_token(store_url: str) -> None:
    added = runner.invoke(app, ["users", "add", "rita", "--role", "reviewer", "--password-stdin",
                                "--store", store_url], input="rita-password-1\n")
    assert added.exit_code == 0, added.output
    assert "added rita (reviewer)" in added.output
    issued = runner.invoke(app, ["users", "token", "rita", "--store", store_url])
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip().splitlines()[-1]
    service = ReviewService(store_url)
    try:
        assert service.authenticate("rita", "rita-password-1").role == "reviewer"
        assert service.user_for_token(token).name == "rita"
        with pytest.raises(AuthenticationFailed):
            service.authenticate("rita", "wrong")
    finally:
        service.close()


def test_users_add_prompts_twice(store_url: str) -> None:
    added = runner.invoke(app, ["users", "add", "adam", "--role", "admin", "--store", store_url],
                          input="adam-password-1\nadam-password-1\n")
    assert added.exit_code == 0, added.output
    assert "Password: " in added.output and "Repeat for confirmation" in added.output
    mismatch = runner.invoke(app, ["users", "add", "eve", "--role", "admin", "--store", store_url],
                             input="eve-password-1\neve-password-2\n")
    assert mismatch.exit_code != 0
    assert "do not match" in mismatch.output
    service = ReviewService(store_url)
    try:
        assert service.user_by_name("adam") is not None and service.user_by_name("eve") is None
    finally:
        service.close()


def test_users_add_refuses_a_bad_role_and_a_duplicate(store_url: str) -> None:
    bad = runner.invoke(app, ["users", "add", "eve", "--role", "root", "--password-stdin", "--store", store_url],
                        input="eve-password-1\n")
    assert bad.exit_code != 0
    args = ["users", "add", "rita", "--role", "reviewer", "--password-stdin", "--store", store_url]
    assert runner.invoke(app, args, input="rita-password-1\n").exit_code == 0
    again = runner.invoke(app, args, input="rita-password-1\n")
    assert again.exit_code == 1
    assert "refused" in again.output


def test_review_list_prints_open_items(store_url: str, sample: Broken) -> None:
    listed = runner.invoke(app, ["review", "list", "--store", store_url])
    assert listed.exit_code == 0, listed.output
    lines = [line for line in listed.stdout.splitlines() if "\t" in line]
    assert any(f"\t{sample.field_id}\t{sample.printed}\t" in line for line in lines)
    assert all(line.split("\t")[1] in ("open", "claimed") for line in lines)


def test_review_serve_binds_127_0_0_1_by_default(tmp_path: Path, store_url: str) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gongkai.cli", "review", "serve", "--store", store_url,
         "--analytics", str(tmp_path / "analytics.duckdb"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "review serve did not start"
                time.sleep(0.2)
        assert answer.status_code == 200
        listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True)
        if listening.returncode == 0 and listening.stdout.strip():
            assert all("127.0.0.1:" in line for line in listening.stdout.strip().splitlines()), listening.stdout
    finally:
        server.terminate()
        server.wait(timeout=10)
