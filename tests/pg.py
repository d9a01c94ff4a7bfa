"""PostgreSQL for the store tests: a fresh database per test on the server that
scripts/start_test_postgres.sh started (its URL in $GONGKAI_TEST_PG_URL).

Without the variable the postgres tests are skipped, except under CI (CI set), where a
missing server fails them: CI must not pass by silently skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

PG_URL_ENV = "GONGKAI_TEST_PG_URL"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _server_url() -> str:
    url = os.environ.get(PG_URL_ENV)
    if url:
        return url
    reason = (
        f'{PG_URL_ENV} is not set; start a server with: eval "$(scripts/start_test_postgres.sh)"'
    )
    if _in_ci():
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a new, empty database, dropped after the test."""
    server = sa.make_url(_server_url())
    name = f"gongkai_t_{uuid.uuid4().hex[:12]}"
    # CREATE/DROP DATABASE cannot run inside a transaction.
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()
