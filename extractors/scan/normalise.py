"""Page-image normalisation before table-line detection and OCR.

Scans arrive with red seals printed over the figures, shadows, a few degrees of skew and
sometimes a quarter or half turn; screenshots arrive clean. `normalise_page` removes the
seal, evens the background, turns a sideways page and levels it, so that later stages
can look for straight black rules on white paper. Whether a page is upside down cannot be
seen from its structure: page.upside_down decides that from OCR of the page's text lines.
Every estimate is made on a downscaled copy; the full-resolution image is warped once.

Angles are clockwise in degrees as the image is displayed (y down), like `rotation`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

# Red seal: OpenCV hue runs 0-180 and red wraps around 0, so red is hue <= SEAL_HUE or
# >= 180 - SEAL_HUE. Seal ink is saturated; JPEG noise on grey paper and black text is not.
SEAL_HUE = 12
SEAL_MIN_SAT = 60
SEAL_MIN_VAL = 120  # a seal is looked for among bright reds; dark red-black is print under it
SEAL_RIM_SAT = 25  # the seal's anti-aliased, washed-out rim: pale, only slightly pink
SEAL_SEARCH_SHRINK = 4  # red is first looked for among every 4th pixel of every 4th row...
SEAL_MIN_PIXELS = 10  # ...and needs this many red pixels there to be worth a full-size pass
SEAL_NOTE_MIN = 0.001  # a smaller red share is a stray mark, not worth a note

# Background: estimated on a copy BG_SHRINK times smaller, where a max filter BG_KERNEL wide
# (~56 px at full size, wider than a character or a gap between lines) always sees paper.
BG_SHRINK = 8
BG_KERNEL = 7
BG_NOTE_BELOW = 200  # note an uneven background when the paper somewhere is darker

WORK_SIDE = 1000  # px: short side of the copy used for skew and orientation estimates
INK_MAX = 200  # grey above this is never ink, whatever Otsu says (on a blank page it splits noise)
SKEW_MAX = 5.0  # degrees searched either way
SKEW_COARSE_STEP = 0.25  # degrees, on a half-resolution profile (broader peaks)
SKEW_FINE_STEP = 0.05  # degrees, around the coarse peak at full working resolution, then a parabola
SKEW_MIN_INK = 200  # ink pixels below which a page is treated as blank: no skew
SKEW_APPLY_MIN = 0.05  # degrees: smaller corrections would only blur 1-px screenshot rules

RULE_FRACTION = 25  # a run longer than 1/25 of the short side is a rule, not a character
SMEAR_EMS = 0.7  # closing length, in character sizes: joins characters, not lines
LINE_EMS = 2.5  # a smeared run this many characters long is a line of text
# Upright pages measured 0.47-0.78 of their ink in horizontal lines and <= 0.04 in vertical ones.
SIDEWAYS_RATIO = 3.0  # vertical line share must beat the horizontal one this many times...
SIDEWAYS_MIN_SHARE = 0.25  # ...and be this large, before the page is called sideways



@dataclass
class NormalisedPage:
    """A page ready for rule detection (`image`) and for review crops (`color`)."""

    image: np.ndarray  # uint8 grayscale, upright, deskewed, seal removed, background evened
    color: np.ndarray  # the same geometry as `image` but BGR, seal removed (for review crops)
    rotation: int  # 0/90/180/270: clockwise degrees the input was turned to become upright
    skew: float  # degrees of residual skew that was corrected: the content's clockwise tilt, or 0.0
    seal_fraction: float  # share of page pixels that were seal red
    notes: list[str] = field(default_factory=list)


def normalise_page(image: np.ndarray) -> NormalisedPage:
    """Seal off, quarter turn undone and level, background even; one full-resolution warp."""
    grey_in = image.ndim == 2 or image.shape[2] == 1
    color, seal = (image, 0.0) if grey_in else remove_red_seal(image)
    raw = _grey(color)
    small = _downscale(raw)
    level = even_background(small)  # estimates need an even background only on the small copy
    skew = _skew(_ink(level))
    skew = skew if abs(skew) >= SKEW_APPLY_MIN else 0.0
    rotation = _orientation(level, skew)
    if grey_in:  # warp one channel, not three
        turned = rotate_bound(raw, rotation - skew)
        color = cv2.cvtColor(turned, cv2.COLOR_GRAY2BGR)
    else:
        color = rotate_bound(color, rotation - skew)
        turned = cv2.cvtColor(color, cv2.COLOR_BGR2GRAY)
    return NormalisedPage(
        image=even_background(turned), color=color, rotation=rotation, skew=skew,
        seal_fraction=seal, notes=_notes(rotation, skew, seal, small),
    )


def remove_red_seal(bgr: np.ndarray) -> tuple[np.ndarray, float]:
    """Replace seal-red pixels by what the red channel sees through the seal.

    Red seal ink hardly dims the red channel, so there the red channel shows the paper or
    the print beneath: pure seal becomes paper, black text under the seal stays black."""
    if bgr.ndim == 2 or bgr.shape[2] == 1:
        return bgr.copy(), 0.0
    out = np.ascontiguousarray(bgr[:, :, :3]).copy()
    box = _red_box(out)
    if box is None:
        return out, 0.0
    roi = out[box[1] : box[3], box[0] : box[2]]
    hsv = cv2.cvtColor(roi, cv2.COLOR_BGR2HSV)
    mask = _red(hsv, SEAL_MIN_SAT, 0)  # dark red-black is print under the seal: remapped, not lost
    mask |= _red(hsv, SEAL_RIM_SAT, 0) & cv2.dilate(mask, np.ones((3, 3), np.uint8))  # the pale rim
    seal = mask > 0
    if seal[::4, ::4].all() or not seal.any():
        return out, 0.0
    paper = np.median(roi[::4, ::4][~seal[::4, ::4]], axis=0).astype(np.float32)  # a sample is enough
    red = roi[:, :, 2][seal].astype(np.float32)
    roi[seal] = np.clip(red[:, None] * (paper / max(float(np.median(red)), 1.0)), 0, 255).astype(np.uint8)
    return out, float(np.count_nonzero(seal)) / (out.shape[0] * out.shape[1])


def even_background(gray: np.ndarray) -> np.ndarray:
    """Divide by the paper's own brightness so that shadows don't binarise to black."""
    h, w = gray.shape[:2]
    bg = cv2.blur(_paper(gray), (BG_KERNEL, BG_KERNEL))
    bg = cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(gray, np.maximum(bg, 1), scale=255)


def estimate_skew(gray: np.ndarray) -> float:
    """Clockwise tilt of the page's rules and text lines, in degrees within ±SKEW_MAX."""
    return _skew(_ink(even_background(_downscale(_grey(gray)))))


