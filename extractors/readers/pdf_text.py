"""Born-digital PDFs: text lines from pdfium, ruled tables from the scan path's grid detection.

Coordinates: PDF user space has its origin bottom-left; everything this reader
emits (Cell.bbox, Table.bbox, TextBlock.bbox) is converted to top-left origin
points, y growing downwards, as models.BBox documents.

Tables: a page with a usable text layer that draws paths (rules are paths) is
rasterised and its ruled grids found by scan/grid.py, each cell filled from the
text layer by position (pdf_grid.py): one table-structure path for born-digital
pages and scans. Pages that draw no paths hold no ruled table and are not rendered.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from gongkai.config import load_thresholds
from gongkai.models import BBox, Document, Page, PageError, SourceInfo, TablePart, TextBlock

from ..scan.textlayer import usable_text_layer
from ..tablejoin import join_across_pages
from ..text import collapse_spaces
from .base import ReaderError, check_file_size
from .caps import capped_pages
from .pdf_grid import PageChar, ruled_tables

if TYPE_CHECKING:  # the scan path is imported only when a page needs OCR (it loads models)
    from ..scan.page import ScannedPage

MAX_PDF_BYTES = 200 * 1024 * 1024


# ---------------------------------------------------------------- page scan
@dataclass
class _Char:
    text: str
    box: BBox | None  # top-left origin; None for generated or blank characters
    loose: BBox | None = None  # the box of its advance and the font's ascent/descent: cells' text is
    # placed and spaced by it (a full-width digit's glyph is narrower than its advance; quotes sit high)


@dataclass
class _PageScan:
    """What pdfium tells about one page before table detection."""

    number: int
    width: float
    height: float
    top: float  # the page box's top, to flip y (the top-left origin of the rendered page)
    chars: list[_Char]
    n_paths: int
    n_images: int

    @property
    def has_text(self) -> bool:
        return any(c.box is not None for c in self.chars)


def _open(path: Path) -> pdfium.PdfDocument:
    check_file_size(path, MAX_PDF_BYTES, "a PDF")
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ReaderError("unsupported", f"{path.name} is encrypted and needs a password") from exc
        raise ReaderError("corrupt", f"{path.name} is not a readable PDF (truncated or damaged): {exc}") from exc
    return pdf


def _scan_page(pdf: pdfium.PdfDocument, index: int) -> _PageScan:
    page = pdf[index]
    try:
        width, height = page.get_size()
        top = page.get_bbox()[3]  # the visible box's top; get_mediabox misses a MediaBox inherited from /Pages
        textpage = page.get_textpage()
        chars = [_char(textpage, i, top) for i in range(textpage.count_chars())]
        kinds = [obj.type for obj in page.get_objects()]
        textpage.close()
    finally:
        page.close()
    return _PageScan(
        number=index + 1, width=width, height=height, top=top, chars=chars,
        n_paths=kinds.count(pdfium_c.FPDF_PAGEOBJ_PATH), n_images=kinds.count(pdfium_c.FPDF_PAGEOBJ_IMAGE),
    )


def _char(textpage: pdfium.PdfTextPage, i: int, top: float) -> _Char:
    code = pdfium_c.FPDFText_GetUnicode(textpage, i)
    # A lone surrogate would break every later UTF-8 encode; such glyphs are unreadable anyway.
    text = "\ufffd" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else chr(code)
    if pdfium_c.FPDFText_IsGenerated(textpage, i) or not text.strip():
        return _Char(text, None)
    left, bottom, right, upper = textpage.get_charbox(i)
    l_left, l_bottom, l_right, l_upper = textpage.get_charbox(i, loose=True)
    return _Char(text, (left, top - upper, right, top - bottom), (l_left, top - l_upper, l_right, top - l_bottom))


def _scan_all(path: Path) -> tuple[list[_PageScan], list[PageError], int]:
    """Every page pdfium can read (up to limits.pdf_pages), a PageError for each it cannot, and the page count."""
    pdf = _open(path)
    scans: list[_PageScan] = []
    errors: list[PageError] = []
    try:
        n_pages = len(pdf)
        for i in range(min(n_pages, load_thresholds().limits.pdf_pages)):
            try:
                scans.append(_scan_page(pdf, i))
            except pdfium.PdfiumError as exc:  # that page only: the others are still read
                errors.append(PageError(page=i + 1, stage="read", kind="undecodable",
                                        message=f"page {i + 1} cannot be read: {exc}"))
    finally:
        pdf.close()
    if not scans and errors:
        raise ReaderError("corrupt", f"{path.name}: none of its {n_pages} page(s) can be read ({errors[0].message})")
    return scans, errors, n_pages


# ---------------------------------------------------------------- text lines
def _inside(box: BBox, areas: list[BBox]) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return any(a[0] - 1 <= cx <= a[2] + 1 and a[1] - 1 <= cy <= a[3] + 1 for a in areas)


def _lines(scan: _PageScan, areas: list[BBox]) -> list[TextBlock]:
    """pdfium's own line breaks (generated CR/LF) cut the characters into lines."""
    blocks: list[TextBlock] = []
    current: list[_Char] = []
    for ch in [*scan.chars, _Char("\n", None)]:
        if ch.text in "\r\n":
            if current:
                blocks.extend(_line_block(current, scan.number))
            current = []
        elif ch.box is None or not _inside(ch.box, areas):
            current.append(ch)
    return blocks


