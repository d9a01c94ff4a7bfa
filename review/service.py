"""Every reviewer and admin action, for the web app, its JSON API and the CLI.

No HTTP here (only the web app imports fastapi) and no SQL (store/ owns every statement):
this module checks roles, parses values, re-runs the form's rules after a save, keeps the
analytics store in step, and calls the store for the rest.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gongkai.config import load_template
from gongkai.models.agency import Agency
from gongkai.models.report import Value
from gongkai.models.review import (
    ActionOutcome,
    AuditEntry,
    ItemDetail,
    LabelVariant,
    QueueFilter,
    QueueGroup,
    QueueItem,
    ReportView,
    Role,
    RowChoice,
    User,
)
from gongkai.store.agencies import AgencyNotFound, AgencyStore
from gongkai.store.analytics_views import PanelPoint, readable_agency_panel
from gongkai.store.audit import read_audit, utc_now
from gongkai.store.operational import OperationalStore
from gongkai.store.review import ReviewReader
from gongkai.store.review_actions import KEEP, ItemBusy, ItemGone, Keep, Number, ReviewWriter, StaleVersion
from gongkai.store.users import StoredUser, UserExists, UserStore

from . import passwords
from .analytics_sync import AnalyticsSync
from .errors import (
    AuthenticationFailed,
    InvalidValue,
    ItemNotFound,
    ItemUnavailable,
    PermissionDenied,
    VersionConflict,
)
from .rules import plan_recheck
from .values import parse_reviewer_value, value_type_of

DEFAULT_LEASE_SECONDS = 600
FREE_LOGIN_FAILURES = 5  # then each further failure locks the name for twice as long
MAX_LOGIN_LOCK_SECONDS = 900
LOGIN_FAILED = "unknown user name or wrong password"
ROLES = ("reviewer", "admin")


@contextmanager
def _store_errors() -> Iterator[None]:
    """The store's refusals as the review errors the web app maps to HTTP statuses."""
    try:
        yield
    except ItemGone as exc:
        raise ItemNotFound(str(exc)) from exc
    except ItemBusy as exc:
        raise ItemUnavailable(str(exc)) from exc
    except StaleVersion as exc:
        raise VersionConflict(str(exc)) from exc


def _user(stored: StoredUser) -> User:
    return User(id=stored.id, name=stored.name, role=stored.role, active=stored.active)  # type: ignore[arg-type]


def _require_admin(actor: User | None) -> None:
    """None is the CLI: an operator at the server."""
    if actor is not None and actor.role != "admin":
        raise PermissionDenied(f"{actor.name} is a reviewer: this needs an admin")


