from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import UTCDateTime, utcnow
from forum.models.consultations import Consultation, Topic
from forum.models.events import Room
from forum.models.users import User


class PostStatus(str, enum.Enum):
    PUBLISHED = "published"
    PENDING = "pending"    # waiting in a pre-moderated room's queue
    REJECTED = "rejected"  # refused there: only its author and the moderators see it


POST_STATUS_LABELS = {
    PostStatus.PUBLISHED: _l("Published"),
    PostStatus.PENDING: _l("Waiting for approval"),
    PostStatus.REJECTED: _l("Not published"),
}


class Stance(str, enum.Enum):
    """A response's position on a Topic that is a proposal."""
    IN_FAVOUR = "in_favour"
    NEUTRAL = "neutral"
    AGAINST = "against"


STANCE_LABELS = {
    Stance.IN_FAVOUR: _l("In favour"),
    Stance.NEUTRAL: _l("Neutral"),
    Stance.AGAINST: _l("Against"),
}


class Post(db.Model):
    """A response to a consultation topic (parent_id is None) or a reply within its thread;
    or a message in an event's room (room_id), possibly in its moderators' back-channel."""

    __tablename__ = "post"
    __table_args__ = (
        # The listing queries: top-level responses of a consultation, optionally of one
        # topic, newest/oldest first or by endorsements; and the replies of a page of threads.
        Index("ix_post_listing_created", "consultation_id", "parent_id", "created_at"),
        Index("ix_post_listing_topic_created", "consultation_id", "topic_id", "parent_id", "created_at"),
        Index("ix_post_listing_endorsed", "consultation_id", "parent_id", "endorsement_count", "created_at"),
        Index("ix_post_thread", "thread_id", "created_at"),
        # A client sends the same key again after a lost acknowledgement: one post only.
        UniqueConstraint("author_id", "client_key"),
        Index("ix_post_room_created", "room_id", "backchannel", "created_at"),
        # Exactly one place: a consultation topic, or a room.
        CheckConstraint("(consultation_id IS NULL) <> (room_id IS NULL)", name="one_place"),
        CheckConstraint("room_id IS NOT NULL OR topic_id IS NOT NULL", name="topic_of_response"),
        # A post quotes the post it replies to, or none: so a quote is always readable
        # wherever the quoting post is (a thread moves as a whole).
        CheckConstraint("quoted_post_id IS NULL OR quoted_post_id = parent_id", name="quotes_its_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    # A room's private channel for its co-moderators and the organisers.
    backchannel: Mapped[bool] = mapped_column(default=False)
    # An organiser's message sent to every room of an event at once.
    announcement: Mapped[bool] = mapped_column(default=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"))
    # The post this one quotes. A quote is a reference, never a copy: it is rendered from the
    # quoted post as it is when read (templates/partials/quote.html), so deleting or hiding
    # that post takes its words out of every quote of it.
    quoted_post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"), index=True)
    # The top-level response this post belongs to (itself for a response).
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # A response to a proposal Topic takes a stance; replies and room messages do not.
    stance: Mapped[Stance | None] = mapped_column(
        Enum(Stance, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]))
    on_behalf_of_organisation: Mapped[bool] = mapped_column(default=False)
    # The organisation named when posting on its behalf, kept as it was at that time.
    organisation_name: Mapped[str] = mapped_column(String(160), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    endorsement_count: Mapped[int] = mapped_column(default=0)
    reply_count: Mapped[int] = mapped_column(default=0)
    client_key: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[PostStatus] = mapped_column(
        Enum(PostStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=PostStatus.PUBLISHED,
    )
    # Moderation: a hidden post keeps its text for its author and the moderators; others
    # see a placeholder. The reason is shown to the author.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    hidden_reason: Mapped[str] = mapped_column(Text, default="")
    # Why a pre-moderated post was rejected, told to its author.
    rejected_reason: Mapped[str] = mapped_column(Text, default="")
    pinned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set on a response: its thread takes no more replies.
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    consultation: Mapped[Consultation | None] = relationship()
    topic: Mapped[Topic | None] = relationship()
    room: Mapped[Room | None] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    parent: Mapped[Post | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    quoted_post: Mapped[Post | None] = relationship(remote_side=[id], foreign_keys=[quoted_post_id])
    revisions: Mapped[list[PostRevision]] = relationship(
        back_populates="post", order_by="PostRevision.id", cascade="all, delete-orphan"
    )

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_response(self) -> bool:
        return self.parent_id is None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_published(self) -> bool:
        return self.status is PostStatus.PUBLISHED

    @property
    def stream_key(self) -> str:
        """The stream whose readers see this post (forum.services.events names them)."""
        if self.room_id is None:
            return f"consultation:{self.consultation_id}"
        if self.backchannel:
            return f"room:{self.room_id}:moderators"
        return f"room:{self.room_id}"


class PostRevision(db.Model):
    """A post's earlier text, kept each time it is edited."""

    __tablename__ = "post_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    # When this text was written (the post's creation or its previous edit).
    written_at: Mapped[datetime] = mapped_column(UTCDateTime())
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    editor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    post: Mapped[Post] = relationship(back_populates="revisions")


class Endorsement(db.Model):
    __tablename__ = "endorsement"
    __table_args__ = (UniqueConstraint("post_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
