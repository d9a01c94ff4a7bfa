"""Ruled-grid detection on page images (extractors/scan/grid.py), on synthetic pages drawn with cv2
and on the born-digital sample PDFs rasterised, checked against the PDF reader's own tables."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from gongkai.extractors.scan.grid import find_grids
from gongkai.models import GridTable

ROOT = Path(__file__).resolve().parents[1]
WHITE = 245
Span = tuple[int, int, int, int]  # row, col, row_span, col_span


# ---------------------------------------------------------------- drawing
def page(width: int = 827, height: int = 1169) -> np.ndarray:
    """A blank page: A4 at 100 dpi unless told otherwise."""
    return np.full((height, width), WHITE, np.uint8)


def region_of(merged: list[Span]) -> dict[tuple[int, int], tuple[int, int]]:
    return {(r + i, c + j): (r, c) for r, c, rs, cs in merged for i in range(rs) for j in range(cs)}


def dashed(img: np.ndarray, a: tuple[int, int], b: tuple[int, int], color: int, thick: int, gap: int,
           period: int = 45) -> None:
    """A straight rule from a to b; with `gap`, a hole of that many pixels every `period` (scan dropouts)."""
    if not gap:
        cv2.line(img, a, b, color, thick)
        return
    n = max(abs(b[0] - a[0]), abs(b[1] - a[1]))
    for s in range(0, n, period):
        e = min(s + period - gap, n)
        p = (a[0] + (b[0] - a[0]) * s // n, a[1] + (b[1] - a[1]) * s // n)
        q = (a[0] + (b[0] - a[0]) * e // n, a[1] + (b[1] - a[1]) * e // n)
        cv2.line(img, p, q, color, thick)


def draw_table(
    img: np.ndarray,
    ys: list[int],
    xs: list[int],
    merged: tuple[Span, ...] | list[Span] = (),
    color: int = 0,
    thick: int = 1,
    gap: int = 0,
    text: bool = True,
) -> list[Span]:
    """Rules of a grid, leaving undrawn the borders inside merged regions; digits in every cell.

    Returns the expected cells, row-major.
    """
    region = region_of(list(merged))
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    at = lambda r, c: region.get((r, c), (r, c))  # noqa: E731
    for i, y in enumerate(ys):
        for c in range(n_cols):
            if i in (0, n_rows) or at(i - 1, c) != at(i, c):
                dashed(img, (xs[c], y), (xs[c + 1], y), color, thick, gap)
    for j, x in enumerate(xs):
        for r in range(n_rows):
            if j in (0, n_cols) or at(r, j - 1) != at(r, j):
                dashed(img, (x, ys[r]), (x, ys[r + 1]), color, thick, gap)
    spans = {(r, c): (r, c, 1, 1) for r in range(n_rows) for c in range(n_cols) if (r, c) not in region}
    spans.update({(r, c): (r, c, rs, cs) for r, c, rs, cs in merged})
    if text:
        for r, c, rs, _cs in spans.values():
            h = ys[r + rs] - ys[r]
            scale = min(0.5, h / 60)
            cv2.putText(img, f"{(r * 7 + c) % 100}1", (xs[c] + 6, ys[r] + h // 2 + int(10 * scale)),
                        cv2.FONT_HERSHEY_SIMPLEX, scale, color, 1, cv2.LINE_AA)
    return [spans[k] for k in sorted(spans)]


def write_text(img: np.ndarray, top: int, lines: int, left: int = 60, step: int = 24, scale: float = 0.5) -> None:
    """A paragraph of text (digits, bars, dashes: the strokes most like rules)."""
    for i in range(lines):
        cv2.putText(img, f"Line {i}: 1,234 | 567 -- 89 = 11 [17] ___ lIl1", (left, top + i * step),
                    cv2.FONT_HERSHEY_SIMPLEX, scale, 40, 1, cv2.LINE_AA)


def spans(t: GridTable) -> list[Span]:
    return [(c.row, c.col, c.row_span, c.col_span) for c in t.cells]


def assert_tiles(t: GridTable) -> None:
    """Cells cover every grid cell exactly once, in row-major order, boxed by the table's rules."""
    covered = np.zeros((t.n_rows, t.n_cols), int)
    for c in t.cells:
        covered[c.row:c.row + c.row_span, c.col:c.col + c.col_span] += 1
        want = (
            t.col_lines[c.col],
            t.row_lines[c.row],
            t.col_lines[c.col + c.col_span],
            t.row_lines[c.row + c.row_span],
        )
        assert np.allclose(c.bbox, want, atol=3)
    assert (covered == 1).all()
    assert spans(t) == sorted(spans(t))
    assert t.method == "lattice"


