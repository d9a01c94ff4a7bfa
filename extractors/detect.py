"""Format detection from the file's first bytes, with the name's extension as a tiebreak."""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from gongkai.models import SourceInfo

from .readers.base import ReaderError

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

_MAGIC = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/msword"),
]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def detect_media_type(path: Path) -> str:
    """The media type the content shows; the extension decides only among text formats."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head:
        raise ReaderError("empty", f"{path.name} is empty (0 bytes)")
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
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
    if b"\x00" in head and not _looks_utf16(head):
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


def _looks_utf16(head: bytes) -> bool:
    return head.startswith((b"\xff\xfe", b"\xfe\xff"))


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
