"""agencies and agency_spellings: one row per agency key, every printed name mapped to its key.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("region", sa.Text),
        sa.Column("merged_into", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agencies"),
        sa.UniqueConstraint("key", name="uq_agencies_key"),
    )
    op.create_table(
        "agency_spellings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("spelling", sa.Text, nullable=False),
        sa.Column("agency_key", sa.String(200), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agency_spellings"),
        sa.UniqueConstraint("spelling", name="uq_agency_spellings_spelling"),
        sa.CheckConstraint("source IN ('matcher', 'merge')", name="ck_agency_spellings_source"),
    )
    op.create_index("ix_agency_spellings_agency_key", "agency_spellings", ["agency_key"])


def downgrade() -> None:
    op.drop_index("ix_agency_spellings_agency_key", table_name="agency_spellings")
    op.drop_table("agency_spellings")
    op.drop_table("agencies")
