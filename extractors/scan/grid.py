"""Ruled tables on a page image without a model: lattice detection, as camelot and img2table do.

The page is binarised against its local background (faint grey rules and uneven
scans), then opened with long horizontal and vertical kernels so that only runs
longer than any character stroke survive, and small gaps (scan dropouts) are
closed. Each surviving run is a rule segment. Segments that meet at least two
segments of the other direction form a table; segments that meet nothing are
underlines, dashes or text. Rules of a table are its segments clustered by
position (double lines become one rule), and the grid's merged cells follow from
which borders between neighbouring grid cells are actually drawn: a global rule
line does not split a merged cell that its own border leaves blank.

Sizes are knobs in inches, turned into pixels from the resolution guessed from
the page's short side (an A4 page); screenshots come out near screen resolution.
A residual skew of a few tenths of a degree is measured on the long rules and
followed when testing borders, instead of rotating the image.
"""
from __future__ import annotations

import cv2
import numpy as np

from gongkai.models import BBox, GridCell, GridTable

PAGE_SHORT_SIDE_IN = 8.27  # A4 width: the page's short side in pixels over this guesses the dpi
DPI_RANGE = (72.0, 400.0)  # guesses outside are clipped (crops, posters)
BLOCK_IN = 0.1  # adaptive threshold window; wider than a thick rule, so its core stays ink
INK_CONTRAST = 12  # grey levels under the local mean that count as ink: faint grey rules pass, JPEG noise not
DARK_LEVEL = 100  # darker than this is ink whatever its surroundings (solid thick rules)
SEAL_CLOSE_IN = 0.01  # gaps bridged before opening (kernel, made odd): 1-2 px dropouts inside short rules
MIN_RULE_IN = 0.18  # shortest run kept as a rule: longer than a character stroke, shorter than a row
BRIDGE_IN = 0.04  # gaps within a rule closed after opening (scan dropouts)
LONE_RULE_IN = 0.3  # a run this long is a rule even where it meets nothing: longer than any stroke of text
JOIN_GAP_IN = 0.05  # two such runs in line, this far apart, are one rule (steps of a faint slanted rule)
TOUCH_IN = 0.08  # a segment ending this close to another counts as meeting it
REACH_IN = 0.02  # and a rule of a table reaches (crosses or joins) at least one crossing rule this close:
# a run of glyph strokes set in a cell stops short of both cell walls by the cell's padding
MERGE_IN = 0.05  # rules closer than this are one rule (double lines, thick blurred rules)
WALL_COVERAGE = 0.4  # fraction of a shared border drawn by rules to separate two grid cells: text does
# not count, so undrawn borders score ~0; dropouts leave drawn ones well above
INK_WALL_COVERAGE = 0.85  # plain ink on a border's line this dense, next to a rule piece, is a broken rule
INK_BAND = 1  # pixels either side of a rule's line searched for plain ink
WALL_MARGIN_IN = 0.03  # ends of a border skipped: the crossing rule's own ink is not evidence
SKEW_MIN_LEN_IN = 1.0  # only rules this long measure the skew
MAX_THICK_IN = 0.06  # thicker runs are filled areas or pictures, not rules
MAX_SPLITS = 4  # bands cut out of one set of segments, at most (each split leaves fewer)
BOXED_SHARE = 0.5  # a table whose side walls are drawn along this share of its rows has them on every row
MIN_CROSSINGS = 2  # a rule of a table meets at least this many rules of the other direction
MIN_SINGLE_ROW_COLS = 3  # a one-row grid is a table part only with this many columns
MIN_SINGLE_ROW_WIDTH_IN = 3.0  # and this wide: bold title strokes can draw a tiny one-row "grid"


