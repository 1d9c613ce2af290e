"""Notifications: what a person is told in the app (and, through notification_mail, by
e-mail), what they follow, and which kinds they want. docs/notifications.md.

Writes that may tell someone something call a trigger here (`post_published`,
`post_edited`, `post_endorsed`, `moderated`, `placed`, `topic_added`, `poll_opened`,
`feedback_opened`) in
their own transaction. A trigger queues one job (forum/jobs.py) and nothing else: the
fan-out (finding the recipients, checking at delivery that each may read what it is about
and wants that kind, writing the notices, telling their open pages) runs off the request,
after the write has committed, so a Topic with 2,000 followers costs its request the same
as one with none (bench/notify.py).

Delivery rules, the same for every kind: never to the person who caused it, never to someone
who may not read what it is about (forum.permissions, asked at delivery), never a kind the
person switched off, and at most one notice per person per post: someone mentioned in a
reply to their own post gets the mention only (PRIORITY).

The bell's unread count follows every change of it on the account's open pages: once a
change has committed, a "notice" `{"type": "notifications.unread", "count": n}` goes to
each socket of the account (`push_unread_after_commit`), counted after the commit, so it
is the count as stored.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from forum import jobs, permissions
from forum.extensions import db, socketio
from forum.models import Consultation, Endorsement, Event, EventMember, Moderator, Post, Room, Topic, User
from forum.models.base import utcnow
from forum.models.consultations import ConsultationStatus
from forum.models.events import EventStatus
from forum.models.notifications import (
    EVENT_EMAIL_KINDS,
    IMMEDIATE_EMAIL_KINDS,
    DigestFrequency,
    Follow,
    Notification,
    NotificationKind,
    NotificationSetting,
)
from forum.models.polls import Poll
from forum.presence import presence
from forum.services import events, mentions
from forum.services.errors import NotFound, PermissionDenied, ValidationError
from forum.services.queries import by_id, dialect_insert

K = NotificationKind

# Every kind is on until the person turns it off: each is either about their own posts, their
# own placement and events, or about something they chose to follow.
DEFAULTS: dict[NotificationKind, bool] = {kind: True for kind in NotificationKind}

# A new post tells each person one thing: the first of these that applies and that they want.
PRIORITY = (K.MENTION, K.QUOTE, K.REPLY, K.THREAD_REPLY, K.NEW_RESPONSE)

# What a moderator did to someone's post, as a notice says it ({place}: where; the reason follows).
MODERATION_TEXTS = {
    "post.hidden": _l("A moderator hid your post in “%(place)s”."),
    "post.restored": _l("A moderator restored your hidden post in “%(place)s”."),
    "post.approved": _l("A moderator approved your message in “%(place)s”."),
    "post.rejected": _l("A moderator did not publish your message in “%(place)s”."),
    "post.deleted": _l("A moderator deleted one of your posts."),
    "post.moved": _l("A moderator moved your thread to “%(place)s”."),
    "thread.locked": _l("A moderator locked your thread in “%(place)s”: it takes no more replies."),
    "thread.unlocked": _l("A moderator unlocked your thread in “%(place)s”."),
}

UNAVAILABLE = {
    "post": _l("A post you were notified about is no longer available."),
    "topic": _l("A Topic you were notified about is no longer available."),
    "poll": _l("A poll you were notified about is no longer available."),
    "consultation": _l("A consultation you were notified about is no longer available."),
    "room": _l("A room you were notified about is no longer available to you."),
    "event": _l("An event you were notified about is no longer available."),
}

EXCERPT_LENGTH = 160


def _config(name: str):
    return current_app.config[name]


# --- Settings -----------------------------------------------------------------------------

def settings_of(user: User) -> dict[NotificationKind, bool]:
    """Each kind -> whether the person wants it (the defaults, changed by their rows)."""
    chosen = dict(db.session.execute(select(NotificationSetting.kind, NotificationSetting.enabled)
                                     .where(NotificationSetting.user_id == user.id)).all())
    return {kind: chosen.get(kind, default) for kind, default in DEFAULTS.items()}


def save_settings(actor: User, user: User, *, enabled: set[str], email_immediate: bool,
                  digest_frequency: str) -> None:
    """The person's choices: the kinds they want (codes of NotificationKind; the others are
    off), whether mentions and moderation notices are e-mailed at once, and how often the
    digest comes. Rows are kept only where a choice differs from DEFAULTS."""
    if actor is None or not actor.is_authenticated or actor.id != user.id:
        raise PermissionDenied()
    codes = {kind.value for kind in NotificationKind}
    unknown = set(enabled) - codes
    if unknown:
        raise ValidationError(_l("Unknown kind of notification."), field="kinds")
    try:
        frequency = DigestFrequency(digest_frequency)
    except ValueError:
        raise ValidationError(_l("Choose how often the digest comes: daily, weekly or never."),
                              field="digest_frequency") from None
    rows = {row.kind: row for row in db.session.scalars(
        select(NotificationSetting).where(NotificationSetting.user_id == user.id))}
    for kind, default in DEFAULTS.items():
        wanted = kind.value in enabled
        row = rows.get(kind)
        if wanted == default:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(NotificationSetting(user_id=user.id, kind=kind, enabled=wanted))
        else:
            row.enabled = wanted
    user.email_immediate = bool(email_immediate)
    user.digest_frequency = frequency.value
    db.session.flush()


def _wanting(user_ids, kinds) -> dict[int, set[NotificationKind]]:
    """user id -> which of `kinds` they want (one query)."""
    user_ids = list(user_ids)
    wanted = {user_id: {kind for kind in kinds if DEFAULTS[kind]} for user_id in user_ids}
    if not user_ids:
        return wanted
    rows = db.session.execute(select(NotificationSetting.user_id, NotificationSetting.kind,
                                     NotificationSetting.enabled)
                              .where(NotificationSetting.user_id.in_(user_ids),
                                     NotificationSetting.kind.in_(list(kinds)))).all()
    for user_id, kind, enabled in rows:
        (wanted[user_id].add if enabled else wanted[user_id].discard)(kind)
    return wanted


# --- Follows ------------------------------------------------------------------------------

def _target_column(target: Consultation | Topic | Post):
    if isinstance(target, Topic):
        return Follow.topic_id
    if isinstance(target, Post):
        return Follow.thread_id
    return Follow.consultation_id


def _follow_row(user: User, target) -> Follow | None:
    return db.session.scalar(select(Follow).where(Follow.user_id == user.id, _target_column(target) == target.id))


def follow(actor: User, target: Consultation | Topic | Post) -> Follow:
    """Follow a consultation (new Topics and polls, closing soon), one of its Topics (its
    responses) or a thread (its replies). Following again changes nothing."""
    if not permissions.can_follow(actor, target):
        raise PermissionDenied()
    row = _follow_row(actor, target)
    if row is None:
        row = Follow(user_id=actor.id, **{_target_column(target).key: target.id})
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # the same button pressed twice at once
            row = _follow_row(actor, target)
    row.active = True
    db.session.flush()
    return row


def unfollow(actor: User, target: Consultation | Topic | Post) -> None:
    """Stop following. The row stays, inactive: posting in a thread one left does not follow
    it again. Unfollowing what one does not follow is harmless."""
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied()
    row = _follow_row(actor, target)
    if row is None:
        row = Follow(user_id=actor.id, active=False, **{_target_column(target).key: target.id})
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:
            row = _follow_row(actor, target)
    row.active = False
    db.session.flush()


def _follow_unless_left(user_id: int, **target: int) -> None:
    """Follow, unless a row (followed or left) exists already: one statement."""
    (column,) = target
    db.session.execute(dialect_insert(Follow).values(user_id=user_id, active=True, created_at=utcnow(), **target)
                       .on_conflict_do_nothing(index_elements=["user_id", column]))


def follow_own_thread(post: Post) -> None:
    """Posting a response or a reply in a consultation follows its thread, unless the author
    left it before."""
    if post.room_id is None and post.thread_id is not None:
        _follow_unless_left(post.author_id, thread_id=post.thread_id)


def follow_own_consultation(user: User, consultation: Consultation) -> None:
    """Its organiser (at creation) and a host linked to an account (when added) follow the
    consultation: they hear of its polls and that it closes soon. Unless they left it."""
    if user is not None:
        _follow_unless_left(user.id, consultation_id=consultation.id)


def following(user, *targets) -> set[tuple[str, int]]:
    """Which of `targets` the user follows, as ("consultation" | "topic" | "thread", id)
    pairs (one query: the buttons of a page)."""
    if not (user and user.is_authenticated) or not targets:
        return set()
    conditions = []
    for target in targets:
        conditions.append(_target_column(target) == target.id)
    rows = db.session.execute(select(Follow.consultation_id, Follow.topic_id, Follow.thread_id).where(
        Follow.user_id == user.id, Follow.active.is_(True), or_(*conditions))).all()
    answer = set()
    for consultation_id, topic_id, thread_id in rows:
        if consultation_id is not None:
            answer.add(("consultation", consultation_id))
        elif topic_id is not None:
            answer.add(("topic", topic_id))
        else:
            answer.add(("thread", thread_id))
    return answer


@dataclass
class Followed:
    kind: str  # "consultation", "topic", "thread"
    target: Consultation | Topic | Post
    title: str
    url: str


def follows_of(user: User) -> list[Followed]:
    """What the person follows and may still read, newest first (the follows page)."""
    rows = db.session.scalars(select(Follow).where(Follow.user_id == user.id, Follow.active.is_(True))
                              .order_by(Follow.created_at.desc(), Follow.id.desc())).all()
    # Each kind of target in one query, with what its title and permission read.
    consultations = by_id(Consultation, [row.consultation_id for row in rows], selectinload(Consultation.hosts))
    topics = by_id(Topic, [row.topic_id for row in rows],
                     selectinload(Topic.consultation).selectinload(Consultation.hosts))
    threads = by_id(Post, [row.thread_id for row in rows], selectinload(Post.author), selectinload(Post.topic),
                      selectinload(Post.consultation).selectinload(Consultation.hosts))
    listed = []
    for row in rows:
        if row.consultation_id is not None:
            target = consultations.get(row.consultation_id)
            if target is not None and permissions.can_follow(user, target):
                listed.append(Followed("consultation", target, target.title,
                                       url_for("consultations.show", consultation_id=target.id)))
        elif row.topic_id is not None:
            target = topics.get(row.topic_id)
            if target is not None and permissions.can_follow(user, target):
                listed.append(Followed("topic", target, target.title, url_for(
                    "consultations.show", consultation_id=target.consultation_id, topic=target.id)))
        else:
            target = threads.get(row.thread_id)
            if target is not None and permissions.can_follow(user, target):
                listed.append(Followed("thread", target, _thread_title(target), url_for(
                    "posts.show", consultation_id=target.consultation_id, post_id=target.id)))
    return listed


def _thread_title(post: Post) -> str:
    return post.subject or _("Response by %(name)s in “%(topic)s”", name=post.author.display_name,
                             topic=post.topic.title if post.topic else "")


# --- Triggers: called by the services, in the write's transaction ---------------------------

def post_published(post: Post) -> None:
    """A post is published: created (not waiting for a moderator) or approved."""
    jobs.enqueue(deliver_post, post.id)


def post_edited(post: Post, old_body: str) -> None:
    """An edit that adds mentions tells the people newly mentioned."""
    added = [handle for handle in mentions.mentioned_handles(post.body)
             if handle not in set(mentions.mentioned_handles(old_body))]
    if added and post.is_published:
        jobs.enqueue(deliver_post, post.id, added)


def post_endorsed(post: Post, endorser: User) -> None:
    if post.author_id != endorser.id:
        jobs.enqueue(deliver_endorsement, post.id, endorser.id)


def moderated(actor: User, post: Post, action: str, reason: str = "") -> None:
    """A moderator acted on someone's post: its author is told, with why. Only the actions of
    MODERATION_TEXTS tell (a pin does not)."""
    if post.author_id != actor.id and action in MODERATION_TEXTS:
        jobs.enqueue(deliver_moderation, post.id, actor.id, action, reason)


def placed(actor: User | None, placements: list[tuple[int, int]]) -> None:
    """People were placed in (or moved to) breakout rooms: [(user id, room id)]."""
    placements = [[user_id, room_id] for user_id, room_id in placements
                  if actor is None or user_id != actor.id]
    if placements:
        jobs.enqueue(deliver_placements, placements, actor.id if actor is not None else None)


def registered(member: EventMember) -> None:
    """Someone registered for an event (or joined it through its invitation): they are sent
    the confirmation, with the calendar file by mail."""
    jobs.enqueue(deliver_registration, member.event_id, member.user_id)


def topic_added(actor: User, topic: Topic) -> None:
    """A Topic added to an opened consultation (one set up in a draft is news to no one)."""
    if topic.consultation.status is not ConsultationStatus.DRAFT:
        jobs.enqueue(deliver_new_topic, topic.id, actor.id)


def poll_opened(actor: User, poll: Poll) -> None:
    if poll.consultation_id is not None:
        jobs.enqueue(deliver_new_poll, poll.id, actor.id)


def feedback_opened(actor: User | None, event: Event) -> None:
    """The event ended: its registered participants are asked for feedback (docs/feedback.md)."""
    jobs.enqueue(deliver_feedback_open, event.id, actor.id if actor is not None else None)


# --- Delivery: the jobs -------------------------------------------------------------------

def _store(notices: list[Notification]) -> list[Notification]:
    """Write the notices (thousands for a fan-out: one executemany), skipping any whose
    `dedup_key` the person already has (a job run twice, two workers at once); queue the
    immediate e-mails; tell the recipients' open pages. Returns the notices written."""
    if not notices:
        return []
    # A closed account is told nothing (forum/services/account_closure.py).
    closed = set(db.session.scalars(select(User.id).where(
        User.id.in_({notice.user_id for notice in notices}), User.closed_at.is_not(None))))
    notices = [notice for notice in notices if notice.user_id not in closed]
    if not notices:
        return []
    now = utcnow()
    rows = [{"count": 1, "action": "", "reason": "", "created_at": now, "updated_at": now,
             **{key: value for key, value in vars(notice).items() if not key.startswith("_")}}
            for notice in notices]
    written = db.session.execute(
        dialect_insert(Notification.__table__).on_conflict_do_nothing(index_elements=["user_id", "dedup_key"])
        .returning(Notification.id, Notification.user_id, Notification.kind), rows).all()
    from forum.services import notification_mail

    for notice_id, _user_id, kind in written:
        if kind in IMMEDIATE_EMAIL_KINDS:
            jobs.enqueue(notification_mail.send_immediate, notice_id)
        elif kind in EVENT_EMAIL_KINDS:
            jobs.enqueue(notification_mail.send_event_mail, notice_id)
    push_unread_after_commit({user_id for _id, user_id, _kind in written})
    by_user = {user_id: notice_id for notice_id, user_id, _kind in written}
    stored = [notice for notice in notices if notice.user_id in by_user]
    for notice in stored:
        notice.id = by_user[notice.user_id]
    return stored


