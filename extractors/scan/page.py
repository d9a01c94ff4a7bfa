"""One page image to text blocks and tables: normalise, find grids, OCR, fill the cells."""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from gongkai.models import BBox, Cell, GridTable, TextBlock

from ..ocr.base import OcrBackend, crop
from ..tablejoin import TablePart
from .cells import add_ink_boxes, assign_lines, group_lines, read_cells, to_cell
from .grid import find_grids
from .normalise import normalise_page

EDGE_TOLERANCE_FRACTION = 0.012  # of the page width: column rules of two pages' table parts agree within this
DET_MAX_WIDTH = 1200  # px: pages are shrunk to this for line detection (A4 at 200 dpi: 10.5 pt text ~20 px)
MIN_INK_SHARE = 0.002  # a page with less dark area than this is blank


@dataclass
class ScannedPage:
    number: int
    width: int
    height: int
    image: np.ndarray  # the normalised grayscale page: the space of every bbox it yields
    items: list[TextBlock | TablePart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_page(number: int, image: np.ndarray, backend: OcrBackend) -> ScannedPage:
    if _is_blank(image):
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        return ScannedPage(number, gray.shape[1], gray.shape[0], gray, notes=["blank page"])
    norm = normalise_page(image, upright_score=lambda img: upright_score(backend, img))
    gray = norm.image
    page = ScannedPage(number, gray.shape[1], gray.shape[0], gray, notes=list(norm.notes))
    bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    grids = find_grids(gray)
    tables, outside = assign_lines(grids, detect_lines(backend, bgr))
    add_ink_boxes(tables, gray)
    read_cells(tables, bgr, backend)
    tolerance = EDGE_TOLERANCE_FRACTION * gray.shape[1]
    parts = [_part(number, grid, [to_cell(c, number) for c in cells], tolerance) for grid, cells in zip(grids, tables)]
    page.items = sorted([*_text_blocks(number, outside, bgr, backend), *parts], key=lambda it: it.bbox[1])
    return page


def detect_lines(backend: OcrBackend, image: np.ndarray) -> list[BBox]:
    """Text line boxes, found on a copy shrunk to DET_MAX_WIDTH (detection cost grows with area)."""
    scale = min(1.0, DET_MAX_WIDTH / image.shape[1])
    if scale == 1.0:
        return backend.detect(image)
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return [(x0 / scale, y0 / scale, x1 / scale, y1 / scale) for x0, y0, x1, y1 in backend.detect(small)]


def upright_score(backend: OcrBackend, image: np.ndarray) -> float:
    """Mean character confidence of the text lines in `image`: high when the text stands upright.

    `image` is a few single text lines stacked (normalise's sample), so the lines are cut
    apart by blank rows and read directly: running the detector on a small image costs
    more than the reading, as it scales the image up to its working size first.
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    strips = [cv2.cvtColor(gray[y0:y1], cv2.COLOR_GRAY2BGR) for y0, y1 in _ink_row_runs(gray)]
    confidences = [c for r in backend.recognise(strips) for c in r.char_confidences]
    return float(np.mean(confidences)) if confidences else 0.0


def _ink_row_runs(gray: np.ndarray, pad: int = 4) -> list[tuple[int, int]]:
    inked = np.flatnonzero((gray < 128).any(axis=1))
    if inked.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(inked) > 1)
    starts, ends = np.r_[inked[0], inked[breaks + 1]], np.r_[inked[breaks], inked[-1]]
    return [(max(int(a) - pad, 0), int(b) + pad + 1) for a, b in zip(starts, ends) if b - a >= 6]


def _is_blank(image: np.ndarray) -> bool:
    """Nothing darker than paper: no page content to normalise or read (colour noise is not ink)."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, (max(gray.shape[1] // 4, 1), max(gray.shape[0] // 4, 1)), interpolation=cv2.INTER_AREA)
    return float((small < 200).mean()) < MIN_INK_SHARE  # strokes thinner than 4 px average out grey


def _text_blocks(number: int, boxes: list[BBox], image: np.ndarray, backend: OcrBackend) -> list[TextBlock]:
    readings = backend.recognise([crop(image, b) for b in boxes])
    pieces = [(b, r.text) for b, r in zip(boxes, readings) if r.text.strip()]
    return [TextBlock(text=text, page=number, bbox=bbox) for bbox, text in group_lines(pieces)]


def _part(number: int, grid: GridTable, cells: list[Cell], tolerance: float) -> TablePart:
    return TablePart(page=number, bbox=grid.bbox, bounds=list(grid.col_lines), n_rows=grid.n_rows, cells=cells,
                     edge_tolerance=tolerance, last_page=number, last_bottom=grid.bbox[3])
