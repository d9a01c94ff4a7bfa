"""The crawl against a fixture agency site on 127.0.0.1 (tests/crawl_site.py), through the
real crawl_sites flow into real SQLite and DuckDB files: first crawl, a second crawl that is
all 304s, a changed report page that becomes a new version keeping a reviewer's correction."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pytest
from crawl_site import ESCAPE_NAME, AgencySite, build_site
from review_samples import WRONG_CELL, broken_html

PASSWORD = "correct horse battery"
pytestmark = [pytest.mark.slow, pytest.mark.flow]  # whole flow runs


def write_config(path: Path, site: AgencySite, extra_sites: str = "") -> Path:
    path.write_text(f'''schedule: "* * * * *"
defaults: {{delay_seconds: 0, timeout_seconds: 1, max_bytes: 2000000, retries: 2, backoff_seconds: 0.05,
           user_agent: "gongkai-test/1"}}
sites:
  - name: 测试卫健委
    start_urls: ["{site.base}/nb/index.html"]
    allowed_hosts: ["127.0.0.1:{site.port}"]
    link_keywords: ["政府信息公开工作年度报告", "年度报告", "年报"]
    allow_private_addresses: true
{extra_sites}''', encoding="utf-8")
    return path


# A site whose server is down (nothing listens on its port) and one that would be fetched
# from a loopback address without being allowed to: neither stops the fixture site's crawl.
def other_sites(dead_port: int, site: AgencySite) -> str:
    return f'''  - name: 停机站
    start_urls: ["http://127.0.0.1:{dead_port}/nb/"]
    allowed_hosts: ["127.0.0.1:{dead_port}"]
    link_keywords: ["年报"]
    allow_private_addresses: true
    retries: 1
  - name: 内网站
    start_urls: ["{site.base}/nb/index.html"]
    allowed_hosts: ["127.0.0.1"]
    link_keywords: ["年报"]
'''


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, prefect_home: Path) -> Any:
    home = tmp_path_factory.mktemp("crawl")
    report_text = broken_html(home).read_text(encoding="utf-8")
    with AgencySite() as site:
        build_site(site, report_text)
        import socket

        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            dead_port = probe.getsockname()[1]
        config = write_config(home / "sites.yaml", site, other_sites(dead_port, site))
        yield {"home": home, "site": site, "config": config, "report_text": report_text,
               "store": f"sqlite:///{home / 'ops.sqlite'}", "analytics": home / "analytics.duckdb",
               "data": home / "data", "dead": f"http://127.0.0.1:{dead_port}"}


def run_crawl(world: dict[str, Any]) -> dict[str, Any]:
    from gongkai.flows.crawl_sites import crawl_sites

    return crawl_sites(world["store"], str(world["analytics"]), str(world["data"]), str(world["config"]))


def fetches(world: dict[str, Any], run_id: str, site: str = "测试卫健委") -> dict[str, dict]:
    """One site's fetch log rows of one run, by URL (the fixture site's own without its origin)."""
    from gongkai.store.crawl import CrawlLog
    from gongkai.store.operational import OperationalStore

    with OperationalStore(world["store"]) as store:
        rows = CrawlLog(store).fetches(run_id)
    return {r["url"].replace(world["site"].base, ""): r for r in rows if r["site"] == site}


def site_summary(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in result["sites"] if s["site"] == name)


def test_first_crawl_fetches_safely_and_processes_every_report(world: dict[str, Any]) -> None:
    site: AgencySite = world["site"]
    result = run_crawl(world)
    log = fetches(world, result["run_id"])
    outcome = {url: (r["outcome"], r["http_status"]) for url, r in log.items()}
    # every page of the listing: page 2 by its 下一页 link, page 3 only through the TRS script
    for page in ("/nb/index.html", "/nb/index_1.html", "/nb/index_2.html"):
        assert outcome[page] == ("new", 200)
    assert log["/nb/index_1.html"]["referrer"] == f"{site.base}/nb/index.html"
    assert log["/nb/index_2.html"]["referrer"] == f"{site.base}/nb/index_1.html"  # where the script was
    assert outcome["/private/t20210301_9.htm"] == ("refused", None)
    assert log["/private/t20210301_9.htm"]["reason"] == "disallowed by robots.txt"
    assert outcome["/nb/gone.htm"] == ("error", 404)
    gbk = log["/nb/202401/t20240110_3.htm"]  # 500 once, then served: recovered on retry
    assert (gbk["outcome"], gbk["http_status"], gbk["attempts"]) == ("new", 200, 2)
    slow = log["/files/slow.pdf"]
    assert (slow["outcome"], slow["attempts"], slow["reason"]) == ("error", 3, "timed out after 1 s")
    assert outcome["/files/huge.pdf"] == ("refused", 200)
    assert "cut off while streaming" in log["/files/huge.pdf"]["reason"]
    moved = log["/files/moved.pdf"]
    assert moved["outcome"] == "refused" and "evil.example" in moved["reason"]
    assert log["http://evil.example/files/other.pdf"]["outcome"] == "refused"
    assert outcome["/files/copy_of_the_same.pdf"] == ("duplicate", 200)
    storm = log["/files/storm.pdf"]  # 500 after 500: given up after the retries
    assert (storm["outcome"], storm["http_status"], storm["attempts"]) == ("error", 500, 3)
    busy = log["/files/busy.pdf"]  # 429 with Retry-After: 1, then the same PDF again
    assert (busy["outcome"], busy["attempts"]) == ("duplicate", 2)
    asked = [r.at for r in site.requests if r.path == "/files/busy.pdf"]
    assert len(asked) == 2 and asked[1] - asked[0] >= 0.95
    # download?id=: a DOCX by its bytes; its Content-Disposition climbs out and is only recorded
    docx = log["/download?id=42"]
    assert docx["media_type"].endswith("wordprocessingml.document") and ESCAPE_NAME in docx["content_disposition"]
    assert {r["referrer"] for u, r in log.items() if u.startswith(("/files/", "/download"))} == {
        f"{site.base}/nb/202103/t20210310_2.htm"}
    # every file is under the data directory, named by gongkai after its own content
    files = sorted((world["data"] / "crawl" / "files").iterdir())
    assert files and all(hashlib.sha256(p.read_bytes()).hexdigest() == p.stem for p in files)
    assert {p.stem for p in files} == {r["sha256"] for r in log.values() if r["sha256"] and r["outcome"] != "refused"}
    assert not list(world["home"].rglob("escaped*")) and not list(world["data"].rglob("*.part"))

    ours = site_summary(result, "测试卫健委")
    assert (ours["new"], ours["changed"], ours["duplicates"]) == (4, 0, 2)
    assert ours["refused"] == 4 and ours["errors"] == 3  # robots, huge, redirect, off-host; 404, timeout, 500s
    assert result["processed"]["inserted"] == 4 and not result["processed"].get("errors")
    # its server is down: recorded, and the other sites went on
    down = fetches(world, result["run_id"], "停机站")
    dead = world["dead"]
    assert site_summary(result, "停机站")["errors"] == 1 and "ConnectError" in down[f"{dead}/robots.txt"]["reason"]
    assert down[f"{dead}/robots.txt"]["attempts"] == 2  # retries: 1 for this site
    assert "robots.txt could not be read" in down[f"{dead}/nb/"]["reason"]
    assert site_summary(result, "停机站")["warnings"] == [
        f"start page {dead}/nb/ not read: {down[f'{dead}/nb/']['reason']}"]
    # loopback, but the site does not allow private addresses: nothing fetched
    private = fetches(world, result["run_id"], "内网站")
    assert {r["outcome"] for r in private.values()} == {"refused"} and site_summary(result, "内网站")["new"] == 0
    assert "resolves to a private/loopback/link-local address (127.0.0.1)" in private["/robots.txt"]["reason"]

    from gongkai.store.operational import OperationalStore

    with OperationalStore(world["store"]) as store:
        by_url = {r.source_url.replace(site.base, ""): r for r in store.iter_reports()}
    assert set(by_url) == {"/nb/202203/t20220301_1.htm", "/nb/202401/t20240110_3.htm",
                           "/files/shangcheng_2020.pdf", "/download?id=42"}
    assert by_url["/nb/202401/t20240110_3.htm"].year == 2023  # the GBK page without a charset, read right
    assert by_url["/nb/202401/t20240110_3.htm"].agency and "鲁山" in by_url["/nb/202401/t20240110_3.htm"].agency
    with duckdb.connect(str(world["analytics"]), read_only=True) as con:
        assert con.execute("select count(*) from reports").fetchone()[0] == 4


def test_second_crawl_is_conditional_and_processes_nothing(world: dict[str, Any]) -> None:
    site: AgencySite = world["site"]
    site.take_requests()
    result = run_crawl(world)
    requests = site.take_requests()
    log = fetches(world, result["run_id"])
    stored_before = {"/robots.txt", "/nb/index.html", "/nb/index_1.html", "/nb/index_2.html",
                     "/nb/202203/t20220301_1.htm", "/nb/202401/t20240110_3.htm", "/nb/202103/t20210310_2.htm",
                     "/files/shangcheng_2020.pdf", "/files/copy_of_the_same.pdf", "/files/busy.pdf",
                     "/download?id=42"}
    asked = {r.path for r in requests}
    assert stored_before <= asked
    assert all(r.conditional for r in requests if r.path in stored_before)
    assert {u: r["outcome"] for u, r in log.items() if u in stored_before} == dict.fromkeys(stored_before,
                                                                                            "not_modified")
    # what failed or was refused is tried again, unconditionally: it was never stored
    assert {r.path for r in requests if not r.conditional} == {"/nb/gone.htm", "/files/huge.pdf", "/files/slow.pdf",
                                                                "/files/moved.pdf", "/files/storm.pdf"}
    ours = site_summary(result, "测试卫健委")
    assert (ours["new"], ours["changed"], ours["not_modified"]) == (0, 0, 11)
    assert result["processed"] == {} and "nothing new or changed" in result["summary"]
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        (latest,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["crawl-sites-summary"])),
            sort="CREATED_DESC", limit=1)
    assert result["run_id"] in latest.data
    assert "| 测试卫健委 | 13 | 0 | 0 | 11 | 0 | 4 | 3 |" in latest.data  # fetched, new, changed, 304s, …
    assert "processed: nothing new or changed" in latest.data


def test_changed_report_page_is_a_new_version_keeping_corrections(world: dict[str, Any]) -> None:
    from crawl_site import Route, report_html

    from gongkai.models.review import QueueFilter
    from gongkai.review.service import ReviewService

    site: AgencySite = world["site"]
    url = f"{site.base}/nb/202203/t20220301_1.htm"
    service = ReviewService(world["store"])
    try:
        wang = service.add_user(None, "wang", "reviewer", PASSWORD)
        item = next(i for i in service.queue(wang, QueueFilter()) if i.field_id == WRONG_CELL)
        service.correct(wang, item.id, 13)
        before = next(r for r in service.store.iter_reports() if r.source_url == url)
        old_pending = [i.id for i in service.queue(wang, QueueFilter(report_id=before.report_id))]
        assert old_pending  # the unmapped row and the unrecognised field wait on the first version
        # the agency republishes the page: a sentence added, the same tables
        changed = world["report_text"].replace("</body>", "<p>（2022年3月5日更新：补充联系方式。）</p></body>")
        assert changed != world["report_text"]
        site.add("/nb/202203/t20220301_1.htm", Route(report_html(changed), "text/html; charset=utf-8"))

        result = run_crawl(world)
        log = fetches(world, result["run_id"])
        assert log["/nb/202203/t20220301_1.htm"]["outcome"] == "changed"
        assert site_summary(result, "测试卫健委")["changed"] == 1
        assert result["processed"]["inserted"] == 1 and result["processed"]["carried_reviews"] >= 1

        versions = [r for r in service.store.iter_reports(include_superseded=True) if r.source_url == url]
        assert len(versions) == 2 and versions[0].sha256 != versions[1].sha256
        assert [r.sha256 for r in service.store.iter_reports() if r.source_url == url] == [versions[1].sha256]
        assert service.store.get_document(versions[0].sha256).superseded_by == versions[1].sha256
        new = {f.field_id: f for f in service.store.iter_fields(sha256=versions[1].sha256)}
        assert (new[WRONG_CELL].value, new[WRONG_CELL].status) == (13, "corrected")
        queue = service.queue(wang, QueueFilter())
        assert all(
            i.report_id != versions[1].report_id for i in queue if i.field_id == WRONG_CELL
        )  # nothing asks wang again
        assert not {i.id for i in queue} & set(old_pending)  # the old version's open items left the queue
        admin = service.add_user(None, "li", "admin", PASSWORD)
        for item_id in old_pending:
            assert [a.action for a in service.audit(admin, item_id)][0] == "superseded"
        old = {f.field_id: f for f in service.store.iter_fields(sha256=versions[0].sha256, include_superseded=True)}
        assert (old[WRONG_CELL].value, old[WRONG_CELL].status) == (13, "corrected")  # the old version stays
        assert service.store.load_result(versions[0].sha256).reports  # and loads (gongkai show <sha>)
        # analysts see one report for the page: the new version, with wang's value
        with duckdb.connect(str(world["analytics"]), read_only=True) as con:
            page = con.execute("select sha256 from reports where source_url = ?", [url]).fetchall()
            assert page == [(versions[1].sha256,)]
            assert con.execute("select f.value from field_values f join reports r using (report_key) "
                               "where r.source_url = ? and f.field_id = ?", [url, WRONG_CELL]).fetchall() == [(13,)]
            assert con.execute("select count(*) from reports").fetchone()[0] == 4
    finally:
        service.close()
