"""Agencies for the operator and the admin: `gongkai agencies list|merge` and the review app's
admin page over real HTTP (a real uvicorn server, a real SQLite store): admins only, names
escaped, the merge form joins two keys."""
from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import httpx
from review_app import PASSWORDS, add_users, serve
from test_review_web import login, session_csrf
from typer.testing import CliRunner

from gongkai.cli import app
from gongkai.extractors.agency import agency_key
from gongkai.models import ExtractionResult, FieldValue, Report, SourceInfo
from gongkai.review.service import ReviewService
from gongkai.store import OperationalStore

SCRIPT_NAME = "<script>alert(1)</script>卫生健康局"


def generated(agency: str, year: int, carried_over: int, carried_forward: int) -> ExtractionResult:
    fields = [FieldValue(id="requests.carried_over.total", value=carried_over, raw=str(carried_over),
                         confidence=0.99, status="accepted"),
              FieldValue(id="requests.carried_forward.total", value=carried_forward, raw=str(carried_forward),
                         confidence=0.99, status="accepted")]
    report = Report(agency=agency, agency_key=agency_key(agency), year=year, template="gov-2021",
                    kind="tabular", fields=fields)
    sha = hashlib.sha256(f"{agency}{year}".encode()).hexdigest()
    return ExtractionResult(source=SourceInfo(name=f"{year}.html", sha256=sha, media_type="text/html"),
                            reports=[report])


def make_store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    with OperationalStore(url) as store:
        store.migrate()
        store.save_result(generated("洪泽县人民政府", 2021, 0, 2))
        store.save_result(generated("淮安市洪泽区人民政府", 2022, 0, 0))
        store.save_result(generated(SCRIPT_NAME, 2022, 0, 0))
    return url


def test_cli_lists_and_merges(tmp_path: Path) -> None:
    url = make_store(tmp_path)
    runner = CliRunner()
    listed = runner.invoke(app, ["agencies", "list", "--store", url])
    assert listed.exit_code == 0, listed.output
    lines = {line.split("\t")[0]: line for line in listed.stdout.splitlines()}
    assert set(lines) == {"洪泽县人民政府", "洪泽区人民政府", agency_key(SCRIPT_NAME)}
    assert "淮安市洪泽区人民政府" in lines["洪泽区人民政府"] and "\t淮安市洪泽区\t" in lines["洪泽区人民政府"]
    refused = runner.invoke(app, ["agencies", "merge", "洪泽区人民政府", "没有", "--store", url,
                                  "--analytics", str(tmp_path / "a.duckdb")])
    assert refused.exit_code == 1 and "no agency with key 没有" in refused.output
    merged = runner.invoke(app, ["agencies", "merge", "洪泽区人民政府", "洪泽县人民政府", "--store", url,
                                 "--analytics", str(tmp_path / "a.duckdb")])
    assert merged.exit_code == 0, merged.output
    assert "1 report(s) moved" in merged.stdout
    again = runner.invoke(app, ["agencies", "list", "--store", url]).stdout
    assert "洪泽县人民政府\t" in again and "-> 洪泽区人民政府" in again
    with OperationalStore(url) as store:
        later = next(r for r in store.iter_reports() if r.year == 2022 and r.agency_key == "洪泽区人民政府")
        checks = store.load_result(later.sha256).reports[0].checks
    assert [(c.rule, c.ok) for c in checks] == [("cross_year.carried_over", False)]
    with duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True) as con:  # analytics rebuilt with the key
        keys = dict(con.execute("select agency, agency_key from reports").fetchall())
    assert keys["洪泽县人民政府"] == keys["淮安市洪泽区人民政府"] == "洪泽区人民政府"


def test_admin_page_lists_agencies_escaped_and_merges(tmp_path: Path) -> None:
    url = make_store(tmp_path)
    service = ReviewService(url, tmp_path / "analytics.duckdb")
    add_users(service)
    try:
        with serve(service) as base:
            rita = login(base, "rita")
            assert rita.get("/admin").status_code == 403
            assert rita.get("/api/agencies").status_code == 403
            assert rita.post("/admin/agencies/merge", data={"key": "洪泽区人民政府", "other": "洪泽县人民政府",
                                                             "csrf": session_csrf(rita)}).status_code == 403
            adam = login(base, "adam")
            page = adam.get("/admin").text
            assert 'id="agencies"' in page and "淮安市洪泽区人民政府" in page
            assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
            without_csrf = adam.post("/admin/agencies/merge", data={"key": "洪泽区人民政府", "other": "洪泽县人民政府"})
            assert without_csrf.status_code in (400, 403)
            assert {a["key"]: a["merged_into"] for a in adam.get("/api/agencies").json()}["洪泽县人民政府"] is None
            done = adam.post("/admin/agencies/merge", data={"key": "洪泽区人民政府", "other": "洪泽县人民政府",
                                                             "csrf": session_csrf(adam)})
            assert done.status_code == 303
            listed = {a["key"]: a for a in adam.get("/api/agencies").json()}
            assert listed["洪泽县人民政府"]["merged_into"] == "洪泽区人民政府"
            assert listed["洪泽区人民政府"]["years"] == [2021, 2022]
            bad = adam.post("/admin/agencies/merge", data={"key": "洪泽区人民政府", "other": "洪泽区人民政府",
                                                            "csrf": session_csrf(adam)})
            assert bad.status_code == 422 and "not merged" in bad.text
            with httpx.Client(base_url=base, timeout=30) as anonymous:
                assert anonymous.get("/api/agencies").status_code == 401
    finally:
        service.close()


def test_item_page_shows_the_other_years_value(tmp_path: Path) -> None:
    """聊城 2020 prints 结转下年度 1, 2021 prints 上年结转 0: the 2021 cell's page says what 2020 printed."""
    from review_app import make_store as extract_into_store

    from gongkai.models.review import QueueFilter
    from samples import ROOT

    rendered = ROOT / "samples" / "rendered"
    url, analytics = extract_into_store(tmp_path, [rendered / f"000_liaocheng_wjw_{y}.html" for y in (2020, 2021)])
    service = ReviewService(url, analytics)
    add_users(service)
    try:
        rita_user = service.authenticate("rita", PASSWORDS["rita"])
        item = next(i for i in service.queue(rita_user, QueueFilter(), limit=1000)
                    if i.field_id == "requests.carried_over.total" and i.year == 2021)
        with serve(service) as base:
            page = login(base, "rita").get(f"/items/{item.id}").text
        assert '<dt>Other year</dt><dd class="other-year">2020 report: 结转下年度 = 1</dd>' in page
        assert "cross_year.carried_over" in page
    finally:
        service.close()
