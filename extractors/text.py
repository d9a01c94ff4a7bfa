"""Normalising printed labels so that variants of the same label compare equal.

Reports differ in full/half width, spaces inside words, punctuation and enumerators
(（一）, 1., 1、); a label key drops all of that and keeps the words.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz import fuzz

_ENUMERATOR = re.compile(
    r"[（(][一二三四五六七八九十]{1,3}[)）]"  # （一）
    r"|(?<![\d])\d{1,2}\s*[.．、](?!\d)"  # 1.  1、
    r"|^[一二三四五六七八九十]{1,3}\s*[、.．]"  # 一、
    r"|(?<=[^\u4e00-\u9fff])[一二三四五六七八九十]{1,3}、"
)
_WS = re.compile(r"\s+")
_PUNCT = re.compile(r"[\s\u3000，,。．.、：:；;“”\"'‘’「」（）()《》〈〉<>【】\[\]/／\\|｜_—\-－–~～·•]+")


def nfkc(text: str) -> str:
    """Full-width digits and letters to ASCII, compatibility forms folded."""
    return unicodedata.normalize("NFKC", text)


def collapse_spaces(text: str) -> str:
    """Whitespace runs (incl. NBSP, ideographic space) to one space."""
    return _WS.sub(" ", text).strip()


@lru_cache(maxsize=1 << 16)  # pure, and asked for the same cells and template labels again and again
def label_key(text: str) -> str:
    """The words of a label, without enumerators, punctuation or spaces."""
    text = nfkc(text).strip()
    text = _ENUMERATOR.sub("", text)
    return _PUNCT.sub("", text)


@lru_cache(maxsize=1 << 17)  # the alignment scores every printed row against every template row
def label_similarity(printed: str, canonical: str) -> float:
    """How well a printed label matches a canonical one, in [0, 1].

    Whole-label similarity, or containment when the printed cell also carries its
    parent's words (a merged cell such as （三）不予公开 1.属于国家秘密).
    """
    a, b = label_key(printed), label_key(canonical)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    score = fuzz.ratio(a, b) / 100.0
    if len(b) >= 2 and a.endswith(b):
        score = max(score, 0.95)
    elif len(b) >= 4 and b in a:
        score = max(score, 0.9)
    return score
