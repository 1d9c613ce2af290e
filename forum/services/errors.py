"""Errors a service raises; the web and real-time layers turn them into 4xx answers."""
from __future__ import annotations

import sqlite3

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError


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


class LoginRequired(ServiceError):
    """A page for signed-in people (an event's rooms, a members-only consultation) opened by
    a visitor: the web layer sends them to log in and back; a socket answers 401."""

    status_code = 401
    default_message = _l("Please log in to continue.")


class RoomRefused(PermissionDenied):
    """Someone signed in opens a room of an event they may see, but not that room. The
    event's page lists its rooms, so saying why leaks nothing; `reason` is one of the
    constants below, `room` the room to go to instead (theirs, or the plenary) and `event`
    the event (whose page is where one registers or chooses a room)."""

    OTHER_ROOM = "other_room"      # they belong in another room (placed there or its co-moderator)
    NOT_PLACED = "not_placed"      # registered, not yet in a breakout room: the plenary is theirs
    REGISTER = "register"          # not registered, and registration is open
    MEMBERS_ONLY = "members_only"  # not registered, and registration is closed

    MESSAGES = {
        NOT_PLACED: _l("You have not been placed in a breakout room yet. Meanwhile, you take part in the plenary."),
        REGISTER: _l("This room is for the event's registered participants. Register for the event to take part."),
        MEMBERS_ONLY: _l("This room is for the event's registered participants."),
    }

    def __init__(self, reason: str, event, room=None):
        self.reason, self.event, self.room = reason, event, room
        if reason == self.OTHER_ROOM:
            message = _l("This is not your breakout room. Your room is %(room)s.", room=room.title)
        else:
            message = self.MESSAGES[reason]
        super().__init__(message)


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


# SQLite (the embedded default) writes one transaction at a time. A write that started by
# reading may be refused at once, whatever the busy timeout, when another write committed
# in between (SQLITE_BUSY_SNAPSHOT in WAL mode); trying the whole write again succeeds.
BUSY_MESSAGE = _l("The site is busy. Please try again in a moment.")


class DatabaseBusy(ServiceError):
    """A write still refused after its retries (`database_busy`): try again in a moment."""

    status_code = 503
    default_message = BUSY_MESSAGE
    retry_after = 1


def database_busy(error: BaseException) -> bool:
    """Whether `error` is SQLite refusing a write because another one holds the database."""
    original = getattr(error, "orig", None)
    return (isinstance(error, OperationalError) and isinstance(original, sqlite3.OperationalError)
            and getattr(original, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY)
