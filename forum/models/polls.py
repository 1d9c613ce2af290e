"""Polls and surveys: attached to a consultation (or one of its Topics) or launched live in an
event's room (the plenary or a breakout room). One ballot per voter and poll."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import UTCDateTime, utcnow
from forum.models.consultations import Consultation, Topic
from forum.models.events import Room
from forum.models.users import User


def _enum(cls):
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class PollKind(str, enum.Enum):
    SINGLE = "single"      # one option
    MULTIPLE = "multiple"  # up to max_choices options
    SCORE = "score"        # every option rated from scale_min to scale_max
    RANKED = "ranked"      # options in order of preference (Borda and instant-runoff)
    DOTS = "dots"          # `points` points spread over the options


POLL_KIND_LABELS = {
    PollKind.SINGLE: _l("Single choice"),
    PollKind.MULTIPLE: _l("Multiple choice"),
    PollKind.SCORE: _l("Score"),
    PollKind.RANKED: _l("Ranked choice"),
    PollKind.DOTS: _l("Dot vote"),
}


class PollStatus(str, enum.Enum):
    DRAFT = "draft"    # only its organisers see it
    OPEN = "open"      # takes votes (from opens_at, until closes_at if set)
    CLOSED = "closed"  # closed by hand


# With a context: a poll's state agrees with its noun where languages give them genders
# ("sondaggio aperto", not the consultation's "aperta").
POLL_STATUS_LABELS = {
    PollStatus.DRAFT: lazy_pgettext("poll", "Draft"),
    PollStatus.OPEN: lazy_pgettext("poll", "Open"),
    PollStatus.CLOSED: lazy_pgettext("poll", "Closed"),
}


class ResultsShown(str, enum.Enum):
    LIVE = "live"              # to everyone who may see the poll, as votes arrive
    AFTER_VOTE = "after_vote"  # to those who have voted, then to everyone after close
    AFTER_CLOSE = "after_close"


RESULTS_SHOWN_LABELS = {
    ResultsShown.LIVE: _l("Live, to everyone"),
    ResultsShown.AFTER_VOTE: _l("After voting"),
    ResultsShown.AFTER_CLOSE: _l("After the poll closes"),
}


class Poll(db.Model):
    __tablename__ = "poll"
    __table_args__ = (
        # Exactly one place: a consultation (optionally one of its topics), or a room.
        CheckConstraint("(consultation_id IS NULL) <> (room_id IS NULL)", name="one_place"),
        CheckConstraint("topic_id IS NULL OR consultation_id IS NOT NULL", name="topic_of_consultation"),
        Index("ix_poll_consultation_id", "consultation_id", "position"),
        Index("ix_poll_room_id", "room_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    # Order among a consultation's polls (1-based); 0 for a room's.
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[PollKind] = mapped_column(_enum(PollKind))
    question: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[PollStatus] = mapped_column(_enum(PollStatus), default=PollStatus.DRAFT)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # MULTIPLE: at most this many options (None: any number).
    max_choices: Mapped[int | None]
    # SCORE: the scale, and the words for some of its values ({"1": "Not at all", "5": "Fully"}).
    scale_min: Mapped[int] = mapped_column(default=1)
    scale_max: Mapped[int] = mapped_column(default=5)
    scale_labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # DOTS: the points each voter spreads.
    points: Mapped[int | None]
    votes_changeable: Mapped[bool] = mapped_column(default=True)
    # Anonymous: nobody (organisers included) sees who voted what, and exports carry no voter.
    anonymous: Mapped[bool] = mapped_column(default=False)
    results_shown: Mapped[ResultsShown] = mapped_column(_enum(ResultsShown), default=ResultsShown.AFTER_VOTE)
    # Breakdowns by country and organisation type: organisers always; everyone when published.
    breakdown_published: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    consultation: Mapped[Consultation | None] = relationship()
    topic: Mapped[Topic | None] = relationship()
    room: Mapped[Room | None] = relationship()
    created_by: Mapped[User] = relationship()
    options: Mapped[list[PollOption]] = relationship(
        back_populates="poll", order_by="PollOption.position", cascade="all, delete-orphan"
    )

    def phase(self, now: datetime) -> PollStatus:
        """What a reader sees: an open poll closes by itself at closes_at, and is not yet
        open before opens_at (it reads as a draft to nobody but shows when it opens)."""
        if self.status is PollStatus.OPEN and self.closes_at is not None and now >= self.closes_at:
            return PollStatus.CLOSED
        return self.status

    def takes_votes(self, now: datetime) -> bool:
        return self.phase(now) is PollStatus.OPEN and (self.opens_at is None or now >= self.opens_at)


class PollOption(db.Model):
    __tablename__ = "poll_option"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    position: Mapped[int]  # 1-based
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")

    poll: Mapped[Poll] = relationship(back_populates="options")


class PollVote(db.Model):
    """One voter's ballot. `choice` by kind, with option ids as JSON keys or items:
    SINGLE [id]; MULTIPLE [id, ...]; SCORE {"id": score, ...} (options left out are not rated);
    RANKED [id, ...] best first (unranked options left out); DOTS {"id": points, ...}.
    The voter's country and organisation type are kept as they were when they voted, so
    breakdowns do not move when a profile changes."""

    __tablename__ = "poll_vote"
    __table_args__ = (UniqueConstraint("poll_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    choice: Mapped[Any] = mapped_column(JSON)
    country: Mapped[str] = mapped_column(String(2), default="")
    organisation_type: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    poll: Mapped[Poll] = relationship()
    user: Mapped[User] = relationship()
