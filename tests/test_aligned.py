"""Tables drawn without ruling lines (found by the layout model in tiles or from runs of text
set in cells, rebuilt from the alignment of the text: extractors/scan/aligned.py), and the
wired-table model as a check on the lattice where a rule cuts a number.

The fixture is a screenshot of a seed report with every table rule erased
(bench/make_scans.py --kinds lineless); the whole-report check is in test_scans.py.
"""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import pytest

from gongkai.extractors.ocr import default_backend
from gongkai.extractors.scan.grid import has_rules
from gongkai.extractors.scan.layout import detect_layout, join_regions
from gongkai.extractors.scan.page import ScannedPage, read_page
from gongkai.extractors.tablejoin import TablePart
from gongkai.extractors.text import label_key
from samples import ROOT

LINELESS = ROOT / "samples" / "scans" / "000_liaocheng_wjw_2022_lineless.png"


@lru_cache(maxsize=1)
def lineless_page() -> ScannedPage:
    return read_page(1, cv2.imread(str(LINELESS)), default_backend())


def rows_of(part: TablePart) -> dict[int, list[str]]:
    rows: dict[int, list[str]] = {}
    for cell in sorted(part.cells, key=lambda c: (c.row, c.col)):
        rows.setdefault(cell.row, []).append(cell.text)
    return rows


@pytest.mark.slow
def test_lineless_tables_are_rebuilt_from_alignment() -> None:
    page = lineless_page()
    assert any("alignment of its text" in note for note in page.notes), page.notes
    parts = [it for it in page.items if isinstance(it, TablePart)]
    # 主动公开 in four sub-tables (each 第二十条 heading starts one), 收到和处理申请, 复议诉讼
    assert len(parts) >= 6
    requests = next(p for p in parts if any("本年新收" in label_key(c.text) for c in p.cells))
    rows = list(rows_of(requests).values())
    new = next(r for r in rows if any("本年新收" in label_key(t) for t in r))
    carried = next(r for r in rows if any("上年结转" in label_key(t) for t in r))
    # a label, then the seven applicant columns: 自然人, five kinds of 法人, 总计
    assert len(new) == 8 and len(carried) == 8
    assert all(t.replace(",", "").isdigit() for t in new[1:] + carried[1:])


@pytest.mark.slow
def test_every_body_row_of_a_lineless_table_keeps_its_blank_places() -> None:
    parts = [it for it in lineless_page().items if isinstance(it, TablePart)]
    requests = next(p for p in parts if any("本年新收" in label_key(c.text) for c in p.cells))
    value_cols = {c.col for c in requests.cells if c.text.strip().isdigit()}
    assert len(value_cols) == 7
    body = [r for r in rows_of(requests) if any(c.row == r and c.text.strip().isdigit() for c in requests.cells)]
    for r in body:
        assert {c.col for c in requests.cells if c.row == r} >= value_cols


@pytest.mark.slow
def test_tall_screenshot_layout_is_seen_in_page_shaped_tiles() -> None:
    image = cv2.imread(str(LINELESS))
    assert image.shape[0] > 2 * image.shape[1]  # squeezed whole into 608x800, its tables read as figures
    tables = [b for b in detect_layout(image) if b.type == "table"]
    assert tables
    assert max(b.coordinates[3] - b.coordinates[1] for b in tables) > image.shape[1] / 2


def grid_image(level: int, dashed: bool = False) -> np.ndarray:
    image = np.full((500, 800), 255, np.uint8)
    for y in range(50, 451, 50):
        for x in range(50, 751, 34 if dashed else 700):
            cv2.line(image, (x, y), (min(x + (30 if dashed else 700), 750), y), level, 1)
    for x in range(50, 751, 100):
        for y in range(50, 451, 34 if dashed else 400):
            cv2.line(image, (x, y), (x, min(y + (30 if dashed else 400), 450)), level, 1)
    return image


def text_only_image() -> np.ndarray:
    image = np.full((500, 800), 255, np.uint8)
    for y in range(80, 460, 40):
        cv2.putText(image, "12 0 7 345 0 --", (60, y), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 20, 2)
        cv2.putText(image, "label text", (480, y), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 20, 2)
    return image


