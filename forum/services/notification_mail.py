"""Notifications by e-mail: at once for mentions and moderators' notices, in a daily or
weekly digest for the rest, and the signed one-click unsubscribe links every such mail
carries. What is sent when, and why: docs/mail.md.

These functions are job bodies (forum/jobs.py) and the command line's (`flask notifications
send-digests`), never called in a request: `send_immediate` runs in the job's transaction
(committed by the job runner when it returns); `send_digests` commits once per person, so
one person's failure never undoes another's digest, and a mail server that fails stops the
run with what was already sent committed and what was not left for the next run.

Nothing twice, nothing lost: a notice is claimed for a mail (`emailed_at`) in the same
transaction that sends it, after locking it (SELECT ... FOR UPDATE on PostgreSQL; SQLite has
one writer at a time), so a second run, a retried job or the other kind of mail finds it
claimed; if sending fails the transaction rolls back and the notice waits for the next
mail. Only a crash between the SMTP server's acceptance and the commit can send one twice.
"""
from __future__ import annotations

import hashlib
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import case, or_, select, update

from forum import mail, permissions
from forum.extensions import db
from forum.models import Consultation, Event, Poll, Post, Room, Topic, User
from forum.models.notifications import (
    EVENT_EMAIL_KINDS,
    IMMEDIATE_EMAIL_KINDS,
    DigestFrequency,
    Notification,
    NotificationKind,
)
from forum.services import notifications
from forum.services.errors import NotFound

log = logging.getLogger("forum.notification_mail")

# A mention or a moderator's notice whose own mail has not gone this long after it happened
# (its job was lost, or the person had no verified address yet) goes into the digest.
IMMEDIATE_GRACE = timedelta(hours=1)


# --- Unsubscribing ----------------------------------------------------------------------

class Scope:
    """What an unsubscribe link stops."""

    ALL = "all"              # every notification e-mail (immediate and digests)
    IMMEDIATE = "immediate"  # the immediate mails (mentions, moderators' notices); digests go on
    DIGEST = "digest"        # the digests; immediate mails go on


SCOPES = (Scope.ALL, Scope.IMMEDIATE, Scope.DIGEST)

SCOPE_QUESTIONS = {
    Scope.ALL: _l("Stop all notification emails from Plenary?"),
    Scope.IMMEDIATE: _l("Stop the emails Plenary sends at once (mentions and moderators' notices)?"),
    Scope.DIGEST: _l("Stop the digest emails from Plenary?"),
}
SCOPE_DONE = {
    Scope.ALL: _l("You will receive no more notification emails from Plenary."),
    Scope.IMMEDIATE: _l("You will receive no more emails at once for mentions and moderators' notices."),
    Scope.DIGEST: _l("You will receive no more digest emails."),
}


def _unsubscribe_serializer() -> URLSafeSerializer:
    # No expiry: RFC 8058 links must keep working for as long as the mail may be read.
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe")


def _address_mark(user: User) -> str:
    """Binds a link to the address it was mailed to, without writing the address into it:
    once the account's address changes, links mailed to the old one stop working."""
    return hashlib.sha256(user.email.lower().encode()).hexdigest()[:16]


def unsubscribe_token(user: User, scope: str) -> str:
    assert scope in SCOPES
    return _unsubscribe_serializer().dumps({"u": user.id, "s": scope, "a": _address_mark(user)})


def unsubscribe_url(user: User, scope: str) -> str:
    return mail.external_url("auth.unsubscribe", token=unsubscribe_token(user, scope))


