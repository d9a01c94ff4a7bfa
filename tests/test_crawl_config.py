"""The sites file: the bundled default validates, and a mistake names its key and line; the
listing parser on the real Pingtan TRS page; the address and host rules."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gongkai.crawl.config import DEFAULT_CONFIG, ConfigError, load_config
from gongkai.crawl.listing import links, matches_keywords, page_urls, parse
from gongkai.crawl.safety import Refused, check_addresses, check_url, checked_client
from samples import REAL

GOOD = """schedule: "0 3 * * *"
defaults: {delay_seconds: 2, timeout_seconds: 30, max_bytes: 50000000, user_agent: "gongkai/test (+contact)"}
sites:
  - name: 平潭综合实验区
    start_urls: ["https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/"]
    allowed_hosts: ["www.pingtan.gov.cn"]
    link_keywords: ["政府信息公开工作年度报告", "年度报告", "年报"]
    allow_private_addresses: false
    max_listing_pages: 50
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_default_and_the_issue_example_validate(tmp_path: Path) -> None:
    default = load_config(DEFAULT_CONFIG)
    assert default.schedule == "0 3 * * *" and default.sites[0].allowed_hosts == ["www.pingtan.gov.cn"]
    site = load_config(write(tmp_path, GOOD)).site("平潭综合实验区")
    assert (site.delay_seconds, site.max_listing_pages, site.allow_private_addresses) == (2, 50, False)


@pytest.mark.parametrize(("edit", "line", "key"), [
    (("    max_listing_pages: 50", "    max_listing_page: 50"), 9, "sites.0.max_listing_page"),  # a typo
    (("    allow_private_addresses: false", "    allow_private_addresses: maybe"), 8,
     "sites.0.allow_private_addresses"),
    (('defaults: {delay_seconds: 2,', 'defaults: {delay_seconds: -1,'), 2, "defaults.delay_seconds"),
    (('    start_urls: ["https://www', '    start_urls: ["ftp://www'), 5, "sites.0.start_urls"),
    (('schedule: "0 3 * * *"', 'schedule: "every night"'), 1, "schedule"),
    (('    link_keywords: ["政府信息公开工作年度报告", "年度报告", "年报"]\n', ''), 4, "sites.0.link_keywords"),
])
def test_a_bad_key_is_named_with_its_line(tmp_path: Path, edit: tuple[str, str], line: int, key: str) -> None:
    assert edit[0] in GOOD
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, GOOD.replace(*edit)))
    message = str(caught.value)
    assert f"line {line}: {key}:" in message and str(tmp_path / "sites.yaml") in message


def test_broken_yaml_and_an_unknown_site_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "sites: [\n"))
    with pytest.raises(ConfigError, match="no site named '别处'"):
        load_config(write(tmp_path, GOOD)).site("别处")


def test_the_real_trs_listing_page() -> None:
    url = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/"
    text = (REAL / "pingtan_listing_page.html").read_text(encoding="utf-8")
    root = parse(text)
    keywords = ["政府信息公开工作年度报告", "年度报告", "年报"]
    reports = [lk for lk in links(root, url) if matches_keywords(lk, keywords)]
    static = [lk for lk in reports if "/zfxxgknb/20" in lk.url]
    assert len(static) == 10 and static[0].url == url + "202603/t20260313_105587.htm"
    assert "2025年度政府信息公开工作年度报告" in static[0].text
    assert not any(lk.url.startswith("javascript") for lk in links(root, url))
    # paging only by the TRS list API here: the static page shows no pager of its own
    assert page_urls(text, root, url) == []
    scripted = text.replace("</body>", '<script>createPageHTML(4, 0, "index", "shtml");</script></body>')
    assert page_urls(scripted, parse(scripted), url) == [url + "index_1.shtml", url + "index_2.shtml",
                                                        url + "index_3.shtml"]
    counted = text.replace("</body>", "<div>共3页 <a href='index_1.html'>下一页</a> <a href='index_2.html'>尾页</a>"
                                      "</div></body>")
    assert page_urls(counted, parse(counted), url + "index.html") == [url + "index_1.html", url + "index_2.html"]


def test_hosts_and_addresses() -> None:
    check_url("https://www.pingtan.gov.cn/a.pdf", ["www.pingtan.gov.cn"])
    check_url("http://127.0.0.1:8080/a.pdf", ["127.0.0.1:8080"])
    for url, hosts in [("http://127.0.0.1:8081/a.pdf", ["127.0.0.1:8080"]),
                       ("https://pingtan.gov.cn.evil.example/a.pdf", ["pingtan.gov.cn"]),
                       ("https://user:pw@www.pingtan.gov.cn/", ["www.pingtan.gov.cn"]),
                       ("file:///etc/passwd", ["www.pingtan.gov.cn"])]:
        with pytest.raises(Refused):
            check_url(url, hosts)
    for url in ("http://127.0.0.1/", "http://[::1]/", "http://169.254.169.254/latest/", "http://10.0.0.7/",
                "http://[::ffff:192.168.1.1]/"):
        with pytest.raises(Refused, match="private/loopback/link-local"):
            asyncio.run(check_addresses(url, allow_private=False))
    asyncio.run(check_addresses("http://127.0.0.1/", allow_private=True))


def test_the_client_itself_connects_only_to_checked_addresses() -> None:
    """Past the fetcher's own check (a DNS answer that changed since): the connection is refused."""
    async def direct() -> None:
        async with checked_client(False, 1) as client:
            await client.get("http://127.0.0.1:9/")

    with pytest.raises(Refused, match="private/loopback/link-local"):
        asyncio.run(direct())
