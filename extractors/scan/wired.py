"""Ruled-table structure from the wired-table-rec v2 model, a second opinion beside the lattice (grid.py).

The model (cycle_center_net v2, shipped in the wheel) segments rules; the package then
cuts the rule mask into cell polygons and gives each its logical rows and columns.
Only those two stages run here: the package's own front class loads rapidocr and
re-reads empty cells, and our OCR reads the cells later anyway.

The model sees the region shrunk to 1024 px on its long side, so a tall region loses
its rows: a region taller than MAX_ASPECT times its width gets None (the lattice,
or a caller tiling at row rules, handles tall screenshots). The crop is also brought
to that size here, so the package's pixel thresholds mean the same at every dpi.
"""
from __future__ import annotations

import threading

import cv2
import numpy as np

from gongkai.models import BBox, GridCell, GridTable

MODEL_SIDE = 1024  # px: the model's input long side; crops are resized to it (thresholds below are at this size)
CROP_MARGIN = 0.02  # of the region's long side, added around it so the outer rules are inside the crop
MAX_ASPECT = 2.0  # height / width above which the 1024-px squeeze merges rows: no answer
BORDER_PX = 3  # a polygon this close to the crop's edge is margin outside the outer rules, not a cell
ROW_GAP_PX = 10  # the package's default: tops of cells further apart than this start a new row
COL_GAP_PX = 15  # the package's default: column starts closer than this are one column
FRAME_RULE_SHARE = 0.5  # a rule mask row (column) this full is a long rule: the frame is drawn through the outermost
FRAME_PX = 2  # thickness of that frame: the package draws its rules 2 px wide
# extend_line would join rules that stop short, but also pushes column rules through full-width rows
LINE_OPTIONS = {"enhance_box_line": True, "rotated_fix": True}

_NAMES = {"lattice": "lattice", "wired-model": "the model"}  # how differences name each method
_lock = threading.Lock()
_model = None


def wired_grid(image: np.ndarray, region: BBox | None = None) -> GridTable | None:
    """The model's grid of the table in `region` (page pixels), or None: no 2x2 grid, or too tall to run."""
    crop, (ox, oy), scale = _crop(image, region)
    found = _model_cells(crop) if crop is not None else None
    if found is None:
        return None
    boxes, logic = found[0] / scale + [ox, oy, ox, oy], found[1]
    rows = _lines(boxes[:, 1], boxes[:, 3], logic[:, 0], logic[:, 1])
    cols = _lines(boxes[:, 0], boxes[:, 2], logic[:, 2], logic[:, 3])
    if len(rows) < 3 or len(cols) < 3:
        return None
    cells = [GridCell(row=r0, col=c0, row_span=r1 - r0 + 1, col_span=c1 - c0 + 1,
                      bbox=(cols[c0], rows[r0], cols[c1 + 1], rows[r1 + 1]))
             for r0, r1, c0, c1 in _with_holes(logic, len(rows) - 1, len(cols) - 1)]
    return GridTable(bbox=(cols[0], rows[0], cols[-1], rows[-1]), row_lines=rows, col_lines=cols,
                     cells=cells, method="wired-model")


