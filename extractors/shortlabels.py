"""Shortened row labels: `1.逾期不补正` for `1.申请人无正当理由逾期不补正、行政机关不再处理…`.

A printed label too short for whole-label similarity still names one template row when
its characters follow that row's label in order (for at least `short_label_min` of them)
and it keeps some of the label's distinctive words: what the label does not share with
its sibling rows (无正当理由逾期不补正, not 申请人… or …不再处理其政府信息公开申请). It
maps only when exactly one row of the table fits; the share found in order is its label
confidence, so a partial fit (逾期不缴费: 不 is not in the form) goes to review.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from gongkai.config import load_thresholds
from gongkai.models import RowSpec

from .text import label_key

MIN_DISTINCTIVE_CHARS = 2  # of the distinctive part, in order (all of it when shorter)


@dataclass(frozen=True)
class ShortMatch:
    row_id: str
    score: float
    name: str
    distinctive: str


@lru_cache(maxsize=1 << 17)  # pure; the alignment asks it for the same pairs many times
def in_order(printed: str, label: str) -> int:
    """How many characters of `printed` appear in `label` in the same order (longest common subsequence)."""
    previous = [0] * (len(label) + 1)
    for a in printed:
        current = [0]
        for j, b in enumerate(label):
            current.append(previous[j] + 1 if a == b else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def distinctive_part(key: str, siblings: Sequence[str]) -> str:
    """The key without the longest prefix and suffix it shares with a sibling label."""
    others = [s for s in siblings if s and s != key]
    head = max((_common_prefix(key, s) for s in others), default=0)
    tail = max((_common_prefix(key[::-1], s[::-1]) for s in others), default=0)
    middle = key[head: len(key) - tail] if head + tail < len(key) else ""
    return middle or key


ShortNames = list[tuple[str, str, str]]


def short_label_names(specs: Sequence[RowSpec]) -> ShortNames:
    """(row id, label key, distinctive part) for every label and alias of a table's rows."""
    out = []
    for spec in specs:
        siblings = [label_key(n) for s in specs if s.parents == spec.parents for n in [s.label, *s.aliases]]
        for name in [spec.label, *spec.aliases]:
            key = label_key(name)
            out.append((spec.id, key, distinctive_part(key, siblings)))
    return out


def short_label_match(printed: str, names: ShortNames) -> ShortMatch | None:
    """The one row of the table (`names`: short_label_names) a shortened printed label stands for, or None."""
    thresholds = load_thresholds()
    key = label_key(printed)
    if len(key) < thresholds.short_label_min_chars:
        return None
    best: dict[str, ShortMatch] = {}
    for row_id, name, distinctive in names:
        if len(key) >= len(name):
            continue  # not a shortening: whole-label similarity judges it
        kept = in_order(key, distinctive)
        if kept < min(MIN_DISTINCTIVE_CHARS, len(distinctive)):
            continue
        score = in_order(key, name) / len(key)
        if score >= thresholds.short_label_min and score > getattr(best.get(row_id), "score", 0.0):
            best[row_id] = ShortMatch(row_id, round(score, 4), name, distinctive)
    return next(iter(best.values())) if len(best) == 1 else None
