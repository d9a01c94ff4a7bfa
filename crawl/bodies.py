"""Fetched bodies on disk: only under the data directory, only under names gongkai makes.

A file is named after its content (`<sha256><suffix>`, the suffix from its sniffed media
type), so no server-supplied name (Content-Disposition, the URL's path) ever becomes part of
a path, and the same bytes fetched twice are one file.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

CRAWL_FOLDER = "crawl"


def sha256_bytes(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class BodyStore:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir.resolve()
        self.files = self.root / CRAWL_FOLDER / "files"
        self.scratch = self.root / CRAWL_FOLDER / "tmp"

    def write(self, body: bytes, sha256: str, suffix: str) -> str:
        """The body as `<sha256><suffix>`; returns its path relative to the data directory."""
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256) or not _safe_suffix(suffix):
            raise ValueError(f"not a gongkai file name: {sha256}{suffix}")
        self.files.mkdir(parents=True, exist_ok=True)
        target = self.files / f"{sha256}{suffix}"
        if not target.exists():
            partial = target.with_name(f".{target.name}.{os.getpid()}.part")
            partial.write_bytes(body)
            partial.replace(target)  # atomic: a reader never sees half a file
        return target.relative_to(self.root).as_posix()

    def path(self, relative: str) -> Path:
        """A stored body's absolute path; a path the store did not make (outside the folder) is refused."""
        resolved = (self.root / relative).resolve()
        if not resolved.is_relative_to(self.files):
            raise ValueError(f"{relative!r} is not under {self.files}")
        return resolved

    def read(self, relative: str | None) -> bytes | None:
        if not relative:
            return None
        try:
            return self.path(relative).read_bytes()
        except (OSError, ValueError):
            return None


def _safe_suffix(suffix: str) -> bool:
    return suffix.startswith(".") and suffix[1:].isalnum() and len(suffix) <= 6
