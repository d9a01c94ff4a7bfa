"""Where the operational store lives and how to connect to it: the default URL, the engine
with the connection settings the store depends on, and the Alembic configuration.

The pipeline, the review web app and the crawler share one SQLite file concurrently, so
every connection runs in WAL mode with a 30 s busy timeout, and write transactions take
the write lock up front (BEGIN IMMEDIATE) so a writer waits instead of failing when it
upgrades a read lock. A lock that outlasts the timeout, or a dropped connection, reaches
the caller as StoreBusy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from platformdirs import user_data_dir
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, ExceptionContext

from .errors import StoreBusy

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DB_URL_ENV = "GONGKAI_DB_URL"
DATA_DIR_ENV = "GONGKAI_DATA_DIR"
SQLITE_FILE_NAME = "gongkai.sqlite"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# What SQLite says when another connection holds the lock past the busy timeout.
SQLITE_BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")


def data_dir() -> Path:
    """$GONGKAI_DATA_DIR, else the user's data dir: the stores and crawled files live here."""
    return Path(os.environ.get(DATA_DIR_ENV) or user_data_dir("gongkai", appauthor=False))


def default_url() -> str:
    """$GONGKAI_DB_URL, else a SQLite file in the data dir."""
    return os.environ.get(DB_URL_ENV) or f"sqlite:///{data_dir() / SQLITE_FILE_NAME}"


def _json_dumps(obj: Any) -> str:
    # Keep Chinese labels and reasons readable in the database.
    return json.dumps(obj, ensure_ascii=False)


def make_engine(url: str) -> Engine:
    """An engine with the connection settings the store depends on."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        try:
            engine = sa.create_engine(parsed, json_serializer=_json_dumps, pool_pre_ping=True)
        except ModuleNotFoundError as exc:  # the driver is an optional extra
            if parsed.get_backend_name() != "postgresql":
                raise
            raise ModuleNotFoundError(
                f"{parsed.drivername}:// needs the PostgreSQL driver ({exc.name} is not installed): "
                "pip install 'gongkai[postgres]' (scripts/bootstrap.sh installs it), "
                "and write the URL as postgresql+psycopg://…", name=exc.name) from exc
    else:
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, json_serializer=_json_dumps)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    event.listen(engine, "handle_error", _busy_as_store_busy)
    return engine


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # The driver's own implicit BEGIN would defeat BEGIN IMMEDIATE; _sqlite_on_begin
    # emits BEGIN instead (SQLAlchemy's documented pysqlite recipe).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
    cur.execute("PRAGMA foreign_keys = ON")  # off by default in SQLite, per connection
    cur.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _busy_as_store_busy(context: ExceptionContext) -> StoreBusy | None:
    """SQLAlchemy's OperationalError becomes StoreBusy where a retry can help: SQLite's lock
    held too long, and on a server database a lost connection, a lock timeout or a deadlock
    (psycopg's OperationalError). SQLite's other OperationalErrors (no such table, a syntax
    error) stay as they are."""
    # a pre-ping's failure is the pool's to handle: it reconnects
    if context.is_pre_ping or not isinstance(context.sqlalchemy_exception, sa.exc.OperationalError):
        return None
    message = str(context.original_exception).lower()
    if (context.is_disconnect or context.dialect.name != "sqlite"
            or any(m in message for m in SQLITE_BUSY_MESSAGES)):
        busy = StoreBusy(str(context.original_exception))
        busy.__cause__ = context.sqlalchemy_exception
        return busy
    return None


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config built in code: no alembic.ini needed.

    For developers: `command.revision(alembic_config(url), autogenerate=True, message=…)`.
    """
    cfg = Config()
    # Config values go through ConfigParser interpolation, hence the %% escapes.
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest migration: what `migrate()` brings a database to."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head
