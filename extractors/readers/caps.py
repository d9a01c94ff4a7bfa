"""Page caps of a long PDF: the pages past them are recorded as not read, never silently cut."""
from __future__ import annotations

from gongkai.config import load_thresholds


def capped_pages(image_numbers: list[int], n_read: int, n_pages: int) -> tuple[list[int], list[str]]:
    """The scanned pages to OCR within limits.ocr_pages, and a warning for every page left unread."""
    limits = load_thresholds().limits
    notes = []
    if n_pages > n_read:
        notes.append(f"pages {n_read + 1}–{n_pages} not read: more than limits.pdf_pages={limits.pdf_pages} pages")
    if len(image_numbers) > limits.ocr_pages:
        skipped = image_numbers[limits.ocr_pages:]
        notes.append(f"{len(skipped)} scanned pages ({skipped[0]}–{skipped[-1]}) not read: more than "
                     f"limits.ocr_pages={limits.ocr_pages} pages to OCR")
        image_numbers = image_numbers[:limits.ocr_pages]
    return image_numbers, notes
