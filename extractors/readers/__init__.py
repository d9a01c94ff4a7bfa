"""Reader registry: pick the reader for a file's detected media type."""
from __future__ import annotations

from pathlib import Path

from gongkai.config import load_thresholds
from gongkai.models import Document

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

_READERS: tuple[Reader, ...] = (TxtReader(), HtmlReader(), MhtReader(), DocxReader(), DocReader(), PdfTextReader(), ScanReader())


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
    """At most limits.blocks blocks go on to mapping (each costs ~0.1-0.4 ms there, and a zip
    bomb of empty paragraphs holds millions); the rest are recorded as not read."""
    cap = load_thresholds().limits.blocks
    if len(document.blocks) > cap:
        document.warnings.append(f"{document.source.name}: blocks {cap + 1}–{len(document.blocks)} of text and "
                                 f"tables not read: more than limits.blocks={cap}")
        document.blocks = document.blocks[:cap]
    return document
