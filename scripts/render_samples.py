#!/usr/bin/env python3
"""Render the sample reports of gongkai as born-digital HTML, DOCX and PDF.

    python scripts/render_samples.py            # samples/specs/*.yaml -> samples/rendered/
    python scripts/render_samples.py --unseen   # synthetic reports    -> tests/fixtures/unseen/
    python scripts/render_samples.py --verify   # re-read what was written (pypdfium2, camelot,
                                                # python-docx, lxml) and check it against the truth
    python scripts/render_samples.py --check    # only the consistency self-check of the truth files

The tables are laid out as the official forms (国办公开办函〔2019〕60号 / 〔2021〕30号, and the
pre-2019 政府信息公开情况统计表): HTML with real rowspan/colspan, DOCX with real merged cells
(python-docx cell.merge), PDF with ruled reportlab tables (GRID + SPAN).

Fonts (PDF).  Every PDF embeds the subset of AR PL UMing it uses (TrueType), so it renders the
same on every machine whatever CJK fonts it has, or none.  (A non-embedded CID font such as
reportlab's STSong-Light is drawn with whatever CJK font the reading machine has: the pages the
tests and the scan benchmark rasterise then differed between machines.)  To regenerate you need
the font:  bash scripts/install_system_packages.sh --with-fonts  (or set
GONGKAI_UMING_TTC=/path/to/uming.ttc).  The generated PDFs are committed, so tests need no font.

Output is deterministic: reportlab runs with rl_config.invariant, DOCX zips get fixed
timestamps and core properties, and the unseen values come from a fixed random seed.
"""
from __future__ import annotations

import argparse
import copy
import html as htmlmod
import io
import json
import random
import re
import sys
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pdf_fonts import PDF_FONTS, pdf_font  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "samples" / "specs"
RENDERED = ROOT / "samples" / "rendered"
UNSEEN = ROOT / "tests" / "fixtures" / "unseen"
UNSEEN_SEED = 20240521
FONT_FIXTURES = ROOT / "tests" / "fixtures" / "fonts"
FONT_FIXTURE_REPORT = "000_liaocheng_wjw_2021"  # its 表四 grew a phantom row where Noto drew it

# --------------------------------------------------------------------------------------------
# The forms
# --------------------------------------------------------------------------------------------

REQ_COLS = [
    ("natural_person", "自然人"),
    ("commercial", "商业企业"),
    ("research", "科研机构"),
    ("public_interest", "社会公益组织"),
    ("legal_service", "法律服务机构"),
    ("other_org", "其他"),
    ("total", "总计"),
]
COL_IDS = [c for c, _ in REQ_COLS]
ORG_COLS = COL_IDS[1:6]
REQ_CORNER = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
RESULT_GROUP = "三、本年度办理结果"

