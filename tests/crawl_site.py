"""A fixture agency site on 127.0.0.1, built from the samples: a real HTTP server in a thread.

The listing is the real Pingtan TRS listing page (samples/real/pingtan_listing_page.html)
with its static entries replaced by this site's reports: page 1 links page 2 by `下一页`,
page 2 holds the TRS script `createPageHTML(3, 1, "index", "html")`, the only way to learn
of page 3. Every static answer carries an ETag and a Last-Modified and honours conditional
GETs; every request is recorded with its headers.
"""
from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from samples import ROOT

RENDERED = ROOT / "samples" / "rendered"
LISTING = ROOT / "samples" / "real" / "pingtan_listing_page.html"
HTML = "text/html"
ESCAPE_NAME = '../../../../escaped.docx'
ROBOTS = "User-agent: *\nDisallow: /private/\nCrawl-delay: 0.05\n"
_STATIC_BLOCK = re.compile(r'(<div class="rules_tabs_01 rules_tabs_no_bg" ms-visible="showStatic">)(.*?)(</div>\s*'
                           r'<div class="rules_tabs_01 rules_tabs_no_bg" ms-visible="!showStatic")', re.S)
LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)


@dataclass
class Route:
    body: bytes = b""
    content_type: str = HTML
    behaviour: str = "static"  # static | flaky | slow | endless | redirect | missing
    headers: dict[str, str] = field(default_factory=dict)
    failures_left: int = 0  # flaky: failures before it recovers
    failure_status: int = 500


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)

    @property
    def conditional(self) -> bool:
        return "if-none-match" in self.headers or "if-modified-since" in self.headers


def listing_page(entries: list[tuple[str, str]], extra: str) -> bytes:
    """The Pingtan listing with its ten static entries replaced by `entries` (href, title)."""
    text = LISTING.read_text(encoding="utf-8")
    rows = "".join(
        f'<dl><dd class="trt-col-sm-24 slb-trt-col-24 text_align_left"><a href="{href}" target="_blank" '
        f'title="{title}">{title}</a></dd><dd class="trt-col-4">2024-03-08</dd></dl>\n' for href, title in entries)
    replaced, n = _STATIC_BLOCK.subn(lambda m: m.group(1) + rows + extra + m.group(3), text, count=1)
    assert n == 1, "the Pingtan listing's static block moved"
    return replaced.encode("utf-8")


def gbk_without_charset(path: Path) -> bytes:
    text = re.sub(r"<meta[^>]*charset[^>]*>", "", path.read_text(encoding="utf-8"), flags=re.I)
    return text.encode("gbk")


def report_html(text: str) -> bytes:
    return text.encode("utf-8")


def attachments_page(links: list[tuple[str, str]]) -> bytes:
    items = "".join(f'<li><a href="{href}">{name}</a></li>' for href, name in links)
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>尚城卫健局2020年度政府信息公开工作年度报告'
            f'</title></head><body><h1>2020年度报告（附件）</h1><ul>{items}</ul></body></html>').encode()


class AgencySite:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> AgencySite:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, path: str, route: Route) -> None:
        with self._lock:
            self.routes[path] = route

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def take_requests(self) -> list[Request]:
        with self._lock:
            taken, self.requests = self.requests, []
        return taken