def _followers(column, value: int) -> list[int]:
    return list(db.session.scalars(select(Follow.user_id).where(column == value, Follow.active.is_(True))))


def deliver_post(post_id: int, only_handles: list[str] | None = None) -> list[Notification]:
    """A published post's notices: mentions (only those of `only_handles` after an edit),
    the quoted post's author, the parent's author, the thread's and the Topic's followers."""
    post = db.session.get(Post, post_id)
    if post is None or post.is_deleted or post.is_hidden or not post.is_published:
        return []
    candidates: dict[int, list[NotificationKind]] = {}

    def add(user_id: int | None, kind: NotificationKind) -> None:
        if user_id is not None and user_id != post.author_id:
            candidates.setdefault(user_id, []).append(kind)

    if only_handles is not None:
        for user in db.session.scalars(select(User).where(User.handle.in_(only_handles))):
            add(user.id, K.MENTION)
    else:
        for user in mentions.mentioned_users(post.body):
            add(user.id, K.MENTION)
        if post.quoted_post is not None:
            add(post.quoted_post.author_id, K.QUOTE)
        if post.parent is not None:
            add(post.parent.author_id, K.REPLY)
        if post.room_id is None:
            if post.parent_id is not None:
                for user_id in _followers(Follow.thread_id, post.thread_id):
                    add(user_id, K.THREAD_REPLY)
            else:
                for user_id in _followers(Follow.topic_id, post.topic_id):
                    add(user_id, K.NEW_RESPONSE)
    if not candidates:
        return []
    told = set(db.session.scalars(select(Notification.user_id).where(
        Notification.post_id == post.id, Notification.kind.in_(PRIORITY),
        Notification.user_id.in_(list(candidates)))))
    wanted = _wanting(candidates, PRIORITY)
    users = by_id(User, candidates)
    notices = []
    for user_id, kinds in candidates.items():
        kind = next((k for k in PRIORITY if k in kinds and k in wanted[user_id]), None)
        user = users.get(user_id)
        if kind is None or user_id in told or user is None or not permissions.can_read_post(user, post):
            continue
        notices.append(Notification(user_id=user_id, kind=kind, actor_id=post.author_id, post_id=post.id,
                                    consultation_id=post.consultation_id, topic_id=post.topic_id,
                                    room_id=post.room_id, dedup_key=_post_key(post.id)))
    return _store(notices)