def unsubscribe_headers(user: User, scope: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058: mail programs show an "Unsubscribe" button that POSTs to the link
    (List-Unsubscribe=One-Click), which unsubscribes without a page. No mailto: nobody reads
    such a mailbox here."""
    return {"List-Unsubscribe": f"<{unsubscribe_url(user, scope)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def read_unsubscribe_token(token: str) -> tuple[User, str]:
    try:
        data = _unsubscribe_serializer().loads(token)
    except BadSignature:
        raise NotFound(_l("This unsubscribe link is not valid.")) from None
    user_id = data.get("u") if isinstance(data, dict) else None
    scope = data.get("s") if isinstance(data, dict) else None
    user = db.session.get(User, user_id) if isinstance(user_id, int) and 0 < user_id < 2**31 else None
    if user is None or scope not in SCOPES or data.get("a") != _address_mark(user):
        raise NotFound(_l("This unsubscribe link is not valid."))
    return user, scope


def unsubscribe(token: str) -> tuple[User, str]:
    """Whoever holds the link (it was mailed to the account's address) stops that scope's
    mails. Idempotent: a second click, or a mail program's POST after the page's, changes
    nothing more."""
    user, scope = read_unsubscribe_token(token)
    if scope in (Scope.ALL, Scope.IMMEDIATE):
        user.email_immediate = False
    if scope in (Scope.ALL, Scope.DIGEST):
        user.digest_frequency = DigestFrequency.NEVER.value
    db.session.flush()
    return user, scope


# --- Who gets what ----------------------------------------------------------------------

def _settings_url() -> str:
    return url_for("auth.profile", _external=True)


def _footer(user: User, scope: str, reason: str) -> dict:
    return {"reason": reason, "unsubscribe_url": unsubscribe_url(user, scope),
            "unsubscribe_all_url": unsubscribe_url(user, Scope.ALL) if scope != Scope.ALL else None,
            "settings_url": _settings_url()}


def _pending():
    """Notices not mailed yet, or grown since they were (an endorsement batch counting up)."""
    return or_(Notification.emailed_at.is_(None), Notification.updated_at > Notification.emailed_at)


def _claim(ids: list[int], now: datetime) -> None:
    """Mark as mailed: at least the version mailed (a batch that grows later is pending again)."""
    if ids:
        db.session.execute(
            update(Notification).where(Notification.id.in_(ids))
            .values(emailed_at=case((Notification.updated_at > now, Notification.updated_at), else_=now)),
            execution_options={"synchronize_session": "fetch"})


def send_immediate(notification_id: int) -> None:
    """Job: mail one mention or moderator's notice at once, if its person has a verified
    address and wants immediate mail, it has not been mailed or read, and they may still
    see what it is about."""
    from forum.models.base import utcnow

    notification = db.session.scalar(
        select(Notification).where(Notification.id == notification_id).with_for_update())
    if notification is None or notification.kind not in IMMEDIATE_EMAIL_KINDS:
        return
    if notification.emailed_at is not None or notification.read_at is not None:
        return
    user = notification.user
    if user.email_verified_at is None or not user.email_immediate:
        return
    with mail.for_recipient(user) as language, mail.site_context():
        described = notifications.describe(notification)
        if not described.visible:
            return
        subject = described.headline  # one line: the reason follows in the body
        text, html = mail.render(
            "notification", user, subject=subject, described=described, link=mail.public_url(described.url),
            notification=notification, **_footer(user, Scope.IMMEDIATE, _(
                "You receive this email because your notification settings send mentions and "
                "moderators' notices at once.")))
        headers = {"Content-Language": language, **unsubscribe_headers(user, Scope.IMMEDIATE)}
    _claim([notification.id], utcnow())
    mail.send(mail.Email(to=user.email, subject=subject, text=text, html=html, headers=headers))


# --- An event's mails: the registration confirmation and the two reminders ---------------

def stopped_all_mail(user: User) -> bool:
    """"Stop all notification emails" (or both switched off in the settings): no immediate
    mail and no digest. The only state in which an event's mails are not sent."""
    return not user.email_immediate and user.digest_frequency == DigestFrequency.NEVER.value


def send_event_mail(notification_id: int) -> None:
    """Job: mail a registration confirmation (with the event's calendar file) or a reminder
    (the day before, starting soon with the link to the person's room) at once. Sent to a
    confirmed address whatever the person chose for mentions or digests (it is about a date
    they put in their diary), unless they stopped all notification mail; not if the notice
    was read or mailed already, or its event is no longer theirs to see. Never in a digest."""
    from forum import ics
    from forum.i18n import format_when
    from forum.models.base import utcnow

    notification = db.session.scalar(
        select(Notification).where(Notification.id == notification_id).with_for_update())
    if notification is None or notification.kind not in EVENT_EMAIL_KINDS or notification.event_id is None:
        return
    if notification.emailed_at is not None or notification.read_at is not None:
        return
    user = notification.user
    if user.email_verified_at is None or stopped_all_mail(user):
        return
    event = db.session.get(Event, notification.event_id)
    kind = notification.kind
    with mail.for_recipient(user) as language, mail.site_context():
        described = notifications.describe(notification)
        if not described.visible:
            return
        starts = format_when(event.starts_at, "medium", zone=mail.zone_of(user).key)
        if kind is NotificationKind.EVENT_REGISTERED:
            subject = _("You are registered for “%(event)s”, on %(when)s", event=event.title, when=starts)
        elif kind is NotificationKind.EVENT_REMINDER_DAY:
            subject = _("Reminder: “%(event)s” starts on %(when)s", event=event.title, when=starts)
            reason = _("You receive this email because you registered for this event.")
        else:
            subject = _("Starting soon: “%(event)s”, on %(when)s", event=event.title, when=starts)
        reason = _("You receive this email because you take part in this event.")
        room = permissions.own_room(user, event)
        if room is None or not permissions.can_view_room(user, room):
            room = event.plenary if kind is NotificationKind.EVENT_STARTING \
                and permissions.can_view_room(user, event.plenary) else None
        room_link = url_for("rooms.show", event_id=event.id, room_id=room.id, _external=True) if room else None
        attachments = []
        if kind is NotificationKind.EVENT_REGISTERED:
            attachments.append(mail.Attachment(ics.filename(event), ics.CONTENT_TYPE, ics.calendar(event)))
        text, html = mail.render(
            "event_notice", user, subject=subject, headline=subject, event=event, room_link=room_link,
            event_link=url_for("events.show", event_id=event.id, _external=True), attached=bool(attachments),
            **_footer(user, Scope.ALL, reason))
        headers = {"Content-Language": language, **unsubscribe_headers(user, Scope.ALL)}
    _claim([notification.id], utcnow())
    mail.send(mail.Email(to=user.email, subject=subject, text=text, html=html, headers=headers,
                         attachments=attachments))


# --- Digests ------------------------------------------------------------------------------

def digest_due_at(user: User, now: datetime) -> datetime | None:
    """The latest moment at or before `now` when this person's digest fell due: DIGEST_HOUR
    o'clock in their own time zone, every day (daily) or on DIGEST_WEEKDAY (weekly); None
    for "never"."""
    if user.digest_frequency not in (DigestFrequency.DAILY.value, DigestFrequency.WEEKLY.value):
        return None
    config = current_app.config
    local = now.astimezone(mail.zone_of(user))
    due = local.replace(hour=config["DIGEST_HOUR"], minute=0, second=0, microsecond=0)
    if due > local:
        due -= timedelta(days=1)  # wall-clock arithmetic: 08:00 stays 08:00 across DST
    if user.digest_frequency == DigestFrequency.WEEKLY.value:
        due -= timedelta(days=(due.weekday() - config["DIGEST_WEEKDAY"]) % 7)
    return due.astimezone(now.tzinfo)


def digest_is_due(user: User, now: datetime) -> bool:
    """Due when its due moment has passed since the last digest (or since the account was
    made: a new account's first digest comes at the next due moment, not at once)."""
    due = digest_due_at(user, now)
    return due is not None and (user.last_digest_at or user.created_at) < due


class DigestsInterrupted(Exception):
    """The mail server failed: `sent` digests went (and are committed); the rest wait."""

    def __init__(self, sent: int, error: Exception):
        self.sent = sent
        self.error = error
        super().__init__(f"{sent} digests sent before the mail server failed: {error}")


def send_digests(now: datetime) -> int:
    """Send every digest due at `now`; return how many mails went. Commits per person."""
    pending_people = select(Notification.user_id).where(
        Notification.read_at.is_(None), _pending(), Notification.kind.not_in(list(EVENT_EMAIL_KINDS))).distinct()
    candidates = db.session.scalars(
        select(User.id).where(User.id.in_(pending_people), User.email_verified_at.is_not(None),
                              User.digest_frequency.in_([DigestFrequency.DAILY.value, DigestFrequency.WEEKLY.value]))
        .order_by(User.id)).all()
    sent = 0
    for user_id in candidates:
        try:
            if _send_digest(user_id, now):
                sent += 1
            db.session.commit()
        except (smtplib.SMTPException, OSError) as error:
            db.session.rollback()
            log.exception("the mail server failed while sending digests")
            raise DigestsInterrupted(sent, error) from error
        except Exception:
            db.session.rollback()
            log.exception("the digest of user %s could not be made", user_id)
    return sent


@dataclass
class DigestItem:
    described: notifications.Described
    link: str
    notification: Notification


@dataclass
class DigestGroup:
    title: str | None  # the consultation's or event's title; None: "Elsewhere on Plenary"
    url: str | None
    items: list[DigestItem]


def _send_digest(user_id: int, now: datetime) -> bool:
    user = db.session.get(User, user_id)
    if user is None or user.email_verified_at is None or not digest_is_due(user, now):
        return False
    due = digest_due_at(user, now)
    since = user.last_digest_at or user.created_at
    # Take this person's turn: a second run at the same time finds it taken (on PostgreSQL
    # it waits for this transaction, then sees last_digest_at moved past the due moment).
    taken = db.session.execute(
        update(User).where(User.id == user.id, or_(User.last_digest_at.is_(None), User.last_digest_at < due))
        .values(last_digest_at=now)).rowcount
    if not taken:
        return False
    # What had happened by the due moment; later notices wait for the next digest.
    rows = db.session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None), _pending(),
                                   Notification.kind.not_in(list(EVENT_EMAIL_KINDS)), Notification.updated_at <= due)
        .order_by(Notification.updated_at.desc(), Notification.id.desc()).with_for_update()).all()
    rows = [n for n in rows if n.kind not in IMMEDIATE_EMAIL_KINDS or not user.email_immediate
            or n.updated_at <= due - IMMEDIATE_GRACE]
    if not rows:
        return False
    loaded = notifications.preload(rows)  # noqa: F841 (held while describing: a query per kind of thing)
    with mail.for_recipient(user) as language, mail.site_context():
        items = []
        for notification in rows:
            described = notifications.describe(notification)
            if described.visible:  # never anything of what they may no longer read
                items.append(DigestItem(described, mail.public_url(described.url), notification))
        if not items:
            return False
        limit = current_app.config["DIGEST_MAX_ITEMS"]
        shown, more = items[:limit], len(items) - limit
        subject = ngettext("%(num)d new notification on Plenary", "%(num)d new notifications on Plenary", len(items))
        reason = (_("You receive this email because you chose a daily digest in your notification settings.")
                  if user.digest_frequency == DigestFrequency.DAILY.value else
                  _("You receive this email because you chose a weekly digest in your notification settings."))
        text, html = mail.render("digest", user, subject=subject, groups=_groups(user, shown), more=max(more, 0),
                                 since=since, all_url=_all_notifications_url(),
                                 **_footer(user, Scope.DIGEST, reason))
        headers = {"Content-Language": language, **unsubscribe_headers(user, Scope.DIGEST)}
    _claim([item.notification.id for item in items], now)
    mail.send(mail.Email(to=user.email, subject=subject, text=text, html=html, headers=headers))
    return True


