"""Splitting one document into the reports it holds.

A crawled agency page can carry a guide and every year's report one after another,
separated by the site's page chrome (字号 / 大 中 小). A report title also starts a new
report once the current one has content of its own.
"""
from __future__ import annotations

import re

from gongkai.config import load_patterns
from gongkai.models import Block, Segment, Table, TextBlock

SUBSTANTIVE_CHARS = 50
__all__ = ["Segment", "split_reports"]  # Segment lives in models/ (models/parts.py)


def split_reports(blocks: list[Block]) -> list[Segment]:
    patterns = load_patterns()
    separators = [re.compile(p) for p in patterns["segment_separators"]]
    title = re.compile(patterns["report_title"])
    segments = [Segment()]
    for block in blocks:
        if isinstance(block, TextBlock):
            text = block.text.strip()
            separator = next((s for s in separators if s.match(text)), None)
            if separator:
                segments.append(Segment())
                text = separator.sub("", text, count=1).strip()
                if not text:
                    continue
                block = TextBlock(text=text, page=block.page, bbox=block.bbox)
            elif (
                _is_title(text, title)
                and _is_substantive(segments[-1], title)
                and _has_report_title(segments[-1], title)
            ):
                segments.append(Segment())
        segments[-1].blocks.append(block)
    return _fold_title_only(segments, title)


def _is_substantive(segment: Segment, title: re.Pattern[str]) -> bool:
    """Holds a table or a paragraph of its own, not just titles and attachment names."""
    return any(
        isinstance(b, Table) or (len(b.text) >= SUBSTANTIVE_CHARS and not _is_title(b.text.strip(), title))
        for b in segment.blocks
    )


def _fold_title_only(segments: list[Segment], title: re.Pattern[str]) -> list[Segment]:
    """A segment of nothing but titles (a report's attachment list) belongs to the one before."""
    kept: list[Segment] = []
    for segment in segments:
        if not segment.has_content():
            continue
        if kept and not _is_substantive(segment, title):
            kept[-1].blocks.extend(segment.blocks)
        else:
            kept.append(segment)
    return kept


def _is_title(text: str, title: re.Pattern[str]) -> bool:
    return len(text) <= 60 and title.match(text) is not None and not text.endswith(("。", "，"))


def _has_report_title(segment: Segment, title: re.Pattern[str]) -> bool:
    """A second title starts a new report only if the current one already has its own."""
    return any(_is_title(b.text.strip(), title) for b in segment.text_blocks())