def _post_key(post_id: int) -> str:
    """One notice per person per post (mention, quote, reply, ...): two jobs for one post at
    once (a creation and an edit adding a mention) cannot both tell someone."""
    return f"post:{post_id}"


def _endorsement_key(post_id: int) -> str:
    return f"endorsement:{post_id}"


def deliver_endorsement(post_id: int, endorser_id: int) -> Notification | None:
    """One unread notice per endorsed post: the first endorsement makes it, the next ones
    count in it (the people who endorsed since it was made, withdrawals left out) and name
    the latest. Reading it frees its key: the next endorsement starts a new notice."""
    post = db.session.get(Post, post_id)
    if post is None or post.is_deleted:
        return None
    author = db.session.get(User, post.author_id)
    if author.closed_at is not None:  # told nothing (forum/services/account_closure.py)
        return None
    if K.ENDORSEMENT not in _wanting([author.id], [K.ENDORSEMENT])[author.id]:
        return None
    if not permissions.can_read_post(author, post):
        return None
    endorsed_at = db.session.scalar(select(Endorsement.created_at).where(
        Endorsement.post_id == post.id, Endorsement.user_id == endorser_id))
    if endorsed_at is None:
        return None  # withdrawn before this ran
    key = _endorsement_key(post.id)
    for _attempt in range(2):
        notice = db.session.scalar(select(Notification).where(
            Notification.user_id == author.id, Notification.dedup_key == key))
        now = utcnow()
        if notice is not None:
            endorsed_since = db.session.scalar(select(func.count(Endorsement.id)).where(
                Endorsement.post_id == post.id, Endorsement.created_at >= notice.created_at,
                Endorsement.user_id != author.id))
            notice.count = max(1, endorsed_since or 0)
            notice.actor_id = endorser_id
            notice.updated_at = now
            db.session.flush()
            push_unread_after_commit({author.id})
            return notice
        # Made at the endorsement's time, so that counting the endorsements since counts it.
        notice = Notification(user_id=author.id, kind=K.ENDORSEMENT, actor_id=endorser_id, post_id=post.id,
                              consultation_id=post.consultation_id, room_id=post.room_id, dedup_key=key,
                              created_at=min(endorsed_at, now), updated_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(notice)
        except IntegrityError:  # another job made the batch meanwhile: count in it
            continue
        push_unread_after_commit({author.id})
        return notice
    return None


def deliver_moderation(post_id: int, actor_id: int, action: str, reason: str) -> Notification | None:
    post = db.session.get(Post, post_id)
    if post is None or action not in MODERATION_TEXTS:
        return None
    author = db.session.get(User, post.author_id)
    if K.MODERATION not in _wanting([author.id], [K.MODERATION])[author.id]:
        return None
    notice = Notification(user_id=author.id, kind=K.MODERATION, actor_id=actor_id, post_id=post.id,
                          consultation_id=post.consultation_id, topic_id=post.topic_id, room_id=post.room_id,
                          action=action, reason=reason or "")
    return next(iter(_store([notice])), None)


def deliver_placements(placements: list[list[int]], actor_id: int | None) -> list[Notification]:
    rooms = by_id(Room, [room_id for _user, room_id in placements])
    users = by_id(User, [user_id for user_id, _room in placements])
    wanted = _wanting(users, [K.PLACEMENT])
    notices = []
    for user_id, room_id in placements:
        room, user = rooms.get(room_id), users.get(user_id)
        if room is None or user is None or K.PLACEMENT not in wanted[user_id]:
            continue
        if not permissions.can_view_room(user, room):  # moved again since, or the event is a draft
            continue
        notices.append(Notification(user_id=user_id, kind=K.PLACEMENT, actor_id=actor_id,
                                    event_id=room.event_id, room_id=room.id))
    return _store(notices)


def _fan_out(kind: NotificationKind, recipients, readable, **fields) -> list[Notification]:
    """One notice of `kind` to each recipient who wants it and for whom `readable(user)`."""
    users = by_id(User, recipients)
    wanted = _wanting(users, [kind])
    notices = [Notification(user_id=user.id, kind=kind, **fields) for user in users.values()
               if kind in wanted[user.id] and readable(user)]
    return _store(notices)


def deliver_registration(event_id: int, user_id: int) -> list[Notification]:
    """The confirmation of a registration: once per person and event (`dedup_key`), while
    they are still registered and may see the event (joining a draft through its invitation
    confirms nothing: the event is not shown to them before it is published)."""
    event = db.session.get(Event, event_id)
    if event is None or event.status is not EventStatus.PUBLISHED:
        return []
    if db.session.scalar(select(EventMember.id).where(EventMember.event_id == event_id,
                                                      EventMember.user_id == user_id)) is None:
        return []
    return _fan_out(K.EVENT_REGISTERED, [user_id], lambda user: permissions.can_view_event(user, event),
                    event_id=event.id, dedup_key=f"registered:{event.id}")


def deliver_new_topic(topic_id: int, actor_id: int) -> list[Notification]:
    topic = db.session.get(Topic, topic_id)
    if topic is None or topic.consultation.status is ConsultationStatus.DRAFT:
        return []
    consultation = topic.consultation
    recipients = set(_followers(Follow.consultation_id, consultation.id)) - {actor_id}
    return _fan_out(K.NEW_TOPIC, recipients, lambda user: permissions.can_view_consultation(user, consultation),
                    actor_id=actor_id, consultation_id=consultation.id, topic_id=topic.id)


def deliver_new_poll(poll_id: int, actor_id: int) -> list[Notification]:
    """To the followers of the poll's consultation, and of its Topic if it is about one."""
    poll = db.session.get(Poll, poll_id)
    if poll is None or poll.consultation_id is None:
        return []
    recipients = set(_followers(Follow.consultation_id, poll.consultation_id))
    if poll.topic_id is not None:
        recipients |= set(_followers(Follow.topic_id, poll.topic_id))
    recipients.discard(actor_id)
    return _fan_out(K.NEW_POLL, recipients, lambda user: permissions.can_view_poll(user, poll),
                    actor_id=actor_id, consultation_id=poll.consultation_id, topic_id=poll.topic_id,
                    poll_id=poll.id)


def _feedback_key(event_id: int) -> str:
    return f"feedback:{event_id}"  # once per person and event, however often it is asked


def deliver_feedback_open(event_id: int, actor_id: int | None) -> list[Notification]:
    """To the event's registered members who may still answer its feedback form."""
    event = db.session.get(Event, event_id)
    if event is None or not permissions.feedback_open(event):
        return []
    recipients = set(db.session.scalars(select(EventMember.user_id).where(EventMember.event_id == event.id)))
    recipients.discard(actor_id)
    return _remind_list(K.FEEDBACK_OPEN, recipients, _feedback_key(event.id),
                        lambda user: permissions.can_answer_feedback(user, event),
                        actor_id=actor_id, event_id=event.id)


# --- Reminders ----------------------------------------------------------------------------

def create_due_reminders(now: datetime | None = None) -> int:
    """Closing soon (the followers of a consultation, or of one of its Topics, closing within
    NOTIFY_CLOSING_SOON_HOURS) and the events' reminders (`_event_reminders`). Run by a
    timer; running it again, or twice at once, adds nothing (one notice per person and
    closing or starting time: `dedup_key`). Returns how many notices it made."""
    now = now or utcnow()
    made = 0
    closing_until = now + timedelta(hours=_config("NOTIFY_CLOSING_SOON_HOURS"))
    for consultation in db.session.scalars(select(Consultation).where(
            Consultation.status == ConsultationStatus.OPEN, Consultation.closes_at > now,
            Consultation.closes_at <= closing_until)):
        recipients = set(_followers(Follow.consultation_id, consultation.id))
        topic_ids = [topic.id for topic in consultation.topics]
        if topic_ids:
            recipients |= set(db.session.scalars(select(Follow.user_id).where(
                Follow.topic_id.in_(topic_ids), Follow.active.is_(True))))
        key = f"closing:{consultation.id}:{int(consultation.closes_at.timestamp())}"
        made += _remind(K.CLOSING_SOON, recipients, key,
                        lambda user, c=consultation: permissions.can_view_consultation(user, c),
                        consultation_id=consultation.id)
    made += _event_reminders(now)
    return made


def _event_reminders(now: datetime) -> int:
    """For the people of a published event (registered, participants and observers, and its
    rooms' co-moderators): "starting soon" when it starts within
    NOTIFY_EVENT_STARTING_MINUTES (20: the "15 minutes" reminder, caught by a timer running
    every 15 minutes; never once it has started), with the link to each one's own room; "the
    day before" when it starts within NOTIFY_EVENT_REMINDER_HOURS (24) but not that soon, to
    those who registered before that day began (a later registration has just had its
    confirmation). One of each per person and start time (`dedup_key` `day:` / `soon:` +
    event + start): a start moved makes new reminders for the new time, nothing else does."""
    soon_until = now + timedelta(minutes=_config("NOTIFY_EVENT_STARTING_MINUTES"))
    day_until = now + timedelta(hours=_config("NOTIFY_EVENT_REMINDER_HOURS"))
    made = 0
    for event in db.session.scalars(select(Event).where(
            Event.status == EventStatus.PUBLISHED, Event.starts_at > now, Event.starts_at <= day_until)
            .order_by(Event.id)):
        start = int(event.starts_at.timestamp())
        members = db.session.execute(select(EventMember.user_id, EventMember.registered_at)
                                     .where(EventMember.event_id == event.id)).all()
        moderators = set(db.session.scalars(select(Moderator.user_id).join(Room, Moderator.room_id == Room.id)
                                            .where(Room.event_id == event.id)))

        def readable(user, e=event) -> bool:
            return permissions.can_view_event(user, e)

        if event.starts_at <= soon_until:
            recipients = {user_id for user_id, _at in members} | moderators
            made += _remind(K.EVENT_STARTING, recipients, f"soon:{event.id}:{start}", readable, event_id=event.id)
        else:
            day_began = event.starts_at - timedelta(hours=_config("NOTIFY_EVENT_REMINDER_HOURS"))
            recipients = {user_id for user_id, at in members if at <= day_began} | moderators
            made += _remind(K.EVENT_REMINDER_DAY, recipients, f"day:{event.id}:{start}", readable,
                            event_id=event.id)
    # An event past its end time that its organisers did not end: its feedback form is open
    # all the same (forum.permissions.feedback_open); told once, within a day of the end.
    for event in db.session.scalars(select(Event).where(
            Event.status == EventStatus.PUBLISHED, Event.ends_at <= now, Event.ends_at > now - timedelta(days=1))):
        made += len(deliver_feedback_open(event.id, None))
    return made


def _remind(kind: NotificationKind, recipients, key: str, readable, **fields) -> int:
    return len(_remind_list(kind, recipients, key, readable, **fields))


def _remind_list(kind: NotificationKind, recipients, key: str, readable, **fields) -> list[Notification]:
    if not recipients:
        return []
    reminded = set(db.session.scalars(select(Notification.user_id).where(
        Notification.dedup_key == key, Notification.user_id.in_(list(recipients)))))
    users = by_id(User, set(recipients) - reminded)
    wanted = _wanting(users, [kind])
    # A second timer running at the same moment: its notices are skipped (`dedup_key`).
    return _store([Notification(user_id=user.id, kind=kind, dedup_key=key, **fields)
                   for user in users.values() if kind in wanted[user.id] and readable(user)])


# --- The bell -----------------------------------------------------------------------------

def unread_count(user) -> int:
    if not (user and user.is_authenticated):
        return 0
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def _unread_counts(user_ids: list[int]) -> dict[int, int]:
    counts = dict(db.session.execute(select(Notification.user_id, func.count(Notification.id)).where(
        Notification.user_id.in_(user_ids), Notification.read_at.is_(None)).group_by(Notification.user_id)).all())
    return {user_id: counts.get(user_id, 0) for user_id in user_ids}


def push_unread_after_commit(user_ids) -> None:
    """Once committed, send each of these accounts' open sockets its unread count. Counted
    after the commit (in a session of its own), so it is the stored count; nothing is
    counted for an account with no open socket."""
    user_ids = sorted(set(user_ids))
    if not user_ids:
        return
    app = current_app._get_current_object()

    def push() -> None:
        connected = {user_id: sids for user_id in user_ids if (sids := presence.connections(user_id))}
        if not connected:
            return
        with app.app_context():
            counts = _unread_counts(list(connected))
        for user_id, sids in connected.items():
            for sid in sids:
                socketio.emit("notice", {"type": "notifications.unread", "count": counts[user_id]}, to=sid)
    events.on_commit(push)


# --- Reading ------------------------------------------------------------------------------

@dataclass
class NotificationPage:
    items: list[tuple[Notification, Described]]
    total: int
    unread: int
    page: int
    pages: int


def list_notifications(user: User, page: int = 1) -> NotificationPage:
    """The person's notices, the latest happening first (a batch moves up as it grows)."""
    per_page = _config("NOTIFICATIONS_PER_PAGE")
    total = db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == user.id)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.updated_at.desc(), Notification.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).all()
    loaded = preload(rows)  # held while describing: the session's identity map keeps only weak references
    items = [(row, describe(row)) for row in rows]
    del loaded
    return NotificationPage(items, total, unread_count(user), page, pages)


