"""The one interface every OCR backend implements, and the steps shared by all of them.

A backend finds text lines on an image and reads line crops; it knows nothing of
tables. Everything above it (which crops to read, how to judge a number) lives in
extractors/scan/ and works the same whatever backend is configured.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from gongkai.models import BBox, OcrLine, Reading

NUMERIC_CHARSET = "0123456789.,+-%万元"
"""What a numeric table cell may hold; a reading constrained to it is the digits-aware pass."""
VERTICAL_RATIO = 2.2  # a text box this many times taller than wide is set vertically


class OcrBackend(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> list[BBox]:
        """Axis-aligned boxes of the text lines on `image` (BGR), in its pixels."""
        ...

    def recognise(self, crops: Sequence[np.ndarray], charset: str | None = None) -> list[Reading]:
        """Read each single-line crop (BGR); with `charset`, also a reading limited to those characters."""
        ...


def read_lines(backend: OcrBackend, image: np.ndarray) -> list[OcrLine]:
    """Detect and read every text line of `image`: image in, lines with box, text, confidence out."""
    boxes = backend.detect(image)
    readings = backend.recognise([crop(image, box) for box in boxes])
    return [to_line(box, reading) for box, reading in zip(boxes, readings) if reading.text.strip()]


def to_line(box: BBox, reading: Reading) -> OcrLine:
    return OcrLine(bbox=box, text=reading.text, confidence=round(reading.confidence, 4),
                   char_confidences=[round(c, 4) for c in reading.char_confidences])


class BoxReader:
    """The readings of one page image's line boxes, each box read once.

    Lines read to decide which way up a page is are read again neither as text nor as
    cells. Every box is read with the digits-aware pass too: which boxes are table
    cells is not known when the first are read, and the constrained decode of the same
    pass costs little.
    """

    def __init__(self, backend: OcrBackend, image: np.ndarray) -> None:
        self.backend, self.image = backend, image
        self._known: dict[BBox, Reading] = {}

    def read(self, boxes: Sequence[BBox]) -> list[Reading]:
        missing = [b for b in dict.fromkeys(boxes) if b not in self._known]
        if missing:
            readings = self.backend.recognise([line_image(self.image, b) for b in missing], NUMERIC_CHARSET)
            self._known.update(zip(missing, readings))
        return [self._known[b] for b in boxes]


def line_image(image: np.ndarray, box: BBox) -> np.ndarray:
    """The crop of one text line; a vertical one (a tall label cell set one character per line)
    is cut into character squares laid side by side, as the recogniser reads left to right."""
    piece = crop(image, box)
    h, w = piece.shape[:2]
    if w == 0 or h < VERTICAL_RATIO * w:
        return piece
    n = max(1, round(h / w))
    step = h / n
    squares = [piece[int(i * step):int((i + 1) * step)] for i in range(n)]
    height = min(s.shape[0] for s in squares)
    return np.hstack([s[:height] for s in squares])


def crop(image: np.ndarray, box: BBox) -> np.ndarray:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    h, w = image.shape[:2]
    return image[max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)]


def detect_in_tiles(
    image: np.ndarray, tile: int, overlap: int, detect_tile: Callable[[np.ndarray], list[BBox]]
) -> list[BBox]:
    """Line boxes of a tall image, detected tile by tile so that no tile is shrunk.

    Detectors shrink their input to a maximum side; on a tall screenshot that turned 0
    into U and 本 into 木. A line cut by a tile's edge is whole in the next tile: each
    tile keeps the boxes centred in its own stretch.
    """
    h = image.shape[0]
    if h <= tile * 1.2:
        return sorted(detect_tile(image), key=lambda b: (b[1], b[0]))
    boxes: list[BBox] = []
    step = tile - overlap
    for top in range(0, h, step):
        keep_to = top + step + overlap / 2 if top + tile < h else h
        keep_from = top + overlap / 2 if top else 0
        found = [(b[0], b[1] + top, b[2], b[3] + top) for b in detect_tile(image[top:top + tile])]
        boxes += [b for b in found if keep_from <= (b[1] + b[3]) / 2 < keep_to]
        if top + tile >= h:  # this tile reached the bottom
            break
    return sorted(boxes, key=lambda b: (b[1], b[0]))


def quad_box(quad: np.ndarray) -> BBox:
    """The axis-aligned box around a detector's four-point polygon."""
    points = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return (float(x0), float(y0), float(x1), float(y1))
