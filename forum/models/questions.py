"""Plenary Q&A: participants' questions to the plenary's speakers, and their upvotes (one per
person and question, withdrawable). docs/questions.md."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import UTCDateTime, utcnow
from forum.models.events import Room
from forum.models.users import User


def _enum(cls):
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class QuestionStatus(str, enum.Enum):
    PENDING = "pending"      # waiting for a moderator (the room's questions are pre-moderated)
    PUBLISHED = "published"  # everyone sees it and may upvote it
    ANSWERED = "answered"    # the speakers took it; shown apart, no more votes
    DISMISSED = "dismissed"  # hidden by a moderator (with an optional reason)


# What every reader of the plenary sees; a pending question is its author's and the
# moderators', a dismissed one the moderators'.
VISIBLE_TO_ALL = (QuestionStatus.PUBLISHED, QuestionStatus.ANSWERED)


class Question(db.Model):
    """A question to the plenary's speakers. Plain text (no Markdown: one or two sentences).
    `vote_count` is kept with SQL increments so that sorting by votes uses the index."""

    __tablename__ = "question"
    __table_args__ = (
        CheckConstraint("vote_count >= 0", name="vote_count_not_negative"),
        Index("ix_question_room_id", "room_id", "status", "vote_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(String(1000))
    status: Mapped[QuestionStatus] = mapped_column(_enum(QuestionStatus), default=QuestionStatus.PUBLISHED)
    # Anonymous: the author is shown to the moderators only (and never in exports).
    anonymous: Mapped[bool] = mapped_column(default=False)
    vote_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dismissed_reason: Mapped[str] = mapped_column(String(500), default="")

    room: Mapped[Room] = relationship()
    author: Mapped[User] = relationship()

    @property
    def is_visible_to_all(self) -> bool:
        return self.status in VISIBLE_TO_ALL


class QuestionVote(db.Model):
    __tablename__ = "question_vote"
    __table_args__ = (UniqueConstraint("question_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
