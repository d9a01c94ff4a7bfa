"""Whether a PDF page's text layer can be trusted, or the page must be OCR'd.

Scanned PDFs have no text layer, and some carry a garbage one: a scanner's own OCR
that wrote Chinese as Latin-1 mojibake (ÕþÎñ¹«¿ª), or glyphs without Unicode that
come out as U+FFFD or private-use code points.
"""
from __future__ import annotations

import unicodedata

MIN_VISIBLE_CHARS = 8  # fewer is a page number or a stray mark, not a text layer
MAX_BAD_SHARE = 0.3  # of visible characters that are unreadable or mojibake


def usable_text_layer(text: str) -> bool:
    visible = [ch for ch in text if not ch.isspace()]
    if len(visible) < MIN_VISIBLE_CHARS:
        return False
    bad = sum(_unreadable(ch) for ch in visible)
    return bad / len(visible) <= MAX_BAD_SHARE


def _unreadable(ch: str) -> bool:
    code = ord(ch)
    if ch == "\ufffd" or 0xE000 <= code <= 0xF8FF or unicodedata.category(ch) in ("Co", "Cn", "Cc"):
        return True
    # Latin-1 supplement and Latin Extended letters are what GBK bytes decoded as Latin-1 look like.
    return 0x00C0 <= code <= 0x024F
