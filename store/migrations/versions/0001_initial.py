"""Initial operational schema: documents, reports, fields, unmapped, checks, review_queue.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written out in full (not imported from operational.py) so that later edits to the
tables there cannot change what this revision creates. Constraint names follow the
naming convention of operational.metadata.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True)


def _report_fk(table: str) -> sa.Column:
    return sa.Column(
        "report_id",
        sa.Integer,
        sa.ForeignKey("reports.id", ondelete="CASCADE", name=f"fk_{table}_report_id_reports"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "documents",
        _id(),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("media_type", sa.Text, nullable=False),
        sa.Column("pages", sa.Integer),
        sa.Column("size_bytes", sa.BigInteger),
        sa.Column("source_url", sa.Text),
        sa.Column("path", sa.Text),
        sa.Column("result_schema", sa.Text, nullable=False),
        sa.Column("pipeline_version", sa.Text),
        sa.Column("error_stage", sa.Text),
        sa.Column("error_kind", sa.Text),
        sa.Column("error_message", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
        sa.UniqueConstraint("sha256", name="uq_documents_sha256"),
    )
    op.create_table(
        "reports",
        _id(),
        sa.Column(
            "document_id",
            sa.Integer,
            sa.ForeignKey(
                "documents.id", ondelete="CASCADE", name="fk_reports_document_id_documents"
            ),
            nullable=False,
        ),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("agency", sa.Text),
        sa.Column("year", sa.Integer),
        sa.Column("template", sa.String(32)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("title", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
        sa.UniqueConstraint("document_id", "ordinal", name="uq_reports_document_id_ordinal"),
    )
    op.create_index("ix_reports_year", "reports", ["year"])
    op.create_table(
        "fields",
        _id(),
        _report_fk("fields"),
        sa.Column("field_id", sa.String(200), nullable=False),
        sa.Column("value", sa.Double),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("confidence", sa.Double, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("page", sa.Integer),
        sa.Column("bbox", sa.JSON),
        sa.Column("row_label", sa.Text),
        sa.Column("col_label", sa.Text),
        sa.Column("source", sa.Text),
        sa.Column("suggestion", sa.Double),
        sa.PrimaryKeyConstraint("id", name="pk_fields"),
        sa.UniqueConstraint("report_id", "field_id", name="uq_fields_report_id_field_id"),
        sa.CheckConstraint(
            "status IN ('accepted', 'needs_review', 'corrected')", name="ck_fields_status"
        ),
    )
    op.create_index("ix_fields_field_id", "fields", ["field_id"])
    op.create_table(
        "unmapped",
        _id(),
        _report_fk("unmapped"),
        sa.Column("table_id", sa.Text),
        sa.Column("row_label", sa.Text),
        sa.Column("col_label", sa.Text),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("page", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_unmapped"),
    )
    op.create_index("ix_unmapped_report_id", "unmapped", ["report_id"])
    op.create_table(
        "checks",
        _id(),
        _report_fk("checks"),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_checks"),
    )
    op.create_index("ix_checks_report_id", "checks", ["report_id"])
    op.create_table(
        "review_queue",
        _id(),
        sa.Column(
            "field_pk",
            sa.Integer,
            sa.ForeignKey("fields.id", ondelete="CASCADE", name="fk_review_queue_field_pk_fields"),
            nullable=False,
        ),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("reviewer", sa.Text),
        sa.Column("corrected_value", sa.Double),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_review_queue"),
        sa.UniqueConstraint("field_pk", name="uq_review_queue_field_pk"),
        sa.CheckConstraint("state IN ('open', 'resolved')", name="ck_review_queue_state"),
    )
    op.create_index("ix_review_queue_state", "review_queue", ["state"])


def downgrade() -> None:
    for table in ("review_queue", "checks", "unmapped", "fields", "reports", "documents"):
        op.drop_table(table)
