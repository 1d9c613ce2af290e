"""Errors a service raises; the web and real-time layers turn them into 4xx answers."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l


class ServiceError(Exception):
    status_code = 400
    default_message = _l("This request could not be processed.")

    def __init__(self, message=None, field: str | None = None):
        self.message = message if message is not None else self.default_message
        self.field = field
        super().__init__(str(self.message))


class ValidationError(ServiceError):
    status_code = 400
    default_message = _l("Please check what you entered.")


class PermissionDenied(ServiceError):
    status_code = 403
    default_message = _l("You are not allowed to do this.")


class NotFound(ServiceError):
    status_code = 404
    default_message = _l("This page does not exist or you cannot see it.")


class Conflict(ServiceError):
    status_code = 409
    default_message = _l("This was changed by someone else in the meantime.")


class TooSoon(ServiceError):
    """Too many actions too quickly (a room's slow mode, the rate limits of forum/ratelimits.py):
    the same person may try again after `retry_after` seconds."""

    status_code = 429
    default_message = _l("You are doing this too often. Please wait a little and try again.")

    def __init__(self, message=None, field: str | None = None, retry_after: int = 1):
        self.retry_after = retry_after
        super().__init__(message, field)
