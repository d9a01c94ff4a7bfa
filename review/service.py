"""Every reviewer and admin action, for the web app, its JSON API and the CLI.

No HTTP here (only the web app imports fastapi) and no SQL (store/ owns every statement):
this module checks roles, parses values, re-runs the form's rules after a save, keeps the
analytics store in step, and calls the store for the rest.
"""
from __future__ import annotations

from pathlib import Path

from gongkai.models.review import (
    ActionOutcome, AuditEntry, ItemDetail, LabelVariant, QueueFilter, QueueGroup, QueueItem, ReportView, Role, User,
)
from gongkai.models.report import Value

DEFAULT_LEASE_SECONDS = 600


class ReviewService:
    def __init__(self, store_url: str, analytics_path: Path | None = None) -> None:
        raise NotImplementedError

    def close(self) -> None: ...

    # -- who is asking ------------------------------------------------------------------
    def authenticate(self, name: str, password: str) -> User:
        """The user, or AuthenticationFailed (same message for unknown name and bad password)."""
        raise NotImplementedError

    def user_for_token(self, token: str) -> User:
        """The user an API token belongs to, or AuthenticationFailed."""
        raise NotImplementedError

    def add_user(self, actor: User | None, name: str, role: Role, password: str) -> User:
        """actor None: the CLI (an operator at the server); else actor must be an admin."""
        raise NotImplementedError

    def issue_token(self, actor: User | None, name: str) -> str:
        """A new API token for `name` (shown once; stored hashed)."""
        raise NotImplementedError

    def list_users(self, actor: User) -> list[User]:
        raise NotImplementedError

    def set_user_active(self, actor: User, name: str, active: bool) -> User:
        raise NotImplementedError

    # -- the queue ------------------------------------------------------------------------
    def queue(self, actor: User, filters: QueueFilter, limit: int = 100, offset: int = 0) -> list[QueueItem]:
        raise NotImplementedError

    def queue_groups(self, actor: User, filters: QueueFilter, limit: int = 200) -> list[QueueGroup]:
        raise NotImplementedError

    def queue_size_by_reason(self) -> dict[str, int]:
        """Open items per reason (the flow publishes it as a Prefect artifact)."""
        raise NotImplementedError

    def item(self, actor: User, item_id: int) -> ItemDetail:
        raise NotImplementedError

    def crop(self, actor: User, item_id: int) -> bytes | None:
        raise NotImplementedError

    def next_item(self, actor: User, filters: QueueFilter, after_id: int | None = None) -> ItemDetail | None:
        """The next open item (not claimed by another) after `after_id`, claimed for `actor`."""
        raise NotImplementedError

    # -- actions (each writes its audit row; each save re-runs the report's rules) ---------
    def claim(self, actor: User, item_id: int, lease_seconds: int = DEFAULT_LEASE_SECONDS) -> ItemDetail:
        raise NotImplementedError

    def confirm(self, actor: User, item_id: int, version: int | None = None, note: str | None = None) -> ActionOutcome:
        """The value as it stands is right (a null value confirmed means: the cell is blank)."""
        raise NotImplementedError

    def correct(self, actor: User, item_id: int, value: Value | str, version: int | None = None,
                note: str | None = None) -> ActionOutcome:
        """The reviewer's value; text is parsed by the field's type (InvalidValue, nothing saved)."""
        raise NotImplementedError

    def skip(self, actor: User, item_id: int, note: str | None = None) -> ItemDetail:
        raise NotImplementedError

    def map_row(self, actor: User, item_id: int, row_id: str | None, version: int | None = None,
                note: str | None = None) -> ActionOutcome:
        """An unmapped row: which template row it is (its label becomes a label variant), or
        None for 'not a template row'."""
        raise NotImplementedError

    # -- reports, audit, variants ---------------------------------------------------------
    def report(self, actor: User, report_id: int) -> ReportView:
        raise NotImplementedError

    def page_image(self, actor: User, report_id: int, page: int) -> bytes | None:
        raise NotImplementedError

    def audit(self, actor: User, item_id: int | None = None, limit: int = 200) -> list[AuditEntry]:
        raise NotImplementedError

    def label_variants(self, actor: User, include_revoked: bool = False) -> list[LabelVariant]:
        raise NotImplementedError

    def revoke_variant(self, actor: User, variant_id: int) -> LabelVariant:
        """Admins only."""
        raise NotImplementedError