class ReviewService:
    def __init__(self, store_url: str, analytics_path: Path | None = None) -> None:
        self.store = OperationalStore(store_url)
        self.store.migrate()
        self.store.optimize()
        self.reader = ReviewReader(self.store)
        self.writer = ReviewWriter(self.store)
        self.users = UserStore(self.store)
        self.agency_store = AgencyStore(self.store)
        self.analytics = AnalyticsSync(self.store, Path(analytics_path) if analytics_path else None)

    def close(self) -> None:
        self.store.close()

    # -- who is asking ------------------------------------------------------------------
    def authenticate(self, name: str, password: str) -> User:
        """The user, or AuthenticationFailed (same message for unknown name and bad password)."""
        stored = self.users.by_name(name)
        if stored is None:
            passwords.burn_time(password)
            raise AuthenticationFailed(LOGIN_FAILED)
        now = utc_now()
        if stored.locked_until is not None and stored.locked_until > now:
            wait = int((stored.locked_until - now).total_seconds()) + 1
            raise AuthenticationFailed(f"too many failed logins: try again in {wait} s")
        if not passwords.verify_password(stored.password_hash, password):
            failures = stored.failed_logins + 1
            lock = None
            if failures >= FREE_LOGIN_FAILURES:
                lock = min(2 ** (failures - FREE_LOGIN_FAILURES), MAX_LOGIN_LOCK_SECONDS)
            self.users.record_failure(stored.id, lock)
            raise AuthenticationFailed(LOGIN_FAILED)
        if not stored.active:
            raise AuthenticationFailed(LOGIN_FAILED)
        self.users.record_success(stored.id)
        return _user(stored)

    def user_for_token(self, token: str) -> User:
        """The user an API token belongs to, or AuthenticationFailed."""
        stored = self.users.by_token(passwords.token_digest(token)) if token else None
        if stored is None or not stored.active:
            raise AuthenticationFailed("unknown or revoked API token")
        return _user(stored)

    def user_by_name(self, name: str) -> User | None:
        """The user as stored now, or None: the web app re-reads a session's user on every
        request, so a deactivated user's session ends at once."""
        stored = self.users.by_name(name)
        return _user(stored) if stored is not None else None

    def add_user(self, actor: User | None, name: str, role: Role, password: str) -> User:
        """actor None: the CLI (an operator at the server); else actor must be an admin."""
        _require_admin(actor)
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidValue("a user name must be 1 to 100 characters")
        if role not in ROLES:
            raise InvalidValue(f"role must be reviewer or admin, not {role!r}")
        if len(password) < passwords.MIN_PASSWORD_LENGTH:
            raise InvalidValue(f"a password needs at least {passwords.MIN_PASSWORD_LENGTH} characters")
        try:
            stored = self.users.add(name, role, passwords.hash_password(password), actor.name if actor else None)
        except UserExists as exc:
            raise InvalidValue(str(exc)) from exc
        return _user(stored)

    def issue_token(self, actor: User | None, name: str) -> str:
        """A new API token for `name` (shown once; stored hashed). A reviewer may get one for themself."""
        if actor is not None and actor.name != name:
            _require_admin(actor)
        stored = self.users.by_name(name)
        if stored is None:
            raise InvalidValue(f"no user named {name!r}")
        token = passwords.new_token()
        self.users.add_token(stored.id, passwords.token_digest(token), actor.name if actor else None, name)
        return token

    def list_users(self, actor: User) -> list[User]:
        _require_admin(actor)
        return [_user(u) for u in self.users.all()]

    def set_user_active(self, actor: User, name: str, active: bool) -> User:
        _require_admin(actor)
        stored = self.users.set_active(name, active, actor.name)
        if stored is None:
            raise InvalidValue(f"no user named {name!r}")
        return _user(stored)

    # -- the queue ------------------------------------------------------------------------
    def queue(self, actor: User, filters: QueueFilter, limit: int = 100, offset: int = 0) -> list[QueueItem]:
        return self.reader.queue(filters, max(1, min(limit, 1000)), max(0, offset))

    def queue_groups(self, actor: User, filters: QueueFilter, limit: int = 200) -> list[QueueGroup]:
        return self.reader.queue_groups(filters, max(1, min(limit, 1000)))

    def queue_size_by_reason(self) -> dict[str, int]:
        """Open items per reason (the flow publishes it as a Prefect artifact)."""
        return self.reader.size_by_reason()

    def item(self, actor: User, item_id: int) -> ItemDetail:
        detail = self.reader.item(item_id)
        if detail is None:
            raise ItemNotFound(f"no review item {item_id}")
        if detail.kind == "unmapped":
            detail.row_choices = _row_choices(detail.template, detail.table)
        return detail

    def crop(self, actor: User, item_id: int) -> bytes | None:
        self.item(actor, item_id)  # 404 for an unknown item
        return self.reader.crop(item_id)

    def next_item(self, actor: User, filters: QueueFilter, after_id: int | None = None) -> ItemDetail | None:
        """The next open item (not claimed by another) after `after_id`, claimed for `actor`."""
        while True:
            candidates = self.reader.next_available(filters, after_id, actor.name)
            if not candidates:
                return None
            for item_id in candidates:
                try:
                    return self.claim(actor, item_id)
                except (ItemUnavailable, ItemNotFound):
                    after_id = item_id  # someone else got it first: the next one

    # -- actions (each writes its audit row; each save re-runs the report's rules) ---------
    def claim(self, actor: User, item_id: int, lease_seconds: int = DEFAULT_LEASE_SECONDS) -> ItemDetail:
        with _store_errors():
            self.writer.claim(item_id, actor.name, max(1, lease_seconds))
        return self.item(actor, item_id)

    def confirm(self, actor: User, item_id: int, version: int | None = None, note: str | None = None) -> ActionOutcome:
        """The value as it stands is right (a null value confirmed means: the cell is blank)."""
        return self._save(actor, item_id, KEEP, version, note)

    def correct(self, actor: User, item_id: int, value: Value | str, version: int | None = None,
                note: str | None = None) -> ActionOutcome:
        """The reviewer's value; text is parsed by the field's type (InvalidValue, nothing saved)."""
        detail = self.item(actor, item_id)
        if detail.kind != "field" or detail.field_id is None:
            raise ItemUnavailable(f"item {item_id} is an unmapped row: map it to a template row instead")
        parsed = parse_reviewer_value(value, value_type_of(detail.template, detail.field_id))
        return self._save(actor, item_id, parsed, version, note)

    def skip(self, actor: User, item_id: int, note: str | None = None) -> ItemDetail:
        with _store_errors():
            self.writer.skip(item_id, actor.name, note)
        return self.item(actor, item_id)

    def map_row(self, actor: User, item_id: int, row_id: str | None, version: int | None = None,
                note: str | None = None) -> ActionOutcome:
        """An unmapped row: which template row it is (its label becomes a label variant), or
        None for 'not a template row'."""
        detail = self.item(actor, item_id)
        choice = next((c for c in detail.row_choices if c.row_id == row_id), None)
        if row_id is not None and choice is None:
            raise InvalidValue(f"{row_id!r} is not a row of table {detail.table} in template {detail.template}")
        with _store_errors():
            saved = self.writer.map_row(item_id, actor.name, detail.template, choice.table if choice else None,
                                        row_id, version, note)
        self.analytics.refresh(saved.report_id)
        return ActionOutcome(item=self.item(actor, item_id), report_complete=saved.report_complete)

    def _save(
        self, actor: User, item_id: int, value: Number | Keep, version: int | None, note: str | None
    ) -> ActionOutcome:
        with _store_errors():
            saved = self.writer.save_field(item_id, actor.name, value, version, note, plan_recheck)
        self.analytics.refresh(saved.report_id)
        for neighbour in self.agency_store.neighbours(saved.report_id):  # cross-year rules route both years
            self.analytics.refresh(neighbour)
        return ActionOutcome(item=self.item(actor, item_id), confirmed_by_rule=saved.confirmed_by_rule,
                             report_complete=saved.report_complete)

    # -- reports, audit, variants ---------------------------------------------------------
    def report(self, actor: User, report_id: int) -> ReportView:
        view = self.reader.report_view(report_id)
        if view is None:
            raise ItemNotFound(f"no report {report_id}")
        return view

    def page_image(self, actor: User, report_id: int, page: int) -> bytes | None:
        if not self.reader.report_exists(report_id):
            raise ItemNotFound(f"no report {report_id}")
        return self.reader.page_image(report_id, page)

    def agency_series(self, actor: User, report_id: int) -> list[PanelPoint]:
        """The analytics panel of the report's agency, one report a year ([] without an
        analytics store, an agency key, or while a writer holds the DuckDB file)."""
        row = next(self.store.iter_reports(report_id, include_superseded=True), None)
        if row is None:
            raise ItemNotFound(f"no report {report_id}")
        if row.agency_key is None or self.analytics.path is None or not Path(self.analytics.path).exists():
            return []
        return readable_agency_panel(Path(self.analytics.path), row.agency_key)

    def agency_series_png(self, actor: User, report_id: int) -> bytes | None:
        """The main chart (requests) of the report's agency over the years, as PNG."""
        from gongkai.plot import chart_png, charts_for  # matplotlib only when a chart is asked for

        charts = charts_for(self.agency_series(actor, report_id))
        return chart_png(charts[0]) if charts else None

    def audit(self, actor: User, item_id: int | None = None, limit: int = 200) -> list[AuditEntry]:
        if item_id is None:
            _require_admin(actor)
        with self.store.engine.connect() as conn:
            rows = read_audit(conn, item_id, max(1, min(limit, 5000)))
        return [AuditEntry(id=r["id"], at=r["at"], user=r["user_name"], item_id=r["item_id"],
                           field_id=r["field_id"], old_value=r["old_value"], new_value=r["new_value"],
                           action=r["action"], note=r["note"]) for r in rows]

    def label_variants(self, actor: User, include_revoked: bool = False) -> list[LabelVariant]:
        _require_admin(actor)
        return self.reader.label_variants(include_revoked)

    def revoke_variant(self, actor: User, variant_id: int) -> LabelVariant:
        """Admins only."""
        _require_admin(actor)
        revoked = self.writer.revoke_variant(variant_id, actor.name)
        if revoked is None:
            raise ItemNotFound(f"no label variant {variant_id}")
        return revoked


    # -- agencies (admins; None is the CLI operator) -------------------------------------------
    def agencies(self, actor: User | None, include_merged: bool = True) -> list[Agency]:
        _require_admin(actor)
        return self.agency_store.list(include_merged)

    def merge_agencies(self, actor: User | None, key: str, other: str) -> int:
        """OTHER's reports take KEY, for good (spellings stay mapped); audited; the cross-year
        rules of the joined years run and analytics is rebuilt. Returns the reports moved."""
        _require_admin(actor)
        try:
            moved = self.agency_store.merge(key, other, actor.name if actor else "operator")
        except AgencyNotFound as exc:
            raise ItemNotFound(str(exc)) from exc
        except ValueError as exc:
            raise InvalidValue(str(exc)) from exc
        self.analytics.refresh()
        return len(moved)


def _row_choices(template_id: str | None, table_id: str | None) -> list[RowChoice]:
    """The template rows an unmapped printed row may be: its table's, or every table's."""
    if template_id is None:
        return []
    tables = [t for t in load_template(template_id).tables if table_id in (None, t.id)]
    return [RowChoice(table=t.id, row_id=r.id, label=r.label) for t in tables for r in t.rows]


__all__ = ["DEFAULT_LEASE_SECONDS", "ReviewService"]
