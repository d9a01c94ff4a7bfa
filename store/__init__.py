"""Storage: the operational store (SQLite/PostgreSQL) and the analytics store (DuckDB)."""

from .analytics import export_analytics, load_analytics
from .operational import (
    DocumentNotFound,
    FieldRow,
    OperationalStore,
    ReportRow,
    ReviewItem,
    ReviewItemNotOpen,
    SaveOutcome,
    StoredDocument,
    alembic_config,
    default_url,
)

__all__ = [
    "DocumentNotFound",
    "FieldRow",
    "OperationalStore",
    "ReportRow",
    "ReviewItem",
    "ReviewItemNotOpen",
    "SaveOutcome",
    "StoredDocument",
    "alembic_config",
    "default_url",
    "export_analytics",
    "load_analytics",
]
