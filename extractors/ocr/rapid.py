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
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from gongkai.models import BBox

from .base import Reading, detect_in_tiles, quad_box

REC_HEIGHT = 48  # the recogniser's input height
MIN_REC_WIDTH = 32
MAX_REC_RATIO = 40  # wider crops (over-long lines) are squeezed rather than fed at full width
REC_MODEL = "PP-OCRv6_rec_small.onnx"  # in rapidocr's wheel
REC_WORKERS = min(2, os.cpu_count() or 1)
DET_TILE = 2000  # rapidocr shrinks longer sides to this; taller images are cut into tiles instead
DET_OVERLAP = 160  # a line cut by a tile edge is whole in the next tile


class RapidOcrBackend:
    name = "rapidocr"

    def __init__(self, det_model_path: str | None = None, rec_model_path: str | None = None) -> None:
        # rapidocr's detector enlarges an image until its short side is 736 px: a half page or
        # a wide strip would cost as much as a full page. The pipeline scales pages itself.
        self._params: dict[str, Any] = {"Global.use_cls": False, "Global.log_level": "error",
                                        "Global.max_side_len": DET_TILE,
                                        "Det.limit_type": "max", "Det.limit_side_len": DET_TILE}
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
    def _recogniser(self) -> tuple[list[Any], list[str]]:
        """One single-threaded session per core: two crops read side by side beat one crop
        read on two threads (the recogniser's layers are too small to split well)."""
        import onnxruntime as ort

        path = self._params.get("Rec.model_path") or str(_bundled_model_dir() / REC_MODEL)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        sessions = [ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
                    for _ in range(REC_WORKERS)]
        characters = sessions[0].get_modelmeta().custom_metadata_map["character"].splitlines()
        return sessions, ["blank", *characters, " "]  # CTC blank first; the space class last

    # ------------------------------------------------------------ detection
    def detect(self, image: np.ndarray) -> list[BBox]:
        return detect_in_tiles(image, DET_TILE, DET_OVERLAP, self._detect_tile)

    def _detect_tile(self, image: np.ndarray) -> list[BBox]:
        with self._lock:
            result = self._engine(image, use_cls=False, use_rec=False)
        return [] if result.boxes is None else [quad_box(q) for q in result.boxes]

    # ------------------------------------------------------------ recognition
    def recognise(self, crops: Sequence[np.ndarray], charset: str | None = None) -> list[Reading]:
        sessions, characters = self._recogniser
        allowed = _allowed_mask(characters, charset)
        out: list[Reading] = [Reading("", ())] * len(crops)
        # Widest crops first, each session taking the next one as it comes free: both cores
        # stay busy to the end instead of one waiting on the other's long lines.
        queue = iter(sorted(range(len(crops)), key=lambda i: -_rec_width(crops[i])))
        taking = threading.Lock()

        def read_queue(k: int) -> None:
            session, name = sessions[k], sessions[k].get_inputs()[0].name
            while True:
                with taking:
                    i = next(queue, None)
                if i is None:
                    return
                out[i] = _read(session, name, crops[i], characters, allowed)

        with ThreadPoolExecutor(len(sessions)) as pool:
            list(pool.map(read_queue, range(len(sessions))))
        return out


def _read(session: Any, name: str, crop: np.ndarray, characters: list[str], allowed: np.ndarray | None) -> Reading:
    if crop.size == 0 or min(crop.shape[:2]) < 2:
        return Reading("", ())
    probs = session.run(None, {name: _prepare(crop)})[0][0]
    constrained = _decode(probs, characters, allowed) if allowed is not None else None
    free = _decode(probs, characters, None)
    return Reading(free.text, free.char_confidences, constrained)


def _bundled_model_dir() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).parent / "models"


def _rec_width(crop: np.ndarray) -> int:
    """The width the recogniser reads `crop` at (its cost grows with it)."""
    h, w = crop.shape[:2]
    return min(max(MIN_REC_WIDTH, math.ceil(REC_HEIGHT * w / max(h, 1))), REC_HEIGHT * MAX_REC_RATIO)


def _prepare(crop: np.ndarray) -> np.ndarray:
    if crop.ndim == 2:
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
    width = _rec_width(crop)
    resized = cv2.resize(crop, (width, REC_HEIGHT)).astype(np.float32)
    normed = (resized.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
    return normed[np.newaxis].astype(np.float32)


def _allowed_mask(characters: list[str], charset: str | None) -> np.ndarray | None:
    """The class indices a reading limited to `charset` may use (the CTC blank always)."""
    if charset is None:
        return None
    return np.array([i for i, c in enumerate(characters) if i == 0 or c in charset])


def _decode(probs: np.ndarray, characters: list[str], allowed: np.ndarray | None) -> Reading:
    """Greedy CTC: best class per time step, repeats collapsed, blanks dropped.

    With a charset, the best class among the allowed ones (blank always allowed), and a
    character's confidence is its probability renormalised over the allowed classes: a
    digit that wins only because the text it really is was forbidden stays weak.
    """
    if allowed is not None:
        probs = probs[:, allowed]
        probs = probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-9)
    picked = probs.argmax(axis=1)
    best = picked if allowed is None else allowed[picked]
    conf = probs[np.arange(len(picked)), picked]
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
