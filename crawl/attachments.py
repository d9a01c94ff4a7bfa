"""A report page's attachments, and what a downloaded file really is.

A link is a candidate attachment by its path's extension or by the download-script shapes
agency CMSs use (`download?id=…`, `DownloadServlet?fileId=…`); what it is decides only its
bytes, read by gongkai's own format detection (extractors/detect.py): a `.pdf` link that
serves an HTML error page is an HTML page, and a `download?id=` that serves a DOCX is one.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from gongkai.extractors.detect import detect_media_type
from gongkai.extractors.readers.base import ReaderError

from .listing import Link

ATTACHMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".jpg", ".jpeg", ".png")
_DOWNLOAD_SCRIPT = re.compile(r"(download|getfile|fileid|attach|附件)", re.IGNORECASE)
# Media types the pipeline reads, with the suffix gongkai gives the stored file.
SUFFIX_OF = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/msword": ".doc",
    "text/html": ".html",
    "multipart/related": ".mht",
    "application/rtf": ".doc",  # agencies' RTF under .doc: the doc reader handles it
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "text/plain": ".txt",
}


def is_attachment(link: Link) -> bool:
    parts = urlsplit(link.url)
    if parts.path.lower().endswith(ATTACHMENT_SUFFIXES):
        return True
    return bool(parts.query) and bool(_DOWNLOAD_SCRIPT.search(parts.path + "?" + parts.query))


def sniff(body: bytes, scratch: Path) -> str | None:
    """The media type the bytes show, or None when they are no format the pipeline reads."""
    # detect.py reads from a path; the name has no extension so only the bytes decide. The
    # scratch folder is under the data directory: nothing is written anywhere else.
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sniff-", dir=scratch) as folder:
        path = Path(folder) / "download"
        path.write_bytes(body)
        try:
            media_type = detect_media_type(path)
        except ReaderError:
            return None
    return media_type if media_type in SUFFIX_OF else None
