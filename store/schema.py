"""The operational store's tables, in one place (SQLAlchemy Core).

The schema is owned by the Alembic migrations in ./migrations; these definitions mirror
them, and test_store compares the two with Alembic's comparator.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ITEM_KINDS = ("field", "unmapped")
ITEM_STATES = ("open", "claimed", "resolved", "skipped")
ROLES = ("reviewer", "admin")
PENDING_SQL = "state IN ('open', 'claimed')"


def _moment(name: str, *, required: bool = False) -> sa.Column:
    """A point in time, always written in UTC (store/audit.py's utc_now)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=not required)

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
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
    _moment("created_at", required=True),
    # A newer version of the same crawled page (its sha256) replaced this one for analysts and
    # reviewers (store/versions.py); the old document stays loadable. Null: the current version.
    sa.Column("superseded_by", sa.String(64)),
    _moment("superseded_at"),
    # complete | partial (page_issues holds an error: something could not be read) | failed (error_*)
    sa.Column("status", sa.String(16), nullable=False, server_default="complete"),
)

reports = sa.Table(
    "reports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("ordinal", sa.Integer, nullable=False),
    sa.Column("agency", sa.Text),
    sa.Column("agency_key", sa.Text, index=True),
    sa.Column("year", sa.Integer, index=True),
    sa.Column("template", sa.String(32)),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("title", sa.Text),
    sa.Column("kind_reason", sa.Text),  # why a document is not a report (a comparison of years, …)
    # scan | born-digital | web | text: from the media type and the fields' sources (queue filter)
    sa.Column("source_kind", sa.String(16), nullable=False, server_default="born-digital"),
    sa.UniqueConstraint("document_id", "ordinal"),
)

fields = sa.Table(
    "fields",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("field_id", sa.String(200), nullable=False, index=True),
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
    # Set when a person confirmed or corrected the value: a human value always wins.
    sa.Column("reviewed_by", sa.Text),
    _moment("reviewed_at"),
    sa.UniqueConstraint("report_id", "field_id"),
    sa.CheckConstraint("status IN ('accepted', 'needs_review', 'corrected')", name="status"),
)


def _report_fk() -> sa.Column:
    """The indexed link from a report's child rows to it; they go when the report goes."""
    return sa.Column(
        "report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True
    )


unmapped = sa.Table(
    "unmapped",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _report_fk(),
    sa.Column("table_id", sa.Text),
    sa.Column("row_label", sa.Text),
    sa.Column("col_label", sa.Text),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("page", sa.Integer),
    sa.Column("bbox", sa.JSON),
)

checks = sa.Table(
    "checks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _report_fk(),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
)

# One row per piece of review work: a field (kind 'field') or a printed row nobody could
# map (kind 'unmapped', field_pk null). `version` is bumped by every change to the item.
review_queue = sa.Table(
    "review_queue",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("field_pk", sa.Integer, sa.ForeignKey("fields.id", ondelete="CASCADE"), index=True),
    sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False, server_default="field"),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("claimed_by", sa.Text),
    _moment("lease_expires_at"),
    _moment("created_at", required=True),
    _moment("resolved_at"),
    sa.Column("reviewer", sa.Text),
    sa.Column("corrected_value", sa.Double),
    sa.Column("note", sa.Text),
    sa.Column("crop_png", sa.LargeBinary),
    # unmapped rows: where the row was printed and its cells [{col_label, raw, bbox}]
    sa.Column("table_id", sa.Text),
    sa.Column("row_label", sa.Text),
    sa.Column("page", sa.Integer),
    sa.Column("bbox", sa.JSON),
    sa.Column("cells", sa.JSON),
    sa.Column("mapped_row_id", sa.Text),
    sa.CheckConstraint("state IN ('open', 'claimed', 'resolved', 'skipped')", name="state"),
    sa.CheckConstraint("kind IN ('field', 'unmapped')", name="kind"),
    # The queue page: pending items in id order, without sorting 100 000 of them.
    sa.Index("ix_review_queue_pending_id", "id", sqlite_where=sa.text(PENDING_SQL),
             postgresql_where=sa.text(PENDING_SQL)),
    sa.Index("ix_review_queue_report_id_state", "report_id", "state"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _moment("at", required=True),
    sa.Column("user_name", sa.Text),  # null: the pipeline
    sa.Column("item_id", sa.Integer, sa.ForeignKey("review_queue.id", ondelete="SET NULL"), index=True),
    sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="SET NULL")),
    sa.Column("field_id", sa.String(200)),
    sa.Column("old_value", sa.Double),
    sa.Column("new_value", sa.Double),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("note", sa.Text),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    _moment("locked_until"),
    _moment("created_at", required=True),
    sa.CheckConstraint("role IN ('reviewer', 'admin')", name="role"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    _moment("created_at", required=True),
    _moment("revoked_at"),
)

