"""Born-digital PDFs: text lines from pdfium, ruled tables from camelot's lattice parser.

Coordinates: PDF user space has its origin bottom-left; everything this reader
emits (Cell.bbox, Table.bbox, TextBlock.bbox) is converted to top-left origin
points, y growing downwards, as models.BBox documents.

Speed: camelot's lattice parser by default renders each page at 300 dpi and runs
OpenCV on it (~0.6-0.8 s a page on 2 cores). Its `engine="vector"` reads the ruling lines straight
from the PDF's drawing operators instead and found exactly the same grids on
the sample reports, at a fraction of the cost. Raster lattice runs only on pages
with many drawn paths where the vector pass found nothing (rules drawn in ways
the vector reader does not see), and camelot never runs on pages that draw no
paths at all.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from gongkai.config import load_thresholds
from gongkai.models import BBox, Cell, Document, Page, SourceInfo, TextBlock

from ..scan.textlayer import usable_text_layer
from ..tablejoin import TablePart, join_across_pages
from ..text import collapse_spaces
from .base import ReaderError, check_file_size
from .caps import capped_pages

if TYPE_CHECKING:  # camelot itself is imported lazily (see _camelot_pages)
    from camelot.core import Table as CamelotTable

MAX_PDF_BYTES = 200 * 1024 * 1024
RASTER_MIN_PATHS = 12  # fewer drawn paths than this cannot be a ruled table worth a 0.5 s render
RASTER_RESOLUTION = 300  # camelot's default: lower dpi saved nothing measurable here (~0.8 s a page either way)
EDGE_TOL = 4.0  # points: column rules of two table parts count as the same line within this


# ---------------------------------------------------------------- page scan
@dataclass
class _Char:
    text: str
    box: BBox | None  # top-left origin; None for generated or blank characters


@dataclass
class _PageScan:
    """What pdfium tells about one page before table detection."""

    number: int
    width: float
    height: float
    top: float  # mediabox top, to flip y
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
        top = page.get_mediabox()[3]
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
    return _Char(text, (left, top - upper, right, top - bottom))


def _scan_all(path: Path) -> tuple[list[_PageScan], int]:
    """The scans of the pages read (up to limits.pdf_pages) and the PDF's page count."""
    pdf = _open(path)
    try:
        n = len(pdf)
        return [_scan_page(pdf, i) for i in range(min(n, load_thresholds().limits.pdf_pages))], n
    except pdfium.PdfiumError as exc:
        raise ReaderError("corrupt", f"{path.name}: a page cannot be read: {exc}") from exc
    finally:
        pdf.close()


# ---------------------------------------------------------------- camelot
def _camelot_pages(path: Path, pages: list[int], **kwargs: str | int) -> tuple[list[CamelotTable], list[str]]:
    """Lattice tables on `pages`; failures become warnings (text is still worth having)."""
    if not pages:
        return [], []
    import camelot  # deferred: ~0.8 s import, needless for PDFs without drawn rules

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = camelot.read_pdf(str(path), pages=",".join(map(str, pages)), flavor="lattice",
                                     suppress_stdout=True, **kwargs)
        return list(found), []
    except Exception as exc:  # camelot/playa raise many types on odd PDFs; never fatal
        return [], [f"table detection failed on pages {pages}: {type(exc).__name__}: {exc}"]


def _detect_tables(path: Path, scans: list[_PageScan]) -> tuple[dict[int, list[CamelotTable]], list[str]]:
    candidates = [s.number for s in scans if s.n_paths and s.has_text]
    found, problems = _camelot_pages(path, candidates, engine="vector")
    by_page: dict[int, list[CamelotTable]] = {}
    for table in found:
        by_page.setdefault(int(table.page), []).append(table)
    retry = [s.number for s in scans if s.number in candidates and s.number not in by_page
             and s.n_paths >= RASTER_MIN_PATHS]
    raster, more = _camelot_pages(path, retry, engine="raster", resolution=RASTER_RESOLUTION)
    for table in raster:
        by_page.setdefault(int(table.page), []).append(table)
    return by_page, problems + more


# ---------------------------------------------------------------- camelot → cells
def _wall_right(ct: CamelotTable, r: int, c: int) -> bool:
    return ct.cells[r][c].right or ct.cells[r][c + 1].left


def _wall_below(ct: CamelotTable, r: int, c: int) -> bool:
    return ct.cells[r][c].bottom or ct.cells[r + 1][c].top


