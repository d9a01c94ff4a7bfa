"""A document's degradation, stored: its status and its page errors and notes (page_issues).

Written with the document (insert, replace and reprocess alike: a re-extraction replaces what
the old one lost), read back into the result, and counted for the lists that show documents.
"""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gongkai.models import ExtractionResult, PageError, PageNote

from .schema import documents, page_issues


def save_page_issues(conn: Connection, document_id: int, result: ExtractionResult) -> None:
    """The document's status and its page errors and notes, replacing any stored before."""
    conn.execute(sa.delete(page_issues).where(page_issues.c.document_id == document_id))
    rows = [{"document_id": document_id, "severity": "error", "page": e.page, "stage": e.stage, "kind": e.kind,
             "message": e.message} for e in result.page_errors]
    rows += [{"document_id": document_id, "severity": "note", "page": n.page, "stage": None, "kind": None,
              "message": n.note} for n in result.page_notes]
    if rows:
        conn.execute(sa.insert(page_issues), rows)
    conn.execute(sa.update(documents).where(documents.c.id == document_id).values(status=result.status))


def load_page_issues(conn: Connection, document_id: int) -> tuple[list[PageError], list[PageNote]]:
    errors: list[PageError] = []
    notes: list[PageNote] = []
    stmt = sa.select(page_issues).where(page_issues.c.document_id == document_id).order_by(page_issues.c.id)
    for row in conn.execute(stmt).mappings():
        if row["severity"] == "error":
            errors.append(PageError(page=row["page"], stage=row["stage"] or "", kind=row["kind"] or "",
                                    message=row["message"]))
        elif row["page"] is not None:
            notes.append(PageNote(page=row["page"], note=row["message"]))
    return errors, notes


def page_error_counts(conn: Connection, document_ids: Iterable[int]) -> dict[int, int]:
    """document id -> how many page errors it has (documents without any are left out)."""
    ids = list(document_ids)
    if not ids:
        return {}
    stmt = (sa.select(page_issues.c.document_id, sa.func.count())
            .where(page_issues.c.document_id.in_(ids), page_issues.c.severity == "error")
            .group_by(page_issues.c.document_id))
    return {doc_id: n for doc_id, n in conn.execute(stmt).all()}