def _line_block(chars: list[_Char], page: int) -> list[TextBlock]:
    boxes = [c.box for c in chars if c.box is not None]
    text = collapse_spaces("".join(c.text for c in chars))
    if not boxes or not text:
        return []
    bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
    return [TextBlock(text=text, page=page, bbox=bbox)]


def _page_items(scan: _PageScan, tables: list[TablePart]) -> list[TextBlock | TablePart]:
    """Lines outside the tables and the tables, top to bottom."""
    items: list[TextBlock | TablePart] = [*_lines(scan, [t.bbox for t in tables]), *tables]
    return sorted(items, key=_top)


def _top(item: TextBlock | TablePart) -> float:
    return item.bbox[1] if item.bbox is not None else 0.0  # every block built here has a bbox


# ---------------------------------------------------------------- reader
def _page_chars(scan: _PageScan) -> list[PageChar]:
    return [PageChar(c.text, c.loose or c.box) for c in scan.chars if c.box is not None]


def _tables_of(found: list[TablePart]) -> list[TablePart]:
    """A lone boxed cell is a framed paragraph, left to the text."""
    return [t for t in found if t.n_rows > 1 or len(t.bounds) > 2]


def _usable_text(scan: _PageScan) -> bool:
    """A page with images needs OCR unless its text layer reads as real text (not a scanner's garbage)."""
    return usable_text_layer("".join(c.text for c in scan.chars if c.box is not None))


class PdfTextReader:
    """Reads PDFs: pages with a usable text layer directly, the others (scans) through OCR."""

    media_types: tuple[str, ...] = ("application/pdf",)

    def read(self, path: Path, source: SourceInfo) -> Document:
        scans, unreadable, n_pages = _scan_all(path)
        n_read = len(scans) + len(unreadable)
        text_scans = [s for s in scans if s.has_text and (not s.n_images or _usable_text(s))]
        image_numbers = [s.number for s in scans if s not in text_scans and s.n_images]
        if not text_scans and not image_numbers:
            read = f" of the first {n_read} read (limits.pdf_pages)" if n_pages > n_read else ""
            raise ReaderError("empty", f"{path.name}: no text and no images on any page{read}")
        image_numbers, capped = capped_pages(image_numbers, n_read, n_pages)
        ruled = [(s.number, _page_chars(s)) for s in text_scans if s.n_paths]  # rules are drawn paths
        found, page_errors = ruled_tables(path, ruled)
        page_errors += unreadable
        items: list[TextBlock | TablePart] = []
        for scan in text_scans:
            items += _page_items(scan, _tables_of(found.get(scan.number, [])))
        heights = {s.number: s.height for s in scans}
        blocks = join_across_pages(items, heights)
        pages = [Page(number=s.number, width=s.width, height=s.height) for s in text_scans]
        scanned: list[ScannedPage] = []
        if image_numbers:  # deferred import: the scan path loads OCR models
            from ..scan.raster import pdf_pages
            from .scan import blocks_of, read_page_images

            ocr_read = read_page_images(pdf_pages(path, image_numbers))
            scanned, page_errors = ocr_read.pages, page_errors + ocr_read.errors
            blocks += blocks_of(scanned)
            pages += [p.to_page() for p in scanned]
        if not any(isinstance(b, TablePart) or b.text for b in blocks):
            raise ReaderError("empty", f"{path.name}: no text found on any page, by its text layer or by OCR")
        ordered = sorted(blocks, key=lambda b: (b.page or 0, b.bbox[1] if b.bbox else 0.0))
        document = Document(
            source=source.model_copy(update={"pages": n_pages}),
            pages=sorted(pages, key=lambda p: p.number),
            blocks=[b.to_table() if isinstance(b, TablePart) else b for b in ordered],
            page_errors=sorted(page_errors, key=lambda e: e.page or 0),
            warnings=capped,
        )
        document.page_images.update({p.number: p.image for p in scanned})
        return document
