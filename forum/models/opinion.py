"""A consultation's statements board (an opinion map): participants submit short statements
and vote agree / disagree / pass on others'; the map is computed from the vote matrix."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import UTCDateTime, utcnow
from forum.models.consultations import Consultation
from forum.models.users import User


def _enum(cls):
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class BoardStatus(str, enum.Enum):
    DRAFT = "draft"
    OPEN = "open"      # takes statements and votes
    CLOSED = "closed"  # read-only; the map stays


BOARD_STATUS_LABELS = {
    BoardStatus.DRAFT: _l("Draft"),
    BoardStatus.OPEN: _l("Open"),
    BoardStatus.CLOSED: _l("Closed"),
}


class StatementStatus(str, enum.Enum):
    PENDING = "pending"      # waiting for a moderator (premoderated board)
    PUBLISHED = "published"  # shown and voted on
    REJECTED = "rejected"    # refused: only its author and the moderators see it
    HIDDEN = "hidden"        # taken down after publication; its votes leave the map


STATEMENT_STATUS_LABELS = {
    StatementStatus.PENDING: _l("Waiting for approval"),
    StatementStatus.PUBLISHED: _l("Published"),
    StatementStatus.REJECTED: _l("Not published"),
    StatementStatus.HIDDEN: _l("Hidden"),
}


class OpinionBoard(db.Model):
    __tablename__ = "opinion_board"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), unique=True)
    prompt: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[BoardStatus] = mapped_column(_enum(BoardStatus), default=BoardStatus.DRAFT)
    premoderated: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The last computed map (forum/services/opinion_map.py), as shown and exported; None
    # until the first computation. `map_votes` is how many votes it was computed from.
    map: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    map_computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    map_votes: Mapped[int] = mapped_column(default=0)
    # Every vote or moderation that changes the matrix bumps this; a computation records the
    # version it read, so a slower, older computation never overwrites a newer map.
    matrix_version: Mapped[int] = mapped_column(default=0)
    map_version: Mapped[int] = mapped_column(default=0)

    consultation: Mapped[Consultation] = relationship()
    created_by: Mapped[User] = relationship()


class Statement(db.Model):
    __tablename__ = "statement"
    __table_args__ = (Index("ix_statement_board_status", "board_id", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("opinion_board.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    text: Mapped[str] = mapped_column(String(280))
    status: Mapped[StatementStatus] = mapped_column(_enum(StatementStatus), default=StatementStatus.PUBLISHED)
    # Seed statements written by the organisers are shown first to everyone.
    seed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    rejected_reason: Mapped[str] = mapped_column(String(300), default="")
    agree_count: Mapped[int] = mapped_column(default=0)
    disagree_count: Mapped[int] = mapped_column(default=0)
    pass_count: Mapped[int] = mapped_column(default=0)

    board: Mapped[OpinionBoard] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])


class StatementVote(db.Model):
    """+1 agree, -1 disagree, 0 pass; one per participant and statement (changeable)."""

    __tablename__ = "statement_vote"
    __table_args__ = (
        UniqueConstraint("statement_id", "user_id"),
        CheckConstraint("value IN (-1, 0, 1)", name="value"),
        Index("ix_statement_vote_board_user", "board_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Denormalised from the statement: the matrix of a board is read in one indexed scan.
    board_id: Mapped[int] = mapped_column(ForeignKey("opinion_board.id", ondelete="CASCADE"))
    statement_id: Mapped[int] = mapped_column(ForeignKey("statement.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    value: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
