"""Pre-event input (docs/pre-event.md): the organisers' questions for an event (event-wide, or
for one breakout room's topic), the participants' answers (one per person and question,
editable until the event starts) and endorsements of others' answers (one per person)."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import UTCDateTime, utcnow
from forum.models.events import Event, Room
from forum.models.users import User


class PreEventKind(str, enum.Enum):
    PRIORITIES = "priorities"  # what matters most to them
    DISCUSS = "discuss"        # questions they want the room to discuss
    EXPERIENCE = "experience"  # what they have seen or done


PREEVENT_KIND_LABELS = {
    PreEventKind.PRIORITIES: _l("Priorities"),
    PreEventKind.DISCUSS: _l("Questions to discuss"),
    PreEventKind.EXPERIENCE: _l("Experience"),
}


class PreEventQuestion(db.Model):
    """A question the organisers ask before the event: event-wide (`room_id` None, its board is
    the plenary's) or about one breakout room's topic."""

    __tablename__ = "preevent_question"
    __table_args__ = (Index("ix_preevent_question_event_id", "event_id", "room_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"), index=True)
    kind: Mapped[PreEventKind] = mapped_column(Enum(PreEventKind, native_enum=False, length=24,
                                                    values_callable=lambda e: [m.value for m in e]))
    label: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    event: Mapped[Event] = relationship()
    room: Mapped[Room | None] = relationship()


class PreEventAnswer(db.Model):
    """One person's answer to one question (plain text). `endorsement_count` is kept with SQL
    increments; `pinned_post_id` is the room message a moderator pinned it as."""

    __tablename__ = "preevent_answer"
    __table_args__ = (
        UniqueConstraint("question_id", "author_id"),
        CheckConstraint("endorsement_count >= 0", name="endorsement_count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("preevent_question.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    endorsement_count: Mapped[int] = mapped_column(default=0)
    pinned_post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    question: Mapped[PreEventQuestion] = relationship()
    author: Mapped[User] = relationship()


class PreEventEndorsement(db.Model):
    __tablename__ = "preevent_endorsement"
    __table_args__ = (UniqueConstraint("answer_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("preevent_answer.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