def find_grids(image: np.ndarray) -> list[GridTable]:
    """Every ruled table on the page, top to bottom: 2+ rows and 2+ columns, or one row of 3+ columns."""
    gray, px = _gray_and_dpi(image)
    ink = _ink(gray, px)
    horiz, vert = _rule_masks(ink, px)
    hs, sh = _segments(horiz, False, px)
    vs, sv = _segments(vert, True, px)
    if len(hs) < 2 or len(vs) < 3:  # one row of 3+ columns is a table part (see _table)
        return []
    meets = _meets(hs, vs, sh, sv, _px(TOUCH_IN, px))
    reaches = _meets(hs, vs, sh, sv, _px(REACH_IN, px))
    reach_h, reach_v = np.any(reaches, axis=1), np.any(reaches, axis=0)
    meets &= reach_h[:, None] & reach_v[None, :]
    tables = []
    for h_idx, v_idx in _groups(meets):
        tables += _group_tables((hs[reach_h], vs[reach_v]), (hs[h_idx], vs[v_idx]), (sh, sv), ink, px)
    return sorted(tables, key=lambda t: t.bbox[1])


def _group_tables(evidence: tuple[np.ndarray, np.ndarray], own: tuple[np.ndarray, np.ndarray],
                  slopes: tuple[float, float], ink: np.ndarray, px: float, depth: int = 0) -> list[GridTable]:
    """The tables of one connected set of rule segments: one, or more where a band that is no row
    ties several together. Two ruled tables with a title line close between them can be joined
    by the title's strokes, each long enough to pass for a rule and meeting (or, closed by the
    bridging, joining) the rules above and below it. The band they stand in is no row (its side
    walls are not drawn): the vertical segments are cut out of it and what stays connected is
    grouped again."""
    table, gaps = _table(*evidence, own, slopes, ink, px)
    if table is None or not gaps or depth >= MAX_SPLITS:
        return [] if table is None else [table]
    own_h, own_v = own
    cut = _cut_out(own_v, gaps, _px(MIN_RULE_IN, px))
    if cut.shape == own_v.shape and np.allclose(cut, own_v):
        return [table]
    meets = _meets(own_h, cut, *slopes, _px(TOUCH_IN, px))
    return [t for h_idx, v_idx in _groups(meets)
            for t in _group_tables(evidence, (own_h[h_idx], cut[v_idx]), slopes, ink, px, depth + 1)]


def _cut_out(segs: np.ndarray, bands: list[tuple[float, float]], min_len: int) -> np.ndarray:
    """Vertical segments without their pieces inside the bands; pieces shorter than a rule dropped."""
    pieces = segs
    for top, bottom in bands:
        above = pieces[:, 1] < top
        below = pieces[:, 2] > bottom
        upper = np.column_stack([pieces[:, 0], pieces[:, 1], np.minimum(pieces[:, 2], top)])[above]
        lower = np.column_stack([pieces[:, 0], np.maximum(pieces[:, 1], bottom), pieces[:, 2]])[below]
        pieces = np.r_[upper, lower]
        pieces = pieces[pieces[:, 2] - pieces[:, 1] >= min_len]
    return pieces.reshape(-1, 3)


def has_rules(image: np.ndarray, box: BBox) -> bool:
    """Whether rule pieces run both across and down inside `box`: a table whose rules are too
    faint or broken to make a grid, rather than one drawn without any."""
    gray, px = _gray_and_dpi(image)
    x0, y0, x1, y1 = (max(int(v), 0) for v in box)
    area = np.ascontiguousarray(gray[y0:y1, x0:x1])
    if area.size == 0:
        return False
    horiz, vert = _rule_masks(_ink(area, px), px)
    longest_stroke = LONE_RULE_IN * px
    return all(int(((segs[:, 2] - segs[:, 1]) >= longest_stroke).sum()) >= 2
               for segs in (_segments(horiz, False, px)[0], _segments(vert, True, px)[0]))


