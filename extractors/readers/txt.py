"""Plain-text transcriptions of reports: tab grids, pipe grids, one-cell-per-line streams.

Text exports of these reports come in three table shapes (see samples/seeds):
tab-separated rows (001, 003), pipe rows in markdown or loose style (000, 004),
and "cell streams" where every cell sits on its own line (002). Everything else
is narrative and becomes one TextBlock per non-empty line.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

import charset_normalizer

from gongkai.config import load_patterns
from gongkai.models import Cell, Document, SourceInfo, Table, TextBlock

from ..text import collapse_spaces
from ..values import is_number_text
from .base import ReaderError, check_file_size
from .encoding import least_damaged, utf16_without_bom

MAX_TEXT_BYTES = 64 * 1024 * 1024  # a report transcription is kilobytes; beyond this is not a report

# Chinese legacy single-family encodings: decode them all as gb18030, the superset.
_GB_FAMILY = {
    "gb2312", "gbk", "gb18030", "gb_2312", "gb_2312-80", "x-gbk", "cp936", "euc-cn", "hz", "hz-gb-2312",
}

_MD_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_NUMERAL = "[一二三四五六七八九十]+"
_HEADING = re.compile(rf"^\s*(?:{_NUMERAL}、|[（(]{_NUMERAL}[）)]|第{_NUMERAL}[章节部分])")
_SENTENCE_END = ("。", "，", ";", "；", ",", "：", ":")

STREAM_MAX_LINE = 60
STREAM_MIN_VALUES = 8
PIPE_CONTINUATION_MAX = 80


# ---------------------------------------------------------------- decoding
def normalise_charset(name: str) -> str:
    lowered = name.strip().strip("\"'").lower()
    return "gb18030" if lowered in _GB_FAMILY else lowered


def decode_bytes(data: bytes, name: str, declared: str | None = None) -> str:
    """The text of `data` (see `decode_text`), without the note of damaged bytes."""
    return decode_text(data, name, declared)[0]


def decode_text(data: bytes, name: str, declared: str | None = None) -> tuple[str, list[str]]:
    """UTF-8 (BOM or not) first, then a declared charset, then detection; with warnings.

    Detection prefers gb18030 for anything in the GB family because GBK pages
    often carry characters outside GB2312 that a strict gb2312 decode rejects.
    A page that fails only on a few bytes (cut inside a character, a stray byte) is
    decoded leniently: the document is kept and the warning names the damaged spans.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _lenient_or_fail(data, "utf-16", name)
    utf16 = utf16_without_bom(data)
    if utf16:
        return _lenient_or_fail(data, utf16, name)
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(normalise_charset(declared)), []
        except (UnicodeDecodeError, LookupError):
            pass  # a wrong declaration is common; fall through to detection
    nearly = least_damaged(data, ["utf-8", *([normalise_charset(declared)] if declared else [])])
    if nearly is not None:
        return nearly.text, [nearly.warning(name)]
    return _detect_and_decode(data, name)


def _detect_and_decode(data: bytes, name: str) -> tuple[str, list[str]]:
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        if _looks_gb(data):
            return _lenient_or_fail(data, "gb18030", name)
        raise ReaderError("encoding", f"{name}: cannot determine the text encoding (not UTF-8, no usable charset)")
    encoding = normalise_charset(best.encoding)
    if encoding != "gb18030" and _looks_gb(data):
        encoding = "gb18030"
    return _lenient_or_fail(data, encoding, name)


def _looks_gb(data: bytes) -> bool:
    """gb18030 decodes it with at most a repairable few bad bytes, to mostly CJK: a legacy Chinese page."""
    decoded = least_damaged(data, ["gb18030"])
    if decoded is None:
        return False
    high = [ch for ch in decoded.text if ord(ch) > 127 and ch != "\ufffd"]
    cjk = sum(1 for ch in high if _is_cjk(ch))
    return bool(high) and cjk / len(high) > 0.9