def _all_notifications_url() -> str:
    """Where a digest's "and N more" leads: the notifications page."""
    return url_for("notifications.index", _external=True)


def _groups(user: User, items: list[DigestItem]) -> list[DigestGroup]:
    """By consultation or event, in the order of each one's newest notice; named only where
    the reader may see the place."""
    groups: dict[tuple[str, int] | None, DigestGroup] = {}
    for item in items:
        key, title, url = _place(user, item.notification)
        group = groups.get(key)
        if group is None:
            group = groups[key] = DigestGroup(title, url, [])
        group.items.append(item)
    return list(groups.values())


def _place(user: User, n: Notification) -> tuple[tuple[str, int] | None, str | None, str | None]:
    consultation_id, event_id = n.consultation_id, n.event_id
    if consultation_id is None and event_id is None:
        post = db.session.get(Post, n.post_id) if n.post_id else None
        poll = db.session.get(Poll, n.poll_id) if n.poll_id else None
        room_id = n.room_id or (post.room_id if post else None) or (poll.room_id if poll else None)
        if post is not None and post.consultation_id is not None:
            consultation_id = post.consultation_id
        elif poll is not None and poll.consultation_id is not None:
            consultation_id = poll.consultation_id
        elif n.topic_id is not None:
            consultation_id = db.session.scalar(select(Topic.consultation_id).where(Topic.id == n.topic_id))
        elif room_id is not None:
            event_id = db.session.scalar(select(Room.event_id).where(Room.id == room_id))
    if consultation_id is not None:
        consultation = db.session.get(Consultation, consultation_id)
        if consultation is not None and permissions.can_view_consultation(user, consultation):
            return ("consultation", consultation.id), consultation.title, \
                url_for("consultations.show", consultation_id=consultation.id, _external=True)
    elif event_id is not None:
        event = db.session.get(Event, event_id)
        if event is not None and permissions.can_view_event(user, event):
            return ("event", event.id), event.title, url_for("events.show", event_id=event.id, _external=True)
    return None, None, None
