"""Scans and screenshots: page images through normalisation, grid detection and OCR.

Reads PNG, JPEG and TIFF files, and is what the PDF reader hands the pages without
a usable text layer. A page that cannot be decoded or read is a PageError for that
page (the document's result is then partial); the other pages are still read.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from gongkai.models import Document, PageError, PageImage, ScannedPages, ScanPageState, SourceInfo, TablePart, TextBlock

from ..ocr import OcrBackend, default_backend
from ..tablejoin import join_across_pages
from .base import ReaderError

log = logging.getLogger(__name__)


def read_page_images(pages: Iterable[PageImage], backend: OcrBackend | None = None) -> ScannedPages:
    """OCR every page, one at a time (one page's pixels in memory); a page's failure is its PageError."""
    from ..scan.page import read_page  # on first use: the scan stages load OpenCV and models

    backend = backend or default_backend()
    read: list[ScanPageState] = []
    errors: list[PageError] = []
    count = 0
    for page in pages:
        count += 1
        if page.image is None:
            errors.append(PageError(page=page.number, stage="raster", kind="undecodable",
                                    message=page.error or f"page {page.number} could not be read"))
            continue
        try:
            read.append(read_page(page.number, page.image, backend).model_copy(update={"dpi": page.dpi}))
        except MemoryError:
            errors.append(PageError(page=page.number, stage="ocr", kind="out-of-memory",
                                    message=f"page {page.number}: out of memory while reading it"))
        except Exception as exc:  # noqa: BLE001 - one page's failure (an OpenCV error on odd pixels) is that page's
            log.exception("page %d could not be read", page.number)
            errors.append(PageError(page=page.number, stage="ocr", kind="unexpected",
                                    message=f"page {page.number}: {type(exc).__name__}: {exc}"))
    errors += [e for page in read for e in page.errors]
    return ScannedPages(pages=read, errors=sorted(errors, key=lambda e: e.page or 0), count=count)


def blocks_of(pages: list[ScanPageState]) -> list[TextBlock | TablePart]:
    items = [item for page in pages for item in page.items]
    heights = {page.number: float(page.height) for page in pages}
    return join_across_pages(items, heights)


def document_from_scans(source: SourceInfo, scanned: ScannedPages) -> Document:
    pages, errors, n_pages = scanned.pages, scanned.errors, scanned.count
    lost = f" ({'; '.join(e.message for e in errors[:3])})" if errors else ""
    if not pages:
        raise ReaderError("corrupt", f"{source.name}: none of its {n_pages} page(s) could be decoded{lost}")
    if not any(page.items for page in pages):
        raise ReaderError("empty", f"{source.name}: OCR found no text on any of its {n_pages} page(s){lost}")
    blocks = [b.to_table() if isinstance(b, TablePart) else b for b in blocks_of(pages)]
    doc = Document(
        source=source.model_copy(update={"pages": n_pages}),
        pages=[p.to_page() for p in pages],
        blocks=blocks,
        page_errors=errors,
    )
    doc.page_images.update({p.number: p.image for p in pages})
    return doc


class ScanReader:
    """Images of report pages: photos of printouts, scans, screenshots."""

    media_types: tuple[str, ...] = ("image/png", "image/jpeg", "image/tiff")

    def read(self, path: Path, source: SourceInfo) -> Document:
        from ..scan.raster import image_pages

        return document_from_scans(source, read_page_images(image_pages(path)))