def single(grids: list[GridTable]) -> GridTable:
    assert len(grids) == 1, [g.bbox for g in grids]
    assert_tiles(grids[0])
    return grids[0]


# ---------------------------------------------------------------- plain grids
def test_plain_grid_rows_columns_and_boxes():
    img = page()
    ys, xs = [120, 160, 200, 240, 280, 320], [80, 300, 440, 580, 740]
    draw_table(img, ys, xs)
    t = single(find_grids(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)))  # BGR input as well as grey
    assert (t.n_rows, t.n_cols) == (5, 4)
    assert np.allclose(t.row_lines, ys, atol=3) and np.allclose(t.col_lines, xs, atol=3)
    assert np.allclose(t.bbox, (80, 120, 740, 320), atol=3)
    for cell in t.cells:
        want = (xs[cell.col], ys[cell.row], xs[cell.col + 1], ys[cell.row + 1])
        assert cell.row_span == cell.col_span == 1 and np.allclose(cell.bbox, want, atol=3)


def test_merged_header_and_label_spanning_22_rows():
    """The 本年度办理结果 shape: a corner cell over 2 rows, headers over columns, a label over 22 rows."""
    img = page()
    ys = [60 + 40 * i for i in range(26)]  # 25 rows
    xs = [60, 120, 260, 380, 480, 580, 680, 770]
    merged = [(0, 0, 2, 3), (0, 3, 1, 3), (0, 6, 2, 1), (2, 0, 1, 3), (3, 0, 22, 1), (3, 1, 5, 1), (8, 1, 3, 2)]
    want = draw_table(img, ys, xs, merged)
    t = single(find_grids(img))
    assert (t.n_rows, t.n_cols) == (25, 7)
    assert spans(t) == want
    label = next(c for c in t.cells if (c.row, c.col) == (3, 0))
    assert label.row_span == 22 and np.allclose(label.bbox, (60, 180, 120, 1060), atol=3)


def test_span_follows_the_drawn_border_not_the_global_rule():
    """A border drawn along most of its length separates (small gaps tolerated); a rule drawn
    elsewhere on the same line does not separate cells whose own border is blank."""
    img = page()
    ys, xs = [100, 150, 200, 250], [100, 300, 500, 700]
    want = draw_table(img, ys, xs, [(1, 0, 2, 1)])
    cv2.line(img, (400, 150), (412, 150), WHITE, 3)  # a 12-px hole in the border under cell (0, 1)
    t = single(find_grids(img))
    assert spans(t) == want


def test_a_dash_of_text_on_a_merged_cells_hidden_border_does_not_split_it():
    """A dash (a '—' in the text) lying right on the line where a narrow merged cell has no
    border covers most of that border, but meets no rule: the cell stays merged."""
    img = page()
    ys, xs = [200, 240, 280, 320], [100, 160, 220, 400]
    want = draw_table(img, ys, xs, [(0, 1, 2, 1)], text=False)
    cv2.line(img, (178, 240), (202, 240), 0, 2)  # 24 px: longer than a stroke, shorter than a lone rule
    t = single(find_grids(img))
    assert spans(t) == want


