"""Notifications: what a person is told (in the app, by e-mail), what they follow, and which
kinds of notice they want. What each kind means and who gets it: docs/notifications.md."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import UTCDateTime, utcnow
from forum.models.users import User


def _enum(cls):
    return Enum(cls, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])


class NotificationKind(str, enum.Enum):
    REPLY = "reply"                    # a reply to your post
    QUOTE = "quote"                    # a reply quoting your post
    MENTION = "mention"                # @you in a post or a room message
    ENDORSEMENT = "endorsement"        # your post endorsed (one notice per post, counted)
    MODERATION = "moderation"          # a moderator's action on your post, with the reason
    THREAD_REPLY = "thread_reply"      # a reply in a thread you follow
    NEW_RESPONSE = "new_response"      # a response in a Topic you follow
    NEW_TOPIC = "new_topic"            # a Topic added to a consultation you follow
    NEW_POLL = "new_poll"              # a poll opened in a consultation you follow
    CLOSING_SOON = "closing_soon"      # a consultation you follow closes soon
    PLACEMENT = "placement"            # you were placed in (or moved to) a breakout room
    EVENT_STARTING = "event_starting"  # an event you take part in starts within 20 minutes (your room's link)
    EVENT_REGISTERED = "event_registered"      # you registered for an event (with a calendar file)
    EVENT_REMINDER_DAY = "event_reminder_day"  # an event you take part in starts within 24 hours
    FEEDBACK_OPEN = "feedback_open"    # an event you registered for ended: its feedback form is open


NOTIFICATION_KIND_LABELS = {
    NotificationKind.REPLY: _l("Replies to my posts"),
    NotificationKind.QUOTE: _l("Quotes of my posts"),
    NotificationKind.MENTION: _l("Mentions of me"),
    NotificationKind.ENDORSEMENT: _l("Endorsements of my posts"),
    NotificationKind.MODERATION: _l("Moderators' actions on my posts"),
    NotificationKind.THREAD_REPLY: _l("Replies in threads I follow"),
    NotificationKind.NEW_RESPONSE: _l("Responses in Topics I follow"),
    NotificationKind.NEW_TOPIC: _l("New Topics in consultations I follow"),
    NotificationKind.NEW_POLL: _l("New polls in consultations I follow"),
    NotificationKind.CLOSING_SOON: _l("Consultations I follow closing soon"),
    NotificationKind.PLACEMENT: _l("My breakout room placement"),
    NotificationKind.EVENT_STARTING: _l("Events I registered for starting soon"),
    NotificationKind.EVENT_REGISTERED: _l("Confirmation of my registration for an event"),
    NotificationKind.EVENT_REMINDER_DAY: _l("Events I registered for, the day before"),
    NotificationKind.FEEDBACK_OPEN: _l("Feedback forms of events I registered for"),
}

# Sent by e-mail at once (when the person wants immediate mail); every other kind waits for
# the person's digest.
IMMEDIATE_EMAIL_KINDS = frozenset({NotificationKind.MENTION, NotificationKind.MODERATION})

# Mailed at once as well, but on their own rule (notification_mail.send_event_mail): they are
# about a date in someone's diary, so they go whatever the person chose for mentions or
# digests, unless they stopped all notification mail; never in a digest (late, they would
# remind of what has passed). docs/mail.md.
EVENT_EMAIL_KINDS = frozenset({NotificationKind.EVENT_REGISTERED, NotificationKind.EVENT_REMINDER_DAY,
                               NotificationKind.EVENT_STARTING})


class DigestFrequency(str, enum.Enum):
    DAILY = "daily"
    WEEKLY = "weekly"
    NEVER = "never"


DIGEST_FREQUENCY_LABELS = {
    DigestFrequency.DAILY: _l("Daily"),
    DigestFrequency.WEEKLY: _l("Weekly"),
    DigestFrequency.NEVER: _l("Never"),
}


class Notification(db.Model):
    """One thing a person is told. It points at what it is about (a post, a Topic, a poll, a
    room, ...) and is described when read, in the reader's language, so a post hidden or
    deleted since is never shown through its notification."""

    __tablename__ = "notification"
    __table_args__ = (
        # The bell's unread count and the notifications page, newest first.
        Index("ix_notification_user_read", "user_id", "read_at", "created_at"),
        # One reminder (closing soon, starting soon) or one unread endorsement batch per
        # thing per person: a repeated timer or a racing job adds nothing.
        UniqueConstraint("user_id", "dedup_key"),
        CheckConstraint("count >= 1", name="count_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(_enum(NotificationKind))
    # Who caused it (the replier, the moderator, the last endorser); None for reminders.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), index=True)
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    # Batched kinds (endorsements): how many times it happened since it was last read.
    count: Mapped[int] = mapped_column(default=1)
    # A moderation notice: what was done (a ModerationAction code) and why.
    action: Mapped[str] = mapped_column(String(32), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    dedup_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When it last happened again (a batch growing): the page's order.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Sent by e-mail (at once or in a digest): never sent twice.
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class Follow(db.Model):
    """A person following a consultation, a Topic or a thread (its response). `active` False
    records an unfollow, so posting again does not follow a thread the person left."""

    __tablename__ = "follow"
    __table_args__ = (
        UniqueConstraint("user_id", "consultation_id"),
        UniqueConstraint("user_id", "topic_id"),
        UniqueConstraint("user_id", "thread_id"),
        CheckConstraint(
            "(CASE WHEN consultation_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN topic_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN thread_id IS NULL THEN 0 ELSE 1 END) = 1", name="one_target"),
        # Fan-out: every follower of one thing.
        Index("ix_follow_consultation", "consultation_id", "active"),
        Index("ix_follow_topic", "topic_id", "active"),
        Index("ix_follow_thread", "thread_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NotificationSetting(db.Model):
    """A person's choice for one kind of notice, stored only where it differs from the
    default (services.notifications.DEFAULTS): off means neither in the app nor by mail."""

    __tablename__ = "notification_setting"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(_enum(NotificationKind))
    enabled: Mapped[bool] = mapped_column()
