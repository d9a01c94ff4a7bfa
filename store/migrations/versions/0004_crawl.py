"""The crawl's provenance: one row per fetch (crawl_fetches) and the validators, body and
last report-link count of each URL seen (crawl_urls); a document a newer version of its page
replaced (documents.superseded_by / superseded_at).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crawl_fetches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("site", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("final_url", sa.Text),
        sa.Column("referrer", sa.Text),
        sa.Column("http_status", sa.Integer),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("size_bytes", sa.BigInteger),
        sa.Column("sha256", sa.String(64)),
        sa.Column("media_type", sa.Text),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("content_disposition", sa.Text),
        sa.CheckConstraint(
            "outcome IN ('new', 'changed', 'unchanged', 'not_modified', 'duplicate', 'refused', 'error')",
            name="ck_crawl_fetches_outcome"),
        sa.CheckConstraint("kind IN ('robots', 'listing', 'report', 'attachment')",
                           name="ck_crawl_fetches_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_fetches"),
    )
    op.create_index("ix_crawl_fetches_run_id", "crawl_fetches", ["run_id"])
    op.create_index("ix_crawl_fetches_url", "crawl_fetches", ["url"])
    op.create_table(
        "crawl_urls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("site", sa.Text, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("sha256", sa.String(64)),
        sa.Column("media_type", sa.Text),
        sa.Column("path", sa.Text),
        sa.Column("report_links", sa.Integer),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_urls"),
        sa.UniqueConstraint("url", name="uq_crawl_urls_url"),
    )
    # Plain ALTER TABLE, not batch mode: on SQLite a batch rebuild drops `documents`, and with
    # foreign keys on that would cascade to every report. A sha256, not a foreign key, so no
    # constraint needs adding (SQLite cannot add one to an existing table).
    op.add_column("documents", sa.Column("superseded_by", sa.String(64)))
    op.add_column("documents", sa.Column("superseded_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("documents", "superseded_at")  # SQLite >= 3.35 drops a plain column in place
    op.drop_column("documents", "superseded_by")
    op.drop_table("crawl_urls")
    op.drop_index("ix_crawl_fetches_url", table_name="crawl_fetches")
    op.drop_index("ix_crawl_fetches_run_id", table_name="crawl_fetches")
    op.drop_table("crawl_fetches")
