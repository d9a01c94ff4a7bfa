"""A table's identity from its own header, and the years a header prints.

A run of header rows (label cells with no value of their own, such as 行政复议 / 行政诉讼 /
结果维持 … 总计) names the template table whose header cues it holds: the cues are data
(a template table's `header_cues` and column labels). A cue counts only when it is
distinctive, i.e. no other table of the template has it (总计 is in 表三 and 表四). The
section title before the table stays one cue among others: it decides only where the
header does not (a table continued from the previous page has none).

A header printing two years side by side (2023年 | 2024年) marks a comparison, not one
report's column: every row under it is flagged, never resolved by picking a column.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from gongkai.config import load_thresholds
from gongkai.models import Cell, TableSpec

from .text import label_key, label_similarity, nfkc
from .values import is_blank

_YEAR_LABEL = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")
_YEAR_NUMBER = re.compile(r"^\s*((?:19|20)\d{2})\s*(?:年度?)?\s*$")
MIN_CONTAINED_CUE = 4  # a shorter cue must be the whole cell (其他 is no cue inside 其他结果)
MAX_YEARS_COMPARED = 10  # a row of bare numbers spanning more years is data, not a header of years


@dataclass
class HeaderRun:
    """Consecutive header rows of one printed table: [start, stop) in its row list."""

    start: int
    stop: int
    table: str | None
    years: list[int] = field(default_factory=list)


def distinctive_cues(tables: Sequence[TableSpec]) -> dict[str, set[str]]:
    """table id -> label keys of its header cues that no other table of the template has."""
    cues = {t.id: {label_key(text) for text in t.header_cue_texts()} - {""} for t in tables}
    return {tid: {c for c in keys if not any(c in other for o, other in cues.items() if o != tid)}
            for tid, keys in cues.items()}


def _holds(key: str, cue: str) -> bool:
    return key == cue or (len(cue) >= MIN_CONTAINED_CUE and cue in key)


def identify(texts: Sequence[str], tables: Sequence[TableSpec]) -> str | None:
    """The template table whose distinctive header cues these texts hold, if beyond doubt."""
    keys = [label_key(t) for t in texts]
    keys = [k for k in keys if k]
    hits = {tid: sum(1 for cue in cues if any(_holds(k, cue) for k in keys))
            for tid, cues in distinctive_cues(tables).items()}
    ranked = sorted(hits.items(), key=lambda kv: kv[1], reverse=True)
    if not ranked or ranked[0][1] < load_thresholds().header_cues_min:
        return None
    if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return None
    return ranked[0][0]


def title_table(text: str, tables: Sequence[TableSpec]) -> str | None:
    """The template table a heading names although misprinted (行政法复议 for 行政诉讼)."""
    minimum = load_thresholds().section_title_min
    scores = sorted(((max(label_similarity(text, t) for t in [s.title, *s.title_aliases]), s.id) for s in tables),
                    reverse=True)
    if not scores or scores[0][0] < minimum or (len(scores) > 1 and scores[1][0] >= minimum):
        return None
    return scores[0][1]


def years_in(texts: Sequence[str]) -> list[int]:
    """The distinct years header cells print as column heads (2023年, 2024年度, or a bare 2024).

    A cell naming two years (统计期限 2022年12月至2023年11月) is a period, not a column head.
    """
    found: set[int] = set()
    for text in texts:
        cleaned = nfkc(text)
        bare = _YEAR_NUMBER.match(cleaned)
        years = {int(bare[1])} if bare else {int(y) for y in _YEAR_LABEL.findall(cleaned)}
        if len(years) == 1:
            found |= years
    return sorted(found)


def is_year_row(values: Sequence[Cell]) -> bool:
    """A row whose values are only nearby years (信息内容 | 2023 | 2024): a header, not data."""
    printed = [nfkc(c.text) for c in values if not is_blank(c.text)]
    years = [_YEAR_NUMBER.match(t) for t in printed]
    if len(printed) < 2 or not all(years):
        return False
    distinct = {int(y[1]) for y in years if y}
    return len(distinct) >= 2 and max(distinct) - min(distinct) <= MAX_YEARS_COMPARED


def is_header_row(labels: Sequence[Cell], values: Sequence[Cell]) -> bool:
    """Labels and no value of its own (blank cells aside), or only years as values."""
    return bool(labels) and (all(is_blank(c.text) for c in values) or is_year_row(values))


def header_runs(rows: Sequence[tuple[list[Cell], list[Cell]]], tables: Sequence[TableSpec]) -> list[HeaderRun]:
    """The runs of header rows in one printed table, each with the table it names and its years."""
    runs: list[HeaderRun] = []
    k = 0
    while k < len(rows):
        if not is_header_row(*rows[k]):
            k += 1
            continue
        stop = k
        while stop < len(rows) and is_header_row(*rows[stop]):
            stop += 1
        texts = [c.text for labels, values in rows[k:stop] for c in [*labels, *values]]
        runs.append(HeaderRun(k, stop, identify(texts, tables) if tables else None, years_in(texts)))
        k = stop
    return runs


def comparison_reason(years: Sequence[int]) -> str:
    shown = ", ".join(str(y) for y in years)
    return f"the table's header prints several years side by side ({shown}): which column is this report's is not known"
