"""What a report segment is: its agency, year, template version and kind."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

from gongkai.config import load_patterns, load_templates
from gongkai.models import ReportKind, Table, Template, TextBlock

from .segment import Segment
from .text import label_key, nfkc

_YEAR = r"(?:19|20)\d{2}"
TITLE_SCAN_BLOCKS = 8


def report_title(segment: Segment) -> re.Match[str] | None:
    title = re.compile(load_patterns()["report_title"])
    blocks = [nfkc(b.text) for b in segment.text_blocks()[:TITLE_SCAN_BLOCKS + 1]]
    for text, following in zip(blocks, [*blocks[1:], ""]):
        # A long title wraps: '…年度报' on one line, '告' on the next.
        match = title.search(text) or (title.search(text + following) if following else None)
        if match:
            return match
    return None


def detect_year(segment: Segment) -> int | None:
    match = report_title(segment)
    if match:
        return int(match["year"])
    text = nfkc(segment.text() + "\n" + _table_text(segment))
    for pattern in (rf"统计期限\D{{0,4}}({_YEAR})\s*年", rf"({_YEAR})\s*年度"):
        found = re.findall(pattern, text)
        if found:
            return int(Counter(found).most_common(1)[0][0])
    found = re.findall(rf"({_YEAR})\s*年", text)
    return int(Counter(found).most_common(1)[0][0]) if found else None


def detect_agency(segment: Segment, metadata: Mapping[str, str] | None = None) -> str | None:
    """The agency from the title, then the sentences, the sign-off and the page's metadata."""
    match = report_title(segment)
    candidates = []
    if match:
        candidates += [match["before"], match["after"]]
        if not match["before"].strip():
            candidates.append(_previous_block(segment, match.string))
    text = nfkc(segment.text())
    for pattern in load_patterns()["agency_in_text"]:
        candidates += [m["agency"] for m in re.finditer(pattern, text)]
    candidates.append(_sign_off(segment))
    candidates += [(metadata or {}).get(name) for name in load_patterns()["agency_metadata"]]
    for candidate in candidates:
        agency = clean_agency(candidate or "")
        if agency:
            return agency
    return None


def clean_agency(text: str) -> str | None:
    """The agency name inside a title fragment: lead-in words and file-name noise removed."""
    patterns = load_patterns()
    text = re.sub(r"[^\u4e00-\u9fff（）()]", "", nfkc(text).replace("大中小", ""))
    for lead_in in sorted(patterns["agency_lead_ins"], key=len, reverse=True):
        if lead_in in text:
            text = text.rsplit(lead_in, 1)[1]
    text = text.strip("（）()")
    if not 3 <= len(text) <= 30:
        return None
    if text.endswith(tuple(patterns["agency_suffixes"])):
        return text
    region = next((s for s in patterns["agency_region_suffixes"] if text.endswith(s)), None)
    return text if region is not None and len(text) - len(region) >= 2 else None


def _previous_block(segment: Segment, title_text: str) -> str | None:
    blocks = segment.text_blocks()
    for k, block in enumerate(blocks[:TITLE_SCAN_BLOCKS]):
        if nfkc(block.text) == title_text and k > 0:
            return blocks[k - 1].text
    return None


def _sign_off(segment: Segment) -> str | None:
    """The agency that signs the report: a short line just before the closing date."""
    blocks = segment.text_blocks()
    date = re.compile(rf"^{_YEAR}\s*年\s*\d{{1,2}}\s*月(\s*\d{{1,2}}\s*日)?$")
    for k in range(len(blocks) - 1, 0, -1):
        if date.match(nfkc(blocks[k].text).strip()) and len(blocks[k - 1].text) <= 30:
            return blocks[k - 1].text
    return None


def _table_text(segment: Segment) -> str:
    return "\n".join(c.text for b in segment.blocks if isinstance(b, Table) for c in b.cells)


def detect_template(segment: Segment, year: int | None) -> Template | None:
    """The template whose header cues the tables print most; the year breaks ties."""
    keys = [label_key(c.text) for b in segment.blocks if isinstance(b, Table) for c in b.cells]
    keys += [label_key(b.text) for b in segment.blocks if isinstance(b, TextBlock) and len(b.text) <= 40]
    scores = {t.id: _cue_hits(t, keys) for t in load_templates()}
    best = max(scores.values())
    if best == 0:
        return None
    leaders = [t for t in load_templates() if scores[t.id] == best]
    if len(leaders) > 1 and year is not None:
        in_force = [t for t in leaders if t.years[0] <= year <= t.years[1]]
        leaders = in_force or leaders
    return leaders[0]


def _cue_hits(template: Template, keys: list[str]) -> int:
    cues = [label_key(c) for c in template.cues]
    return sum(1 for key in keys if key and any(cue in key for cue in cues))


def detect_kind(segment: Segment, mapped_fields: int, filled_fields: int) -> ReportKind:
    """tabular needs a filled template table: a blank form is not a report."""
    if filled_fields:
        return "tabular"
    if mapped_fields:
        return "not-a-report"
    patterns = load_patterns()
    text = nfkc(segment.text())
    if any(marker in text for marker in patterns["not_report_markers"]) and "年度报告" not in text:
        return "not-a-report"
    if _is_listing(text, patterns):
        return "not-a-report"
    return "narrative" if any(marker in text for marker in patterns["report_markers"]) else "not-a-report"


def _is_listing(text: str, patterns: dict) -> bool:
    """A page of links to several years' reports, with none of their text."""
    years = {m.group("year") for m in re.finditer(patterns["report_title"], text, flags=re.M)}
    years |= set(re.findall(r"((?:19|20)\d{2})\s*年度?[^。\n]{0,40}?政府信息公开工作年度报告", text))
    return len(years) >= patterns["listing_min_years"] and not any(m in text for m in patterns["report_body_markers"])
