from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

_simulated_now: ContextVar[datetime | None] = ContextVar("simulated_now", default=None)


def utcnow() -> datetime:
    """The time every rule and every stored timestamp reads (column defaults included)."""
    simulated = _simulated_now.get()
    return simulated if simulated is not None else datetime.now(timezone.utc)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Run the code inside as if it were `moment` (aware, UTC): the demo replays a
    discussion at the times it simulates, so that what the services store (posts, the
    moderation log, endorsements...) carries those times, as it would have live. Flush
    inside it, so that column defaults are filled in at that moment. Never used while
    serving requests."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use an aware UTC datetime")
    token = _simulated_now.set(moment.astimezone(timezone.utc))
    try:
        yield
    finally:
        _simulated_now.reset(token)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
