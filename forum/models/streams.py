"""Streams: the ordered, numbered log of what happened in a consultation or an event's room.

Every change that readers see live is stored as a StreamEvent with a sequence number that
is consecutive per stream. Clients remember the last number they applied and ask for the
rest after a reconnect, so Socket.IO's at-most-once delivery loses nothing.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.base import UTCDateTime, utcnow


class Stream(db.Model):
    __tablename__ = "stream"

    # "consultation:<id>", "room:<id>", "room:<id>:moderators"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)


class StreamEvent(db.Model):
    __tablename__ = "stream_event"
    __table_args__ = (
        UniqueConstraint("stream_key", "seq"),
        # A post's events, and for catch-up whether a later event of the same stream shows the
        # post anew (forum/services/events.py); also serves the foreign key's lookups.
        Index("ix_stream_event_post", "post_id", "stream_key", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stream_key: Mapped[str] = mapped_column(ForeignKey("stream.key", ondelete="CASCADE"))
    seq: Mapped[int]
    # post.created, post.updated, post.deleted, post.endorsed, ... (docs/realtime.md)
    kind: Mapped[str] = mapped_column(String(32))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    # For events about something other than a post (a room's phase, the hand queue, ...):
    # what readers need, as it was when the event happened.
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The message as it was broadcast, built once in the transaction that recorded the event
    # (forum/services/events.py); catch-up sends it again as stored, never re-rendered.
    # Empty only for events recorded before payloads were stored: their readers reload.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