def _crop(image: np.ndarray, region: BBox | None) -> tuple[np.ndarray | None, tuple[int, int], float]:
    """BGR crop of the region plus margin, resized to MODEL_SIDE; its page offset and the scale applied."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = region if region is not None else (0, 0, w, h)
    if y1 - y0 > MAX_ASPECT * (x1 - x0):
        return None, (0, 0), 1.0
    pad = CROP_MARGIN * max(x1 - x0, y1 - y0)
    x0, y0 = max(int(x0 - pad), 0), max(int(y0 - pad), 0)
    x1, y1 = min(int(np.ceil(x1 + pad)), w), min(int(np.ceil(y1 + pad)), h)
    crop = image[y0:y1, x0:x1]
    if crop.ndim == 2:
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
    elif crop.shape[2] == 4:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGRA2BGR)
    scale = MODEL_SIDE / max(crop.shape[:2])
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=interp), (x0, y0), scale


def _load():
    """The v2 line model, once per process; no OCR engine is built (the package's front class would)."""
    global _model
    with _lock:
        if _model is None:
            from wired_table_rec.main import default_model_path_v2
            from wired_table_rec.table_line_rec_plus import TableLineRecognitionPlus

            class Framed(TableLineRecognitionPlus):
                def cal_region_boxes(self, tmp: np.ndarray) -> np.ndarray:
                    return super().cal_region_boxes(_close_frame(tmp))

            _model = Framed(str(default_model_path_v2))
        return _model


def _close_frame(lines: np.ndarray) -> np.ndarray:
    """The rule mask with a rectangle drawn through its outermost long rules.

    The model often misses a stretch of an outer rule next to the crop's edge; the
    cell behind the gap then joins the margin and is lost (the 表三 label column).
    Drawn through rules that exist, the frame closes such gaps and adds nothing else.
    """
    on = lines == 255
    rows = np.flatnonzero(on.sum(1) >= FRAME_RULE_SHARE * lines.shape[1])
    cols = np.flatnonzero(on.sum(0) >= FRAME_RULE_SHARE * lines.shape[0])
    if len(rows) >= 2 and len(cols) >= 2:
        cv2.rectangle(lines, (int(cols[0]), int(rows[0])), (int(cols[-1]), int(rows[-1])), 255, FRAME_PX)
    return lines


def _model_cells(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Per cell: (x0, y0, x1, y1) in crop pixels and (row_start, row_end, col_start, col_end), ends inclusive.

    Polygons touching the crop's edge are the margin around the table, split off
    when an outer rule runs on to the edge; they are dropped before the logical
    grid is built, so they do not add a phantom row or column.
    """
    from wired_table_rec.table_recover import TableRecover
    polygons, rotated = _load()(crop, **LINE_OPTIONS)
    if polygons is None:
        return None
    h, w = crop.shape[:2]
    lo, hi = polygons.min(1), polygons.max(1)
    inside = (lo[:, 0] > BORDER_PX) & (lo[:, 1] > BORDER_PX) & (hi[:, 0] < w - BORDER_PX) & (hi[:, 1] < h - BORDER_PX)
    if inside.sum() < 4:
        return None
    _, logic = TableRecover()(rotated[inside], ROW_GAP_PX, COL_GAP_PX)
    logic[:, 1], logic[:, 3] = np.maximum(logic[:, 1], logic[:, 0]), np.maximum(logic[:, 3], logic[:, 2])  # ends it got wrong
    return np.c_[lo[inside], hi[inside]], logic.astype(int)


def _lines(lo: np.ndarray, hi: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[float]:
    """Rule positions: at each logical boundary, the median of the cell edges on it, moved onto the rule.

    A cell's edge lies inside the rule's ink, half a rule (the median gap between
    neighbouring cells) from its centre; outer rules have cells on one side only.
    A boundary no cell edge lies on (an inconsistent model grid) is interpolated.
    """
    n = int(end.max()) + 2
    after, before = [lo[start == k] for k in range(n)], [hi[end == k - 1] for k in range(n)]
    gaps = [np.median(a) - np.median(b) for a, b in zip(after, before) if len(a) and len(b)]
    half = max(float(np.median(gaps)), 0.0) / 2 if gaps else 0.0
    edges = [np.r_[a - half, b + half] for a, b in zip(after, before)]
    known = [k for k in range(n) if len(edges[k])]
    if len(known) < 2:
        return []
    return [float(p) for p in np.interp(range(n), known, [float(np.median(edges[k])) for k in known])]


def _with_holes(logic: np.ndarray, n_rows: int, n_cols: int) -> list[tuple[int, int, int, int]]:
    """The model's cells, plus a cell for each block of grid slots none covers, row-major.

    The package drops a cell whose area leaks past a gap in the outer rule into the
    margin (a tall label cell beside the frame); the slots it leaves bare are that cell.
    """
    cells = sorted({tuple(int(v) for v in g) for g in logic})
    bare = np.ones((n_rows, n_cols), bool)
    for r0, r1, c0, c1 in cells:
        bare[r0:r1 + 1, c0:c1 + 1] = False
    for r, c in zip(*np.nonzero(bare)):
        if bare[r, c]:
            c1 = c
            while c1 + 1 < n_cols and bare[r, c1 + 1]:
                c1 += 1
            r1 = r
            while r1 + 1 < n_rows and bare[r1 + 1, c:c1 + 1].all():
                r1 += 1
            bare[r:r1 + 1, c:c1 + 1] = False
            cells.append((int(r), int(r1), int(c), int(c1)))
    return sorted(cells, key=lambda g: (g[0], g[2]))


def same_structure(a: GridTable, b: GridTable, tol_fraction: float = 0.01) -> bool:
    """Whether two grids of one table agree: rows, columns, merged cells, and rules within tolerance."""
    return not structure_differences(a, b, tol_fraction)


def structure_differences(a: GridTable, b: GridTable, tol_fraction: float = 0.01) -> list[str]:
    """What differs between two grids of one table, in words ("lattice has 28 rows, the model 27").

    Rules are compared only where the counts agree, within tol_fraction of the
    table's height (rows) or width (columns); cells by their (row, col) and spans.
    """
    na, nb = (_NAMES.get(a.method, "first"), _NAMES.get(b.method, "second")) if a.method != b.method else ("first", "second")
    out = [f"{na} has {x} {what}, {nb} {y}" for what, x, y in
           (("rows", a.n_rows, b.n_rows), ("columns", a.n_cols, b.n_cols)) if x != y]
    for what, la, lb, size in (("row", a.row_lines, b.row_lines, a.bbox[3] - a.bbox[1]),
                               ("column", a.col_lines, b.col_lines, a.bbox[2] - a.bbox[0])):
        if len(la) == len(lb):
            out += [f"{what} rule {i} at {p:.0f} px in {na}, {q:.0f} in {nb}"
                    for i, (p, q) in enumerate(zip(la, lb)) if abs(p - q) > tol_fraction * size]
    ca, cb = ({(c.row, c.col): (c.row_span, c.col_span) for c in t.cells} for t in (a, b))
    for key in sorted(ca.keys() | cb.keys()):
        sa, sb = ca.get(key), cb.get(key)
        if sa is None or sb is None:
            out.append(f"cell {key[0], key[1]} only in {na if sb is None else nb}")
        elif sa != sb:
            out += [f"cell {key[0], key[1]} spans {x} {what} in {na}, {y} in {nb}"
                    for what, x, y in (("rows", sa[0], sb[0]), ("columns", sa[1], sb[1])) if x != y]
    return out
