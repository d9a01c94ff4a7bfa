"""The one interface every reader implements: a file in, a Document out."""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

from gongkai.models import Document, SourceInfo


class ReaderError(Exception):
    """A document-level failure a reader can name: corrupt file, bad encoding, missing tool.

    `kind` is a short machine-readable word (corrupt, encoding, empty, unsupported,
    missing-dependency, too-large); the message says what happened and what to do.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class Reader(Protocol):
    media_types: tuple[str, ...]

    def read(self, path: Path, source: SourceInfo) -> Document: ...


def check_file_size(path: Path, limit: int, what: str) -> int:
    """The file's size, after refusing an empty file and one over `limit` bytes."""
    size = path.stat().st_size
    if size == 0:
        raise ReaderError("empty", f"{path.name} is empty (0 bytes)")
    if size > limit:
        raise ReaderError("too-large", f"{path.name} is {size} bytes; {what} over {limit} bytes is refused")
    return size
