"""The reviewers' app: review items with kinds, leases and versions; audit log; users and
API tokens; label variants; page images; reports.source_kind; fields.reviewed_by.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Existing data is carried over: every queue row gets its report, version 1 and kind
'field'; a corrected field is marked as reviewed by whoever resolved its item; each
stored unmapped printed row (cells grouped by report, table, row label and page)
becomes an open 'unmapped' item; each report gets its source kind from its document's
media type and its fields' sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out here, not imported: later edits to the store must not change this revision.
_SCAN_SOURCES = {"ocr"}
_BORN_DIGITAL_SOURCES = {"pdf_text", "docx", "doc"}


def _source_kind(media_type: str, sources: set[str]) -> str:
    if sources & _SCAN_SOURCES or media_type.startswith("image/"):
        return "scan"
    if sources & _BORN_DIGITAL_SOURCES:
        return "born-digital"
    if "html" in sources or "html" in media_type:
        return "web"
    if "txt" in sources or media_type.startswith("text/plain"):
        return "text"
    return "born-digital"


def _now() -> datetime:
    return datetime.now(UTC)


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("source_kind", sa.String(16), nullable=False, server_default="born-digital"))
    with op.batch_alter_table("fields") as batch:
        batch.add_column(sa.Column("reviewed_by", sa.Text))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("unmapped") as batch:
        batch.add_column(sa.Column("bbox", sa.JSON))
    with op.batch_alter_table("review_queue") as batch:
        batch.drop_constraint("uq_review_queue_field_pk", type_="unique")
        batch.drop_constraint("ck_review_queue_state", type_="check")
        batch.alter_column("field_pk", existing_type=sa.Integer, nullable=True)
        batch.add_column(sa.Column("report_id", sa.Integer))
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="field"))
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("claimed_by", sa.Text))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("table_id", sa.Text))
        batch.add_column(sa.Column("row_label", sa.Text))
        batch.add_column(sa.Column("page", sa.Integer))
        batch.add_column(sa.Column("bbox", sa.JSON))
        batch.add_column(sa.Column("cells", sa.JSON))
        batch.add_column(sa.Column("mapped_row_id", sa.Text))
    _backfill()
    with op.batch_alter_table("review_queue") as batch:
        batch.alter_column("report_id", existing_type=sa.Integer, nullable=False)
        batch.create_foreign_key(
            "fk_review_queue_report_id_reports", "reports", ["report_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_check_constraint("ck_review_queue_state", "state IN ('open', 'claimed', 'resolved', 'skipped')")
        batch.create_check_constraint("ck_review_queue_kind", "kind IN ('field', 'unmapped')")
        batch.create_index("ix_review_queue_field_pk", ["field_pk"])
        batch.create_index("ix_review_queue_report_id_state", ["report_id", "state"])
    pending = sa.text("state IN ('open', 'claimed')")
    op.create_index("ix_review_queue_pending_id", "review_queue", ["id"], sqlite_where=pending,
                    postgresql_where=pending)
    _create_new_tables()


def _backfill() -> None:
    conn = op.get_bind()
    conn.execute(sa.text(
        "UPDATE review_queue SET report_id = (SELECT f.report_id FROM fields f WHERE f.id = review_queue.field_pk)"
    ))
    conn.execute(sa.text(
        "UPDATE fields SET reviewed_by = (SELECT q.reviewer FROM review_queue q WHERE q.field_pk = fields.id),"
        " reviewed_at = (SELECT q.resolved_at FROM review_queue q WHERE q.field_pk = fields.id)"
        " WHERE status = 'corrected'"
    ))
    reports = conn.execute(sa.text(
        "SELECT r.id, d.media_type FROM reports r JOIN documents d ON d.id = r.document_id"
    )).all()
    for report_id, media_type in reports:
        sources = {s for (s,) in conn.execute(
            sa.text("SELECT DISTINCT source FROM fields WHERE report_id = :r AND source IS NOT NULL"), {"r": report_id}
        )}
        conn.execute(sa.text("UPDATE reports SET source_kind = :k WHERE id = :r"),
                     {"k": _source_kind(media_type, sources), "r": report_id})
    _unmapped_items(conn)


def _unmapped_items(conn: sa.Connection) -> None:
    rows = conn.execute(sa.text(
        "SELECT report_id, table_id, row_label, col_label, raw, page FROM unmapped ORDER BY id"
    )).all()
    grouped: dict[tuple, list[dict]] = {}
    for report_id, table_id, row_label, col_label, raw, page in rows:
        grouped.setdefault((report_id, table_id, row_label, page), []).append(
            {"col_label": col_label, "raw": raw, "bbox": None}
        )
    queue = sa.table(
        "review_queue", sa.column("report_id"), sa.column("kind"), sa.column("reasons", sa.JSON),
        sa.column("state"), sa.column("version"), sa.column("created_at"), sa.column("table_id"),
        sa.column("row_label"), sa.column("page"), sa.column("cells", sa.JSON),
    )
    now = _now()
    for (report_id, table_id, row_label, page), cells in grouped.items():
        conn.execute(sa.insert(queue).values(
            report_id=report_id, kind="unmapped", state="open", version=1, created_at=now,
            reasons=[f"its row was not recognised: {row_label or '(no label)'}"],
            table_id=table_id, row_label=row_label, page=page, cells=cells,
        ))


def _create_new_tables() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_name", sa.Text),
        sa.Column("item_id", sa.Integer,
                  sa.ForeignKey("review_queue.id", ondelete="SET NULL", name="fk_audit_log_item_id_review_queue")),
        sa.Column("report_id", sa.Integer,
                  sa.ForeignKey("reports.id", ondelete="SET NULL", name="fk_audit_log_report_id_reports")),
        sa.Column("field_id", sa.String(200)),
        sa.Column("old_value", sa.Double),
        sa.Column("new_value", sa.Double),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_item_id", "audit_log", ["item_id"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
        sa.CheckConstraint("role IN ('reviewer', 'admin')", name="ck_users_role"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer,
                  sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_api_tokens_user_id_users"), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_sha256", name="uq_api_tokens_token_sha256"),
    )
    op.create_table(
        "label_variants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("template", sa.String(32), nullable=False),
        sa.Column("table_id", sa.Text, nullable=False),
        sa.Column("row_id", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_by", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_label_variants"),
    )
    op.create_table(
        "page_images",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("document_id", sa.Integer,
                  sa.ForeignKey("documents.id", ondelete="CASCADE", name="fk_page_images_document_id_documents"),
                  nullable=False),
        sa.Column("page", sa.Integer, nullable=False),
        sa.Column("png", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_page_images"),
        sa.UniqueConstraint("document_id", "page", name="uq_page_images_document_id_page"),
    )


def downgrade() -> None:
    for table in ("page_images", "label_variants", "api_tokens", "users", "audit_log"):
        op.drop_table(table)
    op.drop_index("ix_review_queue_pending_id", table_name="review_queue")
    op.execute("DELETE FROM review_queue WHERE kind = 'unmapped'")
    with op.batch_alter_table("review_queue") as batch:
        for ix in ("ix_review_queue_field_pk", "ix_review_queue_report_id_state"):
            batch.drop_index(ix)
        batch.drop_constraint("ck_review_queue_kind", type_="check")
        batch.drop_constraint("ck_review_queue_state", type_="check")
        batch.drop_constraint("fk_review_queue_report_id_reports", type_="foreignkey")
        for col in ("mapped_row_id", "cells", "bbox", "page", "row_label", "table_id", "lease_expires_at",
                    "claimed_by", "version", "kind", "report_id"):
            batch.drop_column(col)
        batch.alter_column("field_pk", existing_type=sa.Integer, nullable=False)
        batch.create_unique_constraint("uq_review_queue_field_pk", ["field_pk"])
        batch.create_check_constraint("ck_review_queue_state", "state IN ('open', 'resolved')")
    with op.batch_alter_table("unmapped") as batch:
        batch.drop_column("bbox")
    with op.batch_alter_table("fields") as batch:
        batch.drop_column("reviewed_at")
        batch.drop_column("reviewed_by")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("source_kind")
