"""The store's own errors: what its callers catch instead of SQLAlchemy's."""

from __future__ import annotations


class StoreBusy(Exception):
    """The database was locked, busy or out of reach (a dropped connection): the same call
    may well succeed a moment later, so a caller may retry it."""


class DocumentNotFound(KeyError):
    pass


class ReviewItemNotOpen(ValueError):
    """The queue row was already resolved (another reviewer got there first)."""