def _gray_and_dpi(image: np.ndarray) -> tuple[np.ndarray, float]:
    """The page as contiguous 8-bit grey, and its pixels per inch guessed from its short side."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
    gray = np.ascontiguousarray(image, dtype=np.uint8)
    return gray, float(np.clip(min(gray.shape) / PAGE_SHORT_SIDE_IN, *DPI_RANGE))


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

        def kernel(
            n: int, horizontal: bool = horizontal
        ) -> np.ndarray:  # odd, centred: even kernels shift OpenCV's open and close
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
    runs = _runs(mask.T if vertical else mask)
    small = cv2.CV_16U if runs < 65535 else cv2.CV_32S  # 16-bit labels: 3x faster; overflowing them crashes OpenCV
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=small)
    along_i, len_i = (cv2.CC_STAT_TOP, cv2.CC_STAT_HEIGHT) if vertical else (cv2.CC_STAT_LEFT, cv2.CC_STAT_WIDTH)
    lo, length = stats[1:, along_i].astype(float), stats[1:, len_i].astype(float)
    across, along = (centroids[1:, 0], centroids[1:, 1]) if vertical else (centroids[1:, 1], centroids[1:, 0])
    thin = stats[1:, cv2.CC_STAT_AREA] <= MAX_THICK_IN * px * length
    slope = _slope(labels, stats, np.flatnonzero(thin & (length >= SKEW_MIN_LEN_IN * px)) + 1, vertical)
    segs = np.column_stack([across - slope * along, lo, lo + length])[thin]
    return _join(segs, _px(MERGE_IN, px), _px(JOIN_GAP_IN, px), LONE_RULE_IN * px), slope


def _join(segs: np.ndarray, tol: int, gap: int, min_len: float) -> np.ndarray:
    """Long pieces of one rule as one segment: same position within `tol`, apart by at most `gap`.

    A faint slanted rule breaks where it steps a pixel; each piece alone may meet
    too few crossing rules to count as a table's. Short pieces are left alone:
    chains of them through a heading's strokes would tie two tables together.
    """
    segs = segs[np.argsort(segs[:, 0])]
    out = []
    for group in np.split(segs, np.flatnonzero(np.diff(segs[:, 0]) > tol) + 1):
        joined: list[list[float]] = []
        for pos, lo, hi in group[np.argsort(group[:, 1])]:
            last = joined[-1] if joined else None
            if last is not None and lo <= last[2] + gap and min(hi - lo, last[2] - last[1]) >= min_len:
                w0, w1 = last[2] - last[1], hi - lo
                last[:] = [(last[0] * w0 + pos * w1) / (w0 + w1), last[1], max(last[2], hi)]
            else:
                joined.append([pos, lo, hi])
        out += joined
    return np.array(out).reshape(-1, 3)


def _runs(mask: np.ndarray) -> int:
    """Runs along each row: at least as many as the connected components."""
    return int(np.count_nonzero(mask[:, 1:] > mask[:, :-1]) + np.count_nonzero(mask[:, 0]))


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


def _walls(segs: np.ndarray, ink: np.ndarray, rules: np.ndarray, slope: float, ends: np.ndarray, band: int,
           margin: int, vertical: bool) -> np.ndarray:
    """walls[i, k]: inner rule i is drawn along the border between crossing rules k and k+1.

    Drawn: rule segments cover most of it, or one reaches it and plain ink on the
    rule's line covers nearly all of it (a short rule cut by a dropout into pieces
    the opening removed). Text never covers a border that densely.
    """
    out = np.ones((len(rules), ends.shape[1] - 1), bool)
    for i in range(1, len(rules) - 1):
        out[i] = _wall(segs, ink, rules, slope, ends, band, margin, vertical, i)
    return out


def _wall(segs: np.ndarray, ink: np.ndarray, rules: np.ndarray, slope: float, ends: np.ndarray, band: int,
          margin: int, vertical: bool, i: int) -> np.ndarray:
    """For rule i: is it drawn along each border between crossing rules k and k+1 (see _walls)."""
    by_rule = np.zeros(ink.shape[0 if vertical else 1] + 1, bool)
    for lo, hi in segs[np.abs(segs[:, 0] - rules[i]) <= band, 1:]:
        by_rule[int(lo):int(hi) + 1] = True
    by_ink = _drawn(ink, rules[i], slope, ends[i, 0], ends[i, -1], INK_BAND, vertical)
    a, b = ends[i, :-1].astype(int) + margin, ends[i, 1:].astype(int) - margin
    cover, dense = _fraction(by_rule, a, b), _fraction(by_ink, a, b)
    near = _fraction(by_rule, a - 2 * margin, b + 2 * margin) > 0
    return (b <= a) | (cover >= WALL_COVERAGE) | (near & (dense >= INK_WALL_COVERAGE))


def _gap_rows(v_ev: np.ndarray, ink: np.ndarray, xs: np.ndarray, sv: float, cy: np.ndarray, band: int,
              margin: int) -> np.ndarray:
    """Rows whose band is not a row of the table: its left or right wall is not drawn there, in a
    table whose two side walls are drawn along most rows (a table drawn without side walls has
    no such test). The band between two tables that strokes of a title line tied together."""
    sides = np.array([_wall(v_ev, ink, xs, sv, cy.T, band, margin, True, i) for i in (0, len(xs) - 1)])
    boxed = np.all(sides, axis=0)
    if boxed.mean() < BOXED_SHARE:
        return np.zeros(len(boxed), bool)
    return ~boxed


def _fraction(flags: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Share of True in flags[a:b] for each pair of bounds (indices clipped to the array)."""
    total = np.r_[0, np.cumsum(flags)]
    a, b = np.clip(a, 0, len(flags)), np.clip(b, 0, len(flags))
    return (total[b] - total[a]) / np.maximum(b - a, 1)


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


