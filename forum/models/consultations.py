from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Column, Enum, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import UTCDateTime, utcnow
from forum.models.users import User


class ConsultationStatus(str, enum.Enum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


# The names of the codes, shown through forum.i18n.label (never the codes themselves).
STATUS_LABELS = {
    ConsultationStatus.DRAFT: _l("Draft"),
    ConsultationStatus.OPEN: _l("Open"),
    ConsultationStatus.CLOSED: _l("Closed"),
}


class Visibility(str, enum.Enum):
    PUBLIC = "public"
    MEMBERS = "members"


VISIBILITY_LABELS = {
    Visibility.PUBLIC: _l("Public"),
    Visibility.MEMBERS: _l("Members only"),
}


consultation_tags = Table(
    "consultation_tag",
    db.metadata,
    Column("consultation_id", ForeignKey("consultation.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_consultation_tag_tag_id", "tag_id"),
)


class Tag(db.Model):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored without the leading '#', compared case-insensitively through `slug`.
    name: Mapped[str] = mapped_column(String(40))
    slug: Mapped[str] = mapped_column(String(40), unique=True)


class Consultation(db.Model):
    __tablename__ = "consultation"
    __table_args__ = (Index("ix_consultation_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    brief: Mapped[str] = mapped_column(Text, default="")
    brief_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ConsultationStatus] = mapped_column(
        Enum(ConsultationStatus, native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]),
        default=ConsultationStatus.DRAFT,
    )
    visibility: Mapped[Visibility] = mapped_column(
        Enum(Visibility, native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]),
        default=Visibility.PUBLIC,
    )
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=consultation_tags, order_by=Tag.slug)
    topics: Mapped[list[Topic]] = relationship(
        back_populates="consultation", order_by="Topic.position", cascade="all, delete-orphan"
    )
    hosts: Mapped[list[Host]] = relationship(
        back_populates="consultation", order_by="Host.position", cascade="all, delete-orphan"
    )

    def phase(self, now: datetime) -> ConsultationStatus:
        """The state a reader sees: an open consultation closes by itself at closes_at."""
        if self.status is ConsultationStatus.OPEN and self.closes_at and now >= self.closes_at:
            return ConsultationStatus.CLOSED
        return self.status

    def accepts_posts(self, now: datetime) -> bool:
        if self.phase(now) is not ConsultationStatus.OPEN:
            return False
        return self.opens_at is None or now >= self.opens_at

    def is_host(self, user: User) -> bool:
        return any(h.user_id == user.id for h in self.hosts if h.user_id is not None)


class Topic(db.Model):
    __tablename__ = "topic"
    __table_args__ = (Index("ix_topic_consultation_id_position", "consultation_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    # 1-based; shown to readers as "Topic 1", "Topic 2", ...
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    guiding_questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A proposal: its responses take a stance (forum.models.posts.Stance).
    is_proposal: Mapped[bool] = mapped_column(default=False)

    consultation: Mapped[Consultation] = relationship(back_populates="topics")


class Host(db.Model):
    __tablename__ = "host"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(120), default="")
    organisation: Mapped[str] = mapped_column(String(160), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)

    consultation: Mapped[Consultation] = relationship(back_populates="hosts")
    user: Mapped[User | None] = relationship()
