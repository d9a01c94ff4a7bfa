"""Page layout regions (extractors/scan/layout.py): the CDLA model on pages rasterised from a
born-digital sample, checked against `find_grids`' ruled tables; and the merging of the two
on hand-made layouts, which needs no model."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import layoutparser as lp
import numpy as np
import pytest

from gongkai.extractors.scan.grid import find_grids
from gongkai.extractors.scan.layout import _model, detect_layout, regions, unruled_tables
from gongkai.models import BBox, GridTable, PageRegion

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "rendered" / "001_lushan_wjw_2023.pdf"
DPI = 150
TABLE_PAGES = (0, 1)  # both hold two ruled tables; the third page holds none
RULE_RUN = 40  # px at 150 dpi: ink runs this long are rules (the longest CJK stroke is ~20 px)


@cache
def page_image(index: int) -> np.ndarray:
    import pypdfium2 as pdfium

    return pdfium.PdfDocument(SAMPLE)[index].render(scale=DPI / 72).to_numpy()  # BGR


@cache
def layout_of(index: int) -> lp.Layout:
    return detect_layout(page_image(index))


def erase_rules(image: np.ndarray) -> np.ndarray:
    """The page with its ruling lines painted white: the same tables, now drawn without lines."""
    ink = (cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) < 200).astype(np.uint8) * 255
    rules = [cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, k))
             for k in ((RULE_RUN, 1), (1, RULE_RUN))]
    out = image.copy()
    out[cv2.dilate(rules[0] | rules[1], np.ones((3, 3), np.uint8)) > 0] = 255
    return out


def iou(a: BBox, b: BBox) -> float:
    w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0) * max(h, 0)
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def grid(bbox: BBox) -> GridTable:
    return GridTable(bbox=bbox, row_lines=[bbox[1], bbox[3]], col_lines=[bbox[0], bbox[2]], cells=[])


def block(box: BBox, kind: str, score: float = 0.9) -> lp.TextBlock:
    return lp.TextBlock(lp.Rectangle(*box), type=kind, score=score)


# ---------------------------------------------------------------- the model on the sample
@pytest.mark.slow
@pytest.mark.parametrize("index", TABLE_PAGES)
def test_table_regions_match_ruled_grids(index: int) -> None:
    grids = find_grids(page_image(index))
    tables = [b.coordinates for b in layout_of(index) if b.type == "table"]
    assert len(grids) == 2
    for g in grids:  # boxes in the input image's pixels, as the grid's are
        assert max(iou(g.bbox, t) for t in tables) >= 0.8


@pytest.mark.slow
def test_title_line_is_title_or_text() -> None:
    gray = cv2.cvtColor(page_image(0), cv2.COLOR_BGR2GRAY)
    rows = np.flatnonzero((gray < 128).any(axis=1))
    top = rows[0] + (rows[np.flatnonzero(np.diff(rows) > 5)[0]] - rows[0]) / 2  # middle of the first ink line
    hits = [b for b in layout_of(0) if b.coordinates[1] <= top <= b.coordinates[3]]
    assert hits and all(b.type in ("title", "text") for b in hits)
    assert max(hits, key=lambda b: b.score).type == "title"


@pytest.mark.slow
def test_grayscale_input_and_one_model() -> None:
    gray = cv2.cvtColor(page_image(1), cv2.COLOR_BGR2GRAY)
    tables = [b.coordinates for b in detect_layout(gray) if b.type == "table"]
    assert len(tables) == 2 and _model() is _model()


@pytest.mark.slow
@pytest.mark.parametrize("index", TABLE_PAGES)
def test_no_unruled_tables_on_ruled_pages(index: int) -> None:
    grids = find_grids(page_image(index))
    assert unruled_tables(layout_of(index), grids) == []
    merged = regions(layout_of(index), grids)
    assert [r.bbox for r in merged if r.type == "table"] == [g.bbox for g in grids]
    assert {r.source for r in merged if r.type == "table"} == {"rules"}


@pytest.mark.slow
def test_tables_without_rules_are_unruled() -> None:
    ruled = find_grids(page_image(1))
    image = erase_rules(page_image(1))
    assert find_grids(image) == []
    found = unruled_tables(detect_layout(image), [])
    assert found
    for g in ruled:  # the model may see the two tables as one region: each lies inside one found
        assert any(f[0] <= g.bbox[0] + 20 and f[2] >= g.bbox[2] - 20 and f[1] <= g.bbox[1] + 20
                   and f[3] >= g.bbox[3] - 20 for f in found)


# ---------------------------------------------------------------- merging, no model
def test_regions_prefer_rules_and_keep_the_rest() -> None:
    layout = lp.Layout([
        block((100, 600, 1100, 1080), "table"),  # pads a grid: the grid lies inside it
        block((100, 1150, 1000, 1350), "table"),  # IoU ~0.8 with the second grid
        block((100, 1400, 1100, 1600), "table"),  # no grid: an unruled table
        block((100, 50, 1100, 90), "title", 0.93),
        block((130, 200, 1100, 500), "text"),
        block((150, 1110, 500, 1140), "text"),  # a caption overlapping no grid much: kept whatever its type
    ])
    grids = [grid((130, 610, 1100, 1070)), grid((130, 1160, 1100, 1350))]
    merged = regions(layout, grids)
    assert [(r.type, r.source) for r in merged] == [
        ("title", "cdla"), ("text", "cdla"), ("table", "rules"), ("text", "cdla"), ("table", "rules"),
        ("table", "cdla")]
    assert all(r.score == 1.0 for r in merged if r.source == "rules")
    assert unruled_tables(layout, grids) == [(100.0, 1400.0, 1100.0, 1600.0)]
    assert unruled_tables(merged, grids) == [(100.0, 1400.0, 1100.0, 1600.0)]


def test_small_overlap_is_not_a_match() -> None:
    layout = lp.Layout([block((0, 0, 1000, 1000), "table")])
    grids = [grid((0, 900, 1000, 1200))]  # shares a strip: IoU 0.08, 1/3 of the grid inside
    assert [r.source for r in regions(layout, grids)] == ["cdla", "rules"]
    assert unruled_tables(layout, grids) == [(0.0, 0.0, 1000.0, 1000.0)]
    assert unruled_tables(lp.Layout([]), grids) == []
    assert isinstance(regions(layout, [])[0], PageRegion)