def _table_row(xs: np.ndarray, ys: np.ndarray, px: float) -> bool:
    return len(xs) > MIN_SINGLE_ROW_COLS and xs[-1] - xs[0] >= MIN_SINGLE_ROW_WIDTH_IN * px


def _table(hs: np.ndarray, vs: np.ndarray, own: tuple[np.ndarray, np.ndarray], slopes: tuple[float, float],
           ink: np.ndarray, px: float) -> tuple[GridTable | None, list[tuple[float, float]]]:
    """The grid of one connected set of rule segments (`own`); None unless it has 2+ rows and 2+ columns.
    With it, the (top, bottom) of each band between row rules that is no row (`_gap_rows`).

    Borders are drawn by the table's own segments, and by any segment long enough
    to be a rule alone (a piece of a rule a dropout cut from the rest meets too few
    rules); `hs` and `vs` hold only segments that reach a crossing rule, so a run of
    glyph strokes set in a cell, stopping short of its walls, is neither.
    """
    (own_h, own_v), (sh, sv) = own, slopes
    merge = _px(MERGE_IN, px)
    ys = _open_sides(_cluster(own_h[:, 0], own_h[:, 2] - own_h[:, 1], merge), own_v, _px(MIN_RULE_IN, px))
    xs = _open_sides(_cluster(own_v[:, 0], own_v[:, 2] - own_v[:, 1], merge), own_h, _px(MIN_RULE_IN, px))
    # 2+ rows and 2+ columns; a single row is kept with 3+ columns: the last row of a table
    # pushed onto the next page by a page break (a framed title line has fewer).
    if len(xs) < 3 or len(ys) < 2 or (len(ys) == 2 and not _table_row(xs, ys, px)):
        return None, []
    # crossing points of every row rule with every column rule, page pixels, [row, col]
    cx = (xs[None, :] + sv * ys[:, None]) / (1 - sh * sv)
    cy = ys[:, None] + sh * cx
    margin = _px(WALL_MARGIN_IN, px)
    h_ev = np.r_[own_h, hs[hs[:, 2] - hs[:, 1] >= LONE_RULE_IN * px]]
    v_ev = np.r_[own_v, vs[vs[:, 2] - vs[:, 1] >= LONE_RULE_IN * px]]
    walls_h = _walls(h_ev, ink, ys, sh, cx, merge, margin, False)
    walls_v = _walls(v_ev, ink, xs, sv, cy.T, merge, margin, True)
    gaps = [(float(cy[r].min()), float(cy[r + 1].max()))
            for r in np.flatnonzero(_gap_rows(v_ev, ink, xs, sv, cy, merge, margin))]
    cells = _cells(walls_h, walls_v, cx, cy)
    if len(cells) < 2:
        return None, gaps
    mid_x, mid_y = cx.mean(), cy.mean()
    return GridTable(bbox=(float(cx[:, 0].min()), float(cy[0].min()), float(cx[:, -1].max()), float(cy[-1].max())),
                     row_lines=[float(y + sh * mid_x) for y in ys], col_lines=[float(x + sv * mid_y) for x in xs],
                     cells=cells, method="lattice"), gaps