def _extent(ct: CamelotTable, r: int, c: int, seen: set[tuple[int, int]]) -> tuple[int, int]:
    """Rows and columns a merged cell covers: walk until a ruling line closes it."""
    n_rows, n_cols = len(ct.rows), len(ct.cols)
    cs = 1
    while c + cs < n_cols and not _wall_right(ct, r, c + cs - 1) and (r, c + cs) not in seen:
        cs += 1
    rs = 1
    while r + rs < n_rows and not _wall_below(ct, r + rs - 1, c) and (r + rs, c) not in seen:
        rs += 1
    return rs, cs


def _convert_table(ct: CamelotTable, scan: _PageScan) -> TablePart:
    """One Cell per merged region, text gathered from every grid cell it covers."""
    seen: set[tuple[int, int]] = set()
    cells: list[Cell] = []
    for r in range(len(ct.rows)):
        for c in range(len(ct.cols)):
            if (r, c) in seen:
                continue
            rs, cs = _extent(ct, r, c, seen)
            region = [(rr, cc) for rr in range(r, r + rs) for cc in range(c, c + cs) if (rr, cc) not in seen]
            seen.update(region)
            text = collapse_spaces(" ".join(ct.cells[rr][cc].text for rr, cc in region))
            first, last = ct.cells[r][c], ct.cells[r + rs - 1][c + cs - 1]
            bbox = (first.x1, scan.top - first.y2, last.x2, scan.top - last.y1)
            cells.append(Cell(row=r, col=c, row_span=rs, col_span=cs, text=text, bbox=bbox,
                              page=scan.number, source="pdf_text"))
    x1, y1, x2, y2 = ct._bbox
    bounds = [ct.cols[0][0], *(right for _, right in ct.cols)]
    bbox = (x1, scan.top - y2, x2, scan.top - y1)
    return TablePart(page=scan.number, bbox=bbox, bounds=bounds, n_rows=len(ct.rows), cells=cells,
                     edge_tolerance=EDGE_TOL, last_page=scan.number, last_bottom=bbox[3])


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
def _tables_of(scan: _PageScan, found: list[CamelotTable]) -> list[TablePart]:
    """Camelot's tables for a page; a lone boxed cell is a framed paragraph, left to the text."""
    tables = [_convert_table(ct, scan) for ct in found]
    return [t for t in tables if t.n_rows > 1 or len(t.bounds) > 2]


def _usable_text(scan: _PageScan) -> bool:
    """A page with images needs OCR unless its text layer reads as real text (not a scanner's garbage)."""
    return usable_text_layer("".join(c.text for c in scan.chars if c.box is not None))


class PdfTextReader:
    """Reads PDFs: pages with a usable text layer directly, the others (scans) through OCR."""

    media_types: tuple[str, ...] = ("application/pdf",)

    def read(self, path: Path, source: SourceInfo) -> Document:
        scans, n_pages = _scan_all(path)
        text_scans = [s for s in scans if s.has_text and (not s.n_images or _usable_text(s))]
        image_numbers = [s.number for s in scans if s not in text_scans and s.n_images]
        if not text_scans and not image_numbers:
            read = f" of the first {len(scans)} read (limits.pdf_pages)" if n_pages > len(scans) else ""
            raise ReaderError("empty", f"{path.name}: no text and no images on any page{read}")
        image_numbers, capped = capped_pages(image_numbers, len(scans), n_pages)
        found, warnings_ = _detect_tables(path, text_scans)
        warnings_ = capped + warnings_
        items: list[TextBlock | TablePart] = []
        for scan in text_scans:
            items += _page_items(scan, _tables_of(scan, found.get(scan.number, [])))
        heights = {s.number: s.height for s in scans}
        blocks = join_across_pages(items, heights)
        pages = [Page(number=s.number, width=s.width, height=s.height) for s in text_scans]
        scanned = []
        if image_numbers:  # deferred import: the scan path loads OCR models
            from ..scan.raster import pdf_pages
            from .scan import blocks_of, read_page_images

            scanned, more, _ = read_page_images(pdf_pages(path, image_numbers))
            warnings_ += more
            blocks += blocks_of(scanned)
            pages += [p.to_page() for p in scanned]
        if not any(isinstance(b, TablePart) or b.text for b in blocks):
            raise ReaderError("empty", f"{path.name}: no text found on any page, by its text layer or by OCR")
        ordered = sorted(blocks, key=lambda b: (b.page or 0, b.bbox[1] if b.bbox else 0.0))
        document = Document(
            source=source.model_copy(update={"pages": n_pages}),
            pages=sorted(pages, key=lambda p: p.number),
            blocks=[b.to_table() if isinstance(b, TablePart) else b for b in ordered],
            warnings=warnings_,
        )
        document._page_images.update({p.number: p.image for p in scanned})
        return document