# (row id, level, label, group key); level: top | result | sub
REQ_ROWS = [
    ("new", "top", "一、本年新收政府信息公开申请数量", None),
    ("carried_over", "top", "二、上年结转政府信息公开申请数量", None),
    ("granted", "result", "（一）予以公开", None),
    ("partial", "result", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", None),
    ("denied.state_secret", "sub", "1.属于国家秘密", "denied"),
    ("denied.prohibited", "sub", "2.其他法律行政法规禁止公开", "denied"),
    ("denied.security_stability", "sub", "3.危及“三安全一稳定”", "denied"),
    ("denied.third_party", "sub", "4.保护第三方合法权益", "denied"),
    ("denied.internal_affairs", "sub", "5.属于三类内部事务信息", "denied"),
    ("denied.process_info", "sub", "6.属于四类过程性信息", "denied"),
    ("denied.enforcement_files", "sub", "7.属于行政执法案卷", "denied"),
    ("denied.inquiry", "sub", "8.属于行政查询事项", "denied"),
    ("unavailable.not_held", "sub", "1.本机关不掌握相关政府信息", "unavailable"),
    ("unavailable.needs_creation", "sub", "2.没有现成信息需要另行制作", "unavailable"),
    ("unavailable.unclear", "sub", "3.补正后申请内容仍不明确", "unavailable"),
    ("not_processed.petition", "sub", "1.信访举报投诉类申请", "not_processed"),
    ("not_processed.duplicate", "sub", "2.重复申请", "not_processed"),
    ("not_processed.publication", "sub", "3.要求提供公开出版物", "not_processed"),
    ("not_processed.excessive", "sub", "4.无正当理由大量反复申请", "not_processed"),
    ("not_processed.confirm", "sub", "5.要求行政机关确认或重新出具已获取信息", "not_processed"),
    ("other", "result", "（六）其他处理", None),
    ("other.no_correction", "sub", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "other"),
    ("other.unpaid_fee", "sub", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "other"),
    ("other.other", "sub", "3.其他", "other"),
    ("total", "result", "（七）总计", None),
    ("carried_forward", "top", "四、结转下年度继续办理", None),
]
REQ_GROUPS = {
    "denied": "（三）不予公开",
    "unavailable": "（四）无法提供",
    "not_processed": "（五）不予处理",
    "other": "（六）其他处理",
}
ROWS_2021 = [r[0] for r in REQ_ROWS if r[0] != "other"]
ROWS_2019 = [r[0] for r in REQ_ROWS if not r[0].startswith("other.")]
OUTCOME_ROWS = [r for r in ROWS_2019 + ROWS_2021 if r not in ("new", "carried_over", "total", "carried_forward")]

APPEAL_GROUPS = [("review", "行政复议"), ("suit_direct", "未经复议直接起诉"), ("suit_after_review", "复议后起诉")]
APPEAL_OUTS = [
    ("upheld", "结果维持"),
    ("corrected", "结果纠正"),
    ("other", "其他结果"),
    ("pending", "尚未审结"),
    ("total", "总计"),
]
APPEAL_HALVES = {"upheld": ("结果", "维持"), "corrected": ("结果", "纠正"), "other": ("其他", "结果"),
                 "pending": ("尚未", "审结"), "total": ("总计", "")}

# active sections: (title, value headers, [(row id, label, [column ids])])
ACTIVE_2021 = [
    ("第二十条第（一）项", ["本年制发件数", "本年废止件数", "现行有效件数"],
     [("rules", "规章", ["issued", "repealed", "in_force"]),
      ("normative", "行政规范性文件", ["issued", "repealed", "in_force"])]),
    ("第二十条第（五）项", ["本年处理决定数量"],
     [("licensing", "行政许可", ["decisions"]),
      ("other_services", "其他对外管理服务事项", ["decisions"])]),
    ("第二十条第（六）项", ["本年处理决定数量"],
     [("penalty", "行政处罚", ["decisions"]), ("coercion", "行政强制", ["decisions"])]),
    ("第二十条第（八）项", ["本年收费金额（单位：万元）"],
     [("fees", "行政事业性收费", ["amount_wan"])]),
]
ACTIVE_2019 = [
    ("第二十条第（一）项", ["本年新制作数量", "本年新公开数量", "对外公开总数量"],
     [("rules", "规章", ["made", "published", "total_published"]),
      ("normative", "规范性文件", ["made", "published", "total_published"])]),
    ("第二十条第（五）项", ["上一年项目数量", "本年增/减", "处理决定数量"],
     [("licensing", "行政许可", ["prev_items", "change", "decisions"]),
      ("other_services", "其他对外管理服务事项", ["prev_items", "change", "decisions"])]),
    ("第二十条第（六）项", ["上一年项目数量", "本年增/减", "处理决定数量"],
     [("penalty", "行政处罚", ["prev_items", "change", "decisions"]),
      ("coercion", "行政强制", ["prev_items", "change", "decisions"])]),
    ("第二十条第（八）项", ["上一年项目数量", "本年增/减"],
     [("fees", "行政事业性收费", ["prev_items", "change"])]),
    ("第二十条第（九）项", ["采购项目数量", "采购总金额"],
     [("procurement", "政府集中采购", ["items", "amount_wan"])]),
]

FULLWIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def canonical_field_order(template: str) -> list[str]:
    """Every field id a template can print, in document order."""
    ids: list[str] = []
    if template in ("gov-2021", "gov-2019"):
        for _t, _h, rows in (ACTIVE_2021 if template == "gov-2021" else ACTIVE_2019):
            for rid, _l, cols in rows:
                ids += [f"active.{rid}.{c}" for c in cols]
        for rid, *_ in REQ_ROWS:
            ids += [f"requests.{rid}.{c}" for c in COL_IDS]
        for g, _ in APPEAL_GROUPS:
            ids += [f"appeals.{g}.{o}" for o, _ in APPEAL_OUTS]
    return ids


# --------------------------------------------------------------------------------------------
# Consistency rules (the self-check)
# --------------------------------------------------------------------------------------------

def check_rules(template: str, fields: dict) -> list[tuple[str, bool, str]]:
    """Evaluate the form's rules.  A blank or dash cell (null) counts as 0 here: in these
    fixtures a blank cell is only ever printed where the true value is 0."""
    out = []

    def v(fid):
        x = fields.get(fid)
        return 0 if x is None else x

    def has(prefix):
        return any(k.startswith(prefix) for k in fields)

    if template in ("gov-2021", "gov-2019"):
        rows = [r for r, *_ in REQ_ROWS if any(f"requests.{r}.{c}" in fields for c in COL_IDS)]
        outcomes = [r for r in rows if r in OUTCOME_ROWS]
        for c in COL_IDS:
            if all(f"requests.{r}.{c}" in fields for r in ("new", "carried_over", "total", "carried_forward")):
                a, b = (
                    v(f"requests.new.{c}") + v(f"requests.carried_over.{c}"),
                    v(f"requests.total.{c}") + v(f"requests.carried_forward.{c}"),
                )
                out.append((f"requests.balance.{c}", a == b, f"{a} vs {b}"))
            if f"requests.total.{c}" in fields:
                s = sum(v(f"requests.{r}.{c}") for r in outcomes)
                out.append((f"requests.sum.{c}", s == v(f"requests.total.{c}"), f"{s} vs {v(f'requests.total.{c}')}"))
        for r in rows:
            s = sum(v(f"requests.{r}.{c}") for c in COL_IDS[:6])
            out.append((f"requests.row.{r}", s == v(f"requests.{r}.total"), f"{s} vs {v(f'requests.{r}.total')}"))
        for g, _ in APPEAL_GROUPS:
            if has(f"appeals.{g}."):
                s = sum(v(f"appeals.{g}.{o}") for o in ("upheld", "corrected", "other", "pending"))
                out.append((f"appeals.{g}", s == v(f"appeals.{g}.total"), f"{s} vs {v(f'appeals.{g}.total')}"))
    elif template == "legacy-stat":
        L = "legacy."
        rules = [
            (
                "requests.received",
                ["requests.in_person", "requests.fax", "requests.online", "requests.letter", "requests.other_channel"],
            ),
            ("requests.closed", ["requests.closed_on_time", "requests.closed_extended"]),
            (
                "requests.denied",
                [
                    "requests.denied_state_secret",
                    "requests.denied_commercial_secret",
                    "requests.denied_privacy",
                    "requests.denied_security",
                    "requests.denied_not_gov_info",
                    "requests.denied_other",
                ],
            ),
            ("review.total", ["review.upheld", "review.corrected", "review.other"]),
            ("suit.total", ["suit.upheld", "suit.corrected", "suit.other"]),
            ("org.staff", ["org.staff_full_time", "org.staff_part_time"]),
        ]
        for tot, parts in rules:
            if L + tot in fields and any(L + p in fields for p in parts):
                s = sum(v(L + p) for p in parts)
                out.append((f"legacy.{tot}", s == v(L + tot), f"{s} vs {v(L + tot)}"))
    return out


# --------------------------------------------------------------------------------------------
# Layout model: a table is a grid of cells with spans; three backends draw the same grid
# --------------------------------------------------------------------------------------------

@dataclass
class Cell:
    r: int
    c: int
    text: str = ""
    rs: int = 1
    cs: int = 1
    kind: str = "label"  # label | value | head | group
    fid: str | None = None


@dataclass
class Grid:
    ncols: int
    widths_mm: list[float]
    cells: list[Cell] = field(default_factory=list)
    nrows: int = 0
    header_rows: int = 0
    row_ids: dict = field(default_factory=dict)  # grid row index -> request row id (for page breaks)
    name: str = ""

    def add(self, r, c, text="", rs=1, cs=1, kind="label", fid=None):
        self.cells.append(Cell(r, c, text, rs, cs, kind, fid))
        self.nrows = max(self.nrows, r + rs)

    def split(self, at: int, split_text_cells: set | None = None, cut_vertical: bool = False) -> tuple[Grid, Grid]:
        """Cut the grid before row `at` (a page break).  A cell spanning the cut keeps its text
        in the first part and continues as an empty spanning cell in the second, unless it is
        listed in split_text_cells: then its text is cut in two (as a real page cut does)."""
        a = Grid(self.ncols, self.widths_mm, header_rows=self.header_rows, name=self.name)
        b = Grid(self.ncols, self.widths_mm, header_rows=0, name=self.name + "-cont")
        for cell in self.cells:
            end = cell.r + cell.rs
            if end <= at:
                a.cells.append(copy.copy(cell))
            elif cell.r >= at:
                nc = copy.copy(cell)
                nc.r -= at
                b.cells.append(nc)
            else:
                t1, t2 = cell.text, ""
                if split_text_cells and (cell.r, cell.c) in split_text_cells:
                    k = max(1, len(cell.text) // 2 + 1)
                    t1, t2 = cell.text[:k], cell.text[k:]
                elif cut_vertical and cell.kind == "group" and cell.c == 0:
                    k = max(1, at - cell.r)  # one character per row stays on this page
                    t1, t2 = cell.text[:k], cell.text[k:]
                a.cells.append(Cell(cell.r, cell.c, t1, at - cell.r, cell.cs, cell.kind, cell.fid))
                b.cells.append(Cell(0, cell.c, t2, end - at, cell.cs, cell.kind, cell.fid))
        a.nrows, b.nrows = at, self.nrows - at
        a.row_ids = {k: v for k, v in self.row_ids.items() if k < at}
        b.row_ids = {k - at: v for k, v in self.row_ids.items() if k >= at}
        return a, b


@dataclass
class Layout:
    """How one document prints its truth: the perturbations live here."""
    label_text: dict = field(default_factory=dict)  # layout key -> printed label
    missing_labels: list = field(default_factory=list)  # request row ids printed without label
    merge_parent_leaf: bool = False
    split_labels: list = field(default_factory=list)  # request row ids whose label is cut into two cells
    appeals_header: str = "standard"  # standard | wrapped | split_cells
    corner_split: bool = False
    page_break_before: str | None = None  # request row id (PDF only)
    split_text_across_pages: bool = False
    font: str = "uming"  # a key of PDF_FONTS: the embedded TrueType subset the PDF is drawn in
    html_blank: str = ""  # text written into a blank HTML cell ('' or '&nbsp;')
    html_p: bool = False
    html_th: bool = False
    tight_tables: bool = False  # PDF: a table's end and the next heading and table close together (a small gap)


@dataclass
class Report:
    name: str
    agency: str
    year: int
    template: str
    fields: dict  # field id -> value (None for a blank / dash cell)
    printed: dict  # field id -> printed text
    layout: Layout
    blocks: list  # narrative and tables in order
    legacy_rows: list | None = None
    perturbations: list = field(default_factory=list)
    broken_rules: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)


def fmt_number(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        raise TypeError(v)
    if isinstance(v, int):
        return str(v)
    d = Decimal(repr(v)).normalize()
    s = format(d, "f")
    return s


def build_active(rep: Report) -> Grid:
    secs = ACTIVE_2021 if rep.template == "gov-2021" else ACTIVE_2019
    if rep.template == "gov-2021":
        g = Grid(4, [62, 36, 36, 36], name="active")
        spans = {3: [1, 1, 1], 1: [3]}
    else:
        g = Grid(5, [46, 31, 31, 31, 31], name="active")
        spans = {3: [1, 2, 1], 2: [2, 2]}
    lt = rep.layout.label_text
    r = 0
    for title, heads, rows in secs:
        printed_rows = [
            (rid, lab, cols) for rid, lab, cols in rows if any(f"active.{rid}.{c}" in rep.fields for c in cols)
        ]
        if not printed_rows:
            continue
        g.add(r, 0, lt.get(f"active.section.{title}", title), cs=g.ncols, kind="head")
        r += 1
        g.add(r, 0, "信息内容", kind="head")
        c = 1
        for h, span in zip(heads, spans[len(heads)]):
            g.add(r, c, lt.get(f"active.head.{title}.{h}", h), cs=span, kind="head")
            c += span
        r += 1
        for rid, lab, cols in printed_rows:
            g.add(r, 0, lt.get(f"active.row.{rid}", lab))
            c = 1
            for col, span in zip(cols, spans[len(cols)]):
                fid = f"active.{rid}.{col}"
                g.add(r, c, rep.printed.get(fid, ""), cs=span, kind="value", fid=fid)
                c += span
            r += 1
    return g


def build_requests(rep: Report) -> Grid:
    lay, lt = rep.layout, rep.layout.label_text
    g = Grid(10, [6.5, 22, 50.5] + [13] * 7, name="requests")
    rows = [row for row in REQ_ROWS if any(f"requests.{row[0]}.{c}" in rep.fields for c in COL_IDS)]
    # header
    corner = lt.get("requests.corner", REQ_CORNER)
    if lay.corner_split:
        g.add(0, 0, corner[:13], rs=3, cs=2, kind="head-split")
        g.add(0, 2, corner[13:], rs=3, kind="head-split")
    else:
        g.add(0, 0, corner, rs=3, cs=3, kind="head")
    g.add(0, 3, lt.get("requests.applicant", "申请人情况"), cs=7, kind="head")
    g.add(1, 3, lt.get("requests.col.natural_person", "自然人"), rs=2, kind="head")
    g.add(1, 4, lt.get("requests.org", "法人或其他组织"), cs=5, kind="head")
    g.add(1, 9, lt.get("requests.col.total", "总计"), rs=2, kind="head")
    for i, (cid, lab) in enumerate(REQ_COLS[1:6]):
        g.add(2, 4 + i, lt.get(f"requests.col.{cid}", lab), kind="head")
    g.header_rows = 3
    r = 3
    result_rows = [row for row in rows if row[1] in ("result", "sub")]
    first_group_seen = set()
    for rid, level, label, grp in rows:
        g.row_ids[r] = rid
        text = lt.get(f"requests.row.{rid}", label)
        if rid in lay.missing_labels:
            text = ""
        if level == "top":
            if rid in lay.split_labels:
                k = len(text) // 2 + 1
                g.add(r, 0, text[:k], cs=2, kind="label-split")
                g.add(r, 2, text[k:], kind="label-split")
            else:
                g.add(r, 0, text, cs=3)
        else:
            if result_rows and rid == result_rows[0][0]:
                g.add(r, 0, lt.get("requests.group.result", RESULT_GROUP), rs=len(result_rows), kind="group")
            if level == "result":
                if rid in lay.split_labels:
                    k = text.find("（", 3) if "（" in text[3:] else len(text) // 2
                    k = k if k > 0 else len(text) // 2
                    g.add(r, 1, text[:k], kind="label-split")
                    g.add(r, 2, text[k:], kind="label-split")
                else:
                    g.add(r, 1, text, cs=2)
            else:
                gtext = lt.get(f"requests.group.{grp}", REQ_GROUPS[grp])
                first = grp not in first_group_seen
                first_group_seen.add(grp)
                if lay.merge_parent_leaf:
                    g.add(r, 1, (gtext + " " + text) if first else text, cs=2)
                else:
                    if first:
                        n = sum(1 for row in rows if row[3] == grp)
                        g.add(r, 1, gtext, rs=n, kind="group")
                    if rid in lay.split_labels and len(text) > 6:
                        # the leaf label is cut: its first part sits in the (merged) parent's column
                        raise ValueError("split_labels is for top/result rows only")
                    g.add(r, 2, text)
        for i, c in enumerate(COL_IDS):
            fid = f"requests.{rid}.{c}"
            g.add(r, 3 + i, rep.printed.get(fid, ""), kind="value", fid=fid)
        r += 1
    return g


def build_appeals(rep: Report) -> Grid:
    lay, lt = rep.layout, rep.layout.label_text
    g = Grid(15, [170 / 15] * 15, name="appeals")
    g.add(0, 0, lt.get("appeals.review", "行政复议"), cs=5, kind="head")
    g.add(0, 5, lt.get("appeals.suit", "行政诉讼"), cs=10, kind="head")

    def leaf(o, lab):
        t = lt.get(f"appeals.col.{o}", lab)
        if lay.appeals_header == "wrapped" and o != "total":
            a, b = APPEAL_HALVES[o]
            t = a + "\n" + b
        return t

    if lay.appeals_header == "split_cells":
        for i, (o, lab) in enumerate(APPEAL_OUTS):
            g.add(1, i, leaf(o, lab), rs=3, kind="head")
        g.add(1, 5, APPEAL_GROUPS[1][1], cs=5, kind="head")
        g.add(1, 10, APPEAL_GROUPS[2][1], cs=5, kind="head")
        for k in (5, 10):
            for i, (o, lab) in enumerate(APPEAL_OUTS):
                a, b = APPEAL_HALVES[o]
                if o == "total":
                    g.add(2, k + i, lt.get(f"appeals.col.{o}", lab), rs=2, kind="head")
                else:
                    g.add(2, k + i, a, kind="head")
                    g.add(3, k + i, b, kind="head")
        vr = 4
    else:
        for i, (o, lab) in enumerate(APPEAL_OUTS):
            g.add(1, i, leaf(o, lab), rs=2, kind="head")
        g.add(1, 5, APPEAL_GROUPS[1][1], cs=5, kind="head")
        g.add(1, 10, APPEAL_GROUPS[2][1], cs=5, kind="head")
        for k in (5, 10):
            for i, (o, lab) in enumerate(APPEAL_OUTS):
                g.add(2, k + i, leaf(o, lab), kind="head")
        vr = 3
    g.header_rows = vr
    for gi, (grp, _) in enumerate(APPEAL_GROUPS):
        for oi, (o, _) in enumerate(APPEAL_OUTS):
            fid = f"appeals.{grp}.{o}"
            g.add(vr, gi * 5 + oi, rep.printed.get(fid, ""), kind="value", fid=fid)
    return g


def build_legacy(rep: Report) -> Grid:
    g = Grid(3, [120, 20, 30], name="legacy")
    g.add(0, 0, "统计指标", kind="head")
    g.add(0, 1, "单位", kind="head")
    g.add(0, 2, "统计数", kind="head")
    g.header_rows = 1
    for i, (label, unit, fid) in enumerate(rep.legacy_rows, start=1):
        g.add(i, 0, label)
        g.add(i, 1, unit, kind="label")
        g.add(i, 2, rep.printed.get(fid, "") if fid else "", kind="value", fid=fid)
    return g


# --------------------------------------------------------------------------------------------
# Backends
# --------------------------------------------------------------------------------------------

def _cell_matrix(g: Grid):
    by_pos = {(c.r, c.c): c for c in g.cells}
    return by_pos


def render_html(rep: Report, path: Path):
    lay = rep.layout
    title = f"{rep.agency}{rep.year}年政府信息公开工作年度报告"
    out = ["<!DOCTYPE html>", '<html lang="zh-CN">', "<head>", '<meta charset="utf-8">',
           f"<title>{htmlmod.escape(title)}</title>",
           "<style>body{font-family:SimSun,'Songti SC',serif;max-width:900px;margin:0 auto;line-height:1.8}"
           "h1{text-align:center;font-size:22px}table{border-collapse:collapse;width:100%;margin:6px 0 14px}"
           "td,th{border:1px solid #000;padding:3px 4px;text-align:center;font-size:13px;font-weight:normal}"
           "p.indent{text-indent:2em}p.right{text-align:right}</style>",
           "</head>", "<body>", '<div class="article">']

    def esc(t):
        return "<br/>".join(htmlmod.escape(x) for x in t.split("\n"))

    for kind, payload in rep.blocks:
        if kind == "title":
            out.append(f"<h1>{esc(payload)}</h1>")
        elif kind == "h":
            out.append(f"<p><strong>{esc(payload)}</strong></p>")
        elif kind == "p":
            out.append(f'<p class="indent">{esc(payload)}</p>')
        elif kind == "center":
            out.append(f'<p style="text-align:center">{esc(payload)}</p>')
        elif kind == "right":
            out.append(f'<p class="right">{esc(payload)}</p>')
        elif kind == "table":
            g: Grid = payload
            out.append('<table border="1" cellspacing="0" cellpadding="0">')
            out.append("<tbody>")
            by_row: dict[int, list[Cell]] = {}
            for c in g.cells:
                by_row.setdefault(c.r, []).append(c)
            for r in range(g.nrows):
                parts = []
                for c in sorted(by_row.get(r, []), key=lambda x: x.c):
                    tag = "th" if (lay.html_th and c.kind == "head") else "td"
                    attrs = ""
                    if c.rs > 1:
                        attrs += f' rowspan="{c.rs}"'
                    if c.cs > 1:
                        attrs += f' colspan="{c.cs}"'
                    body = esc(c.text) if c.text != "" else lay.html_blank
                    if lay.html_p and body:
                        body = f"<p>{body}</p>"
                    parts.append(f"<{tag}{attrs}>{body}</{tag}>")
                out.append("<tr>" + "".join(parts) + "</tr>")
            out.append("</tbody></table>")
        elif kind == "pagebreak":
            pass
    out += ["</div>", "</body>", "</html>", ""]
    path.write_text("\n".join(out), encoding="utf-8")


def _docx_fixed_zip(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
    return buf.getvalue()


def render_docx(rep: Report, path: Path):
    import datetime

    import docx
    from docx.enum.section import WD_ORIENT  # noqa: F401
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    d = docx.Document()
    sec = d.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.left_margin = sec.right_margin = Mm(20)
    sec.top_margin = sec.bottom_margin = Mm(25)
    normal = d.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(12)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋_GB2312")

    def set_run_font(run, east="仿宋_GB2312", size=None, bold=False):
        run.font.name = "Times New Roman"
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east)
        if size:
            run.font.size = Pt(size)
        run.bold = bold or None

    def para(text, align=None, east="仿宋_GB2312", size=None, bold=False, indent=False):
        p = d.add_paragraph()
        if align:
            p.alignment = align
        if indent:
            p.paragraph_format.first_line_indent = Pt(24)
        set_run_font(p.add_run(text), east, size, bold)
        return p

    for kind, payload in rep.blocks:
        if kind == "title":
            para(payload, WD_ALIGN_PARAGRAPH.CENTER, "方正小标宋简体", 20)
        elif kind == "h":
            para(payload, None, "黑体", 14)
        elif kind == "p":
            para(payload, indent=True)
        elif kind == "center":
            para(payload, WD_ALIGN_PARAGRAPH.CENTER)
        elif kind == "right":
            para(payload, WD_ALIGN_PARAGRAPH.RIGHT)
        elif kind == "table":
            g: Grid = payload
            t = d.add_table(rows=g.nrows, cols=g.ncols)
            t.style = d.styles["Table Grid"]
            t.alignment = WD_TABLE_ALIGNMENT.CENTER
            t.autofit = False
            for row in t.rows:
                for ci, cell in enumerate(row.cells):
                    cell.width = Mm(g.widths_mm[ci])
            for c in g.cells:  # merge first, write text after
                if c.rs > 1 or c.cs > 1:
                    t.cell(c.r, c.c).merge(t.cell(c.r + c.rs - 1, c.c + c.cs - 1))
            for c in g.cells:
                cell = t.cell(c.r, c.c)
                ps = cell.paragraphs
                for extra in ps[1:]:
                    extra._element.getparent().remove(extra._element)
                p = cell.paragraphs[0]
                left = c.kind.startswith("label") and (
                    (g.name == "requests" and c.c < 3) or (g.name == "legacy" and c.c == 0)
                )
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT if left else WD_ALIGN_PARAGRAPH.CENTER
                lines = c.text.split("\n")
                for i, line in enumerate(lines):
                    run = p.add_run(line)
                    set_run_font(run, "宋体", 9 if g.ncols > 5 else 10.5)
                    if i < len(lines) - 1:
                        run.add_break()
            d.add_paragraph()
        elif kind == "pagebreak":
            pass
    cp = d.core_properties
    cp.author = rep.agency
    cp.last_modified_by = rep.agency
    cp.title = f"{rep.agency}{rep.year}年政府信息公开工作年度报告"
    cp.created = cp.modified = datetime.datetime(rep.year + 1, 1, 15, 9, 0, 0)
    cp.revision = 1
    buf = io.BytesIO()
    d.save(buf)
    path.write_bytes(_docx_fixed_zip(buf.getvalue()))


def _BreakingGrid(grid: Grid, make_table, rep: Report, cont: bool = False, heading=None):
    """A flowable that draws table 3 and cuts it across a page break in the middle of its rows.

    The cut goes before rep.layout.page_break_before when that row fits on the current page,
    else after the last row that fits.  The row it was cut before is recorded in
    rep.extra['pdf_break_row'] (the expected file names it)."""
    from reportlab.platypus import Flowable, PageBreak

    class BreakingGrid(Flowable):
        def __init__(self):
            super().__init__()
            self.hAlign = "CENTER"
            self._t = make_table(grid)

        def wrap(self, aw, ah):
            w, h = self._t.wrap(aw, ah)
            if not cont:
                return w, max(h, ah + 1)  # always ask for a split: the table must break
            return w, h

        def draw(self):
            self._t.drawOn(self.canv, 0, 0)

        def split(self, aw, ah):
            if cont:
                return []
            hh = heading.wrap(aw, ah)[1] + heading.getSpaceBefore() + heading.getSpaceAfter() if heading else 0
            ah = ah - hh
            forced = next((k for k, v in grid.row_ids.items() if v == rep.layout.page_break_before), None)
            def cut(k, vertical):
                cells = set()
                if rep.layout.split_text_across_pages:
                    cells = {(c.r, c.c) for c in grid.cells if c.kind == "group" and c.c == 1 and c.r < k < c.r + c.rs}
                return grid.split(k, cells, vertical)

            def fits(k):
                for vertical in (False, True):  # cut the tall vertical 三、本年度办理结果 label only if needed
                    if make_table(cut(k, vertical)[0]).wrap(aw, ah)[1] <= ah:
                        return vertical
                return None

            best = None
            for k in range(grid.header_rows + 2, grid.nrows):
                if fits(k) is not None:
                    best = k
                elif best is not None:
                    break
            if best is None:
                return []  # not even a few rows fit: start on the next page
            k = forced if (forced is not None and forced <= best and fits(forced) is not None) else best
            g1, g2 = cut(k, fits(k))
            rep.extra["pdf_break_row"] = grid.row_ids[k]
            return ([heading] if heading else []) + [
                make_table(g1),
                PageBreak(),
                _BreakingGrid(g2, make_table, rep, cont=True),
            ]

    return BreakingGrid()


def render_pdf(rep: Report, path: Path):
    from reportlab import rl_config
    rl_config.invariant = 1
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = pdf_font(rep.layout.font)
    tight = rep.layout.tight_tables
    st_title = ParagraphStyle(
        "t", fontName=font, fontSize=18, leading=28, alignment=TA_CENTER, spaceAfter=10, wordWrap="CJK"
    )
    st_h = ParagraphStyle("h", fontName=font, fontSize=12.5, leading=15 if tight else 22, spaceBefore=0 if tight else 6,
                          spaceAfter=0 if tight else 2, wordWrap="CJK")
    st_p = ParagraphStyle("p", fontName=font, fontSize=10.5, leading=18, firstLineIndent=21, wordWrap="CJK")
    st_c = ParagraphStyle("c", fontName=font, fontSize=10.5, leading=18, alignment=TA_CENTER, wordWrap="CJK")
    st_r = ParagraphStyle("r", fontName=font, fontSize=10.5, leading=18, alignment=TA_RIGHT, wordWrap="CJK")
    cell_c = ParagraphStyle("cc", fontName=font, fontSize=8, leading=10, alignment=TA_CENTER, wordWrap="CJK")
    cell_l = ParagraphStyle("cl", fontName=font, fontSize=8, leading=10, alignment=TA_LEFT, wordWrap="CJK")

    def ptext(t):
        return "<br/>".join(htmlmod.escape(x, quote=False) for x in t.split("\n"))

    def table(g: Grid):
        data = [["" for _ in range(g.ncols)] for _ in range(g.nrows)]
        style = [("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                 ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                 ("FONT", (0, 0), (-1, -1), font, 8),
                 ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                 ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]
        for c in g.cells:
            if c.text and c.kind == "label-run":  # drawn unwrapped: a long label runs across the cell's rule
                data[c.r][c.c] = c.text
            elif c.text:
                left = c.kind.startswith("label") and (
                    (g.name.startswith("requests") and c.c < 3) or (g.name == "legacy" and c.c == 0)
                )
                data[c.r][c.c] = Paragraph(ptext(c.text), cell_l if left else cell_c)
            if c.rs > 1 or c.cs > 1:
                style.append(("SPAN", (c.c, c.r), (c.c + c.cs - 1, c.r + c.rs - 1)))
        t = Table(data, colWidths=[w * mm * 165 / 170 for w in g.widths_mm], repeatRows=0)
        t.setStyle(TableStyle(style))
        return t

    story = []
    for kind, payload in rep.blocks:
        if kind == "title":
            story.append(Paragraph(ptext(payload), st_title))
        elif kind == "h":
            story.append(Paragraph(ptext(payload), st_h))
        elif kind == "p":
            story.append(Paragraph(ptext(payload), st_p))
        elif kind == "center":
            story.append(Paragraph(ptext(payload), st_c))
        elif kind == "right":
            story.append(Paragraph(ptext(payload), st_r))
        elif kind == "table":
            g: Grid = payload
            if g.name == "requests" and rep.layout.page_break_before:
                heading = story.pop() if story and isinstance(story[-1], Paragraph) else None
                story.append(_BreakingGrid(g, table, rep, heading=heading))
            else:
                story.append(table(g))
            story.append(Spacer(1, (1 if tight else 4) * mm))
        elif kind == "pagebreak":
            story.append(PageBreak())

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 9)
        canvas.drawCentredString(105 * mm, 12 * mm, f"- {doc.page} -")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=22 * mm,
                            bottomMargin=22 * mm, title=f"{rep.agency}{rep.year}年政府信息公开工作年度报告",
                            author=rep.agency, creator="gongkai scripts/render_samples.py", subject="")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    path.write_bytes(buf.getvalue())


# --------------------------------------------------------------------------------------------
# Reports from the seed specs
# --------------------------------------------------------------------------------------------

SEED_TEXT = {
    "001": dict(
        intro=["政务公开工作政策性强、涉及面广，为确保单位各项政务公开工作落到实处，充实领导小组和办公室，形成主要领导亲自抓，分管领导具体抓，具体工作专人抓的工作机制。把政府信息公开工作列入重要议事议程，对推进政府信息公开工作进行动员和安排部署，全力做好信息公开工作。",
               "为确保政务公开质量，我们依照县里标准政务公开的实施范围、内容、形式，加强政务公开工作制度建设。目前，全县信息公开统一在县政府网站上进行集中发布，截至2023年年底，县卫健局在县府政务网共主动公开人事管理、“双随机、一公开”、考试考核、便民事项等各类工作信息37件，受理行政复议1件，已按规定时间答复。公开处罚案件150件，公开双随机任务20件。"],
        problems=["1.进一步加强日常管理工作。继续强化专人负责信息公开工作，明确工作职责，以服务群众为目的，进一步加强政府信息公开通过多种渠道进行宣传，以提高群众对政府信息公开的知晓率和参与度。",
                  "2.进一步丰富信息公开方式。以社会需求为导向，在不断深化政府信息公开内容的同时，努力做到公开方式的灵活多样。"],
        other="无", date="2024年1月18日"),
    "002": dict(
        intro=["2020年,上城区卫生健康局认真贯彻落实《中华人民共和国政府信息公开条例》,按照区政府政务信息公开要求,坚持需求导向、问题导向、效果导向,扎实做好本系统政务公开工作,不断加强政府信息公开工作力度。现将一年来政务公开工作报告如下:",
               "全年主动公开政府信息共3637条,其中行政许可公开信息3121条,比上年度减少838条;行政处罚公开信息412条,比上年度减少93条;公开政府集中采购公开信息30条,采购总金额1765万元;对外管理服务信息29条。收到信息公开申请0件。"],
        problems=["2021年,将进一步做好以下工作:加强主动信息公开,加强政策解读,加强人员培训。"],
        other="无。", date="2021年1月5日"),
    "003": dict(
        intro=["根据《中华人民共和国政府信息公开条例》《潍坊市人民政府办公室关于做好2021年政府信息公开工作年度报告编制发布和报送工作的通知》要求，结合我局实际，编制并向社会公布昌乐县卫生健康局2021年政府信息公开工作年度报告。本年度报告中所列数据的统计期限自2021年1月1日起，至2021年12月31日止。",
               "在昌乐县政府信息公开网站昌乐县卫生健康局专栏公布了局日常工作动态、政策文件、医疗卫生、随机抽查事项、行政复议、建议提案等信息，全年共公开政务信息198条。截止2021年12月31日，我局没有收到有关政府信息公开的申请。"],
        problems=["一是信息公开的及时性有待加强。二是人员力量不够，发布信息相对较少，信息质量不高。"],
        other="（一）信息处理费收取情况。2021年我单位无收取信息处理费。", date="2022年1月24日"),
    "000": dict(
        intro=["{year}年，聊城市卫生健康委按照《中华人民共和国政府信息公开条例》（国务院令第711号）要求，紧密结合卫生健康工作实际，不断拓展政务公开渠道，充分保障群众知情权、监督权和参与权，持续提高政务公开工作质量。",
               "贯彻落实依申请公开工作制度，明确专人负责，严格落实接收、登记、审核、批转、答复、归档等流程，坚持答复时、答复后及时告知申请人。"],
        problems=["一是政务公开标准化、规范化、信息化水平还需提升；二是政策解读缺少灵活性，解读形式单一。"],
        other="（一）收取政府信息公开信息处理费情况。{year}年，聊城市卫生健康委根据《中华人民共和国政府信息公开条例》规定，均未收取费用。",
        date="{next}年1月28日"),
    "004": dict(
        intro=["今年以来，县卫生和计划生育局认真按照县政府办《贺兰县全面推进政务公开若干重点工作实施方案》、《贺兰县2017年政务公开工作要点》和《贺兰县政务公开标准化规范化试点工作实施方案》的文件要求，把政务信息公开工作作为一项重要工作来抓。现将县卫生和计划生育局一年来的政务信息公开工作报告如下：",
               "从局机关到各医疗卫生单位，逐步做到了全方位、多层次公开，包括在单位宣传栏上及单位网站、政务公开网上主动公开。将医疗卫生有关的信息应上网尽上网，共计公开信息26条。2017年134期简报全部在政务公开网上公开。"],
        problems=["一是办公、业务处理和联网审批能力还需继续加强；二是要进一步加强业务培训工作，提高政务公开工作人员的专业素质。"],
        other="", date="2018年1月5日"),
}


def printed_texts(fields: dict, raw: dict) -> dict:
    return {fid: (raw[fid] if fid in raw else fmt_number(v)) for fid, v in fields.items()}


def gov_blocks(rep: Report, intro, problems, other, date, extra_narr=None) -> list:
    b = [("title", f"{rep.agency}{rep.year}年政府信息公开工作年度报告")]
    b += [("p", intro[0])]
    b += [("h", "一、总体情况")] + [("p", x) for x in intro[1:]] + [("p", x) for x in (extra_narr or [])]
    b += [("h", "二、主动公开政府信息情况"), ("table", build_active(rep))]
    b += [("h", "三、收到和处理政府信息公开申请情况"), ("table", build_requests(rep))]
    b += [("h", "四、政府信息公开行政复议、行政诉讼情况"), ("table", build_appeals(rep))]
    b += [("h", "五、存在的主要问题及改进情况")] + [("p", x) for x in problems]
    b += [("h", "六、其他需要报告的事项"), ("p", other)]
    b += [("right", rep.agency), ("right", date)]
    return b


def report_from_spec(path: Path) -> Report:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    name = path.stem
    fields = spec["fields"]
    raw = spec.get("raw") or {}
    rep = Report(name=name, agency=spec["agency"], year=spec["year"], template=spec["template"],
                 fields=fields, printed=printed_texts(fields, raw), layout=Layout(), blocks=[],
                 legacy_rows=spec.get("rows"))
    rep.extra = {"seed": spec.get("seed"), "notes": spec.get("notes")}
    txt = SEED_TEXT[name[:3]]
    fmt = dict(year=rep.year, next=rep.year + 1)
    intro = [x.format(**fmt) for x in txt["intro"]]
    if rep.template == "legacy-stat":
        b = [("title", f"{rep.agency}{rep.year}年政府信息公开工作年度报告")]
        b += [("p", x) for x in intro] + [("h", "存在问题及下一步打算")] + [("p", x) for x in txt["problems"]]
        b += [("p", "附件：政府信息公开情况统计表"), ("right", rep.agency), ("right", txt["date"].format(**fmt))]
        b += [("pagebreak", None), ("center", "政府信息公开情况统计表"), ("center", f"（{rep.year}年度）"),
              ("p", f"填报单位（盖章）：{rep.agency}"), ("table", build_legacy(rep))]
        if name.startswith("004"):
            b += [
                ("p", "单位负责人：时新花　　审核人：杨艳军　　填报人：李晶"),
                ("p", "联系电话：8087936　　填报日期：2018.1.5"),
            ]
        rep.blocks = b
    else:
        if name.startswith("003"):
            rep.layout.page_break_before = "not_processed.confirm"  # like the seed: a page ends inside （五）
        if name.startswith("000") and rep.year == 2020:
            rep.layout.label_text["requests.col.natural_person"] = "自 然 人"
        rep.blocks = gov_blocks(rep, intro, [x.format(**fmt) for x in txt["problems"]], txt["other"].format(**fmt),
                                txt["date"].format(**fmt))
    if name.startswith("002"):
        rep.layout.page_break_before = "unavailable.needs_creation"
    return rep


# --------------------------------------------------------------------------------------------
# Unseen synthetic reports
# --------------------------------------------------------------------------------------------

# id, slug, province, city, printed agency, short name, year, format, size profile, appeals profile, perturbations
UNSEEN_DEFS = [
    ("u01", "liuxi_zrgh", "浙江省", "青岚市", "青岚市柳溪县自然资源和规划局", "柳溪县自然资源和规划局",
     2019, "html", "small", "small", ["signed", "procurement_yuan", "blank_zero_org_cols", "html_nbsp"]),
    ("u02", "donglin_rsj", "江苏省", "澄湖市", "澄湖市东林区人力资源和社会保障局", "东林区人力资源和社会保障局",
     2021, "html", "small", "zero", ["spaced_labels", "split_label_cells", "fee_wan_unit", "fullwidth"]),
    ("u03", "shihe_sthj", "山东省", "岱泉市", "岱泉市生态环境局石河分局", "石河分局",
     2022, "html", "medium", "small", ["missing_labels", "appeals_header_split_cells", "broken_cf_total", "html_p"]),
    ("u04", "baisha_wjw", "河南省", "嵩阳市", "嵩阳市白沙县卫生健康委员会", "白沙县卫生健康委员会",
     2023, "html", "small", "zero", ["merge_parent_leaf", "dash", "misprint", "html_th"]),
    ("u05", "eling_zfb", "湖北省", "鄂岭市", "鄂岭市人民政府办公室", "鄂岭市人民政府办公室",
     2024, "html", "large", "large", ["keep_other_services", "other_single_row", "thousands"]),
    ("u06", "xikou_scjg", "湖南省", "湘岭市", "湘岭市溪口县市场监督管理局", "溪口县市场监督管理局",
     2020, "html", "zero", "small", ["misprint", "broken_appeals_total", "procurement_wan_unit", "signed"]),
    ("u07", "qingyi_zjj", "四川省", "蜀川市", "蜀川市青衣县住房和城乡建设局", "青衣县住房和城乡建设局",
     2019, "docx", "medium", "small", ["signed", "procurement_yuan", "fullwidth"]),
    ("u08", "beidi_cgj", "广东省", "岭南市", "岭南市北堤区城市管理和综合执法局", "北堤区城市管理和综合执法局",
     2021, "docx", "small", "small", ["keep_other_services", "blank", "appeals_header_wrapped"]),
    ("u09", "rongxi_jyj", "福建省", "闽江市", "闽江市榕溪县教育局", "榕溪县教育局",
     2022, "docx", "medium", "zero", ["merge_parent_leaf", "fee_wan_unit", "broken_grand_total"]),
    ("u10", "tonglin_nyncj", "安徽省", "皖山市", "皖山市桐林县农业农村局", "桐林县农业农村局",
     2023, "docx", "small", "zero", ["missing_labels", "spaced_labels", "dash"]),
    ("u11", "meiling_slj", "江西省", "赣源市", "赣源市梅岭县水利局", "梅岭县水利局",
     2024, "docx", "medium", "small", ["other_single_row", "misprint", "split_label_cells"]),
    ("u12", "changcheng_mzj", "河北省", "燕山市", "燕山市长城区民政局", "长城区民政局",
     2020, "docx", "small", "zero", ["blank_zero_org_cols", "split_label_cells", "signed"]),
    ("u13", "fenhe_yjj", "山西省", "晋阳市", "晋阳市汾河县应急管理局", "汾河县应急管理局",
     2019, "pdf", "small", "zero", ["page_break", "signed", "procurement_yuan"]),
    ("u14", "weibei_wlj", "陕西省", "秦川市", "秦川市渭北县文化和旅游局", "渭北县文化和旅游局",
     2021, "pdf", "medium", "small", ["page_break", "fee_wan_unit", "fullwidth"]),
    ("u15", "bixi_lcj", "云南省", "彩云市", "彩云市碧溪县林业和草原局", "碧溪县林业和草原局",
     2022, "pdf", "small", "small", ["merge_parent_leaf", "page_break", "broken_total_natural"]),
    ("u16", "qianling_gaj", "贵州省", "黔岭市", "黔岭市公安局", "市公安局",
     2023, "pdf", "large", "large", ["missing_labels", "split_label_cells", "thousands", "page_break_split_text"]),
    ("u17", "lishui_tyjr", "广西壮族自治区", "桂江市", "桂江市漓水县退役军人事务局", "漓水县退役军人事务局",
     2024, "pdf", "small", "zero", ["other_single_row", "keep_other_services", "dash", "page_break"]),
    ("u18", "qilian_sfj", "甘肃省", "陇原市", "陇原市祁连县司法局", "祁连县司法局",
     2020, "pdf", "medium", "small", ["spaced_labels", "appeals_header_split_cells", "blank", "page_break"]),
]

OUTCOME_WEIGHTS = {
    "granted": 30, "partial": 8, "denied.state_secret": 0.3, "denied.prohibited": 0.5, "denied.security_stability": 0.3,
    "denied.third_party": 2, "denied.internal_affairs": 1.5, "denied.process_info": 2, "denied.enforcement_files": 0.5,
    "denied.inquiry": 2, "unavailable.not_held": 25, "unavailable.needs_creation": 5, "unavailable.unclear": 3,
    "not_processed.petition": 6, "not_processed.duplicate": 3, "not_processed.publication": 0.5,
    "not_processed.excessive": 1, "not_processed.confirm": 1, "other.no_correction": 3, "other.unpaid_fee": 0.2,
    "other.other": 4,
}


def gen_requests(rng: random.Random, profile: str, single_other: bool) -> dict:
    rows = [r for r in (ROWS_2019 if single_other else ROWS_2021)]
    outcome = [r for r in rows if r in OUTCOME_ROWS]
    weights = []
    for r in outcome:
        if r == "other":
            weights.append(sum(OUTCOME_WEIGHTS[k] for k in OUTCOME_WEIGHTS if k.startswith("other.")))
        else:
            weights.append(OUTCOME_WEIGHTS[r])
    ranges = {
        "zero": {c: (0, 0, 0.0) for c in COL_IDS[:6]},
        "small": {"natural_person": (1, 18, 1.0), "commercial": (1, 4, 0.5), "research": (1, 1, 0.1),
                  "public_interest": (1, 1, 0.1), "legal_service": (1, 2, 0.3), "other_org": (1, 2, 0.3)},
        "medium": {"natural_person": (25, 130, 1.0), "commercial": (2, 16, 0.9), "research": (1, 2, 0.3),
                   "public_interest": (1, 3, 0.3), "legal_service": (1, 9, 0.6), "other_org": (1, 5, 0.5)},
        "large": {"natural_person": (700, 2600, 1.0), "commercial": (12, 75, 1.0), "research": (1, 4, 0.5),
                  "public_interest": (1, 6, 0.6), "legal_service": (6, 40, 1.0), "other_org": (3, 22, 1.0)},
    }[profile]
    f = {}
    for c in COL_IDS[:6]:
        lo, hi, p = ranges[c]
        new = rng.randint(lo, hi) if rng.random() < p else 0
        co = rng.randint(0, max(0, new // 12)) if new and rng.random() < 0.5 else 0
        n = new + co
        cf = rng.randint(0, n // 8) if n >= 4 and rng.random() < 0.6 else 0
        t = n - cf
        counts = dict.fromkeys(outcome, 0)
        for _ in range(t):
            counts[rng.choices(outcome, weights)[0]] += 1
        f[f"requests.new.{c}"] = new
        f[f"requests.carried_over.{c}"] = co
        f[f"requests.total.{c}"] = t
        f[f"requests.carried_forward.{c}"] = cf
        for r in outcome:
            f[f"requests.{r}.{c}"] = counts[r]
    for r in rows:
        f[f"requests.{r}.total"] = sum(f[f"requests.{r}.{c}"] for c in COL_IDS[:6])
    return {f"requests.{r}.{c}": f[f"requests.{r}.{c}"] for r in rows for c in COL_IDS}


def gen_appeals(rng: random.Random, profile: str) -> dict:
    f = {}
    for g, _ in APPEAL_GROUPS:
        if profile == "zero":
            vals = [0, 0, 0, 0]
        elif profile == "small":
            vals = [
                rng.choice([0, 0, 1, 1, 2, 3]),
                rng.choice([0, 0, 0, 1]),
                rng.choice([0, 0, 1]),
                rng.choice([0, 0, 1, 2]),
            ]
            if g == "suit_after_review":
                vals = [rng.choice([0, 0, 1]), 0, 0, rng.choice([0, 0, 1])]
        else:
            vals = [rng.randint(8, 60), rng.randint(0, 9), rng.randint(2, 30), rng.randint(1, 15)]
        for (o, _), v in zip(APPEAL_OUTS[:4], vals):
            f[f"appeals.{g}.{o}"] = v
        f[f"appeals.{g}.total"] = sum(vals)
    return f


def gen_active(rng: random.Random, template: str, profile: str, keep_other_services: bool, city_gov: bool) -> dict:
    f = {}
    big = profile in ("large", "medium")
    if template == "gov-2021":
        if city_gov:
            f.update({"active.rules.issued": rng.randint(1, 5), "active.rules.repealed": rng.randint(0, 3)})
            f["active.rules.in_force"] = rng.randint(40, 120)
        else:
            f.update({"active.rules.issued": 0, "active.rules.repealed": 0, "active.rules.in_force": 0})
        iss = rng.randint(0, 6)
        f.update({"active.normative.issued": iss, "active.normative.repealed": rng.randint(0, 4),
                  "active.normative.in_force": iss + rng.randint(3, 60)})
        f["active.licensing.decisions"] = rng.randint(200, 6000) if big else rng.choice([0, rng.randint(1, 400)])
        if keep_other_services:
            f["active.other_services.decisions"] = rng.randint(0, 900)
        f["active.penalty.decisions"] = rng.randint(50, 2500) if big else rng.randint(0, 180)
        f["active.coercion.decisions"] = rng.choice([0, 0, rng.randint(1, 60)])
        f["active.fees.amount_wan"] = 0
    else:
        for rid in ("rules", "normative"):
            made = 0 if (rid == "rules" and not city_gov) else rng.randint(0, 6)
            f[f"active.{rid}.made"] = made
            f[f"active.{rid}.published"] = made
            f[f"active.{rid}.total_published"] = 0 if (rid == "rules" and not city_gov) else made + rng.randint(4, 70)
        for rid, hi in (("licensing", 4000), ("other_services", 900), ("penalty", 1500), ("coercion", 40)):
            prev = rng.randint(0, 60) if rid != "coercion" else rng.randint(0, 8)
            f[f"active.{rid}.prev_items"] = prev
            f[f"active.{rid}.change"] = rng.randint(-min(prev, 4), 6) if prev else rng.randint(0, 3)
            f[f"active.{rid}.decisions"] = rng.randint(0, hi if big else hi // 8)
        f["active.fees.prev_items"] = rng.randint(0, 9)
        f["active.fees.change"] = rng.randint(-min(2, f["active.fees.prev_items"]), 1)
        f["active.procurement.items"] = rng.randint(1, 40)
        f["active.procurement.amount_wan"] = float(Decimal(rng.randint(50000, 30000000)) / 10000)
    return f


INTRO_POOL = [
    "根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和上级关于做好{year}年政府信息公开工作年度报告编制发布工作的通知要求，{agency}编制了本报告。本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。如对本报告有疑问，请与{short}办公室联系。",
    "本报告根据《中华人民共和国政府信息公开条例》要求编制，全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项。本报告电子版可在{city}人民政府门户网站下载。",
]
OVERVIEW_POOL = [
    "{year}年，{short}坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《条例》和上级政务公开工作部署，围绕中心工作，不断加大主动公开力度，规范依申请公开办理，政府信息公开工作取得新成效。",
    "{year}年，{short}高度重视政府信息公开工作，坚持“以公开为常态、不公开为例外”的原则，健全工作机制，充实工作力量，全面推进决策、执行、管理、服务、结果公开。",
    "{year}年，{short}按照全市政务公开工作要点要求，把政府信息公开作为转变作风、提升效能的重要抓手，明确分管领导和专人负责，做到信息发布及时、准确、规范。",
]
MGMT_POOL = [
    "（三）政府信息管理。严格落实信息发布保密审查制度，坚持“先审查、后公开”和“一事一审”，全年未发生泄密事件。",
    "（三）政府信息管理。动态调整主动公开目录，定期清理失效信息，加强对规范性文件的合法性审核和公开前审查。",
]
PROBLEM_POOL = [
    "一是政策解读形式还不够丰富；二是信息公开的及时性有待进一步提高；三是工作人员业务水平有待提升。下一步，我们将进一步加强学习培训，完善工作机制，提升公开质量。",
    "主要问题是主动公开的深度和广度还不够，部分栏目更新不及时。改进措施：加强统筹协调，落实专人负责，定期开展自查，确保信息公开工作规范有序。",
]


def apply_unseen(defn, rng: random.Random) -> Report:
    uid, slug, province, city, agency, short, year, fmt, profile, appeal_profile, perts = defn
    template = "gov-2021" if year >= 2021 else "gov-2019"
    single_other = template == "gov-2019" or "other_single_row" in perts
    city_gov = "人民政府办公室" in agency
    fields = {}
    fields.update(
        gen_active(rng, template, profile, "keep_other_services" in perts or template == "gov-2019", city_gov)
    )
    fields.update(gen_requests(rng, profile, single_other))
    fields.update(gen_appeals(rng, appeal_profile))
    # a form field's printed text; modified below by the perturbations
    raw: dict = {}
    lay = Layout()
    notes: list[str] = []
    name = f"{uid}_{slug}_{year}"

    def nonzero_cells(prefix=("requests.", "active."), minv=10):
        return [
            k
            for k, v in fields.items()
            if k.startswith(prefix) and isinstance(v, int) and v >= minv and not k.endswith(".change")
        ]

    def zero_cells(prefix="requests."):
        return [k for k, v in fields.items() if k.startswith(prefix) and v == 0]

    for p in perts:
        if p == "signed":
            # make sure the 本年增/减 column shows a plus, a minus and a zero
            fields["active.licensing.change"] = rng.randint(1, 5)
            fields["active.licensing.prev_items"] = max(fields["active.licensing.prev_items"], 6)
            fields["active.penalty.prev_items"] = max(fields["active.penalty.prev_items"], 6)
            fields["active.penalty.change"] = -rng.randint(1, 3)
            fields["active.coercion.change"] = 0
            for k, v in fields.items():
                if k.endswith(".change") and isinstance(v, int) and v > 0:
                    raw[k] = f"+{v}"
            shown = ", ".join(
                f"{k.split('.')[1]} {raw.get(k, fmt_number(fields[k]))!r}" for k in fields if k.endswith(".change")
            )
            notes.append(f"本年增/减 printed with explicit signs ({shown}); values are signed ints")
        elif p == "procurement_yuan":
            yuan = Decimal(rng.randint(10_000_000, 9_999_999_999)) / 100
            if uid == "u01":
                yuan = Decimal("13575394432.52")
            fields["active.procurement.amount_wan"] = float(yuan / 10000)
            raw["active.procurement.amount_wan"] = f"{yuan}元"
            notes.append(f"采购总金额 written in 元: '{yuan}元' = {yuan / 10000} 万元 (value in 万元)")
        elif p == "procurement_wan_unit":
            amt = Decimal(rng.randint(100, 99999)) / 100
            fields["active.procurement.amount_wan"] = float(amt)
            raw["active.procurement.amount_wan"] = f"{amt}万元"
            notes.append(f"采购总金额 printed with unit: '{amt}万元'")
        elif p == "fee_wan_unit":
            amt = Decimal(rng.choice([125, 36, 4, 2875, 61]) if uid != "u02" else 125) / 10
            fields["active.fees.amount_wan"] = float(amt)
            raw["active.fees.amount_wan"] = f"{amt}万元"
            notes.append(f"本年收费金额 printed with unit: '{amt}万元'")
        elif p == "blank_zero_org_cols":
            cols = ["research", "public_interest", "other_org"]
            n = 0
            for k in list(fields):
                if k.startswith("requests.") and k.rsplit(".", 1)[1] in cols and fields[k] == 0:
                    fields[k] = None
                    n += 1
            notes.append(f"zero cells of columns 科研机构 / 社会公益组织 / 其他 left blank ({n} cells, expected null)")
        elif p == "blank":
            picks = sorted(rng.sample(zero_cells(), 4))
            for k in picks:
                fields[k] = None
            notes.append("blank cells (expected null): " + ", ".join(picks))
        elif p == "dash":
            row = rng.choice(["denied.state_secret", "denied.security_stability", "not_processed.publication"])
            keys = [f"requests.{row}.{c}" for c in COL_IDS if fields.get(f"requests.{row}.{c}") == 0]
            if template == "gov-2021" and fields.get("active.rules.issued") == 0:
                keys += ["active.rules.issued", "active.rules.repealed", "active.rules.in_force"]
            for k in keys:
                fields[k] = None
                raw[k] = "—"
            notes.append("cells printed as '—' (expected null): " + ", ".join(keys))
        elif p == "fullwidth":
            pool = nonzero_cells() if len(nonzero_cells()) >= 3 else nonzero_cells(minv=1)
            picks = sorted(rng.sample(pool, 3))
            for k in picks:
                raw[k] = fmt_number(fields[k]).translate(FULLWIDTH)
            notes.append("full-width digits: " + ", ".join(f"{k} {raw[k]!r}" for k in picks))
        elif p == "thousands":
            n = 0
            for k, v in fields.items():
                if isinstance(v, int) and v >= 1000 and not k.endswith(".change"):
                    raw[k] = f"{v:,}"
                    n += 1
            notes.append(f"thousands separators in {n} cells ≥ 1000 (e.g. '1,234')")
        elif p == "spaced_labels":
            lay.label_text["requests.col.natural_person"] = "自 然 人"
            lay.label_text["requests.col.total"] = "总 计"
            lay.label_text["requests.row.granted"] = "（一）予 以 公 开"
            lay.label_text["appeals.col.total"] = "总 计"
            notes.append("spaces inside label words: '自 然 人', '总 计', '（一）予 以 公 开'")
        elif p == "split_label_cells":
            lay.split_labels = ["new", "partial", "carried_forward"]
            lay.corner_split = True
            notes.append(
                "labels cut across two cells: 一、本年新收… / 四、结转下年度… (first part spans two label columns, "
                "rest in the third), （二）部分公开 | （区分处理的…）, and the 勾稽关系 corner note split in two cells"
            )
        elif p == "merge_parent_leaf":
            lay.merge_parent_leaf = True
            notes.append("parent and leaf label in one cell, no rowspanning parent: '（三）不予公开 1.属于国家秘密', "
                         "'（四）无法提供 1.本机关不掌握相关政府信息', …; later leaves alone in a two-column cell")
        elif p == "missing_labels":
            cands = [
                "partial",
                "denied.prohibited",
                "denied.process_info",
                "unavailable.unclear",
                "not_processed.duplicate",
            ]
            lay.missing_labels = sorted(rng.sample(cands, 3), key=lambda r: [x[0] for x in REQ_ROWS].index(r))
            notes.append("row label cells empty, values present (map by position): " + ", ".join(lay.missing_labels))
        elif p == "misprint":
            lay.label_text["requests.row.denied.prohibited"] = "2.其他法律行政止公开"
            notes.append("known misprint in label: '2.其他法律行政止公开' (for 2.其他法律行政法规禁止公开)")
        elif p == "keep_other_services":
            if template == "gov-2021":
                notes.append(
                    "2021-format report keeps the 2019 row 其他对外管理服务事项 (active.other_services.decisions)"
                )
        elif p == "other_single_row":
            if template == "gov-2021":
                notes.append("（六）其他处理 printed as one row (requests.other.*) in a 2021-format report")
        elif p == "appeals_header_split_cells":
            lay.appeals_header = "split_cells"
            notes.append("表四 header of the two 行政诉讼 groups broken across stacked cells: '结果' above '维持', "
                         "'尚未' above '审结' (4 header rows)")
        elif p == "appeals_header_wrapped":
            lay.appeals_header = "wrapped"
            notes.append("表四 leaf headers written with a line break inside the cell: '结果\\n维持'")
        elif p == "html_nbsp":
            lay.html_blank = "&nbsp;"
            notes.append("HTML blank cells hold &nbsp;")
        elif p == "html_p":
            lay.html_p = True
            notes.append("HTML cell text wrapped in <p>")
        elif p == "html_th":
            lay.html_th = True
            notes.append("HTML header cells are <th>")
        elif p in ("page_break", "page_break_split_text"):
            lay.page_break_before = rng.choice(
                ["denied.internal_affairs", "unavailable.needs_creation", "not_processed.duplicate"]
            )
            if p == "page_break_split_text":
                lay.page_break_before = "unavailable.needs_creation"
                lay.split_text_across_pages = True
                notes.append(
                    "PDF: 表三 breaks across two pages before row {BREAK} (no repeated header), and the text of the "
                    "group label cell spanning the cut is cut too (first half on one page, rest on the next)"
                )
            else:
                notes.append(
                    "PDF: 表三 breaks across two pages before row {BREAK} (no repeated header; the rowspanning "
                    "labels continue as empty cells)"
                )
        elif p.startswith("broken_"):
            pass
        else:
            raise ValueError(p)

    # the agency's slip: one printed total is wrong (applied last, to the printed value itself)
    broken = [p for p in perts if p.startswith("broken_")]
    for p in broken:
        if p == "broken_cf_total":
            k = "requests.carried_forward.total"
        elif p == "broken_appeals_total":
            k = "appeals.review.total"
        elif p == "broken_grand_total":
            k = "requests.total.total"
        elif p == "broken_total_natural":
            k = "requests.total.natural_person"
        else:
            raise ValueError(p)
        true = fields[k]
        fields[k] = true + rng.choice([1, 2, -1]) if true > 1 else true + 1
        notes.append(
            f"agency's slip: {k} printed {fields[k]} (consistent value would be {true}); "
            "the expected value is the printed one"
        )

    printed = {}
    for k, v in fields.items():
        printed[k] = raw.get(k, fmt_number(v))
    rep = Report(name=name, agency=agency, year=year, template=template, fields=fields, printed=printed,
                 layout=lay, blocks=[], perturbations=notes)
    rep.extra = {"format": fmt, "province": province, "profile": profile}
    fmtd = dict(year=year, agency=agency, short=short, city=city)
    new_t = sum((fields.get(f"requests.new.{c}") or 0) for c in COL_IDS[:6])
    co_t = sum((fields.get(f"requests.carried_over.{c}") or 0) for c in COL_IDS[:6])
    cf_t = sum((fields.get(f"requests.carried_forward.{c}") or 0) for c in COL_IDS[:6])
    req_sent = (
        f"（二）依申请公开。全年共收到政府信息公开申请{new_t}件，上年结转{co_t}件，结转下年度继续办理{cf_t}件，均在法定期限内答复。"
        if new_t + co_t
        else "（二）依申请公开。全年未收到政府信息公开申请。"
    )
    rev = fields.get("appeals.review.total") or 0
    suit = (fields.get("appeals.suit_direct.total") or 0) + (fields.get("appeals.suit_after_review.total") or 0)
    intro = [
        INTRO_POOL[rng.randrange(2)].format(**fmtd),
        OVERVIEW_POOL[rng.randrange(3)].format(**fmtd),
        f"（一）主动公开。全年通过{city}人民政府门户网站、政务新媒体等渠道主动公开政府信息{rng.randint(60, 1500)}条。",
        req_sent,
        MGMT_POOL[rng.randrange(2)],
    ]
    other = "本年度未收取信息处理费。" + (
        f"全年发生政府信息公开行政复议{rev}件、行政诉讼{suit}件。" if rev + suit else ""
    )
    rep.blocks = gov_blocks(rep, intro, [PROBLEM_POOL[rng.randrange(2)]], other,
                            f"{year + 1}年1月{rng.randint(10, 28)}日")
    fails = [r for r, ok, _ in check_rules(template, fields) if not ok]
    rep.broken_rules = fails
    if broken and not fails:
        raise AssertionError(f"{name}: deliberate slip broke no rule")
    if not broken and fails:
        raise AssertionError(f"{name}: rules fail without a deliberate slip: {fails}")
    return rep


# --------------------------------------------------------------------------------------------
# Truth files
# --------------------------------------------------------------------------------------------

def expected_json(rep: Report) -> dict:
    order = canonical_field_order(rep.template)
    keys = [k for k in order if k in rep.fields] + [k for k in rep.fields if k not in order]
    raw = {}
    for k in keys:
        plain = fmt_number(rep.fields[k])
        if rep.printed.get(k, plain) != plain:
            raw[k] = rep.printed[k]
    d = {"agency": rep.agency, "year": rep.year, "template": rep.template,
         "fields": {k: rep.fields[k] for k in keys}, "raw": raw,
         "perturbations": [x.replace("{BREAK}", str(rep.extra.get("pdf_break_row"))) for x in rep.perturbations],
         "broken_rules": rep.broken_rules}
    for k in ("format", "province", "seed", "notes", "pdf_break_row"):
        if rep.extra.get(k):
            d[k] = rep.extra[k]
    return d


def write_report(rep: Report, outdir: Path, formats=("html", "docx", "pdf")):
    outdir.mkdir(parents=True, exist_ok=True)
    for f in formats:
        {"html": render_html, "docx": render_docx, "pdf": render_pdf}[f](rep, outdir / f"{rep.name}.{f}")
    (outdir / f"{rep.name}.expected.json").write_text(
        json.dumps(expected_json(rep), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def selfcheck(reports: list[Report], strict: bool) -> int:
    bad = 0
    for rep in reports:
        res = check_rules(rep.template, rep.fields)
        fails = [r for r, ok, _ in res if not ok]
        if strict and sorted(fails) != sorted(rep.broken_rules):
            print(f"SELF-CHECK FAIL {rep.name}: failing {fails}, declared broken {rep.broken_rules}")
            bad += 1
        elif fails and not strict:
            print(f"note: {rep.name}: rules the printed values break: {fails}")
        # every printed field has a value or an explicit null and a template-known id
        known = set(canonical_field_order(rep.template))
        unknown = [k for k in rep.fields if rep.template != "legacy-stat" and k not in known]
        if unknown:
            print(f"SELF-CHECK FAIL {rep.name}: unknown ids {unknown}")
            bad += 1
    evaluations = sum(len(check_rules(r.template, r.fields)) for r in reports)
    print(f"self-check: {len(reports)} reports, {evaluations} rule evaluations, {bad} problems")
    return bad


def seed_reports() -> list[Report]:
    """Specs transcribed from samples/seeds/ (they carry `seed:`).  Specs of the real files
    (`file:`, e.g. samples/real/*.pdf) describe documents that exist already: not rendered."""
    out = []
    for p in sorted(SPECS.glob("*.yaml")):
        spec = yaml.safe_load(p.read_text(encoding="utf-8"))
        if spec.get("seed") and p.stem[:3] in SEED_TEXT:
            out.append(report_from_spec(p))
    return out


def unseen_reports() -> list[Report]:
    out = []
    for d in UNSEEN_DEFS:
        rng = random.Random(f"{UNSEEN_SEED}-{d[0]}")
        out.append(apply_unseen(d, rng))
    return out


def write_unseen_manifest(reports: list[Report]):
    lines = ["# Unseen test reports", "",
             "Synthetic reports made by `python scripts/render_samples.py --unseen` (fixed seed "
             f"{UNSEEN_SEED}). Agencies are fictional. Each `<name>.<fmt>` has its truth in "
             "`<name>.expected.json` (`fields`: every printed field, null for a blank or dash cell; "
             "`raw`: printed text where it differs from the plain number; `broken_rules`: the rules the "
             "printed values break on purpose).", "",
             "| name | format | template | agency | perturbations |", "|---|---|---|---|---|"]
    for r in reports:
        lines.append(f"| {r.name} | {r.extra['format']} | {r.template} | {r.agency} | " +
                     "; ".join(x.replace("|", "/") for x in expected_json(r)["perturbations"]) + " |")
    (UNSEEN / "MANIFEST.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Verification of the written files
# --------------------------------------------------------------------------------------------

def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s or "")


def verify_outputs(reports: list[Report], outdir: Path) -> int:
    import pypdfium2 as pdfium
    problems = 0
    for rep in reports:
        fmts = [rep.extra["format"]] if rep.extra.get("format") else ["html", "docx", "pdf"]
        grids = [p for k, p in rep.blocks if k == "table"]
        cells = [c for g in grids for c in g.cells]
        if "pdf" in fmts:
            pdf = pdfium.PdfDocument(str(outdir / f"{rep.name}.pdf"))
            pages = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
            alltext = _squash("".join(pages))
            narrative = [t for k, t in rep.blocks if k in ("title", "h", "p", "right", "center")]
            missing = [t for t in narrative if _squash(t) not in alltext]
            if missing:
                print(f"PDF TEXT {rep.name}: {len(missing)} paragraphs not extracted, e.g. {missing[:2]}")
                problems += 1
            import camelot
            tables = camelot.read_pdf(str(outdir / f"{rep.name}.pdf"), flavor="lattice", pages="all")
            rows_seen: dict = {}
            cam_cells = {_squash(x) for t in tables for x in t.df.values.ravel().tolist()}
            # every drawn cell comes back as one camelot cell (a cell cut by the page break: its first part)
            # values must come back as cells of their own; a label may come back joined with a
            # neighbour (camelot misses a ruling line shorter than its line_scale, e.g. the one-row
            # stub of 三、本年度办理结果 left above a page break); label cells cut in two on purpose
            # share a text line and are not checked here; a group label cut by the page break
            # comes back as its first part
            cam_text = "\n".join(cam_cells)

            def found(c, cam_cells=cam_cells, cam_text=cam_text):
                t = _squash(c.text)
                if t in cam_cells:
                    return True
                if c.kind == "value":
                    return False
                if t in cam_text:
                    return True
                return c.kind == "group" and any(x and (t.startswith(x) or x.startswith(t[0])) for x in cam_cells)

            missing = [c.text for c in cells if c.text and not c.kind.endswith("-split") and not found(c)]
            if missing:
                print(f"CAMELOT {rep.name}: {len(missing)} drawn cell texts not found in any cell, e.g. {missing[:3]}")
                problems += 1
            for t in tables:
                for _, row in t.df.iterrows():
                    vals = tuple(_squash(x) for x in row.tolist())
                    for key in (vals[-7:], vals[-15:]):
                        rows_seen.setdefault(key, set()).add(t.page)
            rq = next((g for g in grids if g.name == "requests"), None)
            if rq:
                want = {}
                for c in rq.cells:
                    if c.kind == "value":
                        want.setdefault(c.r, []).append((c.c, _squash(c.text)))
                miss = [r for r, v in want.items() if tuple(x for _, x in sorted(v)) not in rows_seen]
                if miss:
                    print(f"CAMELOT {rep.name}: {len(miss)} of {len(want)} table-3 rows not recovered")
                    problems += 1
                pages_used = set()
                for v in want.values():
                    pages_used |= rows_seen.get(tuple(x for _, x in sorted(v)), set())
                if rep.layout.page_break_before and len(pages_used) < 2:
                    print(f"PDF BREAK {rep.name}: table 3 found on pages {sorted(pages_used)} only")
                    problems += 1
            ap = next((g for g in grids if g.name == "appeals"), None)
            if ap:
                vals = tuple(
                    _squash(c.text) for c in sorted((c for c in ap.cells if c.kind == "value"), key=lambda c: c.c)
                )
                if vals not in rows_seen:
                    print(f"CAMELOT {rep.name}: table-4 value row not recovered")
                    problems += 1
            sz = (outdir / f"{rep.name}.pdf").stat().st_size
            if sz > 200_000:
                print(f"SIZE {rep.name}.pdf {sz} bytes")
                problems += 1
        if "docx" in fmts:
            import docx
            d = docx.Document(str(outdir / f"{rep.name}.docx"))
            if len(d.tables) != len(grids):
                print(f"DOCX {rep.name}: {len(d.tables)} tables, expected {len(grids)}")
                problems += 1
            for t, g in zip(d.tables, grids):
                for c in g.cells:
                    a = t.cell(c.r, c.c)
                    b = t.cell(c.r + c.rs - 1, c.c + c.cs - 1)
                    if (c.rs > 1 or c.cs > 1) and a._tc is not b._tc:
                        print(f"DOCX {rep.name}: cell {c.r},{c.c} is not a real merge")
                        problems += 1
                    if a.text != c.text:
                        print(f"DOCX {rep.name}: cell {c.r},{c.c} text {a.text!r} != {c.text!r}")
                        problems += 1
        if "html" in fmts:
            from lxml import html as lh
            doc = lh.fromstring((outdir / f"{rep.name}.html").read_bytes())
            tabs = doc.xpath("//table")
            for t, g in zip(tabs, grids):
                occ, got = {}, {}
                for r, tr in enumerate(t.xpath(".//tr")):
                    c = 0
                    for td in tr.xpath("./td|./th"):
                        while (r, c) in occ:
                            c += 1
                        rs, cs = int(td.get("rowspan", 1)), int(td.get("colspan", 1))
                        got[(r, c)] = td.text_content().replace("\xa0", "")
                        for i in range(rs):
                            for j in range(cs):
                                occ[(r + i, c + j)] = True
                        c += cs
                for c in g.cells:
                    if _squash(got.get((c.r, c.c), "")) != _squash(c.text):
                        print(f"HTML {rep.name}: cell {c.r},{c.c} {got.get((c.r, c.c))!r} != {c.text!r}")
                        problems += 1
                        break
    print(f"verify {outdir.relative_to(ROOT)}: {len(reports)} reports, {problems} problems")
    return problems


def write_font_fixtures() -> None:
    """One report drawn in every font: the same tables must come out of each rendering."""
    FONT_FIXTURES.mkdir(parents=True, exist_ok=True)
    rep = next(r for r in seed_reports() if r.name == FONT_FIXTURE_REPORT)
    for kind in PDF_FONTS:
        drawn = copy.deepcopy(rep)
        drawn.layout.font = kind
        render_pdf(drawn, FONT_FIXTURES / f"{rep.name}.{kind}.pdf")
        print("wrote", f"{rep.name}.{kind}.pdf")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--unseen", action="store_true", help="write tests/fixtures/unseen/ instead of samples/rendered/")
    ap.add_argument("--verify", action="store_true", help="re-read the written files and check them")
    ap.add_argument("--check", action="store_true", help="only run the consistency self-check")
    ap.add_argument("--only", help="only reports whose name starts with this")
    ap.add_argument("--fonts", action="store_true",
                    help=f"write {FONT_FIXTURE_REPORT} once in each font of PDF_FONTS to tests/fixtures/fonts/")
    a = ap.parse_args(argv)
    if a.fonts:
        write_font_fixtures()
        return 0
    reps = unseen_reports() if a.unseen else seed_reports()
    if a.only:
        reps = [r for r in reps if r.name.startswith(a.only)]
    outdir = UNSEEN if a.unseen else RENDERED
    bad = selfcheck(reps, strict=a.unseen)
    if a.check:
        return 1 if bad else 0
    if a.verify:
        return 1 if (bad or verify_outputs(reps, outdir)) else 0
    if bad:
        return 1
    for rep in reps:
        write_report(rep, outdir, [rep.extra["format"]] if a.unseen else ("html", "docx", "pdf"))
        print("wrote", rep.name)
    if a.unseen and not a.only:
        write_unseen_manifest(reps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
