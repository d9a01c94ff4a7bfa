"""Shared pytest fixtures and the environment every test process runs in."""
import logging
import os

# Before Prefect is imported anywhere: no telemetry, and room for the ephemeral API
# server to start on a loaded 2-core machine (Prefect's default wait is 20 s).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

# Prefect stops its ephemeral API server at interpreter exit and logs that to a stream
# pytest has already closed: without this, logging prints a traceback after the summary.
logging.raiseExceptions = False

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from pg import pg_url  # noqa: E402,F401  (PostgreSQL database per test, see tests/pg.py)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty operational store's URL: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ops.sqlite'}"
    return request.getfixturevalue("pg_url")
