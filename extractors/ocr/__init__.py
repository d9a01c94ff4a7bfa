"""OCR backends behind one small interface (base.OcrBackend); the configured one is loaded once."""
from __future__ import annotations

import os
import threading
from typing import Any

from gongkai.config import load_ocr_settings

from .base import OcrBackend, Reading, read_lines

__all__ = ["OcrBackend", "Reading", "backend_from_settings", "default_backend", "read_lines"]

_lock = threading.Lock()
_backend: OcrBackend | None = None


def backend_from_settings(settings: dict[str, Any]) -> OcrBackend:
    """The backend the settings name; environment variables override the file."""
    name = os.environ.get("GONGKAI_OCR_BACKEND", settings["backend"])
    if name == "rapidocr":
        from .rapid import RapidOcrBackend

        return RapidOcrBackend(**settings.get("rapidocr", {}))
    if name == "paddleocr":
        from .paddle import PaddleOcrBackend

        paddle = settings.get("paddleocr", {})
        return PaddleOcrBackend(
            det_dir=os.environ.get("GONGKAI_PADDLE_DET_DIR", paddle.get("text_detection_model_dir")),
            rec_dir=os.environ.get("GONGKAI_PADDLE_REC_DIR", paddle.get("text_recognition_model_dir")),
        )
    raise ValueError(f"unknown OCR backend {name!r} (config/ocr.yaml): use rapidocr or paddleocr")


def default_backend() -> OcrBackend:
    """The configured backend, created on first use and shared: models load once per process."""
    global _backend
    with _lock:
        if _backend is None:
            _backend = backend_from_settings(load_ocr_settings())
        return _backend
