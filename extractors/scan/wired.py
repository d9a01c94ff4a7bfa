"""Ruled-table structure from the wired-table-rec v2 model, a second opinion beside the lattice (grid.py).

The model (cycle_center_net v2, in the wheel) segments rules; the package cuts the rule
mask into cell polygons (its defaults: rules extended to meet, tilt undone) and gives
each its logical rows and columns. Only those stages run: the package's front class
loads rapidocr and re-reads empty cells, and our own OCR reads the cells later.
The model sees the region at 1024 px on its long side, so a tall region loses its rows:
one taller than MAX_ASPECT times its width gets None (the lattice handles tall screenshots).
Crops are brought to that size here, so the package's pixel thresholds hold at every dpi.
"""
from __future__ import annotations

import threading
import warnings

import cv2
import numpy as np

from gongkai.models import BBox, GridCell, GridTable

MODEL_SIDE = 1024  # px: the model's input long side; crops are resized to it (pixel sizes below are at it)
STRIDE = 32  # crops padded (white) to a multiple of this: on other sizes the rule mask drifts up to 3 px off the ink
CROP_MARGIN = 0.02  # of the region's long side, added around it so the outer rules are inside the crop
MAX_ASPECT = 2.0  # height / width above which the 1024-px squeeze merges rows: no answer
BORDER_PX = 3  # a polygon this close to the crop's edge is margin outside the outer rules, not a cell
FRAME_RULE_SHARE = 0.5  # a rule mask row (column) this full is a long rule: the frame is drawn through the outermost
FRAME_PX = 2  # thickness of that frame: the package draws its rules 2 px wide

_NAMES = {
    "lattice": "lattice",
    "wired-model": "the model",
    "aligned": "text alignment",
}  # how differences name each method
_lock = threading.Lock()
_model = None


def wired_grid(image: np.ndarray, region: BBox | None = None) -> GridTable | None:
    """The model's grid of the table in `region` (page pixels), or None: no 2x2 grid, or too tall to run."""
    crop, (ox, oy), scale = _crop(image, region)
    found = _model_cells(crop) if crop is not None else None
    if found is None:
        return None
    boxes, logic = found[0] / scale + [ox, oy, ox, oy], found[1]
    rows, half_y = _lines(boxes[:, 1], boxes[:, 3], logic[:, 0], logic[:, 1])
    cols, half_x = _lines(boxes[:, 0], boxes[:, 2], logic[:, 2], logic[:, 3])
    if len(rows) < 3 or len(cols) < 3:
        return None
    # a cell's box: the model's, out to the rules' centres (it follows a skew); a filled hole's: the rules'
    own = {tuple(g): tuple(box + [-half_x, -half_y, half_x, half_y]) for g, box in zip(logic.tolist(), boxes)}
    cells = [GridCell(row=r0, col=c0, row_span=r1 - r0 + 1, col_span=c1 - c0 + 1,
                      bbox=own.get((r0, r1, c0, c1), (cols[c0], rows[r0], cols[c1 + 1], rows[r1 + 1])))
             for r0, r1, c0, c1 in _with_holes(logic, len(rows) - 1, len(cols) - 1)]
    return GridTable(bbox=(cols[0], rows[0], cols[-1], rows[-1]), row_lines=rows, col_lines=cols,
                     cells=cells, method="wired-model")


