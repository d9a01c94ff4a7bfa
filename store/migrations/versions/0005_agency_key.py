"""reports.agency_key: one key for one agency however its name is printed; reports.kind_reason:
why a document is not a report (a comparison of several years, …).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("agency_key", sa.Text, nullable=True))
        batch.create_index("ix_reports_agency_key", ["agency_key"])
        batch.add_column(sa.Column("kind_reason", sa.Text, nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite >= 3.35): a batch rebuild would drop `reports`,
    # and with foreign keys on, that deletes every stored field through the cascade.
    op.drop_index("ix_reports_agency_key", table_name="reports")
    op.drop_column("reports", "kind_reason")
    op.drop_column("reports", "agency_key")