def rotate_bound(image: np.ndarray, degrees: float) -> np.ndarray:
    """Turn clockwise, growing the canvas so nothing is cut off; new corners are white."""
    quarter = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    turn = round(degrees, 6) % 360
    if turn == 0:
        return image.copy()
    if turn in quarter:
        return cv2.rotate(image, quarter[int(turn)])
    m, size = _rotation(image.shape, degrees)
    return cv2.warpAffine(image, m, size, flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255, 255))


def coarse_orientation(gray: np.ndarray) -> int:
    """Clockwise quarter turn (0 or 90) that makes the page's text lines run across."""
    small = even_background(_downscale(_grey(gray)))
    return _orientation(small, _skew(_ink(small)))


# --- helpers -------------------------------------------------------------------------


def _grey(image: np.ndarray) -> np.ndarray:
    """Grey as given, or made from BGR(A): the estimators are forgiving about what they get."""
    if image.ndim == 2 or image.shape[2] == 1:
        return image.reshape(image.shape[:2])
    return cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_BGR2GRAY)


def _red(hsv: np.ndarray, min_sat: int, min_val: int) -> np.ndarray:
    low = cv2.inRange(hsv, (0, min_sat, min_val), (SEAL_HUE, 255, 255))
    high = cv2.inRange(hsv, (180 - SEAL_HUE, min_sat, min_val), (180, 255, 255))
    return low | high


def _red_box(bgr: np.ndarray) -> tuple[int, int, int, int] | None:
    """Where on the page there is red at all, looked for on a sparse copy: clean pages cost ~1 ms."""
    f = SEAL_SEARCH_SHRINK
    small = np.ascontiguousarray(bgr[::f, ::f])  # every f-th pixel: seal strokes are wider than f
    red = _red(cv2.cvtColor(small, cv2.COLOR_BGR2HSV), SEAL_MIN_SAT, SEAL_MIN_VAL)
    if np.count_nonzero(red) < SEAL_MIN_PIXELS:
        return None
    x, y, w, h = cv2.boundingRect(red)
    h_full, w_full = bgr.shape[:2]
    return max(0, x - 1) * f, max(0, y - 1) * f, min(w_full, (x + w + 1) * f), min(h_full, (y + h + 1) * f)


def _paper(gray: np.ndarray) -> np.ndarray:
    """Paper brightness on a copy BG_SHRINK times smaller: the brightest thing nearby."""
    f = BG_SHRINK if min(gray.shape[:2]) >= 4 * BG_SHRINK else 1
    small = cv2.resize(gray, None, fx=1 / f, fy=1 / f, interpolation=cv2.INTER_AREA) if f > 1 else gray
    return cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (BG_KERNEL, BG_KERNEL)))


def _rotation(shape: tuple[int, ...], degrees: float) -> tuple[np.ndarray, tuple[int, int]]:
    """Affine matrix of a clockwise turn about the centre, and the canvas that holds it all."""
    h, w = shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -degrees, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(round(h * sin + w * cos)), int(round(h * cos + w * sin))
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return m, (nw, nh)