# ---------------------------------------------------------------- degraded rules
@pytest.mark.parametrize("style", ["faint", "dropouts", "blurred_jpeg", "thick"])
def test_faint_broken_blurred_and_thick_rules(style: str):
    img = page(1654, 2339)  # A4 at 200 dpi, like a scan
    ys = [300 + 70 * i for i in range(9)]
    xs = [150, 600, 850, 1100, 1350, 1500]
    merged = [(0, 0, 2, 1), (0, 1, 1, 3), (2, 0, 6, 1)]
    color = {"faint": 185, "dropouts": 60, "blurred_jpeg": 150, "thick": 30}[style]
    want = draw_table(img, ys, xs, merged, color=color, thick=4 if style == "thick" else 2,
                      gap=4 if style in ("dropouts", "blurred_jpeg") else 0)
    if style == "faint":
        img[::2] = np.clip(img[::2].astype(int) + 8, 0, 255).astype(np.uint8)  # uneven scan background
    if style == "blurred_jpeg":
        img = cv2.GaussianBlur(img, (0, 0), 1.2)
        img = np.clip(img + np.random.default_rng(1).normal(0, 5, img.shape), 0, 255).astype(np.uint8)
        img = cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 40])[1], cv2.IMREAD_GRAYSCALE)
    t = single(find_grids(img))
    assert (t.n_rows, t.n_cols) == (8, 5) and spans(t) == want
    assert np.allclose(t.row_lines, ys, atol=3) and np.allclose(t.col_lines, xs, atol=3)


def test_thin_one_pixel_rules_on_a_tall_screenshot():
    """Screenshots: 1-px rules at screen resolution on a very tall image, table far down."""
    img = page(1000, 6000)
    ys = [3200 + 28 * i for i in range(16)]
    xs = [40, 330, 480, 630, 780, 960]
    want = draw_table(img, ys, xs, [(0, 0, 2, 1), (0, 1, 1, 4), (2, 0, 13, 1)], color=90, thick=1)
    write_text(img, 3000, 6, step=22, scale=0.45)
    t = single(find_grids(img))
    assert (t.n_rows, t.n_cols) == (15, 5) and spans(t) == want
    assert np.allclose(t.row_lines, ys, atol=2) and np.allclose(t.col_lines, xs, atol=2)


# ---------------------------------------------------------------- tables on a page
def test_two_tables_separated_by_a_paragraph_top_to_bottom():
    img = page()
    want_b = draw_table(img, [640, 680, 720, 760], [100, 400, 700], [(1, 0, 2, 1)])
    want_a = draw_table(img, [100, 140, 180, 220, 260], [100, 300, 500, 700])
    write_text(img, 320, 10)
    a, b = find_grids(img)
    assert spans(a) == want_a and spans(b) == want_b
    assert a.bbox[3] < 300 < 600 < b.bbox[1]


def test_open_sided_table_does_not_crash():
    """No outer frame left and right: the rows' run-on gives the missing outer columns."""
    img = page()
    ys, xs = [200, 240, 280, 320, 360], [260, 420, 580]
    for y in ys:
        cv2.line(img, (80, y), (740, y), 0, 1)
    for x in xs:
        cv2.line(img, (x, ys[0]), (x, ys[-1]), 0, 1)
    grids = find_grids(img)
    assert len(grids) <= 1
    if grids:
        assert_tiles(grids[0])
        assert grids[0].n_rows == 4 and np.allclose(grids[0].col_lines, [80, *xs, 740], atol=3)


@pytest.mark.parametrize("kind", ["blank", "text", "underlined_title", "page_frame", "single_box", "cross"])
def test_pages_without_a_table(kind: str):
    img = page()
    if kind != "blank":
        write_text(img, 200, 30)
    if kind == "underlined_title":
        cv2.putText(img, "ANNUAL REPORT 2023", (200, 120), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)
        cv2.line(img, (180, 140), (640, 140), 0, 2)
    if kind == "page_frame":
        cv2.rectangle(img, (40, 40), (787, 1129), 0, 2)
    if kind == "single_box":
        cv2.rectangle(img, (50, 180), (780, 420), 0, 1)
    if kind == "cross":  # two crossing rules are not a table either
        cv2.line(img, (100, 900), (700, 900), 0, 1)
        cv2.line(img, (400, 850), (400, 1000), 0, 1)
    assert find_grids(img) == []


def test_small_residual_skew():
    img = page(1240, 1754)  # A4 at 150 dpi
    ys = [400 + 50 * i for i in range(13)]
    xs = [120, 500, 700, 900, 1120]
    want = draw_table(img, ys, xs, [(0, 0, 2, 1), (0, 1, 1, 2), (2, 0, 10, 1)], thick=2)
    turn = cv2.getRotationMatrix2D((620, 877), 0.3, 1.0)
    img = cv2.warpAffine(img, turn, (1240, 1754), borderValue=WHITE)
    t = single(find_grids(img))
    assert (t.n_rows, t.n_cols) == (12, 4) and spans(t) == want


