"""An event's mails and notices (forum/services/notifications.py, notification_mail.py,
forum/ics.py): the registration confirmation with its calendar file, the reminder the day
before and "starting soon" with each person's own room, over the real SMTP server
(tests/mail.py). docs/notifications.md, docs/mail.md."""
from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from forum import ics
from forum.models import EventMember, Notification, NotificationKind
from forum.models.base import utcnow
from forum.models.events import MemberRole
from forum.models.notifications import DigestFrequency
from forum.services import event_setup, notification_mail, notifications
from tests.mail import part, unsubscribe_link

K = NotificationKind


def stored(db, kind=None, user=None):
    query = select(Notification).order_by(Notification.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    if user is not None:
        query = query.where(Notification.user_id == user.id)
    return list(db.session.scalars(query))


def upcoming(make_event, *, hours: float = 0, minutes: float = 0, **kwargs):
    event = make_event(**kwargs)
    event.starts_at = (utcnow() + timedelta(hours=hours, minutes=minutes)).replace(microsecond=0)
    event.ends_at = event.starts_at + timedelta(hours=2)
    return event


def calendar_of(message):
    (attached,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert attached.get_filename().endswith(".ics")
    return attached.get_payload(decode=True)


# --- The confirmation ---------------------------------------------------------------------------

def test_registering_makes_a_notice_and_mails_the_confirmation_with_the_calendar_file(db, smtp, make_event,
                                                                                     make_user, app):
    event = upcoming(make_event, hours=72, assignment_mode="manual", title="Green deal, cities; and “rail”")
    event.description = "A long afternoon about rail, with three rooms. " * 10
    person = make_user(email="ines@example.org")
    person.digest_frequency = DigestFrequency.NEVER.value  # transactional: digests off changes nothing
    db.session.commit()

    event_setup.register(person, event)
    db.session.commit()

    (notice,) = stored(db, K.EVENT_REGISTERED)
    assert notice.user_id == person.id and notice.event_id == event.id and notice.emailed_at is not None
    assert notifications.describe(notice).url == f"/events/{event.id}"
    message = smtp.one()
    assert message["To"] == "ines@example.org"
    assert message["Subject"].startswith("You are registered for “Green deal, cities; and “rail””")
    assert f"/events/{event.id}" in part(message, "plain")
    assert "calendar file attached" in part(message, "html")
    assert unsubscribe_link(message).startswith("http://localhost/unsubscribe/")

    raw = calendar_of(message)
    lines = raw.split(b"\r\n")
    assert lines[0] == b"BEGIN:VCALENDAR" and lines[-1] == b""  # CRLF-terminated content lines
    assert all(len(line) <= 75 for line in lines)  # folded (RFC 5545 3.1)
    assert any(line.startswith(b" ") for line in lines)  # the long description was folded
    assert b"SUMMARY:Green deal\\, cities\\; and \xe2\x80\x9crail\xe2\x80\x9d" in raw.replace(b"\r\n ", b"")
    (vevent,) = Calendar.from_ical(raw).walk("VEVENT")
    assert str(vevent["UID"]) == f"event-{event.id}@localhost"
    assert vevent.decoded("DTSTART") == event.starts_at and vevent.decoded("DTSTART").tzinfo is not None
    assert vevent.decoded("DTSTART").utcoffset() == timedelta(0)
    assert vevent.decoded("DTEND") == event.ends_at
    assert b"DTSTART:" + event.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ").encode() in raw
    assert str(vevent["SUMMARY"]) == "Green deal, cities; and “rail”"
    assert str(vevent["URL"]) == f"http://localhost/events/{event.id}"
    assert str(vevent["DESCRIPTION"]).endswith(f"\n\nJoin the event: http://localhost/events/{event.id}")

    # Registering is once; an invitation followed by someone registered changes nothing.
    event_setup.accept_invitation(person, event, event.invite_token)
    db.session.commit()
    assert len(stored(db, K.EVENT_REGISTERED)) == 1 and len(smtp.messages) == 1


def test_joining_through_the_invitation_confirms_too(db, smtp, make_event, make_user):
    event = upcoming(make_event, hours=72, assignment_mode="manual")
    person = make_user()
    db.session.commit()
    event_setup.accept_invitation(person, event, event.invite_token)
    db.session.commit()
    assert [n.user_id for n in stored(db, K.EVENT_REGISTERED)] == [person.id]
    assert calendar_of(smtp.one())


@pytest.mark.parametrize("case", ["stopped_all", "unverified", "kind_off"])
def test_no_confirmation_mail_after_stop_all_nor_to_an_unconfirmed_address(db, smtp, make_event, make_user, case):
    event = upcoming(make_event, hours=72, assignment_mode="manual")
    person = make_user(verified=case != "unverified")
    if case == "stopped_all":
        notification_mail.unsubscribe(notification_mail.unsubscribe_token(person, notification_mail.Scope.ALL))
    if case == "kind_off":
        notifications.save_settings(person, person, enabled={k.value for k in K} - {"event_registered"},
                                    email_immediate=True, digest_frequency="daily")
    db.session.commit()
    event_setup.register(person, event)
    db.session.commit()
    assert smtp.messages == []
    assert len(stored(db, K.EVENT_REGISTERED)) == (0 if case == "kind_off" else 1)


def test_immediate_mail_off_alone_still_sends_the_confirmation(db, smtp, make_event, make_user):
    event = upcoming(make_event, hours=72, assignment_mode="manual")
    person = make_user()
    notification_mail.unsubscribe(notification_mail.unsubscribe_token(person, notification_mail.Scope.IMMEDIATE))
    db.session.commit()
    event_setup.register(person, event)
    db.session.commit()
    assert calendar_of(smtp.one())


def test_event_notices_are_never_in_a_digest(db, smtp, make_event, make_user):
    event = upcoming(make_event, hours=72, assignment_mode="manual")
    person = make_user(verified=False)  # no mail at once: the notice stays unmailed
    person.created_at = utcnow() - timedelta(days=30)
    db.session.commit()
    event_setup.register(person, event)
    db.session.commit()
    person.email_verified_at = utcnow()
    db.session.commit()
    assert notification_mail.send_digests(utcnow() + timedelta(days=1)) == 0
    assert smtp.messages == []


# --- The reminders ---------------------------------------------------------------------------

def test_the_day_before_reminder_once_each_and_again_for_a_moved_start(db, smtp, make_event, make_user):
    event = upcoming(make_event, hours=30, participants=2)
    late = make_user()
    db.session.commit()
    for member in db.session.scalars(select(EventMember).where(EventMember.event_id == event.id)):
        member.registered_at = utcnow() - timedelta(days=5)
    now = utcnow()
    assert notifications.create_due_reminders(now) == 0  # 30 hours away: not yet
    soon = now + timedelta(hours=7)  # 23 hours before
    # Someone registering within the last day had the confirmation: no "day before" for them.
    db.session.add(EventMember(event_id=event.id, user_id=late.id, role=MemberRole.OBSERVER,
                               registered_at=now + timedelta(hours=6, minutes=50)))
    db.session.commit()
    made = notifications.create_due_reminders(soon)
    db.session.commit()
    moderators = {u.id for users in event.test_moderators.values() for u in users}
    expected = {p.id for p in event.test_participants} | moderators
    assert made == len(expected)
    assert {n.user_id for n in stored(db, K.EVENT_REMINDER_DAY)} == expected
    assert notifications.create_due_reminders(soon) == 0  # a second run: nothing
    assert notifications.create_due_reminders(soon + timedelta(minutes=15)) == 0  # the next timer: nothing
    db.session.commit()
    mails = smtp.messages
    assert len(mails) == len(expected)
    assert all(m["Subject"].startswith(f"Reminder: “{event.title}” starts on ") for m in mails)
    assert not any(p.get_content_type() == "text/calendar" for m in mails for p in m.walk())

    # Moved two hours later: one new reminder each, for the new time (now also for the late
    # registration: it came before the new time's day began); then nothing again.
    event.starts_at += timedelta(hours=2)
    db.session.commit()
    assert notifications.create_due_reminders(soon) == 0  # 25 hours away now
    assert notifications.create_due_reminders(soon + timedelta(hours=2)) == len(expected) + 1
    assert notifications.create_due_reminders(soon + timedelta(hours=2)) == 0
    db.session.commit()
    assert len(smtp.messages) == 2 * len(expected) + 1


def test_starting_soon_once_each_with_each_persons_own_room(db, smtp, make_event, make_user):
    event = upcoming(make_event, minutes=40, participants=2, moderators=1)
    observer = make_user(email="obs@example.org")
    db.session.add(EventMember(event_id=event.id, user_id=observer.id, role=MemberRole.OBSERVER))
    db.session.commit()
    now = utcnow()
    # 40 minutes before: the day-before reminder (registered "just now": not them) and not yet "soon".
    assert notifications.create_due_reminders(now) == 2  # the two co-moderators, appointed before
    db.session.commit()
    smtp.clear()
    assert stored(db, K.EVENT_STARTING) == []

    # A timer every 15 minutes: 22 minutes before is outside the window, 7 minutes before is in it.
    assert notifications.create_due_reminders(now + timedelta(minutes=18)) == 0
    made = notifications.create_due_reminders(now + timedelta(minutes=33))
    db.session.commit()
    assert made == 2 + 1 + 2  # participants, observer, co-moderators
    assert notifications.create_due_reminders(now + timedelta(minutes=33)) == 0
    assert notifications.create_due_reminders(now + timedelta(minutes=38)) == 0
    assert notifications.create_due_reminders(now + timedelta(minutes=48)) == 0  # started: never
    db.session.commit()

    rooms = {p.id: event.breakout_rooms[i % 2] for i, p in enumerate(event.test_participants)}
    rooms.update({users[0].id: event.breakout_rooms[position - 1]
                  for position, users in event.test_moderators.items()})
    for notice in stored(db, K.EVENT_STARTING):
        described = notifications.describe(notice)
        if notice.user_id == observer.id:
            assert described.url == f"/events/{event.id}/rooms/{event.plenary.id}"
            assert described.text.endswith(", in the plenary.")
        else:
            room = rooms[notice.user_id]
            assert described.url == f"/events/{event.id}/rooms/{room.id}"
            assert described.text.endswith(f"Your room: “{room.title}”.")
    mails = {m["To"]: m for m in smtp.messages}
    assert len(smtp.messages) == 5
    for user_id, room in rooms.items():
        from forum.models import User

        text = part(mails[db.session.get(User, user_id).email], "plain")
        assert f"Your room: http://localhost/events/{event.id}/rooms/{room.id}" in text
    assert f"/rooms/{event.plenary.id}" in part(mails["obs@example.org"], "plain")

    # Moved 10 minutes later: "starting soon" again, for the new time, once.
    event.starts_at += timedelta(minutes=10)
    db.session.commit()
    assert notifications.create_due_reminders(now + timedelta(minutes=38)) == 5
    assert notifications.create_due_reminders(now + timedelta(minutes=38)) == 0


def test_no_reminders_for_a_draft_or_ended_event(db, make_event):
    draft = upcoming(make_event, minutes=10, participants=1, status="draft")
    ended = upcoming(make_event, minutes=10, participants=1, status="ended")
    db.session.commit()
    assert notifications.create_due_reminders(utcnow()) == 0
    assert draft and ended


def test_an_old_sixty_minute_reminder_still_reads(db, make_event, make_user):
    event = upcoming(make_event, hours=1, participants=1)
    (person,) = event.test_participants
    old = Notification(user_id=person.id, kind=K.EVENT_STARTING, event_id=event.id,
                       dedup_key=f"starting:{event.id}:{int(event.starts_at.timestamp())}")
    db.session.add(old)
    db.session.commit()
    described = notifications.describe(old)
    assert described.visible and described.text.startswith(f"“{event.title}” starts on ")


def test_the_calendar_file_has_one_uid_per_event(app, db, make_event):
    first, second = upcoming(make_event, hours=5), upcoming(make_event, hours=5)
    db.session.commit()
    with app.test_request_context():
        a, b = ics.calendar(first), ics.calendar(first)
        (one,) = Calendar.from_ical(a).walk("VEVENT")
        (again,) = Calendar.from_ical(b).walk("VEVENT")
        (other,) = Calendar.from_ical(ics.calendar(second)).walk("VEVENT")
    assert one["UID"] == again["UID"] != other["UID"]
