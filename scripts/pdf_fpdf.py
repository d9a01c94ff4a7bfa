"""The sample reports drawn by fpdf2, a PDF library independent of reportlab.

Used by scripts/render_hard_pdfs.py: the same `render_samples.Report` (its blocks and table
grids) laid out by hand with fpdf2's own primitives: every cell's border is its own
rectangle (shared borders drawn twice, as many report tools do), text wrapped character by
character, a table that does not fit on the page moved whole to the next. The font is the
AR PL UMing TrueType (scripts/pdf_fonts.py), embedded and subset by fpdf2 itself.
"""
from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

from pdf_fonts import PDF_FONTS, _truetype_bytes

FONT = "UMing"
PAGE_W, PAGE_H = 210.0, 297.0
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 20.0, 22.0, 22.0
TABLE_W = 165.0  # mm, as render_samples' reportlab tables (widths scaled from 170 mm)
CELL_PT, CELL_LEAD, CELL_PAD = 8.0, 3.6, 0.8  # cell text size, line height and padding (mm)
PT = 25.4 / 72


def _font_file() -> Path:
    source = PDF_FONTS["uming"]
    path = next(p for p in source.candidates if p and Path(p).exists())
    out = Path(tempfile.gettempdir()) / "gongkai_uming_subset.ttf"
    if not out.exists():
        out.write_bytes(_truetype_bytes(path, source.family).getvalue())
    return out


def render_fpdf(rep, path: Path) -> None:
    import fpdf
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4")
    pdf.set_creation_date(datetime.datetime(rep.year + 1, 1, 15, 9, 0, 0, tzinfo=datetime.UTC))
    pdf.set_title(f"{rep.agency}{rep.year}年政府信息公开工作年度报告")
    pdf.set_creator("gongkai scripts/pdf_fpdf.py")
    pdf.set_producer(f"fpdf2 {fpdf.__version__}")
    pdf.add_font(FONT, fname=str(_font_file()))
    pdf.set_auto_page_break(False)
    pdf.set_line_width(0.2)
    state = {"y": PAGE_H}  # forces the first page
    pages = []

    def new_page() -> None:
        pdf.add_page()
        pages.append(pdf.page)
        pdf.set_font(FONT, size=9)
        label = f"- {pdf.page} -"
        pdf.text(PAGE_W / 2 - pdf.get_string_width(label) / 2, PAGE_H - 12, label)
        state["y"] = MARGIN_TOP

    def room(h: float) -> None:
        if state["y"] + h > PAGE_H - MARGIN_BOTTOM:
            new_page()

    def paragraph(text: str, size: float, lead: float, align: str, indent: float = 0.0, before: float = 0.0) -> None:
        pdf.set_font(FONT, size=size)
        lines = _wrap(pdf, text, PAGE_W - 2 * MARGIN_X, indent)
        state["y"] += before
        for i, line in enumerate(lines):
            room(lead)
            pdf.set_font(FONT, size=size)  # a new page's number was set in 9 pt
            width = pdf.get_string_width(line)
            x = {"C": PAGE_W / 2 - width / 2, "R": PAGE_W - MARGIN_X - width}.get(
                align, MARGIN_X + (indent if i == 0 else 0)
            )
            pdf.text(x, state["y"] + lead * 0.75, line)
            state["y"] += lead

    for kind, payload in rep.blocks:
        if kind == "title":
            paragraph(payload, 18, 10, "C")
        elif kind == "h":
            paragraph(payload, 12.5, 7.5, "L", before=1.5)
        elif kind == "p":
            paragraph(payload, 10.5, 6.3, "L", indent=7.4)
        elif kind in ("center", "right"):
            paragraph(payload, 10.5, 6.3, "C" if kind == "center" else "R")
        elif kind == "table":
            _table(pdf, payload, state, room)
            state["y"] += 4
        elif kind == "pagebreak":
            new_page()
    pdf.output(str(path))


def _wrap(pdf, text: str, width: float, indent: float = 0.0) -> list[str]:
    """Lines of `text` no wider than `width`, broken between any two characters (CJK)."""
    lines = []
    for part in text.split("\n"):
        line = ""
        for ch in part:
            limit = width - (indent if not lines else 0.0)
            if line and pdf.get_string_width(line + ch) > limit:
                lines.append(line)
                line = ch
            else:
                line += ch
        lines.append(line)
    return lines


def _table(pdf, grid, state: dict, room) -> None:
    pdf.set_font(FONT, size=CELL_PT)
    scale = TABLE_W / sum(grid.widths_mm)
    xs = [MARGIN_X]
    for w in grid.widths_mm:
        xs.append(xs[-1] + w * scale)
    wrapped = {}
    need = [CELL_LEAD + 2 * CELL_PAD] * grid.nrows
    for cell in grid.cells:
        width = xs[cell.c + cell.cs] - xs[cell.c] - 2 * CELL_PAD
        lines = [cell.text] if cell.kind == "label-run" else _wrap(pdf, cell.text, width)
        wrapped[(cell.r, cell.c)] = lines
        if cell.rs == 1:
            need[cell.r] = max(need[cell.r], len(lines) * CELL_LEAD + 2 * CELL_PAD)
    for cell in grid.cells:  # a tall merged label stretches the last row it covers
        if cell.rs > 1:
            h = len(wrapped[(cell.r, cell.c)]) * CELL_LEAD + 2 * CELL_PAD
            have = sum(need[cell.r:cell.r + cell.rs])
            if h > have:
                need[cell.r + cell.rs - 1] += h - have
    room(sum(need))
    pdf.set_font(FONT, size=CELL_PT)
    ys = [state["y"]]
    for h in need:
        ys.append(ys[-1] + h)
    for cell in grid.cells:
        x0, x1 = xs[cell.c], xs[cell.c + cell.cs]
        y0, y1 = ys[cell.r], ys[cell.r + cell.rs]
        pdf.rect(x0, y0, x1 - x0, y1 - y0)
        lines = wrapped[(cell.r, cell.c)]
        left = cell.kind.startswith("label") and (grid.name.startswith("requests") and cell.c < 3
                                                 or grid.name in ("legacy", "active") and cell.c == 0)
        top = (y0 + y1) / 2 - len(lines) * CELL_LEAD / 2
        for i, line in enumerate(lines):
            width = pdf.get_string_width(line)
            x = x0 + CELL_PAD if left else (x0 + x1) / 2 - width / 2
            pdf.text(x, top + i * CELL_LEAD + CELL_LEAD / 2 + CELL_PT * PT * 0.35, line)
    state["y"] = ys[-1]
