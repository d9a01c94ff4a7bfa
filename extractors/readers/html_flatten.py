"""Markup too deep for libxml2, made flat enough to parse without losing its text.

libxml2 stops at 2048 nested elements even with its limits lifted, and drops everything
after that point. The tables and the text are what the reader needs, not the nesting:
inline tags (span, font, b, a …) are removed, container tags (div, section …) become
line breaks, and the table, list, paragraph and heading tags are kept as they are.
"""
from __future__ import annotations

import re

_TABLE_TAGS = {"table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col"}
_KEEP = {
    "html", "head", "body", "title", "meta", "script", "style", "noscript", "template", *_TABLE_TAGS,
    "p", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr",
    "nav", "header", "footer",
}
_CONTAINERS = {
    "div", "section", "article", "main", "aside", "center", "blockquote", "form", "fieldset",
    "address", "figure", "figcaption", "dl", "dt", "dd",
}
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b[^>]*>")
_RAW_TEXT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def flatten_nesting(markup: str, keep_tables: bool = True) -> str:
    """The markup with inline tags dropped and containers turned into <br> (scripts left whole);
    without `keep_tables`, table tags too (cells become line breaks): text only."""
    def replace(match: re.Match[str]) -> str:
        name = match.group(2).lower()
        if name in _KEEP and (keep_tables or name not in _TABLE_TAGS):
            return match.group(0)
        return "<br>" if name in _CONTAINERS or name in _TABLE_TAGS else ""

    out: list[str] = []
    last = 0
    for raw in _RAW_TEXT.finditer(markup):
        out.append(_TAG.sub(replace, markup[last:raw.start()]))
        out.append(raw.group(0))
        last = raw.end()
    out.append(_TAG.sub(replace, markup[last:]))
    return "".join(out)
