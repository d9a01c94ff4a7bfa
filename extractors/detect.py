"""Format detection from the file's first bytes, with the name's extension as a tiebreak."""
from __future__ import annotations

import codecs
import hashlib
import stat
import zipfile
from pathlib import Path

from gongkai.models import SourceInfo

from .readers.base import ReaderError
from .readers.encoding import utf16_without_bom

MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".html": "text/html",
    ".htm": "text/html",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword",
    ".txt": "text/plain",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
}

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORD_STREAM = "WordDocument".encode("utf-16-le")
_OTHER_OLE_STREAMS = {"Excel": "Workbook".encode("utf-16-le"), "PowerPoint": "PowerPoint Document".encode("utf-16-le")}
_OLE_DIRECTORY_SECTORS = 16
_ROOT_ENTRY = "Root Entry".encode("utf-16-le")
_MAGIC = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
]


def refuse_special_file(path: Path) -> None:
    """A FIFO, device or socket named like a report is refused from its mode, before any open:
    opening or reading one can block forever."""
    mode = path.stat().st_mode
    if stat.S_ISREG(mode):
        return
    kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "not a regular file")
    raise ReaderError("unsupported", f"{path.name} is {kind}, not a regular file: refused without reading it")


def sha256_of(path: Path) -> str:
    refuse_special_file(path)
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def detect_media_type(path: Path) -> str:
    """The media type the content shows; the extension decides only among text formats."""
    refuse_special_file(path)
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head:
        raise ReaderError("empty", f"{path.name} is empty (0 bytes)")
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    if head.startswith(_OLE_MAGIC):
        return _ole_media_type(path)
    if head.startswith(b"PK\x03\x04"):
        return _zip_media_type(path)
    disguised = _sniff_text_container(head)
    if disguised:  # agencies publish HTML, MHT and RTF under a .doc name: the content decides
        return disguised
    by_extension = MEDIA_TYPES.get(path.suffix.lower())
    if by_extension in ("application/pdf", "application/msword") or (
        by_extension and by_extension.startswith("image/")
    ) or by_extension == MEDIA_TYPES[".docx"]:
        raise ReaderError(
            "corrupt", f"{path.name} is named {path.suffix} but its content is not a {path.suffix[1:].upper()} file"
        )
    text_head = _utf16_as_utf8(head)
    if text_head is not None:
        head = text_head
        disguised = _sniff_text_container(head)
        if disguised:
            return disguised
    elif b"\x00" in head:
        raise ReaderError("unsupported", f"{path.name} is binary data of no supported format")
    lowered = head.lower()
    if by_extension == "text/html" or b"<html" in lowered or b"<table" in lowered or b"<!doctype html" in lowered:
        return "text/html"
    return "text/plain"


def _sniff_text_container(head: bytes) -> str | None:
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith(b"{\\rtf"):
        return "application/rtf"
    if b"mime-version:" in stripped[:2048] and b"multipart/related" in stripped:
        return "multipart/related"
    if stripped.startswith((b"<!doctype html", b"<html", b"<?xml")) and b"<html" in stripped:
        return "text/html"
    return None


def _utf16_as_utf8(head: bytes) -> bytes | None:
    """The head re-encoded as UTF-8 when it is UTF-16 text (with a BOM or without one), else None."""
    encoding: str | None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = utf16_without_bom(head)
    if encoding is None:
        return None
    return head[: len(head) // 2 * 2].decode(encoding, "replace").encode("utf-8")


def _ole_media_type(path: Path) -> str:
    """An OLE compound file is taken for a Word 97-2003 document unless its directory names
    another Office stream (Workbook, PowerPoint Document) and no WordDocument stream.

    The directory's first sectors are read where the header puts them (Office writes them in one run).
    """
    with path.open("rb") as fh:
        header = fh.read(512)
        shift = int.from_bytes(header[30:32], "little") if len(header) >= 52 else 0
        first_directory = int.from_bytes(header[48:52], "little")
        directory = b""
        if shift in (9, 12) and first_directory < 0xFFFFFFFA:  # 512- or 4096-byte sectors
            fh.seek((first_directory + 1) << shift)
            directory = fh.read(_OLE_DIRECTORY_SECTORS << shift)
    if not directory.startswith(_ROOT_ENTRY):  # every compound file's directory starts with it
        raise ReaderError("corrupt", f"{path.name} starts like an Office 97-2003 (OLE) file but its directory "
                          "is damaged or missing")
    other = [name for name, stream in _OTHER_OLE_STREAMS.items() if stream in directory]
    if _WORD_STREAM in directory or not other:
        return MEDIA_TYPES[".doc"]
    raise ReaderError("unsupported", f"{path.name} is an Office 97-2003 {other[0]} file (OLE), not a Word "
                      "document: gongkai reads reports from Word, HTML, PDF, text and scans")


def _zip_media_type(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile as exc:
        raise ReaderError("corrupt", f"{path.name} is a damaged ZIP/DOCX container: {exc}") from exc
    if "word/document.xml" in names:
        return MEDIA_TYPES[".docx"]
    raise ReaderError("unsupported", f"{path.name} is a ZIP archive but not a Word (.docx) document")


def describe_source(path: Path) -> SourceInfo:
    """Name, hash and size, known before any reading; media type filled by `detect_media_type`."""
    return SourceInfo(
        name=path.name,
        sha256=sha256_of(path),
        media_type=MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream"),
        size_bytes=path.stat().st_size,
    )
