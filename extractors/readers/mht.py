"""MHT / MHTML web archives: Word's "save as web page", often published with a .doc name."""
from __future__ import annotations

import email
import email.policy
from pathlib import Path

from gongkai.models import Document, SourceInfo

from .base import ReaderError
from .html import read_html_bytes
from .txt import load_bytes


class MhtReader:
    media_types: tuple[str, ...] = ("multipart/related",)

    def read(self, path: Path, source: SourceInfo) -> Document:
        message = email.message_from_bytes(load_bytes(path), policy=email.policy.compat32)
        for part in message.walk():
            if part.get_content_type() == "text/html":
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes) and payload.strip():
                    return read_html_bytes(payload, path.name, source, part.get_content_charset())
        raise ReaderError("corrupt", f"{path.name} is a web archive (MHT) without an HTML part")
