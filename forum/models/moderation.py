"""What moderators do and what they draw on: flags, mutes, raised hands, key takeaways and
the append-only moderation log."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from forum.extensions import db
from forum.models.base import UTCDateTime, utcnow
from forum.models.events import Room
from forum.models.posts import Post
from forum.models.users import User


class ModerationAction(db.Model):
    """One line of the moderation log: who did what to which post, person or setting, when
    and why. Rows are only ever added (see `_refuse_changes`)."""

    __tablename__ = "moderation_action"
    __table_args__ = (
        Index("ix_moderation_action_event", "event_id", "id"),
        Index("ix_moderation_action_consultation", "consultation_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # post.hidden, post.restored, post.pinned, post.unpinned, post.moved, post.approved,
    # post.rejected, thread.locked, thread.unlocked, room.locked, room.unlocked, room.phase,
    # room.slow_mode, room.premoderation, user.muted, user.unmuted, flag.dismissed,
    # floor.given, speak.invited, event.broadcast, event.recall, member.moved, takeaway.promoted
    action: Mapped[str] = mapped_column(String(32))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="SET NULL"), index=True)
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User] = relationship(foreign_keys=[actor_id])
    target_user: Mapped[User | None] = relationship(foreign_keys=[target_user_id])
    room: Mapped[Room | None] = relationship()
    post: Mapped[Post | None] = relationship()


@sa_event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, flush_context, instances) -> None:
    # The log is evidence: a bug or a hurried fix must not be able to rewrite it.
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, ModerationAction) and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError("the moderation log is append-only")


class Flag(db.Model):
    """A reader's report of a post, waiting in the moderation queue until resolved."""

    __tablename__ = "flag"
    __table_args__ = (UniqueConstraint("post_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    post: Mapped[Post] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Mute(db.Model):
    """A participant may not post in a room until `until`."""

    __tablename__ = "mute"
    __table_args__ = (Index("ix_mute_room_user", "room_id", "user_id", "until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class HandRaise(db.Model):
    """A raised hand: queued by `raised_at` until a moderator gives the floor or it is lowered."""

    __tablename__ = "hand_raise"
    __table_args__ = (Index("ix_hand_raise_room_open", "room_id", "lowered_at", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    floor_given_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    floor_given_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Set when the floor is given or the participant lowers the hand: it leaves the queue.
    lowered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Takeaway(db.Model):
    """A key takeaway of a room, drafted by its co-moderators; reported to the plenary when
    the room closes. May credit the participant's post it was promoted from."""

    __tablename__ = "takeaway"
    __table_args__ = (Index("ix_takeaway_room_position", "room_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    position: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    source_post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="SET NULL"))
    # Kept apart from the post so that the credit survives the post's deletion.
    credited_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    room: Mapped[Room] = relationship()
    source_post: Mapped[Post | None] = relationship(foreign_keys=[source_post_id])
    credited_user: Mapped[User | None] = relationship(foreign_keys=[credited_user_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    revisions: Mapped[list[TakeawayRevision]] = relationship(
        back_populates="takeaway", order_by="TakeawayRevision.id", cascade="all, delete-orphan")

    @property
    def credited(self) -> User | None:
        """Who the takeaway credits: the author of the message it came from, while that
        message stands. Deleted (its author's words erased) or hidden, the credit goes too."""
        post = self.source_post
        if self.credited_user is None or post is None or post.is_deleted or post.is_hidden:
            return None
        return self.credited_user


class TakeawayRevision(db.Model):
    __tablename__ = "takeaway_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    takeaway_id: Mapped[int] = mapped_column(ForeignKey("takeaway.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    editor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    takeaway: Mapped[Takeaway] = relationship(back_populates="revisions")
    editor: Mapped[User] = relationship()
