"""Splitting one document into the reports it holds.

A crawled agency page can carry a guide and every year's report one after another,
separated by the site's page chrome (字号 / 大 中 小). A report title also starts a new
report once the current one has content of its own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from gongkai.config import load_patterns
from gongkai.models import Block, Table, TextBlock

MIN_CONTENT_CHARS = 30
SUBSTANTIVE_CHARS = 50


@dataclass
class Segment:
    blocks: list[Block] = field(default_factory=list)

    def text_blocks(self) -> list[TextBlock]:
        return [b for b in self.blocks if isinstance(b, TextBlock)]

    def text(self) -> str:
        return "\n".join(b.text for b in self.text_blocks())

    def has_content(self) -> bool:
        chars = sum(len(b.text) for b in self.text_blocks())
        return chars >= MIN_CONTENT_CHARS or any(isinstance(b, Table) for b in self.blocks)


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
