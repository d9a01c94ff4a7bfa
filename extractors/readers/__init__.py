"""Reader registry: pick the reader for a file's detected media type."""
from __future__ import annotations

from pathlib import Path

from gongkai.config import load_thresholds
from gongkai.models import Document, Table

from .base import Reader, ReaderError
from .doc import DocReader
from .docx import DocxReader
from .html import HtmlReader
from .library_log import library_log_of_document
from .mht import MhtReader
from .pdf_text import PdfTextReader
from .scan import ScanReader
from .txt import TxtReader

__all__ = ["Reader", "ReaderError", "read_document", "reader_for"]

_READERS: tuple[Reader, ...] = (
    TxtReader(),
    HtmlReader(),
    MhtReader(),
    DocxReader(),
    DocReader(),
    PdfTextReader(),
    ScanReader(),
)


def reader_for(media_type: str) -> Reader:
    """The reader that handles `media_type`; ReaderError('unsupported') when none does."""
    for reader in _READERS:
        if media_type in reader.media_types:
            return reader
    raise ReaderError("unsupported", f"no reader for media type {media_type}")


def read_document(path: Path) -> Document:
    """Detect the format of `path` and read it into a Document.

    FileNotFoundError is left to the caller: a missing path is a caller's mistake,
    not bad input. Every problem with the file's content is a ReaderError.
    """
    # Imported here: detect imports readers.base, and this package imports detect.
    from ..detect import describe_source, detect_media_type

    path = Path(path)
    media_type = detect_media_type(path)
    source = describe_source(path)
    source.media_type = media_type
    with library_log_of_document(path.name) as logged:
        document = reader_for(media_type).read(path, source)
    document.warnings += logged
    return _capped_blocks(document)


def _capped_blocks(document: Document) -> Document:
    """At most limits.blocks blocks, and limits.table_rows rows of a table, go on to mapping (a
    zip bomb of empty paragraphs holds millions of blocks, a generated table 60 000 rows); the
    rest are recorded as not read."""
    limits = load_thresholds().limits
    name = document.source.name
    if len(document.blocks) > limits.blocks:
        document.warnings.append(f"{name}: blocks {limits.blocks + 1}–{len(document.blocks)} of text and "
                                 f"tables not read: more than limits.blocks={limits.blocks}")
        document.blocks = document.blocks[:limits.blocks]
    for k, block in enumerate(document.blocks):
        if isinstance(block, Table) and block.n_rows > limits.table_rows:
            document.warnings.append(f"{name}: rows {limits.table_rows + 1}–{block.n_rows} of table {k + 1} not "
                                     f"read: more than limits.table_rows={limits.table_rows}")
            cells = [c for c in block.cells if c.row < limits.table_rows]
            for cell in cells:
                cell.row_span = min(cell.row_span, limits.table_rows - cell.row)
            document.blocks[k] = block.model_copy(update={"cells": cells, "n_rows": limits.table_rows})
    return document
