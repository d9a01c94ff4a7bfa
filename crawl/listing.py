"""Reading the pages of an agency's listing as Chinese government CMSs build them.

Paging comes in four shapes, often together: `下一页` / `尾页` links, a `共N页` count, the
static `index.html, index_1.html … index_{N-1}.html` numbering, and the TRS CMS script
`createPageHTML(N, current, "index", "html")` that draws the pager in the browser, so the
later pages exist although no <a href> points at them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html

from gongkai.extractors.readers.html import declared_charset
from gongkai.extractors.readers.txt import decode_bytes

NEXT_TEXTS = ("下一页", "下页", "后一页")
LAST_TEXTS = ("尾页", "末页", "最后一页")
_CREATE_PAGE = re.compile(r"""createPageHTML\(\s*['"]?(\d+)['"]?\s*,\s*['"]?(\d+)['"]?\s*,\s*['"]([\w\-]+)['"]\s*,"""
                          r"""\s*['"](\w+)['"]""")
MAX_PAGES = 10_000  # a page count beyond this is a broken script, not a listing
_TOTAL_PAGES = re.compile(r"共\s*(\d{1,4})\s*页")
_INDEX_N = re.compile(r"^(?P<stem>[\w\-]+?)(?:_(?P<n>\d+))?\.(?P<ext>s?html?)$")


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    text: str  # the anchor's text, or its title attribute when it has none


def decode_page(body: bytes, url: str) -> str:
    """The page's text: UTF-8, else its declared charset, else detected (GBK pages often declare none)."""
    return decode_bytes(body, url, declared_charset(body))


def parse(text: str) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.fromstring(text)
    except (lxml.etree.ParserError, ValueError):
        return None


def links(root: lxml.html.HtmlElement | None, base_url: str) -> list[Link]:
    """Every http(s) link of the page, absolute, without fragment, in page order, once each."""
    if root is None:
        return []
    seen: set[str] = set()
    out: list[Link] = []
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.lower().startswith(("javascript:", "mailto:", "tel:", "#")):
            continue
        url = urldefrag(urljoin(base_url, href)).url
        if urlsplit(url).scheme not in ("http", "https") or url in seen:
            continue
        seen.add(url)
        text = " ".join(anchor.text_content().split()) or (anchor.get("title") or "").strip()
        title = (anchor.get("title") or "").strip()
        out.append(Link(url, f"{text} {title}".strip() if title and title not in text else text))
    return out


def page_urls(text: str, root: lxml.html.HtmlElement | None, page_url: str) -> list[str]:
    """The other pages of the listing this page belongs to, as far as the page tells."""
    found: list[str] = [link.url for link in links(root, page_url) if _is_pager_text(link.text)]
    script = _CREATE_PAGE.search(text)
    if script:  # createPageHTML(count, current, stem, extension)
        found += _numbered(page_url, int(script.group(1)), script.group(3), script.group(4))
    else:
        total = _TOTAL_PAGES.search(text)
        if total:
            found += _numbered(page_url, int(total.group(1)))
    return list(dict.fromkeys(u for u in found if u != page_url))


def _is_pager_text(text: str) -> bool:
    return any(t in text for t in NEXT_TEXTS + LAST_TEXTS)


def _numbered(page_url: str, count: int, stem: str | None = None, ext: str | None = None) -> list[str]:
    """index.html, index_1.html … index_{count-1}.html beside the page (TRS numbering); the
    stem and extension from the paging script, else from the page's own name."""
    folder, _, name = urlsplit(page_url).path.rpartition("/")
    match = _INDEX_N.match(name or "index.html")
    stem = stem or (match.group("stem") if match else "index")
    ext = ext or (match.group("ext") if match else "html")
    names = [f"{stem}_{n}.{ext}" for n in range(1, min(count, MAX_PAGES))]
    if name:  # a folder URL is itself the first page
        names.insert(0, f"{stem}.{ext}")
    return [urljoin(page_url, f"{folder}/{n}") for n in names]


def matches_keywords(link: Link, keywords: list[str]) -> bool:
    return any(k in link.text for k in keywords)


def holds_report(root: lxml.html.HtmlElement | None, keywords: list[str]) -> bool:
    """Worth keeping as a document: the page carries tables, or the report's text itself."""
    if root is None:
        return False
    if root.find(".//table") is not None and any(len(t.text_content().strip()) > 40 for t in root.iter("table")):
        return True
    body = root.find(".//body")
    text = " ".join((body if body is not None else root).text_content().split())
    return len(text) > 1500 and any(k in text for k in keywords)