def _ids(objects, attribute: str) -> set[int]:
    return {getattr(obj, attribute) for obj in objects} - {None}


def _load(model, ids: set[int], *options) -> list:
    if not ids:
        return []
    return list(db.session.scalars(select(model).options(*options).where(model.id.in_(ids))))


def preload(rows: list[Notification]) -> list:
    """What a page of notices names, and what describing it asks of permissions (a post's
    place, a consultation's hosts, a room's moderators and event): a query per kind of thing,
    not one per notice. Returns the objects, for the caller to hold while it describes."""
    posts = _load(Post, _ids(rows, "post_id"))
    polls = _load(Poll, _ids(rows, "poll_id"))
    topics = _load(Topic, _ids(rows, "topic_id") | _ids(posts, "topic_id") | _ids(polls, "topic_id"))
    consultations = _load(Consultation, _ids(rows, "consultation_id") | _ids(posts, "consultation_id")
                          | _ids(polls, "consultation_id") | _ids(topics, "consultation_id"),
                          selectinload(Consultation.hosts))
    rooms = _load(Room, _ids(rows, "room_id") | _ids(posts, "room_id") | _ids(polls, "room_id"),
                  selectinload(Room.moderators))
    events = _load(Event, _ids(rows, "event_id") | _ids(rooms, "event_id"), selectinload(Event.rooms))
    users = _load(User, _ids(rows, "actor_id") | _ids(rows, "user_id"))
    for user in users:
        if user.id in _ids(rows, "user_id"):
            permissions.remember_memberships(user, events)
    return [posts, polls, topics, consultations, rooms, events, users]


