#!/usr/bin/env python3
"""Born-digital report PDFs with what report-drawing libraries do to tables, by two libraries.

    python scripts/render_hard_pdfs.py     # tests/fixtures/hard/ and tests/fixtures/titlegap/

tests/fixtures/hard/: six synthetic reports (fixed seed, never tuned on), each drawn twice:
`hNN_*.pdf` by reportlab (scripts/render_samples.py's renderer) and `fNN_*.pdf` by fpdf2
(scripts/pdf_fpdf.py, an independent library: its own text operators, font embedding and
rules drawn cell by cell). Every document has the three features the text-layer reader lost
fields on:
  - value cells spanning several columns: 表二's value area is cut into 12 narrow grid columns
    and each section's values span 3 to 7 of them, differently from section to section;
  - label text running across the cell rule: 表二's labels are drawn unwrapped in a label
    column narrower than the longer ones (行政规范性文件, 其他对外管理服务事项, 政府集中采购);
  - narrow columns with vertical header text: 表三's applicant columns and 表四's leaf columns
    are headed one character a line, 表三's value columns narrowed to 9 mm.
tests/fixtures/titlegap/: a report whose 表三 ends, and 表四 starts, with only its title line
between them on the same page (issue 11 item 2), and its 200 dpi scan (bench/make_scans.py's
scan200 degradation, skew at most 1°).

Fonts: embedded AR PL UMing subsets (scripts/pdf_fonts.py), so every machine rasterises the
same pages; regenerating needs the font (scripts/install_system_packages.sh --with-fonts).
"""
from __future__ import annotations

import copy
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import render_samples as rs  # noqa: E402
from pdf_fpdf import render_fpdf  # noqa: E402

HARD = rs.ROOT / "tests" / "fixtures" / "hard"
TITLEGAP = rs.ROOT / "tests" / "fixtures" / "titlegap"
HARD_SEED = 20261201
# the same fields as render_samples.UNSEEN_DEFS: id, slug, province, city, agency, short name, year,
# format, size profile, appeals profile, perturbations (render_samples.apply_unseen's names)
HARD_DEFS = [
    ("h01", "songyuan_jtj", "吉林省", "松原市", "松原市长岭县交通运输局", "长岭县交通运输局",
     2021, "pdf", "medium", "small", ["fee_wan_unit", "fullwidth"]),
    ("h02", "jinxi_swj", "辽宁省", "锦州市", "锦州市锦溪区商务局", "锦溪区商务局",
     2022, "pdf", "large", "large", ["thousands", "keep_other_services"]),
    ("h03", "haiyan_fgw", "浙江省", "嘉禾市", "嘉禾市海盐县发展和改革局", "海盐县发展和改革局",
     2023, "pdf", "small", "small", ["dash", "other_single_row"]),
    ("h04", "yunhe_tjj", "江苏省", "淮扬市", "淮扬市运河区统计局", "运河区统计局",
     2024, "pdf", "medium", "large", ["fee_wan_unit", "keep_other_services"]),
    ("h05", "longquan_zrzy", "四川省", "锦官市", "锦官市龙泉县自然资源局", "龙泉县自然资源局",
     2019, "pdf", "medium", "small", ["signed", "procurement_yuan"]),
    ("h06", "baiyun_sjj", "广东省", "穗城市", "穗城市白云区审计局", "白云区审计局",
     2020, "pdf", "small", "zero", ["blank", "procurement_wan_unit"]),
]
TITLEGAP_DEF = ("t01", "xiangshui_xzf", "江苏省", "盐城市", "响水县人民政府办公室", "响水县人民政府办公室", 2024, "pdf",
                "medium", "small", ["keep_other_services"])
FINE_COLUMNS = 12  # 表二's value area in this many grid columns
ACTIVE_LABEL_MM = 17.0  # narrower than 行政规范性文件 (7 characters at 8 pt, ~20 mm): labels run over the rule
SPAN_PATTERNS = {1: [[12]], 2: [[5, 7], [6, 6]], 3: [[3, 4, 5], [4, 4, 4], [5, 4, 3]], 4: [[3, 3, 3, 3], [2, 3, 3, 4]]}
REQ_VALUE_MM = 9.0


def hard_report(defn: tuple, seed: int) -> rs.Report:
    rep = rs.apply_unseen(defn, random.Random(f"{seed}-{defn[0]}"))
    rep.layout.page_break_before = None  # the reportlab break flowable is for the stock 表三; these break by rows
    rep.blocks = [(kind, _harden(rep, payload) if kind == "table" else payload) for kind, payload in rep.blocks]
    rep.perturbations += ["value cells spanning 3-7 of 表二's 12 narrow value columns",
                          "表二 labels drawn unwrapped across their 17 mm column's rule",
                          "表三 applicant and 表四 leaf columns headed vertically, one character a line"]
    return rep


