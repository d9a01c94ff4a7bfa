"""Alembic environment for the operational store.

OperationalStore.migrate() hands over its own connection (config.attributes["connection"]),
already inside a transaction, so the upgrade commits or rolls back with it. Run by hand,
the URL comes from the config (alembic_config(url)) or $GONGKAI_DB_URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from gongkai.store.engine import default_url, make_engine
from gongkai.store.schema import metadata

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables in later revisions.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or default_url()


def run_offline() -> None:
    """`--sql` mode: emit the DDL as text."""
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    shared = config.attributes.get("connection")
    if shared is not None:
        _configure(shared)
        with context.begin_transaction():  # a no-op inside the caller's transaction
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