def notification_of(user: User, notification_id: int) -> Notification:
    """One of the person's notices; anyone else's is "not found"."""
    notice = db.session.get(Notification, notification_id) if permissions.valid_id(notification_id) else None
    if notice is None or not (user and user.is_authenticated) or notice.user_id != user.id:
        raise NotFound()
    return notice


def mark_read(user: User, notice: Notification) -> None:
    """Read: it leaves the unread count, and a batch's key is freed (the next endorsement
    starts a new notice)."""
    if notice.user_id != user.id:
        raise NotFound()
    if notice.read_at is None:
        notice.read_at = utcnow()
        notice.dedup_key = None if notice.kind is K.ENDORSEMENT else notice.dedup_key
        db.session.flush()
        push_unread_after_commit({user.id})


def mark_all_read(user: User) -> int:
    now = utcnow()
    unread = and_(Notification.user_id == user.id, Notification.read_at.is_(None))
    db.session.execute(update(Notification).where(unread, Notification.kind == K.ENDORSEMENT)
                       .values(dedup_key=None).execution_options(synchronize_session=False))
    changed = db.session.execute(update(Notification).where(unread).values(read_at=now)
                                 .execution_options(synchronize_session=False)).rowcount
    db.session.expire_all()
    if changed:
        push_unread_after_commit({user.id})
    return changed


