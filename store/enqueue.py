"""What a saved result puts in the review queue: its doubtful fields, its unmapped printed
rows, and the scanned pages a reviewer looks at."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Set

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gongkai.models import FieldValue, UnmappedCell

from .audit import utc_now
from .schema import page_images, review_queue

# In order, the first that fits: (kind, the readers that give it, the media types that give it
# when no field names its reader); a document nothing fits is born-digital.
SOURCE_KINDS: tuple[tuple[str, frozenset[str], Callable[[str], bool]], ...] = (
    ("scan", frozenset({"ocr"}), lambda media: media.startswith("image/")),
    ("born-digital", frozenset({"pdf_text", "docx", "doc"}), lambda _media: False),
    ("web", frozenset({"html"}), lambda media: "html" in media),
    ("text", frozenset({"txt"}), lambda media: media.startswith("text/plain")),
)


def source_kind(media_type: str, sources: Iterable[str | None]) -> str:
    """scan / born-digital / web / text, from the fields' reader first, else the media type."""
    found = {s for s in sources if s}
    return next((kind for kind, readers, by_media in SOURCE_KINDS if found & readers or by_media(media_type)),
                "born-digital")


def unrecognised_row_reason(label: str | None) -> str:
    return f"its row was not recognised: {label or '(no label)'}"


def enqueue_fields(
    conn: Connection, report_id: int, values: list[FieldValue], pks: dict[str, int], crops: dict[str, bytes]
) -> int:
    now = utc_now()
    rows = [
        {"field_pk": pks[f.id], "report_id": report_id, "kind": "field", "reasons": list(f.reasons),
         "state": "open", "version": 1, "created_at": now, "crop_png": crops.get(f.id)}
        for f in values
        if f.status == "needs_review"
    ]
    if rows:
        conn.execute(sa.insert(review_queue), rows)
    return len(rows)


def unmapped_rows(cells: list[UnmappedCell]) -> dict[tuple[str | None, str | None, int | None], list[UnmappedCell]]:
    """The printed rows behind a report's unmapped cells: by table, row label and page."""
    rows: dict[tuple[str | None, str | None, int | None], list[UnmappedCell]] = {}
    for cell in cells:
        rows.setdefault((cell.table, cell.row_label, cell.page), []).append(cell)
    return rows


def enqueue_unmapped(conn: Connection, report_id: int, cells: list[UnmappedCell],
                     skip: Set[tuple[str | None, str | None, int | None]] = frozenset()) -> int:
    """One 'unmapped' item per printed row; rows in `skip` already have one."""
    now = utc_now()
    items = [
        {"field_pk": None, "report_id": report_id, "kind": "unmapped", "state": "open", "version": 1,
         "created_at": now, "reasons": [unrecognised_row_reason(label)], "table_id": table,
         "row_label": label, "page": page, "bbox": _union([c.bbox for c in row]),
         "cells": [{"col_label": c.col_label, "raw": c.raw, "bbox": list(c.bbox) if c.bbox else None} for c in row]}
        for (table, label, page), row in unmapped_rows(cells).items()
        if (table, label, page) not in skip
    ]
    if items:
        conn.execute(sa.insert(review_queue), items)
    return len(items)


def _union(boxes: list[tuple[float, float, float, float] | None]) -> list[float] | None:
    known = [b for b in boxes if b is not None]
    if not known:
        return None
    return [min(b[0] for b in known), min(b[1] for b in known), max(b[2] for b in known), max(b[3] for b in known)]


def store_page_images(conn: Connection, document_id: int, images: dict[int, bytes]) -> None:
    """A document's scanned pages; two reports on one page store it once."""
    if not images:
        return
    have = set(conn.execute(
        sa.select(page_images.c.page).where(page_images.c.document_id == document_id)
    ).scalars())
    rows = [{"document_id": document_id, "page": p, "png": png} for p, png in images.items() if p not in have]
    if rows:
        conn.execute(sa.insert(page_images), rows)
