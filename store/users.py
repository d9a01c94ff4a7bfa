"""Reviewers and admins: accounts, failed-login bookkeeping, API tokens (stored as sha256).

Hashing passwords is the review service's job; this module keeps what it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from .audit import aware, utc_now, write_audit
from .operational import OperationalStore
from .schema import api_tokens, users

u, t = users.c, api_tokens.c


@dataclass(frozen=True, slots=True)
class StoredUser:
    id: int
    name: str
    role: str
    active: bool
    password_hash: str
    failed_logins: int
    locked_until: datetime | None


class UserExists(ValueError):
    pass


def _user(row: RowMapping) -> StoredUser:
    return StoredUser(row["id"], row["name"], row["role"], bool(row["active"]), row["password_hash"],
                      row["failed_logins"], aware(row["locked_until"]))


class UserStore:
    def __init__(self, store: OperationalStore) -> None:
        self.store = store

    def add(self, name: str, role: str, password_hash: str, by: str | None) -> StoredUser:
        try:
            with self.store._write_transaction() as conn:
                conn.execute(sa.insert(users).values(name=name, role=role, password_hash=password_hash,
                                                     active=True, failed_logins=0, created_at=utc_now()))
                write_audit(conn, "user_added", user=by, note=f"{name} ({role})")
        except IntegrityError as exc:
            raise UserExists(f"a user named {name!r} exists already") from exc
        found = self.by_name(name)
        assert found is not None
        return found

    def by_name(self, name: str) -> StoredUser | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(u.name == name)).mappings().one_or_none()
        return None if row is None else _user(row)

    def all(self) -> list[StoredUser]:
        with self.store.engine.connect() as conn:
            return [_user(r) for r in conn.execute(sa.select(users).order_by(u.name)).mappings()]

    def set_active(self, name: str, active: bool, by: str) -> StoredUser | None:
        with self.store._write_transaction() as conn:
            done = conn.execute(sa.update(users).where(u.name == name).values(active=active)).rowcount
            if done:
                write_audit(conn, "user_updated", user=by, note=f"{name} {'activated' if active else 'deactivated'}")
        return self.by_name(name) if done else None

    def record_failure(self, user_id: int, lock_for_seconds: int | None) -> None:
        """One more failed login; a lock makes every login of this name wait it out."""
        values: dict[str, object] = {"failed_logins": u.failed_logins + 1}
        if lock_for_seconds:
            values["locked_until"] = utc_now() + timedelta(seconds=lock_for_seconds)
        with self.store._write_transaction() as conn:
            conn.execute(sa.update(users).where(u.id == user_id).values(**values))

    def record_success(self, user_id: int) -> None:
        with self.store._write_transaction() as conn:
            conn.execute(sa.update(users).where(u.id == user_id, u.failed_logins > 0)
                         .values(failed_logins=0, locked_until=None))

    def add_token(self, user_id: int, token_sha256: str, by: str | None, name: str) -> None:
        with self.store._write_transaction() as conn:
            conn.execute(sa.insert(api_tokens).values(user_id=user_id, token_sha256=token_sha256, created_at=utc_now()))
            write_audit(conn, "token_issued", user=by, note=f"for {name}")

    def by_token(self, token_sha256: str) -> StoredUser | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(
                sa.select(users).select_from(users.join(api_tokens, t.user_id == u.id))
                .where(t.token_sha256 == token_sha256, t.revoked_at.is_(None))
            ).mappings().one_or_none()
        return None if row is None else _user(row)
