"""Ruled tables on a page image without a model: lattice detection, as camelot and img2table do.

The page is binarised against its local background (faint grey rules and uneven
scans), then opened with long horizontal and vertical kernels so that only runs
longer than any character stroke survive, and small gaps (scan dropouts) are
closed. Each surviving run is a rule segment. Segments that cross at least two
segments of the other direction form a table; segments that touch nothing are
underlines, dashes or text. Rules of a table are the segments clustered by
position (double lines become one rule), and the grid's merged cells follow from
which borders between neighbouring grid cells are actually drawn.

Sizes are knobs in inches, turned into pixels from the resolution guessed from
the page's short side (an A4 page); screenshots come out near screen resolution.
A residual skew of a few tenths of a degree is measured on the long rules and
followed when testing borders, instead of rotating the image.
"""
from __future__ import annotations

import cv2
import numpy as np

from gongkai.models import GridCell, GridTable

PAGE_SHORT_SIDE_IN = 8.27  # A4 width: the page's short side in pixels over this guesses the dpi
DPI_RANGE = (72.0, 400.0)  # guesses outside are clipped (crops, posters)
BLOCK_IN = 0.1  # adaptive threshold window; wider than a thick rule, so its core stays ink
INK_CONTRAST = 12  # grey levels under the local mean that count as ink: faint grey rules pass, JPEG noise not
DARK_LEVEL = 100  # darker than this is ink whatever its surroundings (solid thick rules)
SEAL_CLOSE_IN = 0.01  # gaps bridged before opening (kernel, made odd): 1-2 px dropouts inside short rules
MIN_RULE_IN = 0.18  # shortest run kept as a rule: longer than a character stroke, shorter than a row
BRIDGE_IN = 0.04  # gaps within a rule closed after opening (scan dropouts)
TOUCH_IN = 0.04  # a segment ending this close to another counts as meeting it
MERGE_IN = 0.05  # rules closer than this are one rule (double lines, thick blurred rules)
WALL_COVERAGE = 0.4  # fraction of a shared border drawn to separate two grid cells: text never counts
# (the rule mask holds long runs only), so undrawn borders score ~0; dropouts leave drawn ones well above
INK_WALL_COVERAGE = 0.85  # plain ink on a border's line this dense, next to a rule piece, is a broken rule
INK_BAND = 1  # pixels either side of a rule's line searched for plain ink
WALL_MARGIN_IN = 0.03  # ends of a border skipped: the crossing rule's own ink is not evidence
SKEW_MIN_LEN_IN = 1.0  # only rules this long measure the skew
MAX_THICK_IN = 0.06  # thicker runs are filled areas or pictures, not rules
MIN_CROSSINGS = 2  # a rule of a table meets at least this many rules of the other direction


def find_grids(image: np.ndarray) -> list[GridTable]:
    """Every ruled table on the page, top to bottom; tables need 2+ rows and 2+ columns."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    px = min(gray.shape) / PAGE_SHORT_SIDE_IN
    px = float(np.clip(px, *DPI_RANGE))  # pixels per inch
    ink = _ink(gray, px)
    horiz, vert = _rule_masks(ink, px)
    hs, sh = _segments(horiz, False, px)
    vs, sv = _segments(vert, True, px)
    if len(hs) < 3 or len(vs) < 3:
        return []
    meets = _meets(hs, vs, sh, sv, _px(TOUCH_IN, px))
    tables = []
    for h_idx, v_idx in _groups(meets):
        table = _table(hs[h_idx], vs[v_idx], sh, sv, (horiz, vert, ink), px)
        if table is not None:
            tables.append(table)
    return sorted(tables, key=lambda t: t.bbox[1])


def _px(inches: float, px: float) -> int:
    return max(1, round(inches * px))


def _ink(gray: np.ndarray, px: float) -> np.ndarray:
    """Ink against the local background, so faint rules on uneven scans still count."""
    block = _px(BLOCK_IN, px) | 1
    local = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, INK_CONTRAST)
    return local | ((gray < DARK_LEVEL).astype(np.uint8) * 255)


def _rule_masks(ink: np.ndarray, px: float) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical runs longer than a character stroke, small gaps closed."""
    masks = []
    for horizontal in (True, False):
        def kernel(n: int) -> np.ndarray:  # odd, centred: even kernels shift OpenCV's open and close
            return cv2.getStructuringElement(cv2.MORPH_RECT, (n | 1, 1) if horizontal else (1, n | 1))
        mask = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, kernel(_px(SEAL_CLOSE_IN, px)))
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel(_px(MIN_RULE_IN, px)))
        masks.append(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel(_px(BRIDGE_IN, px))))
    return masks[0], masks[1]


