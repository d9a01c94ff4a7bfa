"""Storage: the operational store (SQLite/PostgreSQL) and the analytics store (DuckDB)."""

from .analytics import export_analytics, load_analytics
from .engine import alembic_config, default_url
from .errors import DocumentNotFound, ReviewItemNotOpen, StoreBusy
from .operational import OperationalStore
from .records import FieldRow, ReportRow, ReviewItem, SaveOutcome, StoredDocument

__all__ = [
    "DocumentNotFound",
    "FieldRow",
    "OperationalStore",
    "ReportRow",
    "ReviewItem",
    "ReviewItemNotOpen",
    "SaveOutcome",
    "StoreBusy",
    "StoredDocument",
    "alembic_config",
    "default_url",
    "export_analytics",
    "load_analytics",
]