label_variants = sa.Table(
    "label_variants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("template", sa.String(32), nullable=False),
    sa.Column("table_id", sa.Text, nullable=False),
    sa.Column("row_id", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    _moment("created_at", required=True),
    _moment("revoked_at"),
    sa.Column("revoked_by", sa.Text),
)

page_images = sa.Table(
    "page_images",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    sa.Column("page", sa.Integer, nullable=False),
    sa.Column("png", sa.LargeBinary, nullable=False),
    sa.UniqueConstraint("document_id", "page"),
)

# What a document lost (severity 'error': a page, a table or a text span that could not be read)
# and what reading its pages did ('note'): the result's page_errors and page_notes (store/page_issues.py).
ISSUE_SEVERITIES = ("error", "note")
page_issues = sa.Table(
    "page_issues",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("page", sa.Integer),
    sa.Column("stage", sa.Text),
    sa.Column("kind", sa.Text),
    sa.Column("message", sa.Text, nullable=False),
    sa.CheckConstraint("severity IN ('error', 'note')", name="severity"),
)

# The crawl (store/crawl.py): one row per HTTP fetch, and what is known about each URL.
FETCH_OUTCOMES = ("new", "changed", "unchanged", "not_modified", "duplicate", "refused", "error")
FETCH_KINDS = ("robots", "listing", "report", "attachment")

crawl_fetches = sa.Table(
    "crawl_fetches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _moment("at", required=True),
    sa.Column("run_id", sa.String(36), nullable=False, index=True),
    sa.Column("site", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("url", sa.Text, nullable=False, index=True),
    sa.Column("final_url", sa.Text),
    sa.Column("referrer", sa.Text),
    sa.Column("http_status", sa.Integer),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("size_bytes", sa.BigInteger),
    sa.Column("sha256", sa.String(64)),
    sa.Column("media_type", sa.Text),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),  # refused / error: why
    sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
    sa.Column("content_disposition", sa.Text),  # as sent; never used as a file name
    sa.CheckConstraint(
        "outcome IN ('new', 'changed', 'unchanged', 'not_modified', 'duplicate', 'refused', 'error')",
        name="outcome"),
    sa.CheckConstraint("kind IN ('robots', 'listing', 'report', 'attachment')", name="kind"),
)

crawl_urls = sa.Table(
    "crawl_urls",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("url", sa.Text, nullable=False, unique=True),
    sa.Column("site", sa.Text, nullable=False),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("sha256", sa.String(64)),
    sa.Column("media_type", sa.Text),
    sa.Column("path", sa.Text),  # the body as stored, relative to the data directory
    sa.Column("report_links", sa.Integer),  # listing pages: report links found last time
    _moment("first_seen_at", required=True),
    _moment("fetched_at", required=True),
    _moment("changed_at"),
)

# Agencies (store/agencies.py): one row per agency key, and every printed name seen, each
# mapped to its key. An operator's merge points the other key at the kept one (merged_into)
# and moves its spellings, so a later report printed like the other gets the kept key.
agencies = sa.Table(
    "agencies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),  # the first spelling seen
    sa.Column("region", sa.Text),  # the regions the name begins with: 淮安市洪泽区
    sa.Column("merged_into", sa.String(200)),  # a key an operator joined this one to
    _moment("created_at", required=True),
)

agency_spellings = sa.Table(
    "agency_spellings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("spelling", sa.Text, nullable=False, unique=True),  # reports.agency as printed
    sa.Column("agency_key", sa.String(200), nullable=False, index=True),
    sa.Column("source", sa.String(16), nullable=False),  # matcher | merge
    _moment("created_at", required=True),
    sa.CheckConstraint("source IN ('matcher', 'merge')", name="source"),
)

TABLES = (
    "documents", "reports", "fields", "unmapped", "checks", "review_queue",
    "audit_log", "users", "api_tokens", "label_variants", "page_images", "crawl_fetches", "crawl_urls",
    "agencies", "agency_spellings",
    "page_issues",
)