@pytest.mark.parametrize(("image", "expected"), [
    (grid_image(0), True),  # solid rules
    (grid_image(150, dashed=True), True),  # faint rules with dropouts: the wired model's case
    (text_only_image(), False),  # a table set without rules: strokes of text are not rules
    (np.full((500, 800), 255, np.uint8), False),
], ids=["solid", "faint-dashed", "text-only", "blank"])
def test_has_rules_tells_a_table_drawn_without_rules(image: np.ndarray, expected: bool) -> None:
    assert has_rules(image, (0, 0, image.shape[1], image.shape[0])) is expected


def test_join_regions_joins_overlaps_and_keeps_the_surest_type() -> None:
    found = [
        ("figure", (0.0, 100.0, 500.0, 400.0)),
        ("table", (0.0, 350.0, 500.0, 900.0)),  # the same table seen by the next tile
        ("text", (0.0, 880.0, 520.0, 1000.0)),  # rows under it, found from the text
        ("text", (0.0, 1200.0, 500.0, 1300.0)),  # a table of its own
    ]
    assert join_regions(found) == [("table", (0.0, 100.0, 520.0, 1000.0)), ("text", (0.0, 1200.0, 500.0, 1300.0))]


# --- the wired-table model as a check on the lattice ----------------------------------


def ruled_table_with_number() -> np.ndarray:
    image = np.full((420, 900, 3), 255, np.uint8)
    for y in (60, 160, 260, 360):
        cv2.line(image, (60, y), (840, y), (0, 0, 0), 2)
    for x in (60, 450, 840):
        cv2.line(image, (x, 60), (x, 360), (0, 0, 0), 2)
    for row, (label, number) in enumerate((("alpha", "12"), ("beta", "123456"), ("gamma", "7"))):
        y = 125 + 100 * row
        cv2.putText(image, label, (90, y), cv2.FONT_HERSHEY_SIMPLEX, 1.3, (0, 0, 0), 3)
        cv2.putText(image, number, (520, y), cv2.FONT_HERSHEY_SIMPLEX, 1.3, (0, 0, 0), 3)
    return image


@pytest.mark.slow
def test_a_number_cut_by_a_rule_the_model_does_not_draw_is_flagged() -> None:
    from gongkai.extractors.ocr.base import BoxReader
    from gongkai.extractors.scan.cells import assign_lines, read_cells
    from gongkai.extractors.scan.grid import find_grids
    from gongkai.extractors.scan.page import check_cut_numbers, detect_lines
    from gongkai.models import GridCell, GridTable

    image = ruled_table_with_number()
    backend = default_backend()
    boxes = detect_lines(backend, image, (0, 0, image.shape[1], image.shape[0]))
    (lattice,) = find_grids(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    # The same grid with a rule the page does not have, through the middle row's number
    # (what a stain or a stroke taken for a rule would give).
    phantom = 600.0
    cells = [c for c in lattice.cells if not (c.row == 1 and c.col == 1)]
    x0, y0, x1, y1 = next(c.bbox for c in lattice.cells if c.row == 1 and c.col == 1)
    cells += [GridCell(row=1, col=1, bbox=(x0, y0, phantom, y1)), GridCell(row=1, col=2, bbox=(phantom, y0, x1, y1))]
    cells = [c.model_copy(update={"col_span": 2}) if c.col == 1 and c.row != 1 else c for c in cells]
    wrong = GridTable(bbox=lattice.bbox, row_lines=lattice.row_lines, col_lines=sorted([*lattice.col_lines, phantom]),
                      cells=cells, method="lattice")
    for grid, expect_flags in ((lattice, False), (wrong, True)):
        tables, _ = assign_lines([grid], boxes)
        read_cells(tables, BoxReader(backend, image))
        notes: list[str] = []
        check_cut_numbers([grid], tables, image, notes)
        flagged = [c for c in tables[0] if c.flags]
        assert bool(flagged) is expect_flags, [(c.text, c.flags) for c in tables[0]]
        if expect_flags:
            assert all(c.grid.row == 1 for c in flagged) and "does not draw" in flagged[0].flags[0]
            assert notes and "flagged" in notes[0]
