"""Page images from scanned PDFs and image files, with limits that keep memory bounded.

Image headers are checked before any pixel is decoded: a 20000×20000 image or a
decompression bomb is refused from its declared size, never allocated.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageSequence, UnidentifiedImageError

from gongkai.extractors.readers.base import ReaderError, check_file_size
from gongkai.models import PageImage

MAX_IMAGE_BYTES = 100 * 1024 * 1024
MAX_IMAGE_PIXELS = 60_000_000  # ~A3 at 600 dpi, or a 1000×60000 stitched screenshot
MAX_FRAMES = 300
PDF_DPI = 200  # enough for 10.5 pt table digits; 300 dpi cost twice the OCR time and read no better
MAX_PDF_PAGE_PIXELS = 40_000_000  # a huge page box is rendered at a lower dpi instead


def image_pages(path: Path) -> Iterator[PageImage]:
    """Every frame of a PNG, JPEG or (multi-page) TIFF, as BGR."""
    check_file_size(path, MAX_IMAGE_BYTES, "an image")
    Image.MAX_IMAGE_PIXELS = None  # our own check below says what is wrong, Pillow's warning would not
    try:
        with Image.open(path) as img:
            _check_pixels(path, img.size)
            for number, frame in enumerate(ImageSequence.Iterator(img), start=1):
                if number > MAX_FRAMES:
                    raise ReaderError("too-large", f"{path.name} has more than {MAX_FRAMES} frames")
                yield _decoded(path, number, frame)
    except (UnidentifiedImageError, SyntaxError) as exc:
        raise ReaderError("corrupt", f"{path.name} is not a readable image: {exc}") from exc


def _check_pixels(path: Path, size: tuple[int, int]) -> None:
    w, h = size
    if w * h > MAX_IMAGE_PIXELS:
        raise ReaderError("too-large", f"{path.name} is {w}×{h} pixels; images over "
                          f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels are refused (decompression bomb guard)")


def _decoded(path: Path, number: int, frame: Image.Image) -> PageImage:
    try:
        _check_pixels(path, frame.size)
        rgb = as_rgb(frame)
    except (OSError, ValueError) as exc:  # truncated or corrupt data shows only when pixels are decoded
        return PageImage(number, None, f"frame {number} cannot be decoded: {exc}")
    dpi = frame.info.get("dpi", (None,))[0]
    return PageImage(number, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), dpi=float(dpi) if dpi else None)


def as_rgb(frame: Image.Image) -> np.ndarray:
    """8-bit RGB pixels of any mode a scanner writes.

    Pillow's convert("RGB") clips 16-bit and 32-bit greyscale at 255 (a white page) and
    drops an alpha channel (transparent paper turns black): those are scaled and
    composited on white here; the other modes (1-bit, P, CMYK, YCbCr) convert as they are.
    """
    if frame.mode in _WIDE_GREY:
        return np.repeat(_scaled_grey(np.asarray(frame))[:, :, None], 3, axis=2)
    if frame.mode in _WITH_ALPHA or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(frame.convert("RGB"))


_WIDE_GREY = {"I", "F", "I;16", "I;16B", "I;16L", "I;16N"}
_WITH_ALPHA = {"LA", "La", "PA", "RGBA", "RGBa"}


def _scaled_grey(values: np.ndarray) -> np.ndarray:
    """Greyscale of more than 8 bits to 0–255 by its bit depth (12-bit data stays 12-bit, not stretched)."""
    pixels = values.astype(np.float64)
    if not pixels.size:
        return pixels.astype(np.uint8)
    low, high = float(pixels.min()), float(pixels.max())
    if values.dtype.kind == "f" and low >= 0 and high <= 1.0:
        scaled = pixels * 255.0  # float samples in 0–1
    elif low < 0:
        scaled = (pixels - low) * 255.0 / max(high - low, 1e-9)  # signed data: its own range
    else:
        scaled = pixels * 255.0 / (2 ** max(8, int(high).bit_length()) - 1)
    return np.clip(scaled, 0, 255).round().astype(np.uint8)


def pdf_pages(path: Path, numbers: list[int] | None = None, dpi: int = PDF_DPI) -> Iterator[PageImage]:
    """PDF pages rendered at `dpi`; a page that fails to render is an error for that page only."""
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise ReaderError("corrupt", f"{path.name} is not a readable PDF: {exc}") from exc
    try:
        for number in numbers or range(1, len(pdf) + 1):
            yield _render(pdf, number, dpi)
    finally:
        pdf.close()


def _render(pdf: pdfium.PdfDocument, number: int, dpi: int) -> PageImage:
    try:
        page = pdf[number - 1]
        w, h = page.get_size()
        scale = min(dpi / 72, (MAX_PDF_PAGE_PIXELS / max(w * h, 1)) ** 0.5)
        bitmap = page.render(scale=scale, rev_byteorder=False)  # pdfium's native order: BGR(A)
        pixels = bitmap.to_numpy()
        page.close()
    except (pdfium.PdfiumError, ValueError, OSError) as exc:
        return PageImage(number, None, f"page {number} cannot be rendered: {exc}")
    bgr = pixels if pixels.shape[2] == 3 else cv2.cvtColor(pixels, cv2.COLOR_BGRA2BGR)
    return PageImage(number, np.ascontiguousarray(bgr), dpi=scale * 72)