def _crop(image: np.ndarray, region: BBox | None) -> tuple[np.ndarray | None, tuple[int, int], float]:
    """BGR crop of the region plus margin, resized to MODEL_SIDE and padded; its page offset and the scale."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = region if region is not None else (0, 0, w, h)
    if y1 - y0 > MAX_ASPECT * (x1 - x0):
        return None, (0, 0), 1.0
    pad = CROP_MARGIN * max(x1 - x0, y1 - y0)
    x0, y0 = max(int(x0 - pad), 0), max(int(y0 - pad), 0)
    x1, y1 = min(int(np.ceil(x1 + pad)), w), min(int(np.ceil(y1 + pad)), h)
    crop = image[y0:y1, x0:x1]
    if crop.ndim == 2 or crop.shape[2] == 4:
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR if crop.ndim == 2 else cv2.COLOR_BGRA2BGR)
    scale = MODEL_SIDE / max(crop.shape[:2])
    crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    bottom, right = -crop.shape[0] % STRIDE, -crop.shape[1] % STRIDE
    return cv2.copyMakeBorder(crop, 0, bottom, 0, right, cv2.BORDER_CONSTANT, value=(255, 255, 255)), (x0, y0), scale


def _load():
    """The v2 line model, once per process (thread-safe); no OCR engine is built, as the front class would."""
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
    """The rule mask with a rectangle drawn through its outermost long rules: where the model misses a
    stretch of an outer rule, the cell behind it joins the margin and is lost (the 表三 label column)."""
    on = lines == 255
    rows = np.flatnonzero(on.sum(1) >= FRAME_RULE_SHARE * lines.shape[1])
    cols = np.flatnonzero(on.sum(0) >= FRAME_RULE_SHARE * lines.shape[0])
    if len(rows) >= 2 and len(cols) >= 2:
        cv2.rectangle(lines, (int(cols[0]), int(rows[0])), (int(cols[-1]), int(rows[-1])), 255, FRAME_PX)
    return lines


def _model_cells(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Per cell: (x0, y0, x1, y1) in crop pixels and (row_start, row_end, col_start, col_end), ends inclusive.

    Polygons touching the crop's edge are margin cut off by an outer rule running on to
    the edge; they are dropped before the logical grid is built (else a phantom row).
    """
    from wired_table_rec.table_recover import TableRecover
    with warnings.catch_warnings():  # the package calls a scikit-image property deprecated in 0.26
        warnings.simplefilter("ignore", FutureWarning)
        polygons, rotated = _load()(crop)  # no options: any option given turns its tilt correction off
    if polygons is None:
        return None
    h, w = crop.shape[:2]
    xs, ys = np.sort(polygons[:, :, 0], axis=1), np.sort(polygons[:, :, 1], axis=1)
    # edges at the cell's middle (mean of the two corners on each side), not its skewed extent
    lo, hi = np.c_[xs[:, :2].mean(1), ys[:, :2].mean(1)], np.c_[xs[:, 2:].mean(1), ys[:, 2:].mean(1)]
    inside = (lo[:, 0] > BORDER_PX) & (lo[:, 1] > BORDER_PX) & (hi[:, 0] < w - BORDER_PX) & (hi[:, 1] < h - BORDER_PX)
    if inside.sum() < 4:
        return None
    _, logic = TableRecover()(rotated[inside])
    logic[:, [1, 3]] = np.maximum(logic[:, [1, 3]], logic[:, [0, 2]])  # it can put an end before the start
    return np.c_[lo[inside], hi[inside]], logic.astype(int)


def _lines(lo: np.ndarray, hi: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[list[float], float]:
    """Rule positions, and half a rule's width: per logical boundary, the median of the cell edges on it,
    moved by half the median gap between neighbouring cells onto the rule's centre (outer rules have
    cells on one side only). A boundary no cell edge lies on (an inconsistent model grid) is interpolated."""
    n = int(end.max()) + 2
    after, before = [lo[start == k] for k in range(n)], [hi[end == k - 1] for k in range(n)]
    gaps = [np.median(a) - np.median(b) for a, b in zip(after, before) if len(a) and len(b)]
    half = max(float(np.median(gaps)), 0.0) / 2 if gaps else 0.0
    edges = [np.r_[a - half, b + half] for a, b in zip(after, before)]
    known = [k for k in range(n) if len(edges[k])]
    if len(known) < 2:
        return [], half
    return [float(p) for p in np.interp(range(n), known, [float(np.median(edges[k])) for k in known])], half


def _with_holes(logic: np.ndarray, n_rows: int, n_cols: int) -> list[tuple[int, int, int, int]]:
    """The model's cells, plus one per block of grid slots none covers (a cell the package dropped
    because it leaked into the margin through a gap the frame did not close), row-major."""
    cells = sorted({(int(g[0]), int(g[1]), int(g[2]), int(g[3])) for g in logic})
    bare = np.ones((n_rows, n_cols), bool)
    for r0, r1, c0, c1 in cells:
        bare[r0:r1 + 1, c0:c1 + 1] = False
    for r, c in zip(*np.nonzero(bare)):
        if bare[r, c]:  # grow right, then down, over bare slots
            c1 = c + int(np.argmin(np.r_[bare[r, c:], False])) - 1
            r1 = r + int(np.argmin(np.r_[bare[r:, c:c1 + 1].all(1), False])) - 1
            bare[r:r1 + 1, c:c1 + 1] = False
            cells.append((int(r), int(r1), int(c), int(c1)))
    return sorted(cells, key=lambda g: (g[0], g[2]))


def same_structure(a: GridTable, b: GridTable, tol_fraction: float = 0.01) -> bool:
    """Whether two grids of one table agree: rows, columns, merged cells, and rules within tolerance."""
    return not structure_differences(a, b, tol_fraction)


def structure_differences(a: GridTable, b: GridTable, tol_fraction: float = 0.01) -> list[str]:
    """What differs between two grids of one table, in words ("lattice has 28 rows, the model 27").

    Rules are compared where the counts agree, within tol_fraction of the table's
    height (rows) or width (columns); cells by their (row, col) and spans."""
    na, nb = ("first", "second") if a.method == b.method else (_NAMES[a.method], _NAMES[b.method])
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
