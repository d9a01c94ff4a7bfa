"""Readers on the real samples, the seed transcriptions and small fixtures built from them."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from gongkai.extractors.readers import ReaderError, read_document
from gongkai.extractors.readers.doc import find_soffice
from gongkai.models import Cell, Document, Table, TextBlock

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "samples" / "seeds"
REAL = ROOT / "samples" / "real"
FIXTURES = Path(__file__).parent / "fixtures" / "readers"
HUAIAN = REAL / "huaian_city_gov_2024_annual_report.pdf"


def seed(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def at(table: Table, row: int, col: int) -> Cell:
    matches = [c for c in table.cells if c.row == row and c.col == col]
    assert len(matches) == 1, f"no single cell at ({row}, {col})"
    return matches[0]


def find(table: Table, prefix: str) -> Cell:
    return next(c for c in table.cells if c.text.startswith(prefix))


def row_texts(table: Table, row: int) -> list[str]:
    return [c.text for c in sorted(table.cells, key=lambda c: c.col) if c.row == row]


def texts(doc: Document) -> list[str]:
    return [b.text for b in doc.blocks if isinstance(b, TextBlock)]


def block_after(doc: Document, text: str) -> TextBlock | Table:
    i = next(i for i, b in enumerate(doc.blocks) if isinstance(b, TextBlock) and b.text == text)
    return doc.blocks[i + 1]


def assert_grid_consistent(table: Table) -> None:
    """No two cells claim the same grid position and every span stays inside the grid."""
    taken: set[tuple[int, int]] = set()
    for c in table.cells:
        assert c.row + c.row_span <= table.n_rows and c.col + c.col_span <= table.n_cols
        spots = {(c.row + r, c.col + k) for r in range(c.row_span) for k in range(c.col_span)}
        assert not spots & taken, f"overlap at {spots & taken}"
        taken |= spots


def expect_error(path: Path, kind: str) -> ReaderError:
    with pytest.raises(ReaderError) as info:
        read_document(path)
    assert info.value.kind == kind, info.value.message
    return info.value


# ---------------------------------------------------------------- txt
def test_txt_tab_tables_seed001() -> None:
    doc = read_document(seed("001"))
    tables = doc.tables()
    assert [(t.n_rows, t.n_cols) for t in tables] == [(14, 4), (28, 10), (4, 15)]
    requests = tables[1]
    assert block_after(doc, "三、收到和处理政府信息公开申请情况") is requests
    assert at(requests, 0, 2).text == "申请人情况" and at(requests, 0, 8).text == "总计"
    assert at(requests, 3, 0).text == "一、本年新收政府信息公开申请数量"
    assert at(requests, 3, 1).text == ""  # the empty cell keeps its position
    assert at(requests, 7, 1).text == "(三) 不予公开" and at(requests, 7, 2).text == "1. 属于国家秘密"
    assert all(c.source == "txt" and c.bbox is None and c.page is None for c in requests.cells)
    assert at(tables[0], 6, 1).text == "22881"


def test_txt_tab_table_keeps_blank_cells_and_survives_blank_line_seed003() -> None:
    doc = read_document(seed("003"))
    requests = next(t for t in doc.tables() if t.n_cols == 10)
    assert requests.n_rows == 28  # the blank line inside the tab rows does not split it
    label = find(requests, "2. 申请人逾期未按收费通知要求缴纳费用")
    assert label.col == 1
    assert row_texts(requests, label.row) == ["", label.text, "", "", "", "", "", "", ""]
    after_blank = find(requests, "5. 要求行政机关确认或重新出具已获取信息")
    assert (after_blank.col, row_texts(requests, after_blank.row)[2:]) == (1, ["0"] * 7)
    assert "共 37 页 728 条记录, 每页 20 条记录。 上一页 下一页 1 2 3 4 5 6 7 8 9 10 ... 37" in texts(doc)


def test_txt_pipe_tables_seed000() -> None:
    doc = read_document(seed("000"))
    assert len(doc.tables()) == 14
    form = doc.tables()[0]
    first = find(form, "□ 申请。")
    assert first.text == "□ 申请。 请提供相关证明 □ 不 (仅限公民申请)"
    assert row_texts(form, first.row)[:3] == [
        first.text, "□ 纸面 □ 电子邮件 □ 光盘 (单选)", "□ 邮寄 □ 电子邮件 □ 传真 □ 自行领取/当场阅读、抄录 (单选)"]
    # A heading between two tables stays text; it is not glued to the next table's first row.
    assert texts(doc).count("三、收到和处理政府信息公开申请情况") == 4
    requests_2022 = doc.tables()[5]
    assert row_texts(requests_2022, 3)[:8] == ["一、本年新收政府信息公开申请数量", "18", "0", "0", "0", "0", "0", "18"]
    assert "大 中 小 聊城市卫生局2012年度政府信息公开工作报告" in texts(doc)  # a one-cell pipe "row" is text


def test_txt_markdown_pipe_table_joined_across_blank_lines_seed004() -> None:
    doc = read_document(seed("004"))
    (table,) = doc.tables()
    assert (table.n_rows, table.n_cols) == (66, 3)
    assert row_texts(table, 0) == ["统计指标", "单位", "统计数"]
    assert row_texts(table, 2) == ["(一) 主动公开政府信息数 (不同渠道和方式公开相同信息计1条)", "条", "179"]
    assert find(table, "5. 其他方式回应事件数").row == 20
    assert find(table, "（三）其他情形数").row == 48
    assert all(any(row_texts(table, r)) for r in range(table.n_rows))  # '| | | |' rows dropped
    assert "虽然我局在政务信息公开工作上取得了一些成绩，但仍存" in texts(doc)
    assert block_after(doc, "填报单位(盖章): 贺兰县卫生和计划生育局") is table


def test_txt_cell_stream_seed002() -> None:
    doc = read_document(seed("002"))
    (stream,) = doc.tables()
    assert not stream.grid and stream.n_cols == 1 and stream.n_rows == len(stream.cells)
    cells = [c.text for c in sorted(stream.cells, key=lambda c: c.row)]
    assert cells[0] == "二、主动公开政府信息情况"
    assert cells[cells.index("行政许可"):cells.index("行政许可") + 4] == ["行政许可", "14", "-1", "3121"]
    assert "1765万元" in cells and "(七)总计" in cells and cells[-1] == "0"
    assert block_after(doc, "(六)回应社会关切方面").type == "text"
    assert doc.blocks.index(stream) + 1 == doc.blocks.index(next(
        b for b in doc.blocks if isinstance(b, TextBlock) and b.text == "五、工作中存在的主要问题及改进情况"))
    assert "收到信息公开申请0件。" in texts(doc)


@pytest.mark.parametrize("name", ["pingtan_2017_report_page.txt", "pingtan_2019_report_page.txt",
                                  "pingtan_2021_report_page.txt", "pingtan_2024_report_page.txt"])
def test_txt_flattened_pages_stay_text(name: str) -> None:
    doc = read_document(REAL / name)
    assert doc.tables() == [] and len(doc.blocks) > 5


def test_txt_seed_narrative_stays_text() -> None:
    doc000 = read_document(seed("000"))
    assert {"一、主动公开政府信息", "2015年1月23日", "1.机构职能"} <= set(texts(doc000))
    doc004 = read_document(seed("004"))
    assert {"附件一", "(2017年度)", "填报日期：2018.1.5"} <= set(texts(doc004))


def test_txt_gbk_without_declaration() -> None:
    doc = read_document(FIXTURES / "seed001_gbk.txt")
    assert texts(doc)[:2] == ["鲁山县卫生健康委员会 2023 年政府信息公开工作年度报告", "二、主动公开政府信息情况"]
    (table,) = doc.tables()
    assert row_texts(table, 6) == ["行政许可", "22881", "", ""]


def test_txt_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeff规章\t1\t0\t11\n行政规范性文件\t8\t26\t66\n".encode("utf-8"))
    (table,) = read_document(path).tables()
    assert row_texts(table, 0) == ["规章", "1", "0", "11"]


def test_txt_indented_prose_is_not_a_table(tmp_path: Path) -> None:
    path = tmp_path / "indented.txt"
    path.write_text("\t一、总体情况\n\n\t2023 年，我局认真贯彻落实《条例》。\n\n信息内容\t本年制发件数\n"
                    "规章\t0\n\n\t全年共公开信息 37 件。\n", encoding="utf-8")
    doc = read_document(path)
    assert [b.type for b in doc.blocks] == ["text", "text", "table", "text"]
    assert row_texts(doc.tables()[0], 1) == ["规章", "0"] and texts(doc)[-1] == "全年共公开信息 37 件。"


def test_txt_bad_inputs(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    expect_error(empty, "empty")
    blank = tmp_path / "blank.txt"
    blank.write_text(" \n\t\n", encoding="utf-8")
    expect_error(blank, "empty")
    broken_utf16 = tmp_path / "broken.txt"  # cut inside a character: kept, the cut is named (issue 11 item 8)
    broken_utf16.write_bytes(b"\xff\xfe" + "规章".encode("utf-16-le") + b"\x00")  # odd length
    doc = read_document(broken_utf16)
    assert texts(doc) == ["规章\ufffd"] and doc.warnings == [
        "broken.txt: damaged bytes at 6 replaced with U+FFFD (1 bytes not valid utf-16)"]


# ---------------------------------------------------------------- html
def test_html_shanghai_spans() -> None:
    doc = read_document(REAL / "shanghai_gov_office_2019_report_tables_trimmed.html")
    title = "2019年上海市人民政府办公厅政府信息公开工作年度报告"
    assert texts(doc)[0] == title and texts(doc).count(title) == 1  # <title> repeated in body: once
    active, requests, review = doc.tables()
    for table in (active, requests, review):
        assert_grid_consistent(table)
    assert (active.n_rows, active.n_cols) == (18, 5)
    assert (at(active, 0, 0).col_span, at(active, 1, 2).text) == (5, "本年新 公开数量")
    # 第（五）项: header spans cols 2-3, data rows span cols 1-2, as written in the page.
    assert (at(active, 5, 2).text, at(active, 5, 2).col_span) == ("本年增/减", 2)
    assert (at(active, 6, 1).text, at(active, 6, 1).col_span, at(active, 6, 3).text) == ("0", 2, "0")
    assert (requests.n_rows, requests.n_cols) == (26, 10)
    assert (at(requests, 0, 0).row_span, at(requests, 0, 0).col_span) == (3, 3)
    assert (at(requests, 1, 3).text, at(requests, 1, 3).row_span) == ("自然人", 2)
    assert (at(requests, 5, 0).text, at(requests, 5, 0).row_span) == ("三、本年度办理结果", 20)
    assert at(requests, 6, 1).text.startswith("（二）部分公开") and at(requests, 6, 1).col_span == 2
    assert (at(requests, 7, 1).text, at(requests, 7, 1).row_span) == ("（三）不予公开", 8)
    assert at(requests, 8, 2).text == "2.其他法律行政法规禁止公开"  # shifted right by two rowspans
    assert at(requests, 3, 5).text == ""  # &nbsp;
    assert [at(requests, r, 9).text for r in (3, 4, 24, 25)] == ["859", "18", "805", "72"]
    assert (at(review, 0, 5).text, at(review, 0, 5).col_span) == ("行政诉讼", 10)
    assert block_after(doc, "三、收到和处理政府信息公开申请情况") is requests
    assert all(c.source == "html" and c.bbox is None for c in requests.cells)


def test_html_gbk_without_charset() -> None:
    doc = read_document(FIXTURES / "seed001_gbk_no_charset.html")
    assert texts(doc)[0] == "鲁山县卫生健康委员会 2023 年政府信息公开工作年度报告"  # <title>, not in body
    assert "首页 政务公开 信息公开年报" not in texts(doc)  # class="nav-top"
    (table,) = doc.tables()
    assert (at(table, 6, 1).text, at(table, 6, 1).col_span) == ("22881", 3)
    assert texts(doc)[-1] == "三、收到和处理政府信息公开申请情况"


def test_html_layout_table_chrome_and_junk_spans() -> None:
    doc = read_document(FIXTURES / "layout_chrome.html")
    body = texts(doc)
    assert body[0] == "某县2022年政府信息公开工作年度报告 - 某县人民政府"
    assert body[1] == "某县2022年政府信息公开工作年度报告"
    assert body[2].startswith("根据《中华人民共和国政府信息公开条例》")
    assert body[3:] == ["第一行", "第二行尾巴", "（二）依申请公开"]
    all_text = " ".join(body)
    for chrome in ("脚本文字", "某县人民政府门户网站", "首页", "版权所有", "分享到微信", "搜索", "输入关键字"):
        assert chrome not in all_text
    (table,) = doc.tables()  # only the nested data table; the layout table is walked
    assert doc.blocks.index(table) == 5
    assert (table.n_rows, table.n_cols) == (2, 3)
    assert (at(table, 0, 0).row_span, at(table, 0, 1).col_span) == (1, 1)  # rowspan=0, colspan=abc
    assert (at(table, 0, 2).text, at(table, 0, 2).row_span) == ("其他结果", 2)  # rowspan=5 clipped
    assert row_texts(table, 1) == ["1", ""]


# ---------------------------------------------------------------- docx
def test_docx_template_spans() -> None:
    doc = read_document(REAL / "template_2021_format_tables_third_party.docx")
    active, requests, review = doc.tables()
    for table in (active, requests, review):
        assert_grid_consistent(table)
    assert block_after(doc, "二、主动公开政府信息情况") is active
    assert (at(active, 0, 0).text, at(active, 0, 0).col_span) == ("第二十条第（一）项", 4)
    assert (at(active, 5, 1).text, at(active, 5, 1).col_span) == ("本年处理决定数量", 3)
    assert (requests.n_rows, requests.n_cols) == (28, 10)
    assert (at(requests, 0, 0).row_span, at(requests, 0, 0).col_span) == (3, 3)
    assert (at(requests, 0, 3).text, at(requests, 0, 3).col_span) == ("申请人情况", 7)
    assert (at(requests, 1, 3).text, at(requests, 1, 9).text, at(requests, 1, 9).row_span) == ("自然人", "总计", 2)
    assert (at(requests, 5, 0).text, at(requests, 5, 0).row_span) == ("三、本年度办理结果", 22)
    assert (at(requests, 23, 1).text, at(requests, 23, 1).row_span) == ("（六）其他处理", 3)
    assert (at(requests, 27, 0).text, at(requests, 27, 0).col_span) == ("四、结转下年度继续办理", 3)
    assert at(requests, 3, 3).text == ""  # blank template cell (full-width spaces collapse)
    assert (at(review, 1, 0).row_span, at(review, 0, 5).col_span) == (2, 10)
    assert texts(doc)[-1] == "（文字描述，收取信息处理费情况在此处报告。）"


def _build_docx(path: Path) -> None:
    """Merged header, vertical merge, gridBefore row, nested table, paragraphs around."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    document.add_paragraph("三、收到和处理政府信息公开申请情况")
    table = document.add_table(rows=4, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "申请人情况"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "三、本年度办理结果"
    for r, values in ((1, ["（一）予以公开", "1288"]), (2, ["（二）部分公开", "447"])):
        table.cell(r, 1).text, table.cell(r, 2).text = values
    table.cell(3, 1).text, table.cell(3, 2).text = "总计", "3050"
    inner = table.cell(1, 2).add_table(rows=1, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "内嵌", "表格"
    last = table.rows[3]._tr
    last.remove(last.tc_lst[0])  # row 3 starts one grid column in: w:gridBefore=1
    before = OxmlElement("w:gridBefore")
    before.set(qn("w:val"), "1")
    last.get_or_add_trPr().insert(0, before)
    document.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    document.save(str(path))


def test_docx_built_merges_grid_before_and_nested(tmp_path: Path) -> None:
    path = tmp_path / "built.docx"
    _build_docx(path)
    doc = read_document(path)
    assert [b.type for b in doc.blocks] == ["text", "table", "table", "text"]
    outer, nested = doc.tables()
    assert_grid_consistent(outer)
    assert (outer.n_rows, outer.n_cols) == (4, 3)
    assert (at(outer, 0, 0).text, at(outer, 0, 0).col_span) == ("申请人情况", 3)
    assert (at(outer, 1, 0).text, at(outer, 1, 0).row_span) == ("三、本年度办理结果", 2)
    assert row_texts(outer, 2) == ["（二）部分公开", "447"]  # (2,0) is covered by the merge
    assert row_texts(outer, 3) == ["总计", "3050"] and at(outer, 3, 1).text == "总计"
    assert at(outer, 1, 2).text == "1288"  # nested table text is not folded into the cell
    assert row_texts(nested, 0) == ["内嵌", "表格"]
    assert all(c.source == "docx" for c in outer.cells)


def test_docx_without_tables(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "plain.docx"
    document = docx.Document()
    for text in ("一、总体情况", "", "全年主动公开政府信息 3637 条。"):
        document.add_paragraph(text)
    document.save(str(path))
    doc = read_document(path)
    assert doc.tables() == [] and texts(doc) == ["一、总体情况", "全年主动公开政府信息 3637 条。"]


def test_docx_macro_enabled_package(tmp_path: Path) -> None:
    """python-docx refuses a .docm content type; the body is read straight from the XML."""
    path = tmp_path / "report.docm"
    with zipfile.ZipFile(REAL / "template_2021_format_tables_third_party.docx") as zin, \
            zipfile.ZipFile(path, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml")
            zout.writestr(item, data)
    requests = read_document(path).tables()[1]
    assert (at(requests, 5, 0).text, at(requests, 5, 0).row_span) == ("三、本年度办理结果", 22)


def test_docx_broken_zip(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 50)
    expect_error(path, "corrupt")
    no_body = tmp_path / "no_body.docx"
    with zipfile.ZipFile(no_body, "w") as zf:
        zf.writestr("word/document.xml", "<w:document")  # truncated XML
        zf.writestr("[Content_Types].xml", "<Types/>")
    expect_error(no_body, "corrupt")


# ---------------------------------------------------------------- doc
def _fake_doc(tmp_path: Path) -> Path:
    path = tmp_path / "report.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    return path


def test_doc_without_libreoffice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice on it, installed or not
    assert find_soffice() is None
    error = expect_error(ROOT / "samples" / "rendered" / "003_changle_wjj_2021.doc", "missing-dependency")
    assert "libreoffice-writer-nogui" in error.message


@pytest.mark.skipif(find_soffice() is None, reason="needs LibreOffice (soffice)")
def test_doc_converted_with_libreoffice(tmp_path: Path) -> None:
    import subprocess

    built = tmp_path / "built.docx"
    _build_docx(built)
    subprocess.run([find_soffice(), f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless",
                    "--convert-to", "doc", "--outdir", str(tmp_path), str(built)], check=True, timeout=120)
    doc = read_document(tmp_path / "built.doc")
    outer = doc.tables()[0]
    assert (at(outer, 1, 0).text, at(outer, 1, 0).row_span) == ("三、本年度办理结果", 2)
    assert all(c.source == "doc" for c in outer.cells)


@pytest.mark.skipif(find_soffice() is None, reason="needs LibreOffice (soffice)")
def test_doc_garbage_with_libreoffice(tmp_path: Path) -> None:
    expect_error(_fake_doc(tmp_path), "corrupt")


# ---------------------------------------------------------------- pdf
@pytest.fixture(scope="module")
def huaian() -> Document:
    return read_document(HUAIAN)


def test_pdf_huaian_table3_joined_across_pages(huaian: Document) -> None:
    assert (huaian.source.pages, len(huaian.pages), huaian.warnings) == (6, 6, [])
    active, requests, review = huaian.tables()
    for table in (active, requests, review):
        assert_grid_consistent(table)
    assert requests.continued_from_previous and (requests.n_rows, requests.n_cols) == (28, 10)
    assert (requests.page, review.page, review.continued_from_previous) == (4, 5, False)
    assert at(requests, 3, 0).text == "一、本年新收政府信息公开申请数量" and at(requests, 3, 0).col_span == 3
    assert [at(requests, r, 9).text for r in (3, 4, 26, 27)] == ["3119", "34", "3050", "103"]
    assert at(requests, 26, 1).text == "（七）总计" and at(requests, 27, 0).text == "四、结转下年度继续办理"
    assert (at(requests, 0, 0).row_span, at(requests, 0, 0).col_span) == (3, 3)
    assert (at(requests, 1, 4).text, at(requests, 1, 4).col_span) == ("法人或其他组织", 5)
    office = at(requests, 5, 0)  # 三、本年度办理结果, cut by the page break, one cell again
    assert office.text.startswith("三、") and office.row_span == 22 and office.page == 4
    cannot = at(requests, 15, 1)  # '（四）无' on page 4 + '法提供' on page 5
    assert cannot.text.startswith("（四）无") and cannot.text.endswith("法提供") and cannot.row_span == 3
    assert (at(requests, 16, 2).text, at(requests, 16, 2).page) == ("2.没有现成信息需要另行制作", 5)


def test_pdf_huaian_table2_joined_with_fewer_columns(huaian: Document) -> None:
    active = huaian.tables()[0]
    assert active.continued_from_previous and (active.n_rows, active.n_cols) == (14, 4)
    punish = find(active, "行政处罚")
    assert (punish.page, at(active, punish.row, 1).text, at(active, punish.row, 1).col_span) == (4, "3985758", 3)
    assert row_texts(active, 3) == ["行政规范性文件", "8", "26", "66"]


def test_pdf_huaian_geometry_and_order(huaian: Document) -> None:
    _, requests, review = huaian.tables()
    for cell in requests.cells:
        x0, y0, x1, y1 = cell.bbox
        page = huaian.pages[cell.page - 1]
        assert 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height and cell.source == "pdf_text"
    total = at(requests, 3, 9)
    assert total.bbox[1] > requests.bbox[1] + 50  # top-left origin: lower rows have larger y
    assert block_after(huaian, "三、收到和处理政府信息公开申请情况") is requests
    assert block_after(huaian, "四、政府信息公开行政复议、行政诉讼情况") is review
    assert at(review, 3, 4).text == "351" and at(review, 0, 5).col_span == 10
    body = texts(huaian)
    assert "办法》，全年收取政府信息公开信息处理费 3940 元。" in body
    assert not any(t.startswith("规章 1 0") or t.startswith("行政处罚") for t in body)  # table text not repeated
    pages = [b.page for b in huaian.blocks]
    assert pages == sorted(pages)


def _ruled_pdf(path: Path, second_page_cols: list[float]) -> None:
    """Page 1: text, then a table to the page bottom; page 2: a table at the top, then text."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=(595, 842))

    def table(cols: list[float], top: float, rows: list[list[str]]) -> None:
        ys = [top - 24 * i for i in range(len(rows) + 1)]
        c.grid(cols, ys)
        for r, row in enumerate(rows):
            for k, text in enumerate(row):
                c.drawString(cols[k] + 4, ys[r] - 16, text)

    c.setFont("STSong-Light", 11)
    c.drawString(72, 770, "三、收到和处理政府信息公开申请情况")
    table([72, 272, 372, 472], 120, [["项目", "自然人", "总计"], ["（一）予以公开", "1288", "1362"]])
    c.showPage()
    c.setFont("STSong-Light", 11)
    table(second_page_cols, 800, [["（二）部分公开", "447", "454"]])
    c.drawString(72, 700, "四、政府信息公开行政复议、行政诉讼情况")
    c.showPage()
    c.save()


def test_pdf_synthetic_join_and_no_join(tmp_path: Path) -> None:
    joined_path, apart_path = tmp_path / "joined.pdf", tmp_path / "apart.pdf"
    _ruled_pdf(joined_path, [72, 272, 372, 472])
    _ruled_pdf(apart_path, [72, 200, 330, 472])  # other column rules: another table
    doc = read_document(joined_path)
    (table,) = doc.tables()
    assert table.continued_from_previous and (table.n_rows, table.n_cols) == (3, 3)
    assert row_texts(table, 2) == ["（二）部分公开", "447", "454"] and at(table, 2, 0).page == 2
    assert texts(doc) == ["三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议、行政诉讼情况"]
    apart = read_document(apart_path).tables()
    assert [t.n_rows for t in apart] == [2, 1] and not apart[1].continued_from_previous


def _boxed_pdf(path: Path, pages: list[list[tuple[float, float, float, float, str]]]) -> None:
    """Each cell drawn as its own ruled box (x, y_top, width, height, text): merged cells are big boxes."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=(595, 842))
    for boxes in pages:
        c.setFont("STSong-Light", 10)
        for x, top, w, h, text in boxes:
            c.rect(x, top - h, w, h)
            c.drawString(x + 3, top - 14, text)
        c.showPage()
    c.save()


def test_pdf_header_rows_alone_on_a_page_stay_header(tmp_path: Path) -> None:
    """A page break right after the header rows: the tall header cell is not glued to the first data row."""
    path = tmp_path / "header_break.pdf"
    header = [(72, 130, 200, 48, "项目"), (272, 130, 200, 24, "申请人情况"),
              (272, 106, 100, 24, "自然人"), (372, 106, 100, 24, "总计")]
    body = [(72, 800, 200, 24, "（四）无"), (272, 800, 100, 24, "746"), (372, 800, 100, 24, "769"),
            (72, 776, 200, 48, "法提供"), (272, 776, 100, 24, "11"), (372, 776, 100, 24, "11"),
            (272, 752, 100, 24, "1"), (372, 752, 100, 24, "1")]
    _boxed_pdf(path, [header, body])
    (table,) = read_document(path).tables()
    assert table.continued_from_previous and (table.n_rows, table.n_cols) == (5, 3)
    assert (at(table, 0, 0).text, at(table, 0, 0).row_span) == ("项目", 2)
    assert (at(table, 0, 1).text, at(table, 0, 1).col_span) == ("申请人情况", 2)
    assert (at(table, 2, 0).text, at(table, 3, 0).text, at(table, 3, 0).row_span) == ("（四）无", "法提供", 2)


def _scanned_pdf(path: Path, with_text_page: bool) -> None:
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=(595, 842))
    if with_text_page:
        c.setFont("STSong-Light", 12)
        c.drawString(72, 770, "一、总体情况")
        c.showPage()
    c.drawImage(ImageReader(Image.new("RGB", (60, 80), "white")), 0, 0, 595, 842)
    c.showPage()
    c.save()


def test_pdf_scanned_pages(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.pdf"
    _scanned_pdf(mixed, with_text_page=True)
    doc = read_document(mixed)
    assert texts(doc) == ["一、总体情况"] and doc.pages[1].notes == ["blank page"] and doc.page_errors == []
    assert [(p.number, p.ocr) for p in doc.pages] == [(1, False), (2, True)]
    scanned = tmp_path / "scanned.pdf"
    _scanned_pdf(scanned, with_text_page=False)
    assert "OCR" in expect_error(scanned, "empty").message


def test_pdf_bad_inputs(tmp_path: Path) -> None:
    data = HUAIAN.read_bytes()
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(data[: len(data) // 2])
    expect_error(truncated, "corrupt")
    junk_with_magic = tmp_path / "junk.pdf"
    junk_with_magic.write_bytes(b"%PDF-1.7\n" + b"not a pdf at all " * 40)
    expect_error(junk_with_magic, "corrupt")
    junk = tmp_path / "junk2.pdf"
    junk.write_bytes(b"\x13\x37 junk bytes " * 40)
    expect_error(junk, "corrupt")
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    expect_error(empty, "empty")


def test_pdf_encrypted(tmp_path: Path) -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    path = tmp_path / "locked.pdf"
    c = canvas.Canvas(str(path), encrypt=StandardEncryption("user-pw", "owner-pw"))
    c.drawString(72, 770, "locked")
    c.showPage()
    c.save()
    assert "password" in expect_error(path, "unsupported").message


def test_pdf_too_many_pages_is_read_up_to_the_cap(tmp_path: Path) -> None:
    """No longer refused whole (issue 11 item 13): pages past limits.pdf_pages are not read, and said so
    (tests/test_bad_inputs.py reads a long report); a long blank PDF says how much of it was read."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for _ in range(501):
        pdf.new_page(100, 100)
    path = tmp_path / "long.pdf"
    pdf.save(str(path))
    error = expect_error(path, "empty")
    assert error.message == "long.pdf: no text and no images on any page of the first 150 read (limits.pdf_pages)"


# ---------------------------------------------------------------- across formats
RENDERED = ROOT / "samples" / "rendered"


@pytest.mark.skipif(not list(RENDERED.glob("*.pdf")), reason="samples/rendered not generated")
def test_same_report_same_grid_in_docx_html_pdf() -> None:
    """The rendered samples hold one report as DOCX, HTML and PDF: all three readers agree."""
    def grids(path: Path) -> list[tuple[int, int, list[tuple[int, int, int, int, str]]]]:
        return [(t.n_rows, t.n_cols, sorted((c.row, c.col, c.row_span, c.col_span, "".join(c.text.split()))
                                            for c in t.cells)) for t in read_document(path).tables()]

    for pdf in sorted(RENDERED.glob("*.pdf")):
        expected = grids(pdf.with_suffix(".docx"))
        assert expected, pdf.name
        assert grids(pdf.with_suffix(".html")) == expected, pdf.name
        assert grids(pdf) == expected, pdf.name


# ---------------------------------------------------------------- registry
def test_registry_images_and_unknown(tmp_path: Path) -> None:
    from PIL import Image

    png = tmp_path / "page.png"
    Image.new("RGB", (10, 10), "white").save(png)
    assert "OCR found no text" in expect_error(png, "empty").message
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    expect_error(binary, "unsupported")


def test_registry_sets_source() -> None:
    doc = read_document(REAL / "shanghai_gov_office_2019_report_tables_trimmed.html")
    assert doc.source.media_type == "text/html"
    assert doc.source.sha256.startswith("8b53c568")
    assert doc.source.size_bytes == 13249