def _segments(mask: np.ndarray, vertical: bool, px: float) -> tuple[np.ndarray, float]:
    """Rule segments as rows (position across, start, end along) and the rules' common slope.

    Positions are deskewed: the across-coordinate a segment would have at along=0,
    so that pieces of one slanted rule share a position.
    """
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    along_i, len_i = (cv2.CC_STAT_TOP, cv2.CC_STAT_HEIGHT) if vertical else (cv2.CC_STAT_LEFT, cv2.CC_STAT_WIDTH)
    lo, length = stats[1:, along_i].astype(float), stats[1:, len_i].astype(float)
    across, along = (centroids[1:, 0], centroids[1:, 1]) if vertical else (centroids[1:, 1], centroids[1:, 0])
    thin = stats[1:, cv2.CC_STAT_AREA] <= MAX_THICK_IN * px * length
    slope = _slope(labels, stats, np.flatnonzero(thin & (length >= SKEW_MIN_LEN_IN * px)) + 1, vertical)
    segs = np.column_stack([across - slope * along, lo, lo + length])[thin]
    return segs, slope


def _slope(labels: np.ndarray, stats: np.ndarray, ids: np.ndarray, vertical: bool) -> float:
    """Median drift across per pixel along, over the long rules (0 when there are none)."""
    slopes = []
    for i in ids:
        x, y, w, h = stats[i, :4]
        m = cv2.moments((labels[y:y + h, x:x + w] == i).astype(np.uint8), binaryImage=True)
        spread = m["mu02"] if vertical else m["mu20"]
        if spread > 0:
            slopes.append(m["mu11"] / spread)
    return float(np.median(slopes)) if slopes else 0.0


def _meets(hs: np.ndarray, vs: np.ndarray, sh: float, sv: float, tol: float) -> np.ndarray:
    """meets[i, j]: horizontal segment i and vertical segment j cross or touch."""
    # crossing point of the two (deskewed) lines, in page pixels
    x = (vs[None, :, 0] + sv * hs[:, None, 0]) / (1 - sh * sv)
    y = hs[:, None, 0] + sh * x
    return ((hs[:, None, 1] - tol <= x) & (x <= hs[:, None, 2] + tol)
            & (vs[None, :, 1] - tol <= y) & (y <= vs[None, :, 2] + tol))


