"""What the PDF libraries log while a document is read, kept as one warning of that document.

pdfminer and playa (under camelot) log a damaged font or xref table at WARNING, often with
a traceback; with no logging configured Python prints those on stderr, where nobody can
tell which document they belong to. While a document is read their records go to that
document (by thread: the flow reads documents in parallel threads); outside a read they
go on to the root logger as before.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

LIBRARY_LOGGERS = ("pdfminer", "playa", "camelot", "pdfplumber", "pypdfium2")
SHOWN_MESSAGES = 3
MESSAGE_CHARS = 160

_active = threading.local()


class _PerDocument(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        collected: list[logging.LogRecord] | None = getattr(_active, "records", None)
        if collected is not None:
            collected.append(record)
        else:
            logging.getLogger().handle(record)


_HANDLER = _PerDocument(level=logging.WARNING)
_installed = threading.Lock()


def _install() -> None:
    with _installed:
        for name in LIBRARY_LOGGERS:
            logger = logging.getLogger(name)
            if _HANDLER not in logger.handlers:
                logger.addHandler(_HANDLER)
                logger.propagate = False


@contextmanager
def library_log_of_document(name: str) -> Iterator[list[str]]:
    """Yields a list that, on exit, holds one warning summing up the libraries' records (or none)."""
    _install()
    records: list[logging.LogRecord] = []
    summary: list[str] = []
    _active.records = records
    try:
        yield summary
    finally:
        _active.records = None
        if records:
            summary.append(_summary(name, records))


def _summary(name: str, records: list[logging.LogRecord]) -> str:
    messages = list(dict.fromkeys(_one_line(r) for r in records))
    shown = "; ".join(messages[:SHOWN_MESSAGES])
    more = f" (and {len(messages) - SHOWN_MESSAGES} more)" if len(messages) > SHOWN_MESSAGES else ""
    return f"{name}: the PDF/document libraries reported {len(records)} problems while reading it: {shown}{more}"


def _one_line(record: logging.LogRecord) -> str:
    text = " ".join(record.getMessage().split())
    if record.exc_info and record.exc_info[1] is not None:
        text += f" ({type(record.exc_info[1]).__name__})"
    return text[:MESSAGE_CHARS]
