"""The embedded default backend: PP-OCR models bundled in rapidocr's wheel (no download).

Detection is rapidocr's own. Recognition runs the bundled ONNX recogniser directly:
rapidocr pads every crop of a batch to at least 320 px wide, so a one-digit table
cell cost as much as a full line (15 ms instead of 3 ms on 2 cores, most of a
page's time). Reading each crop at its own width also gives the per-time-step
probabilities that the digits-aware pass and per-character confidence need.
The 180° text-line classifier stays off: with it on, PP-OCR read 6 as 9 in table cells.
"""
from __future__ import annotations

import math
import threading
from functools import cached_property
from typing import Any, Sequence

import cv2
import numpy as np

from gongkai.models import BBox

from .base import Reading

REC_HEIGHT = 48  # the recogniser's input height
MIN_REC_WIDTH = 32
MAX_REC_RATIO = 40  # wider crops (over-long lines) are squeezed rather than fed at full width
DET_TILE = 2000  # rapidocr shrinks longer sides to this; taller images are cut into tiles instead
DET_OVERLAP = 160  # a line cut by a tile edge is whole in the next tile


class RapidOcrBackend:
    name = "rapidocr"

    def __init__(self, det_model_path: str | None = None, rec_model_path: str | None = None) -> None:
        self._params: dict[str, Any] = {"Global.use_cls": False, "Global.log_level": "error",
                                        "Global.max_side_len": DET_TILE}
        if det_model_path:
            self._params["Det.model_path"] = det_model_path
        if rec_model_path:
            self._params["Rec.model_path"] = rec_model_path
        self._lock = threading.Lock()

    @cached_property
    def _engine(self) -> Any:
        from rapidocr import RapidOCR  # deferred: loading ONNX sessions costs ~2 s

        return RapidOCR(params=self._params)

    @cached_property
    def _recogniser(self) -> tuple[Any, list[str]]:
        rec = self._engine._load_rec_model()
        return rec.session, rec.postprocess_op.character

    # ------------------------------------------------------------ detection
    def detect(self, image: np.ndarray) -> list[BBox]:
        h = image.shape[0]
        if h <= DET_TILE * 1.2:
            return self._detect_tile(image, 0)
        boxes: list[BBox] = []
        step = DET_TILE - DET_OVERLAP
        for top in range(0, h, step):
            tile = image[top:top + DET_TILE]
            keep_to = top + step + DET_OVERLAP / 2 if top + DET_TILE < h else h
            keep_from = top + DET_OVERLAP / 2 if top else 0
            boxes += [b for b in self._detect_tile(tile, top) if keep_from <= (b[1] + b[3]) / 2 < keep_to]
            if top + DET_TILE >= h:  # this tile reached the bottom
                break
        return boxes

    def _detect_tile(self, image: np.ndarray, top: int) -> list[BBox]:
        with self._lock:
            result = self._engine(image, use_cls=False, use_rec=False)
        if result.boxes is None:
            return []
        out = []
        for quad in result.boxes:
            x0, y0 = quad.min(axis=0)
            x1, y1 = quad.max(axis=0)
            out.append((float(x0), float(y0) + top, float(x1), float(y1) + top))
        return sorted(out, key=lambda b: (b[1], b[0]))

    # ------------------------------------------------------------ recognition
    def recognise(self, crops: Sequence[np.ndarray], charset: str | None = None) -> list[Reading]:
        session, characters = self._recogniser
        allowed = _allowed_mask(characters, charset)
        name = session.get_input_names()[0] if hasattr(session, "get_input_names") else None
        out = []
        for crop in crops:
            if crop.size == 0 or min(crop.shape[:2]) < 2:
                out.append(Reading("", ()))
                continue
            with self._lock:
                probs = _run(session, name, _prepare(crop))
            constrained = _decode(probs, characters, allowed) if allowed is not None else None
            free = _decode(probs, characters, None)
            out.append(Reading(free.text, free.char_confidences, constrained))
        return out


def _run(session: Any, name: str | None, batch: np.ndarray) -> np.ndarray:
    result = session(batch) if name is None else session.session.run(None, {name: batch})[0]
    return result[0]


def _prepare(crop: np.ndarray) -> np.ndarray:
    if crop.ndim == 2:
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
    h, w = crop.shape[:2]
    width = min(max(MIN_REC_WIDTH, math.ceil(REC_HEIGHT * w / h)), REC_HEIGHT * MAX_REC_RATIO)
    resized = cv2.resize(crop, (width, REC_HEIGHT)).astype(np.float32)
    normed = (resized.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
    return normed[np.newaxis].astype(np.float32)


def _allowed_mask(characters: list[str], charset: str | None) -> np.ndarray | None:
    if charset is None:
        return None
    mask = np.array([i == 0 or c in charset for i, c in enumerate(characters)])
    return mask


def _decode(probs: np.ndarray, characters: list[str], allowed: np.ndarray | None) -> Reading:
    """Greedy CTC: best class per time step, repeats collapsed, blanks dropped.

    With a charset, the best class among the allowed ones (blank always allowed), and a
    character's confidence is its probability renormalised over the allowed classes: a
    digit that wins only because the text it really is was forbidden stays weak.
    """
    if allowed is not None:
        probs = np.where(allowed, probs, 0.0)
        probs = probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-9)
    best = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    text, confs = [], []
    previous = -1
    for t, idx in enumerate(best):
        if idx != 0 and idx != previous:
            text.append(characters[idx])
            confs.append(float(conf[t]))
        elif idx == previous and idx != 0 and confs:
            confs[-1] = max(confs[-1], float(conf[t]))
        previous = idx
    return Reading("".join(text), tuple(confs))
