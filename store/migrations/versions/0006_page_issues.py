"""Degradation is data: documents.status (complete | partial | failed) and page_issues, one row
per page error (what could not be read) or page note (what reading a page did).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="complete"))
    op.execute("UPDATE documents SET status = 'failed' WHERE error_stage IS NOT NULL")
    op.create_table(
        "page_issues",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("document_id", sa.Integer,
                  sa.ForeignKey("documents.id", ondelete="CASCADE", name="fk_page_issues_document_id_documents"),
                  nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("page", sa.Integer),
        sa.Column("stage", sa.Text),
        sa.Column("kind", sa.Text),
        sa.Column("message", sa.Text, nullable=False),
        sa.CheckConstraint("severity IN ('error', 'note')", name="ck_page_issues_severity"),
        sa.PrimaryKeyConstraint("id", name="pk_page_issues"),
    )
    op.create_index("ix_page_issues_document_id", "page_issues", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_page_issues_document_id", table_name="page_issues")
    op.drop_table("page_issues")
    # Plain ALTER TABLE … DROP COLUMN (SQLite >= 3.35): a batch rebuild would drop `documents`,
    # and with foreign keys on, that deletes every stored report and field through the cascade.
    op.drop_column("documents", "status")