# --- Describing -----------------------------------------------------------------------------

@dataclass
class Described:
    """A notice as a person reads it, in the current locale: `text` a plain sentence, `url`
    the path of what it is about ("" when it may not be opened), `excerpt` plain text of it
    or "", `visible` whether the reader may still see it, `headline` the sentence alone (a
    moderator's reason, which may run over lines, left out: a mail's subject). Nothing of a
    target the recipient may no longer read is ever in it."""
    text: str
    url: str
    excerpt: str
    visible: bool
    headline: str = ""

    def __post_init__(self) -> None:
        self.headline = self.headline or self.text


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    """Plain text for a line: Markdown's marks and line breaks out, cut at a word."""
    plain = re.sub(r"[*_`>#~\[\]]+|\(https?://[^)]*\)", "", text or "")
    plain = " ".join(plain.split())
    if len(plain) <= length:
        return plain
    return plain[:length].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def _where(post: Post) -> str:
    if post.room_id is not None:
        return post.room.title
    return post.consultation.title


def _post_path(post: Post) -> str:
    if post.room_id is not None:
        return url_for("rooms.show", event_id=post.room.event_id, room_id=post.room_id, _anchor=f"post-{post.id}")
    return url_for("posts.show", consultation_id=post.consultation_id, post_id=post.thread_id,
                   _anchor=f"post-{post.id}")