def _harden(rep: rs.Report, grid: rs.Grid) -> rs.Grid:
    if grid.name == "active":
        return _respan_active(grid)
    if grid.name == "requests":
        return _vertical_heads(_narrow_requests(grid), rows=(1, 2), first_col=3)
    if grid.name == "appeals":
        return _vertical_heads(grid, rows=(1, 2, 3), first_col=0)
    return grid


def _respan_active(grid: rs.Grid) -> rs.Grid:
    """表二 with its value columns cut into FINE_COLUMNS; each section spans them its own way."""
    out = rs.Grid(1 + FINE_COLUMNS, [ACTIVE_LABEL_MM] + [(170 - ACTIVE_LABEL_MM) / FINE_COLUMNS] * FINE_COLUMNS,
                  name=grid.name, header_rows=grid.header_rows)
    rows: dict[int, list[rs.Cell]] = {}
    for cell in grid.cells:
        rows.setdefault(cell.r, []).append(cell)
    section = -1
    for r in sorted(rows):
        cells = sorted(rows[r], key=lambda c: c.c)
        if len(cells) == 1 and cells[0].cs == grid.ncols:  # a section title across the table
            section += 1
            out.add(r, 0, cells[0].text, cs=out.ncols, kind=cells[0].kind)
            continue
        label, values = cells[0], cells[1:]
        out.add(r, 0, label.text, kind="label-run" if label.kind == "label" else label.kind, fid=label.fid)
        patterns = SPAN_PATTERNS[len(values)]
        col = 1
        for cell, span in zip(values, patterns[section % len(patterns)]):
            out.add(r, col, cell.text, cs=span, kind=cell.kind, fid=cell.fid)
            col += span
    return out


def _narrow_requests(grid: rs.Grid) -> rs.Grid:
    out = copy.deepcopy(grid)
    extra = sum(w - REQ_VALUE_MM for w in grid.widths_mm[3:])
    out.widths_mm = grid.widths_mm[:2] + [grid.widths_mm[2] + extra] + [REQ_VALUE_MM] * (grid.ncols - 3)
    return out


def _vertical_heads(grid: rs.Grid, rows: tuple[int, ...], first_col: int) -> rs.Grid:
    """Header cells one grid column wide, in `rows`, set one character a line."""
    out = copy.deepcopy(grid)
    for cell in out.cells:
        if cell.r in rows and cell.c >= first_col and cell.cs == 1 and cell.kind == "head":
            cell.text = "\n".join(cell.text.replace("\n", ""))
    return out


def titlegap_report() -> rs.Report:
    rep = rs.apply_unseen(TITLEGAP_DEF, random.Random(f"{HARD_SEED}-{TITLEGAP_DEF[0]}"))
    rep.layout.tight_tables = True
    rep.layout.page_break_before = None
    blocks = list(rep.blocks)
    at = next(i for i, (kind, text) in enumerate(blocks) if kind == "h" and str(text).startswith("三、"))
    rep.blocks = blocks[:at] + [("pagebreak", None)] + blocks[at:]  # 表三, the 四、 title and 表四 on one page
    rep.perturbations += ["表三's end and 表四's start 1 mm plus the 四、 title line apart, on one page"]
    return rep


def write_scan(pdf: Path) -> None:
    import make_scans as ms

    images, info = ms.scan_document(pdf, "scan200", ms.FIXTURE_STYLE, 0, "")
    target = pdf.with_name(pdf.stem + "_scan200.pdf")
    ms.save_pdf(images, target, ms.FIXTURE_STYLE.dpi, info["jpeg_quality"])
    target.with_name(target.stem + ".expected.json").write_text(
        pdf.with_name(pdf.stem + ".expected.json").read_text(encoding="utf-8"), encoding="utf-8")
    print("wrote", target.name, info)


def write(rep: rs.Report, folder: Path, fpdf_name: str | None = None) -> Path:
    rs.write_report(rep, folder, ("pdf",))
    print("wrote", rep.name)
    if fpdf_name:
        twin = copy.copy(rep)
        twin.name = fpdf_name
        render_fpdf(twin, folder / f"{fpdf_name}.pdf")
        (folder / f"{fpdf_name}.expected.json").write_text(
            (folder / f"{rep.name}.expected.json").read_text(encoding="utf-8"), encoding="utf-8")
        print("wrote", fpdf_name)
    return folder / f"{rep.name}.pdf"


def main() -> int:
    reports = [hard_report(d, HARD_SEED) for d in HARD_DEFS]
    if rs.selfcheck(reports, strict=True):
        return 1
    for rep in reports:
        rep.extra["pdf_break_row"] = None
        write(rep, HARD, "f" + rep.name[1:])
    gap = titlegap_report()
    write_scan(write(gap, TITLEGAP))
    return 0


if __name__ == "__main__":
    sys.exit(main())
