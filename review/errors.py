"""What a review action can refuse with; the web app maps each to an HTTP status."""
from __future__ import annotations


class ReviewError(Exception):
    """Base: `str(exc)` is a message a reviewer can read."""


class ItemNotFound(ReviewError):  # 404
    pass


class ItemUnavailable(ReviewError):  # 409: claimed by someone else, or already resolved/skipped
    pass


class VersionConflict(ReviewError):  # 409: the pipeline (or another save) changed the item since it was read
    pass


class InvalidValue(ReviewError):  # 422: letters in a count, a negative or fractional count, ...
    pass


class PermissionDenied(ReviewError):  # 403: a reviewer asking for an admin action
    pass


class AuthenticationFailed(ReviewError):  # 401
    pass
