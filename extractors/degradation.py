"""What a document lost on the way, gathered for its result: degradation is data.

Readers record what they could not read as `Document.page_errors` (a page that would not
decode, a table the detector gave up on) or, as free text, `Document.warnings` (a damaged
span); what reading a page did to it is that page's `notes`. Here they become the result's
`page_errors` and `page_notes`, so a scan missing three pages is `partial`, never clean.
"""
from __future__ import annotations

import re

from gongkai.models import Document, PageError, PageNote

WARNING_PAGE = re.compile(r"^page (\d+)\b")  # readers start a page's warning with "page N"


def page_errors_of(document: Document) -> list[PageError]:
    """The reader's page errors, then each free-text warning as one more (its page when it names one)."""
    return [*document.page_errors, *(warning_error(w) for w in document.warnings)]


def warning_error(text: str) -> PageError:
    match = WARNING_PAGE.match(text)
    page = int(match[1]) if match and int(match[1]) >= 1 else None
    return PageError(page=page, stage="read", kind="reader-warning", message=text)


def page_notes_of(document: Document) -> list[PageNote]:
    return [PageNote(page=page.number, note=note) for page in document.pages for note in page.notes]
