"""Bad input gives a clear error or kind in its own result and never stops the batch."""
from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest
from typer.testing import CliRunner

from gongkai.cli import app
from gongkai.extractors.pipeline import extract_file
from samples import REAL, ROOT, SEEDS, seed


@pytest.fixture
def bad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    pdf = (REAL / "huaian_city_gov_2024_annual_report.pdf").read_bytes()
    (folder / "truncated.pdf").write_bytes(pdf[: len(pdf) // 3])
    (folder / "junk.pdf").write_bytes(bytes(range(256)) * 40)
    (folder / "empty.txt").write_bytes(b"")
    lines = seed("004").read_text(encoding="utf-8").splitlines()
    gbk = "<html><body>" + "".join(f"<p>{line}</p>" for line in lines[:12] if line.strip()) + "</body></html>"
    (folder / "gbk_no_charset.html").write_bytes(gbk.encode("gbk"))
    document = docx.Document()
    document.add_paragraph("某某县人民政府办公室关于开展政务公开培训的通知")
    document.add_paragraph("各乡镇人民政府，县政府各部门：现将有关事项通知如下。")
    document.save(folder / "notice_no_tables.docx")
    guide = seed("000").read_text(encoding="utf-8").splitlines()[:60]
    (folder / "guide.txt").write_text("\n".join(guide), encoding="utf-8")
    (folder / "001.txt").write_bytes(seed("001").read_bytes())
    return folder


def test_each_bad_input_has_its_own_clear_result(bad_folder: Path) -> None:
    results = {p.name: extract_file(p) for p in sorted(bad_folder.iterdir())}
    assert results["truncated.pdf"].error.kind == "corrupt"
    assert results["junk.pdf"].error.kind == "corrupt"
    assert results["empty.txt"].error.kind == "empty"
    for name in ("truncated.pdf", "junk.pdf", "empty.txt"):
        assert results[name].error.message and not results[name].reports
    gbk = results["gbk_no_charset.html"]
    assert gbk.error is None
    assert gbk.reports[0].agency == "贺兰县卫生和计划生育局" and gbk.reports[0].year == 2017
    assert [r.kind for r in results["notice_no_tables.docx"].reports] == ["not-a-report"]
    assert [r.kind for r in results["guide.txt"].reports] == ["not-a-report"]
    assert len(results["001.txt"].reports[0].fields) == 200


def test_batch_goes_on_past_bad_files(bad_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    outcome = CliRunner().invoke(app, ["extract", str(bad_folder), "--out", str(out), "--no-progress"])
    assert outcome.exit_code == 0, outcome.output
    written = {p.name for p in out.iterdir()}
    assert written == {f"{p.name}.json" for p in bad_folder.iterdir()}
    good = json.loads((out / "001.txt.json").read_text(encoding="utf-8"))
    assert good["schema"] == "report-extraction/1" and good["error"] is None
    assert json.loads((out / "junk.pdf.json").read_text(encoding="utf-8"))["error"]["kind"] == "corrupt"


def test_every_bundled_seed_extracts_without_error() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        assert extract_file(path).error is None, path.name


# ---------------------------------------------------------------- issue 11 items 13 and 14
def test_fifo_named_txt_is_refused_without_blocking(tmp_path: Path) -> None:
    import os
    import threading

    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "report.txt")  # nobody ever writes: opening it for reading would block forever
    results = []
    reader = threading.Thread(target=lambda: results.append(extract_file(folder / "report.txt")), daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert not reader.is_alive() and results[0].error.kind == "unsupported"
    assert (
        results[0].error.message == "report.txt is a FIFO (named pipe), not a regular file: refused without reading it"
    )
    out = tmp_path / "out"
    outcome = CliRunner().invoke(app, ["extract", str(folder), "--out", str(out), "--no-progress"])
    assert outcome.exit_code == 0 and (out / "report.txt.json").exists()  # its own result, not skipped


def test_docx_zip_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    import zipfile

    source = zipfile.ZipFile(ROOT / "samples" / "rendered" / "001_lushan_wjw_2023.docx")
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                at = data.rfind(b"<w:sectPr")
                data = data[:at] + b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 1_200_000 + data[at:]  # 40 MB
            zf.writestr(info, data)
    assert bomb.stat().st_size < 1_000_000
    result = extract_file(bomb)
    assert result.error.kind == "too-large" and "limits.docx_xml_bytes" in result.error.message


def test_long_pdf_is_read_up_to_the_page_cap_and_the_rest_recorded(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    from gongkai.config import load_thresholds
    from gongkai.extractors.readers import read_document

    cap = load_thresholds().limits.pdf_pages
    source = pdfium.PdfDocument(ROOT / "samples" / "rendered" / "001_lushan_wjw_2023.pdf")
    long = pdfium.PdfDocument.new()
    long.import_pages(source, [0, 1])  # the report's tables first, then pages of plain text
    for _ in range(cap + 8):
        long.import_pages(source, [2])
    path = tmp_path / "long.pdf"
    long.save(path)
    doc = read_document(path)
    assert doc.source.pages == cap + 10 and len(doc.pages) == cap
    assert f"pages {cap + 1}–{cap + 10} not read: more than limits.pdf_pages={cap} pages" in doc.warnings
    result = extract_file(path)
    assert result.error is None and len(result.reports[0].fields) == 200


def test_damaged_font_is_read_with_nothing_on_stderr(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    import re

    from gongkai.extractors.readers import read_document

    pdf = (ROOT / "samples" / "rendered" / "001_lushan_wjw_2023.pdf").read_bytes()
    damaged = tmp_path / "damaged_font.pdf"
    damaged.write_bytes(re.sub(rb"/ToUnicode (\d+) 0 R", rb"/ToUnicode 7 0 R", pdf))  # a font file as its cmap
    capfd.readouterr()
    doc = read_document(damaged)
    assert capfd.readouterr().err == ""
    # pdfium reads it quietly since camelot (pdfminer, playa) left the reading path; whatever a
    # library says is at most one warning of the document
    assert len([w for w in doc.warnings if "libraries reported" in w]) <= 1
    assert len(doc.tables()) >= 3


def test_library_log_records_are_one_warning_of_their_document(capfd: pytest.CaptureFixture) -> None:
    import logging

    from gongkai.extractors.readers.library_log import library_log_of_document

    capfd.readouterr()
    with library_log_of_document("damaged_font.pdf") as warnings:
        for n in range(5):
            try:
                raise ValueError(f"bad glyph {n}")
            except ValueError:
                logging.getLogger("pdfminer.pdffont").warning("Could not get FontBBox", exc_info=True)
        logging.getLogger("pypdfium2").warning("xref table damaged")
    assert capfd.readouterr().err == ""
    assert len(warnings) == 1
    assert warnings[0].startswith("damaged_font.pdf: the PDF/document libraries reported 6 problems")
    assert "Could not get FontBBox (ValueError)" in warnings[0] and "xref table damaged" in warnings[0]


def test_blocks_past_the_cap_are_recorded_as_not_read(tmp_path: Path) -> None:
    from gongkai.config import load_thresholds
    from gongkai.extractors.readers import read_document

    cap = load_thresholds().limits.blocks
    report = seed("001").read_text(encoding="utf-8")
    path = tmp_path / "padded.txt"
    path.write_text(report + "\n" + "\n".join(f"第{n}行说明文字。" for n in range(cap)), encoding="utf-8")
    doc = read_document(path)
    total = len(read_document(seed("001")).blocks) + cap
    assert len(doc.blocks) == cap and doc.blocks[0] == read_document(seed("001")).blocks[0]
    assert doc.warnings == [
        f"padded.txt: blocks {cap + 1}–{total} of text and tables not read: more than limits.blocks={cap}"
    ]


def test_table_rows_past_the_cap_are_recorded_as_not_read(tmp_path: Path) -> None:
    from gongkai.config import load_thresholds
    from gongkai.extractors.readers import read_document

    cap = load_thresholds().limits.table_rows
    rows = "".join(f"<tr><td>第{n}行</td><td>{n}</td></tr>" for n in range(cap + 10))
    path = tmp_path / "long_table.html"
    path.write_text(f"<html><body><p>某某县政府信息公开工作年度报告</p><table>{rows}</table></body></html>",
                    encoding="utf-8")
    doc = read_document(path)
    (table,) = doc.tables()
    assert table.n_rows == cap and max(c.row + c.row_span for c in table.cells) == cap
    assert doc.warnings == [f"long_table.html: rows {cap + 1}–{cap + 10} of table 2 not read: "
                            f"more than limits.table_rows={cap}"]