def _is_cjk(ch: str) -> bool:
    """Han ideographs, CJK punctuation and full-width forms."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"


def _lenient_or_fail(data: bytes, encoding: str, name: str) -> tuple[str, list[str]]:
    try:
        return data.decode(encoding), []
    except LookupError as exc:
        raise ReaderError("encoding", f"{name}: unknown text encoding {encoding}") from exc
    except UnicodeDecodeError as exc:
        repaired = least_damaged(data, [encoding])
        if repaired is None:
            raise ReaderError("encoding", f"{name}: bytes do not decode as {encoding}: {exc}") from exc
        return repaired.text, [repaired.warning(name)]


def load_bytes(path: Path) -> bytes:
    """The bytes of a text-like file, refusing empty and oversized ones."""
    check_file_size(path, MAX_TEXT_BYTES, "text")
    return path.read_bytes()


# ---------------------------------------------------------------- line kinds
def _is_tab_row(line: str) -> bool:
    """A tab after the first visible character; leading-only tabs are indentation."""
    stripped = line.lstrip()
    return "\t" in stripped or ("\t" in line and stripped == "")


def _has_leading_tab(line: str) -> bool:
    """An indented short line: a lone label cell (rows can start with empty cells).

    Long or sentence-ending lines are indented prose, which never joins a table.
    """
    return line.startswith("\t") and _is_stream_line(line)


def _is_pipe_row(line: str) -> bool:
    s = line.strip()
    return bool(s) and (" | " in s or s.startswith("|") or s.endswith("|"))


def _split_pipes(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    return [collapse_spaces(part) for part in s.split("|")]


# ---------------------------------------------------------------- segments
@dataclass
class _Segment:
    """A run of lines [start, end) that becomes one table (or falls back to text)."""

    start: int
    end: int
    rows: list[list[str]] = field(default_factory=list)


def _scan_tab_run(lines: list[str], i: int) -> _Segment:
    """Consecutive tab rows; blank lines inside do not end it, a non-tab text line does.

    Short lines indented with a leading tab join only once a real row has started,
    so an indented paragraph never starts or extends a table.
    """
    seg = _Segment(i, i)
    j = i
    while j < len(lines):
        line = lines[j]
        if line.strip() == "":
            j += 1
            continue
        if not (_is_tab_row(line) or _has_leading_tab(line)):
            break
        seg.rows.append([collapse_spaces(c) for c in line.rstrip("\r\n").split("\t")])
        j += 1
        seg.end = j
    return seg


def _pipe_run(lines: list[str], i: int) -> _Segment:
    """Pipe rows from line i, with multi-line cells joined; stops at a blank or text line."""
    closed_style = lines[i].strip().endswith("|")
    seg = _Segment(i, i)
    pending: str | None = None
    pending_lines = 0
    j = i
    while j < len(lines):
        s = lines[j].strip()
        if not s:
            break
        if _MD_SEPARATOR.match(s):
            j += 1
            seg.end = j
            continue
        if pending is not None:
            if not _is_pipe_row(s) and (len(s) > PIPE_CONTINUATION_MAX or pending_lines >= 3):
                break
            pending, pending_lines = f"{pending} {s}", pending_lines + 1
        elif _is_pipe_row(s):
            pending, pending_lines = s, 0
        elif closed_style and _starts_multiline_cell(lines, j):
            pending, pending_lines = s, 0
        else:
            break
        j += 1
        seg.end = j
        if not closed_style or pending.endswith("|"):
            seg.rows.append(_split_pipes(pending))
            pending = None
    if pending is not None:
        seg.rows.append(_split_pipes(pending))
    return seg


def _starts_multiline_cell(lines: list[str], j: int) -> bool:
    """A pipe-less line between pipe rows that opens a cell continued on the next line.

    Seed 000's application form writes '□ 申请。 … □ 不' then '(仅限公民申请) | …' on
    the next line, which itself is still open (no closing '|'). A heading followed by
    a complete row ('三、收到和处理…' then '(本列数据…) | … |') is not a cell.
    """
    s = lines[j].strip()
    if _HEADING.match(s) or len(s) > PIPE_CONTINUATION_MAX or j + 1 >= len(lines):
        return False
    nxt = lines[j + 1].strip()
    return _is_pipe_row(nxt) and not nxt.endswith("|")


def _scan_pipe_runs(lines: list[str], i: int) -> _Segment:
    """Pipe runs separated only by blank lines join when their column counts agree (seed 004)."""
    seg = _pipe_run(lines, i)
    while True:
        k = seg.end
        while k < len(lines) and lines[k].strip() == "":
            k += 1
        if k >= len(lines) or k == seg.end or not _is_pipe_row(lines[k]):
            return seg
        nxt = _pipe_run(lines, k)
        if _width(nxt.rows) != _width(seg.rows):
            return seg
        seg = _Segment(seg.start, nxt.end, seg.rows + nxt.rows)


def _width(rows: list[list[str]]) -> int:
    return max((len(r) for r in rows), default=0)


# ---------------------------------------------------------------- streams
def _is_stream_line(line: str) -> bool:
    s = line.strip()
    return 0 < len(s) <= STREAM_MAX_LINE and not s.endswith(_SENTENCE_END)


def _stream_runs(lines: list[str], lo: int, hi: int) -> list[tuple[int, int]]:
    """Maximal runs of short lines (blank lines allowed inside) with enough values, trimmed."""
    runs: list[tuple[int, int]] = []
    j = lo
    while j < hi:
        if not _is_stream_line(lines[j]):
            j += 1
            continue
        start = j
        while j < hi and (lines[j].strip() == "" or _is_stream_line(lines[j])):
            j += 1
        values = [k for k in range(start, j) if lines[k].strip() and is_number_text(lines[k])]
        if len(values) >= STREAM_MIN_VALUES:
            # Lines after the last value cannot be labels of a value (labels come
            # first in a stream): they are the next section's heading, so text.
            runs.append((start, values[-1] + 1))
    return runs


# ---------------------------------------------------------------- blocks
def _grid_table(rows: list[list[str]]) -> Table | None:
    """A grid from rows with empty cells kept; None when it is really just text."""
    rows = [r for r in rows if any(r)]  # all-empty rows carry nothing (seed 004 '| | | |')
    filled = [sum(1 for c in r if c) for r in rows]
    # One label per row, or a lone row of one or two cells: prose that happened
    # to contain a tab or a pipe, not a table.
    if not rows or max(filled) <= 1 or (len(rows) == 1 and filled[0] <= 2):
        return None
    n_cols = _width(rows)
    cells = [Cell(row=r, col=c, text=t, source="txt") for r, row in enumerate(rows) for c, t in enumerate(row)]
    return Table(cells=cells, n_rows=len(rows), n_cols=n_cols, method="txt")


def _fallback_text(rows: list[list[str]]) -> list[TextBlock]:
    texts = (" ".join(c for c in r if c) for r in rows)
    return [TextBlock(text=t) for t in texts if t]


def _stream_table(lines: list[str]) -> Table:
    texts = [collapse_spaces(s) for s in lines if s.strip()]
    cells = [Cell(row=i, col=0, text=t, source="txt") for i, t in enumerate(texts)]
    return Table(cells=cells, n_rows=len(cells), n_cols=1, grid=False, method="txt")


def _text_blocks(lines: list[str]) -> list[TextBlock]:
    return [TextBlock(text=collapse_spaces(s)) for s in lines if s.strip()]


def _plain_stretch(lines: list[str], lo: int, hi: int) -> list[TextBlock | Table]:
    """Lines with no tab/pipe tables: cell streams where values cluster, text elsewhere."""
    blocks: list[TextBlock | Table] = []
    pos = lo
    for start, end in _stream_runs(lines, lo, hi):
        blocks.extend(_text_blocks(lines[pos:start]))
        blocks.append(_stream_table(lines[start:end]))
        pos = end
    blocks.extend(_text_blocks(lines[pos:hi]))
    return blocks


def parse_lines(lines: list[str]) -> list[TextBlock | Table]:
    """Blocks in reading order from the lines of a transcription."""
    blocks: list[TextBlock | Table] = []
    plain_start = i = 0
    while i < len(lines):
        line = lines[i]
        if _is_tab_row(line) and line.strip():
            seg = _scan_tab_run(lines, i)
        elif _is_pipe_row(line):
            seg = _scan_pipe_runs(lines, i)
        else:
            i += 1
            continue
        blocks.extend(_plain_stretch(lines, plain_start, i))
        table = _grid_table(seg.rows)
        blocks.extend([table] if table else _fallback_text(seg.rows))
        i = plain_start = max(seg.end, i + 1)
    blocks.extend(_plain_stretch(lines, plain_start, len(lines)))
    return blocks


def split_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").split("\n")


class TxtReader:
    """Reads UTF-8 / GB-family text transcriptions of reports."""

    media_types: tuple[str, ...] = ("text/plain",)

    def read(self, path: Path, source: SourceInfo) -> Document:
        text, warnings = decode_text(load_bytes(path), path.name)
        if not text.strip():
            raise ReaderError("empty", f"{path.name} holds only whitespace")
        lines = split_lines(text)
        return Document(source=source, blocks=parse_lines(lines), warnings=warnings, metadata=header_metadata(lines))


HEADER_SCAN_LINES = 15
_HEADER_LINE = re.compile(r"^\s*(?P<key>[\w\u4e00-\u9fff]{2,16})\s*[:：]\s*(?P<value>.*?)\s*$")


def header_metadata(lines: list[str]) -> dict[str, str]:
    """`key: value` lines at the top of a crawled page's text (标题: …, 发布机构: …) whose key
    config/patterns.yaml `page_metadata` lists; an empty value is no metadata."""
    wanted = {name.lower(): name for name in load_patterns()["page_metadata"]}
    found: dict[str, str] = {}
    for line in lines[:HEADER_SCAN_LINES]:
        match = _HEADER_LINE.match(line)
        name = wanted.get(match["key"].lower()) if match else None
        if name and match and match["value"] and name not in found:
            found[name] = match["value"]
    return found
