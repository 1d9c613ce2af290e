"""Feedback after an event (docs/feedback.md): the organisers' short form, the answers, and
who has answered.

Anonymity: an anonymous answer (FeedbackAnswer with author_id NULL) holds no link to the
person who gave it. "Once per person" is kept by a separate FeedbackSubmission row (event,
user) that points at no answer, and neither table has a time column or an id in insertion
order (answers have random ids; on SQLite both tables are WITHOUT ROWID), so no query,
not even one by the database's owner, can join an answer to its author. Only an answer
whose author ticked "show my name" stores
author_id."""
from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.events import Event, Room
from forum.models.users import User


def new_answer_id() -> str:
    return secrets.token_hex(16)


class FeedbackForm(db.Model):
    """An event's form: always an overall rating (1 to 5), a rating of the person's
    breakout room when `rate_room`, and up to a few open questions (`questions`, a list of
    strings). Editable by the organisers until the first answer."""

    __tablename__ = "feedback_form"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), unique=True)
    rate_room: Mapped[bool] = mapped_column(default=True)
    questions: Mapped[list[Any]] = mapped_column(JSON, default=list)

    event: Mapped[Event] = relationship()


class FeedbackAnswer(db.Model):
    """One person's answer, without who gave it unless they chose to show their name.
    No timestamp and a random id on purpose (see the module's docstring)."""

    __tablename__ = "feedback_answer"
    __table_args__ = (
        CheckConstraint("overall BETWEEN 1 AND 5", name="overall_1_to_5"),
        CheckConstraint("room_rating IS NULL OR room_rating BETWEEN 1 AND 5", name="room_rating_1_to_5"),
        Index("ix_feedback_answer_event_id", "event_id"),
        # On SQLite a table keeps a hidden rowid in insertion order: not this one.
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_answer_id)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    overall: Mapped[int]
    # The breakout room rated (the person's room when they answered) and its rating.
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id", ondelete="SET NULL"))
    room_rating: Mapped[int | None]
    # The open answers, in the order of the form's questions ("" for one left blank).
    comments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Only when the person ticked "show my name"; NULL for every anonymous answer.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    author: Mapped[User | None] = relationship()
    room: Mapped[Room | None] = relationship()


class FeedbackSubmission(db.Model):
    """That `user_id` has answered `event_id`'s form: nothing else (no answer id, no time)."""

    __tablename__ = "feedback_submission"
    # Keyed by (event, person) with no id of its own: nothing in insertion order.
    __table_args__ = ({"sqlite_with_rowid": False},)

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
