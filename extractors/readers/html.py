"""HTML pages of reports: narrative blocks and data tables with real row/col spans.

Government sites wrap the report in site chrome (menus, footers, share bars) and
often lay the page out with tables. Chrome is dropped; a layout table is walked
like any container; only data tables become Tables.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TypeAlias

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

from gongkai.config import load_patterns
from gongkai.models import Cell, Document, SourceInfo, Table, TextBlock

from ..text import collapse_spaces
from .base import ReaderError
from .html_flatten import flatten_nesting
from .txt import decode_text, load_bytes

# Whole subtrees that never hold report content. <form> itself is NOT here:
# ASP.NET sites wrap the entire page body in one <form>.
_SKIP_TAGS = {
    "script", "style", "noscript", "nav", "header", "footer", "iframe", "template", "head",
    "input", "select", "textarea", "button", "option", "optgroup", "datalist",
    "svg", "canvas", "object", "embed", "audio", "video", "map",
}
_CHROME_WORDS = ("nav", "menu", "footer", "header", "breadcrumb", "share", "sidebar")
_BLOCK_TAGS = {
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd",
    "blockquote", "pre", "section", "article", "main", "aside", "center", "address",
    "caption", "figure", "figcaption", "hr", "tr", "td", "th", "body", "form", "fieldset",
}
_CELL_TEXT_SKIP = {"script", "style", "noscript", "template"}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_SPAN = re.compile(r"\s*(\d+)")

# A data table's cells are short; a layout table's cells hold paragraphs. One long
# note row must not turn a statistics table into layout, so it takes a share of
# long cells, or one very long cell (a whole article in one cell).
LONG_CELL_CHARS = 200
LONG_CELL_SHARE = 0.25
ARTICLE_CELL_CHARS = 1000
MAX_COLSPAN = 1000  # the HTML spec's own limit


def declared_charset(raw: bytes) -> str | None:
    match = _CHARSET.search(raw[:8192])
    return match.group(1).decode("ascii", "replace") if match else None


def _tag(el: object) -> str | None:
    """Lower-case tag name; None for comments and processing instructions."""
    tag = getattr(el, "tag", None)
    return tag.lower() if isinstance(tag, str) else None


def _is_chrome(el: HtmlElement, tag: str) -> bool:
    if tag in _SKIP_TAGS:
        return True
    if tag in ("html", "body"):
        return False
    marks = f"{el.get('id', '')} {el.get('class', '')}".lower()
    return any(word in marks for word in _CHROME_WORDS)


def _own_rows(table: HtmlElement) -> list[HtmlElement]:
    return table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")


def _own_cells(row: HtmlElement) -> list[HtmlElement]:
    return row.xpath("./td | ./th")


def _span(value: str | None, limit: int) -> int:
    """HTML span parsing: leading digits; 0, missing or junk count as 1."""
    match = _SPAN.match(value or "")
    n = int(match.group(1)) if match else 1
    return max(1, min(n, limit))


def cell_text(el: HtmlElement) -> str:
    """All text of a cell; <br> and block boundaries become spaces, &nbsp; is whitespace.

    Iterative (a stack, not recursion): a cell can hold thousands of nested tags.
    """
    parts: list[str] = [el.text or ""]
    stack: list[HtmlElement | str] = list(reversed(el))
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            parts.append(node)
            continue
        tag = _tag(node)
        if tag is None or tag in _CELL_TEXT_SKIP:
            parts.append(node.tail or "")
            continue
        gap = " " if tag == "br" or tag in _BLOCK_TAGS else ""
        parts.append(gap + (node.text or ""))
        stack.extend(reversed([*node, gap, node.tail or ""]))
    return collapse_spaces("".join(parts))


def _is_layout(rows: list[list[HtmlElement]]) -> bool:
    cells = [c for row in rows for c in row]
    if len(cells) <= 1 or any(c.xpath(".//table") for c in cells):
        return True
    lengths = [len(cell_text(c)) for c in cells]
    long_cells = sum(1 for n in lengths if n > LONG_CELL_CHARS)
    return max(lengths) > ARTICLE_CELL_CHARS or long_cells >= LONG_CELL_SHARE * len(cells)


def _free_width(occupied: set[tuple[int, int]], r: int, c: int, wanted: int) -> int:
    """Clip a colspan that runs into a rowspan from above (an HTML "table model error"),
    so no two cells ever claim one grid position."""
    width = 1
    while width < wanted and (r, c + width) not in occupied:
        width += 1
    return width


def build_table(rows: list[list[HtmlElement]]) -> Table | None:
    """The HTML table algorithm: rowspans occupy later rows, pushing their cells right."""
    occupied: set[tuple[int, int]] = set()
    cells: list[Cell] = []
    for r, row in enumerate(rows):
        c = 0
        for td in row:
            while (r, c) in occupied:
                c += 1
            rs = _span(td.get("rowspan"), len(rows) - r)
            cs = _free_width(occupied, r, c, _span(td.get("colspan"), MAX_COLSPAN))
            occupied.update((r + dr, c + dc) for dr in range(rs) for dc in range(cs))
            cells.append(Cell(row=r, col=c, row_span=rs, col_span=cs, text=cell_text(td), source="html"))
            c += cs
    if not any(cell.text for cell in cells):
        return None  # spacer grid
    n_cols = max(cell.col + cell.col_span for cell in cells)
    return Table(cells=cells, n_rows=len(rows), n_cols=n_cols, method="html")


_FLUSH = object()  # a block boundary in the walk's work list
_WalkItem: TypeAlias = HtmlElement | str | object


class _Walker:
    """Document-order walk that buffers inline text and flushes it at block boundaries.

    Iterative: a work list of elements, text and block boundaries, so a page nested
    50 000 tags deep is walked like any other (recursion stopped at ~500 levels).
    """

    def __init__(self) -> None:
        self.blocks: list[TextBlock | Table] = []
        self._buffer: list[str] = []

    def flush(self) -> None:
        text = collapse_spaces("".join(self._buffer))
        self._buffer = []
        if text:
            self.blocks.append(TextBlock(text=text))

    def add(self, text: str | None) -> None:
        if text:
            self._buffer.append(text)

    def walk(self, root: HtmlElement) -> None:
        stack: list[_WalkItem] = [root]
        while stack:
            item = stack.pop()
            if item is _FLUSH:
                self.flush()
            elif isinstance(item, str):
                self.add(item)
            else:
                stack.extend(reversed(self._expand(item)))

    def _expand(self, el: HtmlElement) -> list[_WalkItem]:
        """What an element stands for in the walk, in order; a data table is emitted right here."""
        tag = _tag(el)
        tail: list[_WalkItem] = [el.tail] if el.tail else []  # the tail belongs to the parent's flow
        if tag is None or _is_chrome(el, tag):
            return tail
        if tag == "br":
            return [_FLUSH, *tail]
        if tag == "table":
            self.flush()
            return [*self._table(el), *tail]
        return [*_container(el, block=tag in _BLOCK_TAGS), *tail]

    def _table(self, el: HtmlElement) -> list[_WalkItem]:
        rows = [_own_cells(tr) for tr in _own_rows(el)]
        if not _is_layout(rows):
            table = build_table(rows)
            if table is not None:
                self.blocks.append(table)
            return []
        items: list[_WalkItem] = []
        for caption in el.xpath("./caption"):
            items += _container(caption, block=True)
        for cell in (c for row in rows for c in row):
            items += _container(cell, block=True)  # nested tables are reached from here
        return items


def _container(el: HtmlElement, block: bool) -> list[_WalkItem]:
    edge: list[_WalkItem] = [_FLUSH] if block else []
    return [*edge, *([el.text] if el.text else []), *el, *edge]


def _parse(text: str, name: str) -> tuple[HtmlElement, list[str]]:
    """libxml2 with its size limits lifted (huge_tree: text nodes over 10 MB, depth over 256).

    Past its hard depth limit (2048) libxml2 drops the rest of the page, so the page is parsed
    again with its inline and container tags flattened, and, when its tables themselves nest
    too deep, as bare text (the warning says its tables were not read as tables).
    """
    text = _XML_DECL.sub("", text, count=1)
    try:
        attempts = ((lambda: text, None), (lambda: flatten_nesting(text), None),
                    (lambda: flatten_nesting(text, keep_tables=False),
                     f"{name}: tables nested too deeply for the HTML parser; read as text"))
        # each flattening made only when the parse before it failed; `note` is the parsed one's, read after
        for markup, note in attempts:  # noqa: B007
            parser = lxml.html.HTMLParser(huge_tree=True)
            root = lxml.html.document_fromstring(markup(), parser=parser)
            if not any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
                break
        return root, [note] if note else []
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ReaderError("empty", f"{name}: no HTML content to parse ({exc})") from exc


def _title_block(root: HtmlElement, blocks: list[TextBlock | Table]) -> Iterator[TextBlock]:
    """The <title>, unless the body already says it (sites repeat it as the first heading)."""
    title = collapse_spaces(root.findtext(".//title") or "")
    body_text = "\n".join(b.text for b in blocks if isinstance(b, TextBlock))
    if title and title not in body_text:
        yield TextBlock(text=title)


class HtmlReader:
    """Reads saved report pages (UTF-8 or legacy GB encodings)."""

    media_types: tuple[str, ...] = ("text/html",)

    def read(self, path: Path, source: SourceInfo) -> Document:
        return read_html_bytes(load_bytes(path), path.name, source)


def read_html_bytes(raw: bytes, name: str, source: SourceInfo, charset: str | None = None) -> Document:
    """An HTML page's bytes to a Document; `charset` as declared by a container (MHT part)."""
    text, warnings = decode_text(raw, name, charset or declared_charset(raw))
    root, notes = _parse(text, name)
    walker = _Walker()
    body = root.find("body")
    walker.walk(body if body is not None else root)
    walker.flush()
    blocks = [*_title_block(root, walker.blocks), *walker.blocks]
    if not blocks:
        raise ReaderError("empty", f"{name}: the page holds no text or tables")
    return Document(source=source, blocks=blocks, warnings=warnings + notes, metadata=page_metadata(root))


def page_metadata(root: HtmlElement) -> dict[str, str]:
    """The page's <meta name=… content=…> whose name config/patterns.yaml `page_metadata` lists
    (matched without case; kept under the listed spelling): the publisher, the title."""
    wanted = {name.lower(): name for name in load_patterns()["page_metadata"]}
    found: dict[str, str] = {}
    for meta in root.iter("meta"):
        name = wanted.get((meta.get("name") or "").strip().lower())
        content = collapse_spaces(meta.get("content") or "")
        if name and content and name not in found:
            found[name] = content
    return found
