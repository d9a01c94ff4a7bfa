"""Shared pytest fixtures."""

from pg import pg_url  # noqa: F401  (PostgreSQL database per test, see tests/pg.py)
