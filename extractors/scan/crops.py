"""PNGs of scanned cells and pages, so a reviewer sees the cell as printed beside its value.

Both are cut from the normalised page image the OCR read: the pixel space of every bbox.
"""
from __future__ import annotations

import cv2
import numpy as np

from gongkai.models import FieldValue

CROP_MARGIN = 6  # pixels of the neighbouring rules kept around the cell, so it reads as a cell
# A page is shown whole, for orientation; 16 grey levels (white stays white, black black) read as
# well by eye and make a 200 dpi page ~9x smaller than its 256 levels of scanner noise (~180 KiB).
PAGE_GREY_LEVELS = np.minimum(np.arange(256) // 16 * 17, 255).astype(np.uint8)
PAGE_PNG_COMPRESSION = 6  # zlib level: 9 is 6x slower for 5 % less


def review_crops(fields: list[FieldValue], page_images: dict[int, np.ndarray]) -> dict[str, bytes]:
    """field id -> PNG of its cell, for every field that goes to review and was read from an image."""
    crops = {}
    for f in fields:
        image = page_images.get(f.page) if f.page is not None else None
        if f.status != "needs_review" or image is None or f.bbox is None:
            continue
        png = cell_png(image, f.bbox)
        if png is not None:
            crops[f.id] = png
    return crops


def cell_png(image: np.ndarray, bbox: tuple[float, float, float, float]) -> bytes | None:
    h, w = image.shape[:2]
    x0, y0 = max(int(bbox[0]) - CROP_MARGIN, 0), max(int(bbox[1]) - CROP_MARGIN, 0)
    x1, y1 = min(int(bbox[2]) + CROP_MARGIN, w), min(int(bbox[3]) + CROP_MARGIN, h)
    if x1 <= x0 or y1 <= y0:
        return None
    ok, encoded = cv2.imencode(".png", image[y0:y1, x0:x1])
    return encoded.tobytes() if ok else None


def page_pngs(fields: list[FieldValue], page_images: dict[int, np.ndarray]) -> dict[int, bytes]:
    """page number -> grey PNG of each normalised page image that holds any of the fields."""
    pages = sorted({f.page for f in fields if f.page is not None and f.page in page_images})
    encoded = {number: page_png(page_images[number]) for number in pages}
    return {number: png for number, png in encoded.items() if png is not None}


def page_png(image: np.ndarray) -> bytes | None:
    """The page in its own pixel space (same size, so every bbox still fits), grey, in 16 levels."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    ok, encoded = cv2.imencode(".png", PAGE_GREY_LEVELS[gray], [cv2.IMWRITE_PNG_COMPRESSION, PAGE_PNG_COMPRESSION])
    return encoded.tobytes() if ok else None