def _downscale(gray: np.ndarray) -> np.ndarray:
    """An integer-factor reduction (OpenCV's fast path) to about WORK_SIDE on the short side."""
    factor = -(-min(gray.shape[:2]) // WORK_SIDE)
    if factor == 1:
        return gray
    return cv2.resize(gray, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)


def _ink(small: np.ndarray) -> np.ndarray:
    """Thin dark strokes (text and rules); big dark blobs such as scan borders are dropped."""
    otsu, _ = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    _, ink = cv2.threshold(small, min(otsu, INK_MAX), 255, cv2.THRESH_BINARY_INV)
    if np.count_nonzero(ink) > ink.size // 2:  # not a page of print on paper
        return np.zeros_like(ink)
    k = max(7, min(small.shape) // 60)
    blobs = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    return cv2.subtract(ink, cv2.dilate(blobs, np.ones((3, 3), np.uint8)))


def _skew(ink: np.ndarray) -> float:
    """Angle whose shear makes the row and column profiles of the ink most peaked."""
    points = cv2.findNonZero(ink)
    if points is None or len(points) < SKEW_MIN_INK:
        return 0.0
    xs, ys = points[:, 0, 0].astype(np.float32), points[:, 0, 1].astype(np.float32)
    offset = np.tan(np.radians(SKEW_MAX + 1)) * sum(ink.shape) + 1  # the same bins at every angle
    coarse = np.arange(-SKEW_MAX, SKEW_MAX + 1e-6, SKEW_COARSE_STEP)
    best = coarse[np.argmax([_peakedness(ys[::4], xs[::4], float(a), 2.0, offset) for a in coarse])]
    n = int(round(1.5 * SKEW_COARSE_STEP / SKEW_FINE_STEP))
    fine = best + SKEW_FINE_STEP * np.arange(-n, n + 1)
    scores = np.array([_peakedness(ys[::2], xs[::2], a, 1.0, offset) for a in fine])
    i = int(np.argmax(scores))
    if 0 < i < len(fine) - 1:  # parabola through the peak and its neighbours
        a, b, c = scores[i - 1 : i + 2]
        denom = a - 2 * b + c
        best = fine[i] + (0.5 * (a - c) / denom * SKEW_FINE_STEP if denom < 0 else 0.0)
    else:
        best = fine[i]
    return float(np.clip(best, -SKEW_MAX, SKEW_MAX))


def _peakedness(ys: np.ndarray, xs: np.ndarray, degrees: float, bin_px: float, offset: float) -> float:
    """Sum of squared profile bins once rows (and columns) are sheared level by `degrees`."""
    t = np.float32(np.tan(np.radians(degrees)))
    total = 0.0
    for coord in (ys - xs * t, xs + ys * t):
        bins = ((coord + np.float32(offset)) / bin_px).astype(np.int32)
        hist = np.bincount(bins).astype(np.float64)
        total += float(hist @ hist)
    return total


def _orientation(small: np.ndarray, skew: float) -> int:
    """Quarter turn from structure: which way the text lines run."""
    # the grey copy is levelled, not its ink, so that thin rules stay unbroken
    text = _text_only(_ink(small if skew == 0 else rotate_bound(small, -skew)))
    em = _em(text)
    if em == 0:
        return 0
    k, length = max(2, int(round(SMEAR_EMS * em))), max(4, int(LINE_EMS * em))
    across, down = _line_share(text, k, length), _line_share(np.ascontiguousarray(text.T), k, length)
    return 90 if down >= SIDEWAYS_RATIO * across and down >= SIDEWAYS_MIN_SHARE else 0


def _text_only(ink: np.ndarray) -> np.ndarray:
    """Ink minus the rules; a rule may wander a pixel sideways, hence the widening first."""
    k = max(15, min(ink.shape) // RULE_FRACTION)
    across, down = np.ones((1, k), np.uint8), np.ones((k, 1), np.uint8)
    rules = cv2.morphologyEx(cv2.dilate(ink, down[:3]), cv2.MORPH_OPEN, across)
    rules |= cv2.morphologyEx(cv2.dilate(ink, across[:, :3]), cv2.MORPH_OPEN, down)
    return cv2.subtract(ink, cv2.dilate(rules, np.ones((3, 3), np.uint8)))


def _em(text: np.ndarray) -> float:
    """Typical character size: the median extent of the ink's connected pieces."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(text, connectivity=8)
    stats = stats[1:][stats[1:, 4] >= 3]
    return float(np.median(np.maximum(stats[:, 2], stats[:, 3]))) if len(stats) >= 5 else 0.0


def _line_share(text: np.ndarray, k: int, length: int) -> float:
    """Share of ink in horizontal runs `length` long once gaps up to `k` are bridged."""
    smeared = cv2.morphologyEx(text, cv2.MORPH_CLOSE, np.ones((1, k), np.uint8))
    runs = cv2.morphologyEx(smeared, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    return np.count_nonzero(runs & text) / max(1, int(np.count_nonzero(text)))


def _notes(rotation: int, skew: float, seal: float, small: np.ndarray) -> list[str]:
    notes = []
    if rotation:
        notes.append(f"rotated {rotation}°")
    if skew:
        notes.append(f"deskewed by {skew:+.2f}°")
    if seal >= SEAL_NOTE_MIN:
        notes.append(f"removed a red seal ({seal:.1%} of the page)")
    darkest = int(_paper(small).min())
    if darkest < BG_NOTE_BELOW:
        notes.append(f"evened an uneven background (paper down to {darkest}/255)")
    return notes