def _groups(meets: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Connected sets of segments (one per table); a rule meeting too few others is dropped first."""
    meets = meets.copy()
    for _ in range(3):  # dropping a rule can leave its neighbours under the bar
        keep_h = meets.sum(1) >= MIN_CROSSINGS
        keep_v = meets.sum(0) >= MIN_CROSSINGS
        meets &= keep_h[:, None] & keep_v[None, :]
    return _components(meets)


def _components(meets: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Bipartite connected components by flood fill over the meets matrix."""
    seen_h = np.zeros(meets.shape[0], bool)
    seen_v = np.zeros(meets.shape[1], bool)
    out = []
    for start in np.flatnonzero(meets.any(1)):
        if seen_h[start]:
            continue
        h = np.zeros_like(seen_h)
        h[start] = True
        v = np.zeros_like(seen_v)
        while True:
            v_new = meets[h].any(0) | v
            h_new = meets[:, v_new].any(1) | h
            if (v_new == v).all() and (h_new == h).all():
                break
            h, v = h_new, v_new
        seen_h |= h
        seen_v |= v
        out.append((np.flatnonzero(h), np.flatnonzero(v)))
    return out


def _cluster(pos: np.ndarray, weight: np.ndarray, tol: float) -> np.ndarray:
    """Rule positions: segments within `tol` of their neighbour are one rule (length-weighted mean)."""
    order = np.argsort(pos)
    pos, weight = pos[order], weight[order]
    starts = np.flatnonzero(np.r_[True, np.diff(pos) > tol])
    return np.add.reduceat(pos * weight, starts) / np.add.reduceat(weight, starts)


def _open_sides(rules: np.ndarray, cross: np.ndarray, gap: float) -> np.ndarray:
    """Outer rules a table leaves undrawn: where most crossing rules run on past the last one."""
    lo, hi = np.median(cross[:, 1]), np.median(cross[:, 2])
    if lo < rules[0] - gap:
        rules = np.r_[lo, rules]
    if hi > rules[-1] + gap:
        rules = np.r_[rules, hi]
    return rules


def _drawn(mask: np.ndarray, pos: float, slope: float, lo: float, hi: float, band: int,
           vertical: bool) -> np.ndarray:
    """For each pixel along a rule up to hi: is `mask` set within `band` of the rule's line (False before lo)."""
    along = np.arange(max(int(lo), 0), min(int(hi), mask.shape[0 if vertical else 1]))
    across = np.rint(pos + slope * along)[:, None].astype(int) + np.arange(-band, band + 1)
    across = np.clip(across, 0, mask.shape[1 if vertical else 0] - 1)
    hits = mask[along[:, None], across] if vertical else mask[across, along[:, None]]
    return np.r_[np.zeros(max(int(lo), 0), bool), hits.any(1)]


def _walls(rule: np.ndarray, ink: np.ndarray, rules: np.ndarray, slope: float, ends: np.ndarray, band: int,
           margin: int, vertical: bool) -> np.ndarray:
    """walls[i, k]: inner rule i is drawn along the border between crossing rules k and k+1.

    Drawn: rule runs cover most of it, or a rule run reaches it and plain ink on
    the rule's line covers nearly all of it (a short rule cut by a dropout into
    pieces the opening removed). Text never covers a border that densely.
    """
    out = np.ones((len(rules), ends.shape[1] - 1), bool)
    for i in range(1, len(rules) - 1):
        by_rule = _drawn(rule, rules[i], slope, ends[i, 0], ends[i, -1], band, vertical)
        by_ink = _drawn(ink, rules[i], slope, ends[i, 0], ends[i, -1], INK_BAND, vertical)
        for k in range(ends.shape[1] - 1):
            a, b = int(ends[i, k]), int(ends[i, k + 1])
            part = slice(a + margin, b - margin)
            if by_rule[part].size:
                near = by_rule[max(a - margin, 0):b + margin].any()
                out[i, k] = by_rule[part].mean() >= WALL_COVERAGE or (near and by_ink[part].mean() >= INK_WALL_COVERAGE)
    return out


def _cells(walls_h: np.ndarray, walls_v: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> list[GridCell]:
    """Merged regions, row-major: grow right while no rule separates, then down while none does.

    walls_h[r, c]: a rule above grid cell (r, c); walls_v[c, r]: a rule left of it.
    xs, ys: crossing points of column rule c and row rule r, [r, c].
    """
    n_rows, n_cols = walls_h.shape[0] - 1, walls_v.shape[0] - 1
    seen = np.zeros((n_rows, n_cols), bool)
    cells = []
    for r in range(n_rows):
        for c in range(n_cols):
            if seen[r, c]:
                continue
            cs = 1
            while c + cs < n_cols and not walls_v[c + cs, r] and not seen[r, c + cs]:
                cs += 1
            rs = 1
            while (r + rs < n_rows and not walls_h[r + rs, c:c + cs].any()
                   and not seen[r + rs, c:c + cs].any()):
                rs += 1
            seen[r:r + rs, c:c + cs] = True
            box = (float(xs[r, c]), float(ys[r, c]), float(xs[r + rs, c + cs]), float(ys[r + rs, c + cs]))
            cells.append(GridCell(row=r, col=c, row_span=rs, col_span=cs, bbox=box))
    return cells


def _table(hs: np.ndarray, vs: np.ndarray, sh: float, sv: float, masks: tuple[np.ndarray, np.ndarray, np.ndarray],
           px: float) -> GridTable | None:
    """The grid of one connected set of rule segments; None unless it has 2+ rows and 2+ columns."""
    merge = _px(MERGE_IN, px)
    ys = _open_sides(_cluster(hs[:, 0], hs[:, 2] - hs[:, 1], merge), vs, _px(MIN_RULE_IN, px))
    xs = _open_sides(_cluster(vs[:, 0], vs[:, 2] - vs[:, 1], merge), hs, _px(MIN_RULE_IN, px))
    if len(ys) < 3 or len(xs) < 3:
        return None
    # crossing points of every row rule with every column rule, page pixels, [row, col]
    cx = (xs[None, :] + sv * ys[:, None]) / (1 - sh * sv)
    cy = ys[:, None] + sh * cx
    band, margin = _px(MERGE_IN / 2, px), _px(WALL_MARGIN_IN, px)
    horiz, vert, ink = masks
    walls_h = _walls(horiz, ink, ys, sh, cx, band, margin, False)
    walls_v = _walls(vert, ink, xs, sv, cy.T, band, margin, True)
    cells = _cells(walls_h, walls_v, cx, cy)
    mid_x, mid_y = cx.mean(), cy.mean()
    return GridTable(bbox=(float(cx[:, 0].min()), float(cy[0].min()), float(cx[:, -1].max()), float(cy[-1].max())),
                     row_lines=[float(y + sh * mid_x) for y in ys], col_lines=[float(x + sv * mid_y) for x in xs],
                     cells=cells, method="lattice")
