"""The optional backend: PP-OCR models run by paddleocr 3.x (pip install 'gongkai[paddle]').

paddleocr's own constructors download their models, which fails offline. This backend
only ever gives paddleocr local model folders, each holding `inference.onnx` +
`inference.yml`, and runs them with `engine="onnxruntime"` (no paddlepaddle needed).
`python scripts/make_paddle_model_dirs.py` builds the two folders from the ONNX models
in rapidocr's wheel (PP-OCRv6 small, the same models as the default backend). The model
name is read from each folder's `inference.yml`, so another PP-OCR det/rec folder in that
layout should work as well (only the PP-OCRv6 small pair has been tried).

Detection is paddleocr's TextDetection with the thresholds of paddleocr's OCR pipeline;
recognition is its TextRecognition on each crop. Only those two models run: the
document-orientation, unwarping and text-line-orientation (180°) models of the full
pipeline are never loaded (with the 180° classifier on, PP-OCR read 6 as 9 in table cells).

Differences from the rapidocr backend, same models: confidences are paddleocr's line
score (mean character probability) given to every character, not per-character
probabilities, so a line's `confidence` is higher than rapidocr's for the same crop
(0.95-1.0 where rapidocr gives 0.7-0.9 on table headers); `charset` is not honoured
(see recognise). On sample table crops both read the same text, digits exactly.

Nothing of paddleocr is imported or loaded until the first detect/recognise call.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from gongkai.models import BBox

from .base import Reading, detect_in_tiles, quad_box

# paddleocr's OCR pipeline defaults (paddlex/configs/pipelines/OCR.yaml, TextDetection).
DET_LIMIT_SIDE_LEN = 64
DET_LIMIT_TYPE = "min"
DET_MAX_SIDE = 4000  # paddlex shrinks longer sides to this; taller images are cut into tiles instead
DET_OVERLAP = 160  # a line cut by a tile edge is whole in the next tile
DET_THRESH = 0.3
DET_BOX_THRESH = 0.6
DET_UNCLIP_RATIO = 1.5

SETUP_HINT = ("build the model folders with `python scripts/make_paddle_model_dirs.py` and set "
              "GONGKAI_PADDLE_DET_DIR / GONGKAI_PADDLE_REC_DIR (or paddleocr.text_detection_model_dir / "
              "text_recognition_model_dir in config/ocr.yaml) to the two paths it prints")
INSTALL_HINT = "pip install 'gongkai[paddle]'"


class PaddleOcrBackend:
    """OcrBackend on paddleocr's TextDetection + TextRecognition, from local model folders.

    `det_dir` / `rec_dir`: folders holding inference.onnx + inference.yml (see
    scripts/make_paddle_model_dirs.py). Construction only stores them; models load on
    the first detect/recognise call, and a missing folder or a missing paddleocr is a
    RuntimeError saying what to do.
    """

    name = "paddleocr"

    def __init__(self, det_dir: str | None = None, rec_dir: str | None = None) -> None:
        self.det_dir = det_dir
        self.rec_dir = rec_dir
        self._lock = threading.Lock()

    # ------------------------------------------------------------ loading
    @cached_property
    def _detector(self) -> Any:
        model_dir, model_name = _model_folder(self.det_dir, "detection", "GONGKAI_PADDLE_DET_DIR")
        paddleocr = _import_paddleocr()
        return paddleocr.TextDetection(
            model_name=model_name, model_dir=str(model_dir), engine="onnxruntime", device="cpu",
            limit_side_len=DET_LIMIT_SIDE_LEN, limit_type=DET_LIMIT_TYPE,
            thresh=DET_THRESH, box_thresh=DET_BOX_THRESH, unclip_ratio=DET_UNCLIP_RATIO)

    @cached_property
    def _recogniser(self) -> Any:
        model_dir, model_name = _model_folder(self.rec_dir, "recognition", "GONGKAI_PADDLE_REC_DIR")
        paddleocr = _import_paddleocr()
        return paddleocr.TextRecognition(
            model_name=model_name, model_dir=str(model_dir), engine="onnxruntime", device="cpu")

    # ------------------------------------------------------------ detection
    def detect(self, image: np.ndarray) -> list[BBox]:
        """Axis-aligned boxes of the text lines on `image` (BGR), in its pixels, top to bottom."""
        return detect_in_tiles(_bgr(image), DET_MAX_SIDE, DET_OVERLAP, self._detect_tile)

    def _detect_tile(self, image: np.ndarray) -> list[BBox]:
        detector = self._detector
        with self._lock:
            result = detector.predict(image, max_side_limit=DET_MAX_SIDE)[0]
        return [quad_box(q) for q in result["dt_polys"]]

    # ------------------------------------------------------------ recognition
    def recognise(self, crops: Sequence[np.ndarray], charset: str | None = None) -> list[Reading]:
        """Read each single-line crop (BGR) with paddleocr's TextRecognition.

        paddleocr gives one score per line (the mean of its characters' probabilities),
        so every character of a reading gets that line score as its confidence.

        `charset` is accepted for the interface but NOT honoured: paddleocr's CTC decoder
        cannot be restricted to a character set (it returns text and score, not the
        per-step probabilities), so the normal, unconstrained reading is returned and
        `Reading.constrained` stays None, as the interface allows. The digits-aware pass
        (base.NUMERIC_CHARSET) therefore only has an effect with the rapidocr backend.
        """
        del charset  # see the docstring: paddleocr cannot constrain decoding
        out: list[Reading] = []
        for crop in crops:
            if crop.size == 0 or min(crop.shape[:2]) < 2:
                out.append(Reading("", ()))
                continue
            out.append(self._read(_bgr(crop)))
        return out

    def _read(self, crop: np.ndarray) -> Reading:
        # One crop per call: paddlex pads every crop of a batch to the widest one, so a
        # batch mixing long lines and one-digit cells cost 3-4x more than crop by crop.
        recogniser = self._recogniser
        with self._lock:
            result = recogniser.predict(np.ascontiguousarray(crop))[0]
        text = result["rec_text"]
        if isinstance(text, tuple):  # (text, word boxes) when return_word_box is on
            text = text[0]
        score = float(result["rec_score"])
        return Reading(text, (score,) * len(text))


def _model_folder(path: str | None, what: str, env: str) -> tuple[Path, str]:
    """The folder and the model name its inference.yml declares, or a RuntimeError saying what to do."""
    if not path:
        raise RuntimeError(f"paddleocr backend: no text-{what} model folder is configured ({env}); "
                           + SETUP_HINT)
    folder = Path(path).expanduser()
    missing = [f for f in ("inference.onnx", "inference.yml") if not (folder / f).is_file()]
    if missing:
        state = "does not exist" if not folder.is_dir() else f"lacks {', '.join(missing)}"
        raise RuntimeError(f"paddleocr backend: text-{what} model folder {folder} {state}; " + SETUP_HINT)
    import yaml

    with open(folder / "inference.yml", encoding="utf-8") as f:
        config = yaml.safe_load(f) or {}
    name = (config.get("Global") or {}).get("model_name")
    if not name:
        raise RuntimeError(f"paddleocr backend: {folder / 'inference.yml'} names no Global.model_name; "
                           + SETUP_HINT)
    return folder, name


def _import_paddleocr() -> Any:
    # Without this paddlex probes the model hosting sites (no network here) before loading.
    os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
    try:
        import paddleocr
    except ImportError as e:
        raise RuntimeError(f"paddleocr backend: paddleocr is not installed ({e}); {INSTALL_HINT}, then "
                           + SETUP_HINT) from e
    return paddleocr


def _bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image
