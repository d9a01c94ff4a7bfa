"""CPU seconds of `normalise_page` on an A4 page scanned at 200 dpi (seal, shadow, deskew, orientation).

Usage: python bench/bench_normalise.py [--repeat N]
Prints the best and the median of N runs after one warm-up.  Counted as CPU time of this process
on one OpenCV thread, which neither other processes on a shared machine nor OpenCV's other
threads can flatter or spoil.  Target (issue 4): <= 0.25 s per page.
The page: samples/rendered/000_liaocheng_wjw_2020.pdf page 2 (a full-page ruled table) at
200 dpi, tilted 1.7°, blurred, noised, shaded and JPEG'd as tests/test_normalise.py's scan_like.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium

from gongkai.extractors.scan.normalise import normalise_page, rotate_bound

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "samples" / "rendered" / "000_liaocheng_wjw_2020.pdf", 1)
DPI = 200
A4_AT_200_DPI = (1654, 2339)  # width, height in px
TARGET_S = 0.25


def scan_like(bgr: np.ndarray, seed: int = 0) -> np.ndarray:
    """Blur, sensor noise, a shadow and JPEG q70: tests/test_normalise.py's scan_like."""
    cv2.setRNGSeed(seed)
    noise = cv2.randn(np.empty(bgr.shape, np.int16), (0,) * 3, (8,) * 3)
    img = cv2.add(cv2.GaussianBlur(bgr, (3, 3), 0.8), noise, dtype=cv2.CV_8U)
    h, w = img.shape[:2]
    ramp = 1 - 0.45 * (np.linspace(0, 1, w, dtype=np.float32)[None, :] * 0.6
                       + np.linspace(0, 1, h, dtype=np.float32)[:, None] * 0.4)
    img = cv2.multiply(img, cv2.merge([ramp] * 3), dtype=cv2.CV_8U)
    return cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 70])[1], cv2.IMREAD_COLOR)


def scanned_page() -> np.ndarray:
    path, index = PAGE
    with pdfium.PdfDocument(path) as pdf:
        rgb = pdf[index].render(scale=DPI / 72).to_numpy()
    bgr = cv2.cvtColor(rgb[:, :, :3], cv2.COLOR_RGB2BGR)
    return cv2.resize(scan_like(rotate_bound(bgr, 1.7)), A4_AT_200_DPI)


def cpu_seconds(image: np.ndarray) -> float:
    start = time.process_time()
    normalise_page(image)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    image = scanned_page()
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        normalise_page(image)  # warm-up
        runs = [cpu_seconds(image) for _ in range(args.repeat)]
    finally:
        cv2.setNumThreads(threads)
    best = min(runs)
    verdict = "ok" if best <= TARGET_S else "MISS"
    print(f"normalise_page, A4 at {DPI} dpi, 1 OpenCV thread, {args.repeat} runs: "
          f"best {best:.3f} s CPU, median {statistics.median(runs):.3f} s (target <= {TARGET_S} s: {verdict})")


if __name__ == "__main__":
    main()
