from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import UTCDateTime, utcnow
from forum.models.consultations import Consultation, Topic
from forum.models.users import User


class Post(db.Model):
    """A response to a consultation topic (parent_id is None) or a reply within its thread."""

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
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"))
    # The top-level response this post belongs to (itself for a response).
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    on_behalf_of_organisation: Mapped[bool] = mapped_column(default=False)
    # The organisation named when posting on its behalf, kept as it was at that time.
    organisation_name: Mapped[str] = mapped_column(String(160), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    endorsement_count: Mapped[int] = mapped_column(default=0)
    reply_count: Mapped[int] = mapped_column(default=0)
    client_key: Mapped[str | None] = mapped_column(String(64))

    consultation: Mapped[Consultation] = relationship()
    topic: Mapped[Topic] = relationship()
    author: Mapped[User] = relationship()
    parent: Mapped[Post | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    revisions: Mapped[list[PostRevision]] = relationship(
        back_populates="post", order_by="PostRevision.id", cascade="all, delete-orphan"
    )

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_response(self) -> bool:
        return self.parent_id is None


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