def _target_kind(notice: Notification) -> str:
    for kind, attribute in (("post", "post_id"), ("poll", "poll_id"), ("topic", "topic_id"), ("room", "room_id"),
                            ("consultation", "consultation_id"), ("event", "event_id")):
        if getattr(notice, attribute) is not None:
            return kind
    return "post"


def describe(notice: Notification) -> Described:
    """The notice in the current locale. Needs a request context for its paths; made here
    (paths only) when there is none, as for an e-mail job."""
    if not has_request_context():
        with current_app.test_request_context():
            return describe(notice)
    user = db.session.get(User, notice.user_id)
    actor = db.session.get(User, notice.actor_id) if notice.actor_id is not None else None
    actor_name = actor.display_name if actor is not None else _("Someone")
    if not permissions.can_open_notification(user, notice):
        if notice.kind is K.MODERATION and notice.action == "post.deleted":
            return Described(str(MODERATION_TEXTS["post.deleted"]), "", "", False)
        return Described(str(UNAVAILABLE[_target_kind(notice)]), "", "", False)
    if notice.post_id is not None:
        post = db.session.get(Post, notice.post_id)
        place = _where(post)
        texts = {
            K.MENTION: _("%(name)s mentioned you in “%(place)s”.", name=actor_name, place=place),
            K.QUOTE: _("%(name)s quoted your post in “%(place)s”.", name=actor_name, place=place),
            K.REPLY: _("%(name)s replied to your post in “%(place)s”.", name=actor_name, place=place),
            K.THREAD_REPLY: _("%(name)s replied in a thread you follow in “%(place)s”.", name=actor_name,
                              place=place),
            K.NEW_RESPONSE: _("%(name)s responded to the Topic “%(topic)s”.", name=actor_name,
                              topic=post.topic.title if post.topic else place),
        }
        if notice.kind is K.ENDORSEMENT:
            if notice.count > 1:
                text = ngettext("%(name)s and %(num)d other person endorsed your post in “%(place)s”.",
                                "%(name)s and %(num)d other people endorsed your post in “%(place)s”.",
                                notice.count - 1, name=actor_name, place=place)
            else:
                text = _("%(name)s endorsed your post in “%(place)s”.", name=actor_name, place=place)
        elif notice.kind is K.MODERATION:
            if notice.action == "post.moved" and post.room_id is None and post.topic is not None:
                place = post.topic.title  # where to: the Topic (a room's place is the room already)
            headline = text = str(MODERATION_TEXTS.get(notice.action, MODERATION_TEXTS["post.hidden"])) % {
                "place": place}
            if notice.reason:
                text += " " + _("Reason: %(reason)s", reason=notice.reason)
            return Described(text, _post_path(post), excerpt(post.body), True, headline=headline)
        else:
            text = texts.get(notice.kind, texts[K.REPLY])
        return Described(text, _post_path(post), excerpt(post.body), True)
    if notice.poll_id is not None:
        poll = db.session.get(Poll, notice.poll_id)
        return Described(_("New poll in “%(consultation)s”: %(question)s", consultation=poll.consultation.title,
                           question=poll.question),
                         url_for("polls.show", poll_id=poll.id), excerpt(poll.description), True)
    if notice.topic_id is not None:
        topic = db.session.get(Topic, notice.topic_id)
        return Described(_("New Topic in “%(consultation)s”: %(topic)s", consultation=topic.consultation.title,
                           topic=topic.title),
                         url_for("consultations.show", consultation_id=topic.consultation_id, topic=topic.id,
                                 _anchor=f"topic-{topic.id}"),
                         excerpt(topic.description), True)
    if notice.room_id is not None:
        room = db.session.get(Room, notice.room_id)
        return Described(_("You were placed in “%(room)s” at “%(event)s”.", room=room.title, event=room.event.title),
                         url_for("rooms.show", event_id=room.event_id, room_id=room.id), "", True)
    if notice.consultation_id is not None:
        from forum.i18n import format_when

        consultation = db.session.get(Consultation, notice.consultation_id)
        when = format_when(consultation.closes_at) if consultation.closes_at else ""
        return Described(_("“%(consultation)s” closes on %(when)s: respond before then.",
                           consultation=consultation.title, when=when),
                         url_for("consultations.show", consultation_id=consultation.id), "", True)
    event = db.session.get(Event, notice.event_id)
    if notice.kind is K.FEEDBACK_OPEN:
        return Described(_("“%(event)s” has ended: tell the organisers how it went in a short feedback form.",
                           event=event.title), url_for("feedback.answer", event_id=event.id), "", True)
    from forum.i18n import format_when

    when = format_when(event.starts_at)
    page = url_for("events.show", event_id=event.id)
    if notice.kind is K.EVENT_REGISTERED:
        return Described(_("You are registered for “%(event)s”, on %(when)s.", event=event.title, when=when),
                         page, "", True)
    if notice.kind is K.EVENT_STARTING:
        # The person's own room as it is now (moved since the reminder: the new one).
        room = permissions.own_room(user, event)
        if room is not None and permissions.can_view_room(user, room):
            return Described(_("“%(event)s” starts on %(when)s. Your room: “%(room)s”.", event=event.title,
                               when=when, room=room.title),
                             url_for("rooms.show", event_id=event.id, room_id=room.id), "", True)
        if permissions.can_view_room(user, event.plenary):
            return Described(_("“%(event)s” starts on %(when)s, in the plenary.", event=event.title, when=when),
                             url_for("rooms.show", event_id=event.id, room_id=event.plenary.id), "", True)
    return Described(_("“%(event)s” starts on %(when)s.", event=event.title, when=when), page, "", True)