def _handler(site: AgencySite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: object) -> None:  # quiet
            pass

        def handle(self) -> None:
            try:
                super().handle()
            except (ConnectionResetError, BrokenPipeError):
                pass  # the crawler hung up (a refused body, a timeout): expected here

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            site.record(Request(self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = site.routes.get(self.path)
            if route is None or route.behaviour == "missing":
                return self._send(404, b"<html><body>404 not found</body></html>")
            if route.behaviour == "flaky" and route.failures_left > 0:
                route.failures_left -= 1
                retry_after = {"Retry-After": "1"} if route.failure_status == 429 else {}
                return self._send(route.failure_status, b"<html><body>busy</body></html>", retry_after)
            if route.behaviour == "slow":
                time.sleep(3)
            if route.behaviour == "redirect":
                return self._send(302, b"", {"Location": route.headers["Location"]})
            if route.behaviour == "endless":
                return self._endless(route)
            etag = '"' + hashlib.sha256(route.body).hexdigest()[:32] + '"'
            validators = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
            if self.headers.get("If-None-Match") == etag:
                return self._send(304, b"", validators, body_allowed=False)
            self._send(200, route.body, {"Content-Type": route.content_type, **validators, **route.headers})

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
                  body_allowed: bool = True) -> None:
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if body_allowed:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body_allowed:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _endless(self, route: Route) -> None:
            """No Content-Length, and bytes until the client hangs up (or 500 MB)."""
            self.close_connection = True
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                self.send_header("Connection", "close")
                self.end_headers()
                chunk = b"%PDF-1.4\n" + b"0" * 65_527
                for _ in range(8000):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


def build_site(site: AgencySite, report_text: str) -> None:
    """The whole fixture agency: listing pages 1-3 and what they link to."""
    add = site.add
    add("/robots.txt", Route(ROBOTS.encode(), "text/plain"))
    page1 = [("./202203/t20220301_1.htm", "聊城市卫健委2021年度政府信息公开工作年度报告"),
             ("/private/t20210301_9.htm", "聊城市卫健委2020年度政府信息公开工作年度报告"),
             ("./gone.htm", "聊城市卫健委2019年度报告")]
    add("/nb/index.html", Route(listing_page(page1, '<div class="page"><a href="index_1.html">下一页</a></div>')))
    page2 = [("./202103/t20210310_2.htm", "尚城卫健局2020年度政府信息公开工作年度报告")]
    add("/nb/index_1.html", Route(listing_page(page2, '<script>createPageHTML(3, 1, "index", "html");</script>')))
    page3 = [("./202401/t20240110_3.htm", "鲁山县卫健委2023年度政府信息公开工作年度报告")]
    add("/nb/index_2.html", Route(listing_page(page3, "")))
    add("/nb/202203/t20220301_1.htm", Route(report_html(report_text), "text/html; charset=utf-8"))
    add("/nb/202401/t20240110_3.htm", Route(gbk_without_charset(RENDERED / "001_lushan_wjw_2023.html"), HTML,
                                            behaviour="flaky", failures_left=1))
    add("/private/t20210301_9.htm", Route(report_html(report_text)))
    pdf = (RENDERED / "002_shangcheng_wjj_2020.pdf").read_bytes()
    add("/nb/202103/t20210310_2.htm", Route(attachments_page([
        ("/files/shangcheng_2020.pdf", "附件1：年度报告（PDF）"),
        ("/files/copy_of_the_same.pdf", "附件1（另存）"),
        ("/download?id=42", "附件2：年度报告（Word）"),
        ("/files/huge.pdf", "附件3：扫描件"),
        ("/files/slow.pdf", "附件4：统计表"),
        ("/files/moved.pdf", "附件5：旧地址"),
        ("/files/storm.pdf", "附件6：统计表（续）"),
        ("/files/busy.pdf", "附件7：统计表（另存）"),
        ("http://evil.example/files/other.pdf", "附件8：外站"),
    ])))
    add("/files/shangcheng_2020.pdf", Route(pdf, "application/pdf"))
    add("/files/copy_of_the_same.pdf", Route(pdf, "application/pdf"))
    add("/download?id=42", Route((RENDERED / "004_helan_wjj_2017.docx").read_bytes(), "application/octet-stream",
                                 headers={"Content-Disposition": f'attachment; filename="{ESCAPE_NAME}"'}))
    add("/files/huge.pdf", Route(behaviour="endless"))
    add("/files/slow.pdf", Route(pdf, "application/pdf", behaviour="slow"))
    add("/files/storm.pdf", Route(pdf, "application/pdf", behaviour="flaky", failures_left=10**6))
    add("/files/busy.pdf", Route(pdf, "application/pdf", behaviour="flaky", failures_left=1, failure_status=429))
    add("/files/moved.pdf", Route(behaviour="redirect", headers={"Location": "http://evil.example/x.pdf"}))
