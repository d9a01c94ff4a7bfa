"""Bad bytes survived (issue 11 items 8, 10, 14): a few damaged bytes, odd encodings and
parser limits never cost a document whose text is there. Inputs are made from the samples."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from gongkai.extractors.pipeline import extract_file
from gongkai.extractors.readers import read_document
from gongkai.extractors.readers.encoding import least_damaged
from samples import ROOT, seed

PAGE = ROOT / "samples" / "rendered" / "001_lushan_wjw_2023.html"
FIELDS = 200  # every canonical field of the page's gov-2021 form


def _filled(path: Path) -> int:
    result = extract_file(path)
    assert result.error is None, result.error
    return sum(f.value is not None for f in result.reports[0].fields)


@cache
def _page_filled() -> int:
    return _filled(PAGE)


def _after_body(page: bytes, inserted: bytes) -> bytes:
    at = page.index(b">", page.index(b"<body")) + 1
    return page[:at] + inserted + page[at:]


def test_utf8_page_cut_inside_a_character_is_kept_and_the_cut_named(tmp_path: Path) -> None:
    page = PAGE.read_bytes()
    end = page.rindex("。".encode()) + 1  # inside the last full stop's three bytes
    cut = tmp_path / "cut.html"
    cut.write_bytes(page[:end])
    assert _filled(cut) == _page_filled()
    assert read_document(cut).warnings == [
        f"cut.html: damaged bytes at {end - 1} replaced with U+FFFD (1 bytes not valid utf-8)"]


def test_stray_byte_in_a_utf8_transcription_is_replaced_not_fatal(tmp_path: Path) -> None:
    text = seed("001").read_bytes()
    at = text.index("政府信息".encode())
    stray = tmp_path / "stray.txt"
    stray.write_bytes(text[:at] + b"\xff\xfe" + text[at:])
    assert len(extract_file(stray).reports[0].fields) == 200
    warnings = read_document(stray).warnings
    assert warnings == [f"stray.txt: damaged bytes at {at}–{at + 1} replaced with U+FFFD (2 bytes not valid utf-8)"]


def test_gb18030_page_cut_inside_a_character_is_kept(tmp_path: Path) -> None:
    text = seed("004").read_text(encoding="utf-8").encode("gb18030")
    cut = tmp_path / "gb_cut.txt"
    cut.write_bytes(text[: len(text) - 1] if text[-1] > 0x7F else text + "章".encode("gb18030")[:1])
    doc = read_document(cut)
    assert "贺兰县卫生和计划生育局" in doc.text()
    assert len(doc.warnings) == 1 and "not valid gb18030" in doc.warnings[0]


def test_a_wrong_encoding_is_not_repaired() -> None:
    """A GB page read as UTF-8 damages most of its bytes: no lenient decode is offered for it."""
    gbk = seed("004").read_text(encoding="utf-8").encode("gbk")
    assert least_damaged(gbk, ["utf-8"]) is None
    assert least_damaged(gbk, ["utf-8", "gb18030"]).encoding == "gb18030"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_page_without_bom_is_html(tmp_path: Path, encoding: str) -> None:
    page = PAGE.read_text(encoding="utf-8").replace('charset="utf-8"', "").replace("charset=utf-8", "")
    path = tmp_path / f"{encoding}.html"
    path.write_bytes(page.encode(encoding))
    result = extract_file(path)
    assert result.source.media_type == "text/html"
    assert sum(f.value is not None for f in result.reports[0].fields) == _page_filled()


@pytest.mark.parametrize(
    "inserted",
    [b"<span>" * 300, b"<div>" * 50_000, b"<b><font>" * 25_000],
    ids=["300-unclosed-spans", "50000-nested-divs", "50000-nested-inline"],
)
def test_deeply_nested_page_keeps_its_text_and_tables(tmp_path: Path, inserted: bytes) -> None:
    path = tmp_path / "nested.html"
    path.write_bytes(_after_body(PAGE.read_bytes(), inserted))
    assert _filled(path) == _page_filled()
    assert read_document(path).warnings == []


def test_tables_nested_past_the_parser_limit_keep_the_text(tmp_path: Path) -> None:
    path = tmp_path / "tables.html"
    path.write_bytes(_after_body(PAGE.read_bytes(), b"<table><tr><td>" * 3_000))
    doc = read_document(path)
    assert "鲁山县卫生健康委员会" in doc.text()
    assert doc.warnings == ["tables.html: tables nested too deeply for the HTML parser; read as text"]


def test_ten_megabyte_one_line_page_is_read(tmp_path: Path) -> None:
    """One text node over libxml2's 10 MB default limit, on a page with no line breaks."""
    page = PAGE.read_bytes().replace(b"\n", b" ")
    path = tmp_path / "one_line.html"
    path.write_bytes(_after_body(page, b"<p>" + b"x" * 11_000_000 + b"</p>"))
    assert b"\n" not in path.read_bytes() and path.stat().st_size > 10_000_000
    assert _filled(path) == _page_filled()


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_transcription_without_bom_cut_short_is_text(tmp_path: Path, encoding: str) -> None:
    """Chinese prose in UTF-16 has few zero bytes (only its digits and tabs): still text, not binary."""
    data = seed("001").read_text(encoding="utf-8").encode(encoding)
    path = tmp_path / "report.txt"
    path.write_bytes(data[: len(data) - 3])  # a download cut inside a character
    doc = read_document(path)
    assert doc.source.media_type == "text/plain" and "政府信息公开" in doc.text()
    assert len(doc.warnings) == 1 and f"not valid {encoding}" in doc.warnings[0]


def test_binary_with_zero_bytes_is_still_binary(tmp_path: Path) -> None:
    path = tmp_path / "junk.txt"
    path.write_bytes(bytes(range(256)) * 16)
    result = extract_file(path)
    assert result.error.kind == "unsupported" and "binary data" in result.error.message
