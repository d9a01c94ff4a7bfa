"""Agencies publish HTML pages, MHT archives and RTF files under a .doc name."""
from __future__ import annotations

import quopri
import shutil
from pathlib import Path

from gongkai.extractors.pipeline import extract_file
from samples import ROOT

PAGE = ROOT / "samples" / "rendered" / "001_lushan_wjw_2023.html"


def test_html_named_doc_is_read_as_html(tmp_path: Path) -> None:
    fake = tmp_path / "report.doc"
    fake.write_bytes(PAGE.read_bytes())
    result = extract_file(fake)
    assert result.source.media_type == "text/html"
    assert len(result.reports[0].fields) == 200


def test_mht_archive_named_doc_is_read(tmp_path: Path) -> None:
    body = quopri.encodestring(PAGE.read_bytes()).decode("ascii")
    archive = tmp_path / "report.doc"
    archive.write_text(
        'MIME-Version: 1.0\nContent-Type: multipart/related; boundary="b1"\n\n--b1\n'
        'Content-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
        f"{body}\n--b1--\n",
        encoding="ascii",
    )
    result = extract_file(archive)
    assert result.source.media_type == "multipart/related"
    assert result.reports[0].agency == "鲁山县卫生健康委员会"
    assert len(result.reports[0].fields) == 200


def test_rtf_named_doc_goes_to_the_libreoffice_reader(tmp_path: Path) -> None:
    rtf = tmp_path / "report.doc"
    title = "某某县人民政府办公室2023年政府信息公开工作年度报告。本报告所列数据的统计期限自2023年1月1日起至12月31日止。"
    escaped = "".join(f"\\u{ord(ch)}?" for ch in title)
    rtf.write_bytes(("{\\rtf1\\ansi " + escaped + "\\par}").encode("ascii"))
    result = extract_file(rtf)
    assert result.source.media_type == "application/rtf"
    if shutil.which("soffice"):
        assert result.error is None and result.reports[0].year == 2023
    else:
        assert result.error.kind == "missing-dependency"


def test_word_97_file_named_docx_is_said_to_be_a_doc(tmp_path: Path) -> None:
    from gongkai.extractors.readers import read_document

    fake = tmp_path / "report.docx"
    fake.write_bytes((ROOT / "samples" / "rendered" / "003_changle_wjj_2021.doc").read_bytes())
    result = extract_file(fake)
    assert result.source.media_type == "application/msword"
    said = "report.docx is a Word 97-2003 document (.doc) despite its .docx name"
    if shutil.which("soffice"):
        assert result.error is None and result.reports[0].agency == "昌乐县卫生健康局"
        assert len(result.reports[0].fields) >= 200 and said in read_document(fake).warnings
    else:
        assert result.error.kind == "missing-dependency" and result.error.message.startswith(said)


def test_damaged_ole_file_is_corrupt_not_a_libreoffice_job(tmp_path: Path) -> None:
    fake = tmp_path / "report.doc"
    fake.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 64)
    result = extract_file(fake)
    assert result.error.kind == "corrupt" and "directory is damaged or missing" in result.error.message