def test_double_row_rules_merge_into_one():
    img = page(1654, 2339)
    ys, xs = [300, 380, 460, 540, 620], [200, 700, 1100, 1450]
    want = draw_table(img, ys, xs, thick=2)
    for y in ys[1:3]:
        cv2.line(img, (xs[0], y + 4), (xs[-1], y + 4), 0, 2)  # a second rule 4 px below
    t = single(find_grids(img))
    assert (t.n_rows, t.n_cols) == (4, 3) and spans(t) == want


# ---------------------------------------------------------------- rasterised born-digital reports
def reader_parts(path: Path, page_no: int) -> list[tuple[int, int, list[Span]]]:
    """The PDF reader's tables on one page: (rows, cols, spans), rows renumbered from the part's first.

    The reader joins a table running on to the next page into one, regrids both parts on the
    union of their column rules, and folds a label cut by the page break back into one cell:
    each page's part is cut out again, keeping only the rules its own cells use.
    """
    from gongkai.extractors.readers import read_document

    out = []
    for table in read_document(path).tables():
        first = {}
        for c in table.cells:
            first[c.page] = min(first.get(c.page, c.row), c.row)
        cells = []
        for c in table.cells:
            cut = first.get(c.page + 1)
            if cut is not None and c.row < cut < c.row + c.row_span:  # a folded label: split it again
                cells += [
                    (c.page, c.row, c.col, cut - c.row, c.col_span),
                    (c.page + 1, cut, c.col, c.row + c.row_span - cut, c.col_span),
                ]
            else:
                cells.append((c.page, c.row, c.col, c.row_span, c.col_span))
        cells = [c[1:] for c in cells if c[0] == page_no]
        if not cells:
            continue
        rows = {b: i for i, b in enumerate(sorted({r for r, _, rs, _ in cells} | {r + rs for r, _, rs, _ in cells}))}
        cols = {b: i for i, b in enumerate(sorted({c for _, c, _, cs in cells} | {c + cs for _, c, _, cs in cells}))}
        part = sorted((rows[r], cols[c], rows[r + rs] - rows[r], cols[c + cs] - cols[c]) for r, c, rs, cs in cells)
        out.append((len(rows) - 1, len(cols) - 1, part))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "samples/rendered/000_liaocheng_wjw_2021.pdf",
        "samples/rendered/004_helan_wjj_2017.pdf",
        "tests/fixtures/unseen/u16_qianling_gaj_2023.pdf",
    ],
)
def test_rasterised_reports_match_the_pdf_reader(name: str):
    """At 150 dpi every page's grids equal the born-digital reader's tables: counts and every span."""
    import pypdfium2 as pdfium

    path = ROOT / name
    pdf = pdfium.PdfDocument(str(path))
    for i in range(len(pdf)):
        grids = find_grids(pdf[i].render(scale=150 / 72).to_numpy())
        for g in grids:
            assert_tiles(g)
        got = [(g.n_rows, g.n_cols, sorted(spans(g))) for g in grids]
        assert got == reader_parts(path, i + 1), f"page {i + 1}"


FONT_RENDERINGS = sorted((ROOT / "tests" / "fixtures" / "fonts").glob("*.pdf"))


@pytest.mark.parametrize("dpi", [96, 150, 200])
def test_one_structure_whatever_font_the_table_is_drawn_in(dpi: int):
    """The same report drawn in AR PL UMing, Noto Sans CJK and Noto Serif CJK (each embedded) gives
    the same grids as the PDF reader: a run of glyph strokes near a rule (Noto's 结果维/持 at
    150 dpi) is not a row, and three glyphs' aligned strokes are not a rule piece."""
    import pypdfium2 as pdfium

    assert len(FONT_RENDERINGS) == 3
    for path in FONT_RENDERINGS:
        pdf = pdfium.PdfDocument(str(path))
        for i in range(len(pdf)):
            grids = find_grids(pdf[i].render(scale=dpi / 72).to_numpy())
            got = [(g.n_rows, g.n_cols, sorted(spans(g))) for g in grids]
            assert got == reader_parts(path, i + 1), f"{path.name} page {i + 1}"
