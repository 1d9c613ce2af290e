"""Every kind of notification, made through the forms people use (issue 13: "every
notification kind over HTTP"): the actor logs in and posts the real form, then the recipient
logs in and finds the notice on /notifications (its sentence, "Unread", its link), the
bell's count in the header, and following the notice reads it and lands where it is about.

Also over HTTP: a mention of someone who may not read the place tells no one, a kind
switched off in the profile's settings form makes no notice of that kind, the follow and
unfollow buttons decide what one hears of, and nobody is ever told of what they did
themselves. The rules: forum/services/notifications.py (tests/services/test_notifications.py);
the same kinds live on the bell: tests/realtime/test_notifications_live.py.

The jobs run in the process, right after each request commits (no Redis in the tests)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from forum.i18n import format_when
from forum.models import EventMember, Post, Topic
from forum.models.base import utcnow
from forum.models.notifications import Notification, NotificationKind
from forum.models.polls import Poll
from forum.services import moderation
from forum.services import notifications as service
from tests.factories import login
from tests.web.page import flashes, parse

K = NotificationKind


# --- Helpers -------------------------------------------------------------------------------

def as_user(app, user):
    """A browser of its own, logged in as `user`."""
    client = app.test_client()
    login(client, user)
    return client


def done(response, status: int = 302):
    """The form was accepted (POST-redirect-GET); says what the page said otherwise."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:2000])
    return response


def bell(page) -> tuple[str, str]:
    link = page.one("a", **{"data-bell": True})
    return link.one("span", **{"data-bell-text": True}).text(), link.one("span", **{"data-bell-count": True}).text()


def items(page):
    listing = page.find("ol", class_="notification-list")
    return listing.find_all("li", class_="notification") if listing is not None else []


def stored(db, user) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def newest(db, model, **where):
    db.session.expire_all()
    return db.session.scalars(select(model).filter_by(**where).order_by(model.id.desc())).first()


def local_input(when, zone: str = "Europe/Brussels") -> str:
    """A datetime-local field's value, in the organiser's time zone."""
    return when.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def when_text(app, when) -> str:
    """A time as a notice says it to the people of the factories (English, Brussels)."""
    with app.test_request_context():
        return format_when(when, zone="Europe/Brussels")


def confirmed_already(w, user) -> None:
    """Registering confirms (its own scenario, event_registered): set that notice aside for
    the scenarios about what comes after."""
    w.db.session.expire_all()
    for notice in w.db.session.scalars(select(Notification).where(
            Notification.user_id == user.id, Notification.kind == K.EVENT_REGISTERED)):
        w.db.session.delete(notice)
    w.db.session.commit()


def run_the_timer(w) -> None:
    """`flask notifications send-digests`, as the systemd timer runs it. The command runs in
    the test's app context (and session): what the test's session holds is read again, as
    a fresh process would read it, not as the factories left it before the requests."""
    w.db.session.expire_all()
    result = w.app.test_cli_runner().invoke(args=["notifications", "send-digests"])
    assert result.exit_code == 0, (result.output, result.exception)


@dataclass
class Expect:
    """What a scenario made: who is told, of which kind, in which words, and where following
    the notice leads (None: back to the list, with the sentence said there)."""
    recipient: object
    kind: NotificationKind
    text: str
    target: str | None


# --- The world ---------------------------------------------------------------------------

@pytest.fixture
def w(app, db, make_user, make_consultation, make_post, make_event):
    """Ann responded in an open consultation of two Topics (its organiser follows it); Bob
    and Dan write, Cat follows what a scenario asks her to. `w.ready(user)` is called by
    each scenario just before the request that makes the notice (the settings test turns
    the kind off there)."""
    ann, bob, cat, dan = (make_user(display_name=name) for name in ("Ann", "Bob", "Cat", "Dan"))
    consultation = make_consultation(topics=2, title="Early years in rural areas")
    response = make_post(ann, consultation=consultation, body="Childcare opening hours do not fit shift work.")
    db.session.commit()
    world = SimpleNamespace(app=app, db=db, ann=ann, bob=bob, cat=cat, dan=dan, consultation=consultation,
                            organiser=consultation.owner, topics=list(consultation.topics), response=response,
                            make_event=make_event, make_post=make_post, off=None)

    def ready(recipient):
        if world.off is not None:
            kinds = [k.value for k in K if k is not world.off]
            done(as_user(app, recipient).post("/notifications/settings",
                                              data={"kinds": kinds, "digest_frequency": "daily"}))

    world.ready = ready
    world.base = f"/consultations/{consultation.id}"
    return world


def thread_url(post, reply=None) -> str:
    return f"/consultations/{post.consultation_id}/posts/{post.thread_id or post.id}#post-{(reply or post).id}"


def room_path(room) -> str:
    return f"/events/{room.event_id}/rooms/{room.id}"


def follow(w, user, what: str, target=None):
    """Press a follow button (what: "consultation", "topic", "thread")."""
    client = as_user(w.app, user)
    path = {"consultation": f"{w.base}/follow",
            "topic": f"{w.base}/topics/{(target or w.topics[1]).id}/follow",
            "thread": f"{w.base}/posts/{(target or w.response).id}/follow"}[what]
    done(client.post(path, data={"follow": "yes"}))
    return client, path


# --- Scenarios: one per kind (and per route of a kind) -----------------------------------------

def reply(w):
    w.ready(w.ann)
    done(as_user(w.app, w.bob).post(f"{w.base}/posts/{w.response.id}/reply", data={"body": "I disagree."}))
    post = newest(w.db, Post, author_id=w.bob.id)
    return Expect(w.ann, K.REPLY, f"Bob replied to your post in “{w.consultation.title}”.",
                  thread_url(w.response, post))


def quote(w):
    w.ready(w.ann)
    done(as_user(w.app, w.bob).post(f"{w.base}/posts/{w.response.id}/reply",
                                    data={"body": "Exactly this.", "quote": "y"}))
    post = newest(w.db, Post, author_id=w.bob.id)
    return Expect(w.ann, K.QUOTE, f"Bob quoted your post in “{w.consultation.title}”.", thread_url(w.response, post))


def mention_in_a_response(w):
    w.ready(w.ann)
    done(as_user(w.app, w.bob).post(f"{w.base}/responses", data={
        "topic_id": w.topics[1].id, "body": f"@{w.ann.handle} what do you think?"}))
    post = newest(w.db, Post, author_id=w.bob.id)
    return Expect(w.ann, K.MENTION, f"Bob mentioned you in “{w.consultation.title}”.", thread_url(post))


def mention_in_an_edit(w):
    """An edit that adds a mention tells the person newly named."""
    post = w.make_post(w.bob, consultation=w.consultation, body="First thoughts.")
    w.db.session.commit()
    w.ready(w.ann)
    done(as_user(w.app, w.bob).post(f"{w.base}/posts/{post.id}/edit",
                                    data={"body": f"First thoughts, @{w.ann.handle}?"}))
    return Expect(w.ann, K.MENTION, f"Bob mentioned you in “{w.consultation.title}”.", thread_url(post))


def mention_in_a_room(w):
    event = w.make_event(participants=3)  # rooms 1, 2, 1
    ann, _elsewhere, bob = event.test_participants
    room = event.breakout_rooms[0]
    w.db.session.commit()
    w.ready(ann)
    done(as_user(w.app, bob).post(f"{room_path(room)}/messages", data={"body": f"Agreed, @{ann.handle}."}))
    post = newest(w.db, Post, author_id=bob.id)
    return Expect(ann, K.MENTION, f"{bob.display_name} mentioned you in “{room.title}”.",
                  f"{room_path(room)}#post-{post.id}")


def endorsement(w):
    """Two people endorse: one notice, naming the latest and counting the other."""
    w.ready(w.ann)
    for endorser in (w.bob, w.cat):
        done(as_user(w.app, endorser).post(f"{w.base}/posts/{w.response.id}/endorsement"))
    return Expect(w.ann, K.ENDORSEMENT, f"Cat and 1 other person endorsed your post in “{w.consultation.title}”.",
                  thread_url(w.response))


def moderation_hide(w):
    w.ready(w.ann)
    done(as_user(w.app, w.organiser).post(f"/posts/{w.response.id}/hide", data={"reason": "Personal attack"}))
    return Expect(w.ann, K.MODERATION, f"A moderator hid your post in “{w.consultation.title}”. "
                                       "Reason: Personal attack", thread_url(w.response))


def moderation_restore(w):
    moderation.hide_post(w.organiser, w.response, "Checking a source")
    w.db.session.commit()
    service.mark_all_read(w.ann)
    w.db.session.commit()
    w.ready(w.ann)
    done(as_user(w.app, w.organiser).post(f"/posts/{w.response.id}/restore"))
    return Expect(w.ann, K.MODERATION, f"A moderator restored your hidden post in “{w.consultation.title}”.",
                  thread_url(w.response))


def moderation_delete(w):
    w.ready(w.ann)
    done(as_user(w.app, w.organiser).post(f"{w.base}/posts/{w.response.id}/delete"))
    return Expect(w.ann, K.MODERATION, "A moderator deleted one of your posts.", None)


def moderation_move(w):
    w.ready(w.ann)
    done(as_user(w.app, w.organiser).post(f"/posts/{w.response.id}/move", data={"destination": w.topics[1].id}))
    # It says where to: the Topic (the consultation's title would name where it already was).
    return Expect(w.ann, K.MODERATION, f"A moderator moved your thread to “{w.topics[1].title}”.",
                  thread_url(w.response))


def moderation_move_in_a_room(w):
    event = w.make_event(participants=1)
    (author,) = event.test_participants
    room, other = event.breakout_rooms
    w.db.session.commit()
    done(as_user(w.app, author).post(f"{room_path(room)}/messages", data={"body": "About transport"}))
    message = newest(w.db, Post, author_id=author.id)
    w.ready(author)
    done(as_user(w.app, event.owner).post(f"/posts/{message.id}/move", data={"destination": other.id}))
    # To a room she is not in: she may no longer read it, so the notice names nothing of it
    # and links nowhere (docs/notifications.md, describe()).
    return Expect(author, K.MODERATION, "A post you were notified about is no longer available.", None)


def moderation_lock(w):
    w.ready(w.ann)
    done(as_user(w.app, w.organiser).post(f"/posts/{w.response.id}/lock"))
    return Expect(w.ann, K.MODERATION,
                  f"A moderator locked your thread in “{w.consultation.title}”: it takes no more replies.",
                  thread_url(w.response))


def _premoderated_room(w):
    """A room whose moderator turned pre-moderation on (its settings form), and a
    participant's message waiting in its queue."""
    event = w.make_event(participants=1)
    (author,) = event.test_participants
    room, moderator = event.breakout_rooms[0], event.test_moderators[1][0]
    w.db.session.commit()
    mod = as_user(w.app, moderator)
    done(mod.post(f"{room_path(room)}/settings", data={"premoderated": "1"}))
    done(as_user(w.app, author).post(f"{room_path(room)}/messages", data={"body": "May I say this?"}))
    message = newest(w.db, Post, author_id=author.id)
    assert not message.is_published
    return author, room, mod, message


def moderation_reject(w):
    author, room, mod, message = _premoderated_room(w)
    w.ready(author)
    done(mod.post(f"/posts/{message.id}/reject", data={"reason": "Off topic"}))
    return Expect(author, K.MODERATION, f"A moderator did not publish your message in “{room.title}”. "
                                        "Reason: Off topic", f"{room_path(room)}#post-{message.id}")


def moderation_approve(w):
    author, room, mod, message = _premoderated_room(w)
    w.ready(author)
    done(mod.post(f"/posts/{message.id}/approve"))
    return Expect(author, K.MODERATION, f"A moderator approved your message in “{room.title}”.",
                  f"{room_path(room)}#post-{message.id}")


def moderation_delete_in_a_room(w):
    event = w.make_event(participants=1)
    (author,) = event.test_participants
    room = event.breakout_rooms[0]
    w.db.session.commit()
    done(as_user(w.app, author).post(f"{room_path(room)}/messages", data={"body": "Something regrettable"}))
    message = newest(w.db, Post, author_id=author.id)
    w.ready(author)
    done(as_user(w.app, event.owner).post(f"{room_path(room)}/messages/{message.id}/delete"))
    return Expect(author, K.MODERATION, "A moderator deleted one of your posts.", None)


def thread_reply(w):
    follow(w, w.cat, "thread")
    w.ready(w.cat)
    done(as_user(w.app, w.bob).post(f"{w.base}/posts/{w.response.id}/reply", data={"body": "Same here."}))
    post = newest(w.db, Post, author_id=w.bob.id)
    return Expect(w.cat, K.THREAD_REPLY, f"Bob replied in a thread you follow in “{w.consultation.title}”.",
                  thread_url(w.response, post))


def new_response(w):
    follow(w, w.cat, "topic")
    w.ready(w.cat)
    done(as_user(w.app, w.bob).post(f"{w.base}/responses", data={"topic_id": w.topics[1].id, "body": "Vouchers."}))
    post = newest(w.db, Post, author_id=w.bob.id)
    return Expect(w.cat, K.NEW_RESPONSE, f"Bob responded to the Topic “{w.topics[1].title}”.", thread_url(post))


def new_topic(w):
    follow(w, w.cat, "consultation")
    w.ready(w.cat)
    done(as_user(w.app, w.organiser).post(f"{w.base}/topics/new", data={"title": "Transport to crèches"}))
    topic = newest(w.db, Topic, title="Transport to crèches")
    return Expect(w.cat, K.NEW_TOPIC, f"New Topic in “{w.consultation.title}”: Transport to crèches",
                  f"{w.base}?topic={topic.id}#topic-{topic.id}")


def new_poll(w):
    follow(w, w.cat, "consultation")
    organiser = as_user(w.app, w.organiser)
    done(organiser.post(f"{w.base}/polls/new", data={
        "kind": "single", "question": "Which opening hours?", "options": "6am\n7am", "results_shown": "live",
        "topic_id": "0"}))
    poll = newest(w.db, Poll, consultation_id=w.consultation.id)
    w.ready(w.cat)
    done(organiser.post(f"/polls/{poll.id}/open"))
    return Expect(w.cat, K.NEW_POLL, f"New poll in “{w.consultation.title}”: Which opening hours?",
                  f"/polls/{poll.id}")


def closing_soon(w):
    """The organiser sets a closing time six hours away (the edit form); the timer's
    command makes the reminder."""
    follow(w, w.cat, "consultation")
    closes = (utcnow() + timedelta(hours=6)).replace(second=0, microsecond=0)
    done(as_user(w.app, w.organiser).post(f"{w.base}/edit", data={
        "title": w.consultation.title, "visibility": "public", "opens_at": "", "closes_at": local_input(closes)}))
    w.ready(w.cat)
    run_the_timer(w)
    return Expect(w.cat, K.CLOSING_SOON, f"“{w.consultation.title}” closes on {when_text(w.app, closes)}: "
                                         "respond before then.", w.base)


def _manual_event_with(w, person):
    event = w.make_event(participants=0, assignment_mode="manual")
    w.db.session.commit()
    done(as_user(w.app, person).post(f"/events/{event.id}/register", data={"role": "participant"}))
    confirmed_already(w, person)
    member = newest(w.db, EventMember, event_id=event.id, user_id=person.id)
    assert member.room_id is None
    return event, member


def placement_by_the_organiser(w):
    event, member = _manual_event_with(w, w.ann)
    room = event.breakout_rooms[1]
    w.ready(w.ann)
    done(as_user(w.app, event.owner).post(f"/events/{event.id}/people/{member.id}/move", data={"room_id": room.id}))
    return Expect(w.ann, K.PLACEMENT, f"You were placed in “{room.title}” at “{event.title}”.", room_path(room))


def placement_by_the_balanced_assignment(w):
    event, member = _manual_event_with(w, w.ann)
    w.ready(w.ann)
    done(as_user(w.app, event.owner).post(f"/events/{event.id}/people/balance"))
    room = next(r for r in event.breakout_rooms if r.id == newest(w.db, EventMember, id=member.id).room_id)
    return Expect(w.ann, K.PLACEMENT, f"You were placed in “{room.title}” at “{event.title}”.", room_path(room))


def placement_on_registering(w):
    """A balanced event places a newcomer at once: the system did it, so she is told."""
    event = w.make_event(participants=0)
    w.db.session.commit()
    w.ready(w.ann)
    done(as_user(w.app, w.ann).post(f"/events/{event.id}/register", data={"role": "participant"}))
    confirmed_already(w, w.ann)
    room_id = newest(w.db, EventMember, event_id=event.id, user_id=w.ann.id).room_id
    room = next(r for r in event.breakout_rooms if r.id == room_id)
    return Expect(w.ann, K.PLACEMENT, f"You were placed in “{room.title}” at “{event.title}”.", room_path(room))


def event_starting(w):
    """15 minutes before: the link to the person's room (an observer's: the plenary)."""
    event = w.make_event(participants=0, assignment_mode="manual")
    event.starts_at = (utcnow() + timedelta(minutes=15)).replace(microsecond=0)
    event.ends_at = event.starts_at + timedelta(hours=2)
    w.db.session.commit()
    done(as_user(w.app, w.ann).post(f"/events/{event.id}/register", data={"role": "observer"}))
    confirmed_already(w, w.ann)
    w.ready(w.ann)
    run_the_timer(w)
    return Expect(w.ann, K.EVENT_STARTING,
                  f"“{event.title}” starts on {when_text(w.app, event.starts_at)}, in the plenary.",
                  room_path(event.plenary))


def event_registered(w):
    event = w.make_event(participants=0, assignment_mode="manual")
    event.starts_at = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    event.ends_at = event.starts_at + timedelta(hours=2)
    w.db.session.commit()
    w.ready(w.ann)
    done(as_user(w.app, w.ann).post(f"/events/{event.id}/register", data={"role": "participant"}))
    return Expect(w.ann, K.EVENT_REGISTERED,
                  f"You are registered for “{event.title}”, on {when_text(w.app, event.starts_at)}.",
                  f"/events/{event.id}")


def event_reminder_day(w):
    event = w.make_event(participants=0, assignment_mode="manual")
    event.starts_at = (utcnow() + timedelta(hours=10)).replace(microsecond=0)
    event.ends_at = event.starts_at + timedelta(hours=2)
    w.db.session.commit()
    done(as_user(w.app, w.ann).post(f"/events/{event.id}/register", data={"role": "participant"}))
    confirmed_already(w, w.ann)
    member = newest(w.db, EventMember, event_id=event.id, user_id=w.ann.id)
    member.registered_at = utcnow() - timedelta(days=2)  # registered before the day began
    w.db.session.commit()
    w.ready(w.ann)
    run_the_timer(w)
    return Expect(w.ann, K.EVENT_REMINDER_DAY, f"“{event.title}” starts on {when_text(w.app, event.starts_at)}.",
                  f"/events/{event.id}")


def feedback_open(w):
    """The organiser ends the event with the status form: its participant is asked for feedback."""
    event = w.make_event(participants=0, assignment_mode="manual")
    w.db.session.commit()
    done(as_user(w.app, w.ann).post(f"/events/{event.id}/register", data={"role": "participant"}))
    confirmed_already(w, w.ann)
    w.ready(w.ann)
    done(as_user(w.app, event.owner).post(f"/events/{event.id}/status", data={"status": "ended"}))
    return Expect(w.ann, K.FEEDBACK_OPEN,
                  f"“{event.title}” has ended: tell the organisers how it went in a short feedback form.",
                  f"/events/{event.id}/feedback")


SCENARIOS = [reply, quote, mention_in_a_response, mention_in_an_edit, mention_in_a_room, endorsement,
             moderation_hide, moderation_restore, moderation_delete, moderation_move, moderation_move_in_a_room,
             moderation_lock,
             moderation_reject, moderation_approve, moderation_delete_in_a_room, thread_reply, new_response,
             new_topic, new_poll, closing_soon, placement_by_the_organiser, placement_by_the_balanced_assignment,
             placement_on_registering, event_starting, event_registered, event_reminder_day,
             feedback_open]


def test_the_scenarios_cover_every_kind():
    """A kind added later needs a scenario here (the kinds each scenario makes are checked
    by the test below)."""
    covered = {"reply": K.REPLY, "quote": K.QUOTE, "mention": K.MENTION, "endorsement": K.ENDORSEMENT,
               "moderation": K.MODERATION, "thread_reply": K.THREAD_REPLY, "new_response": K.NEW_RESPONSE,
               "new_topic": K.NEW_TOPIC, "new_poll": K.NEW_POLL, "closing_soon": K.CLOSING_SOON,
               "placement": K.PLACEMENT, "event_starting": K.EVENT_STARTING,
               "event_registered": K.EVENT_REGISTERED, "event_reminder_day": K.EVENT_REMINDER_DAY,
               "feedback_open": K.FEEDBACK_OPEN}
    assert set(covered.values()) == set(K)
    assert all(any(s.__name__.startswith(prefix) for s in SCENARIOS) for prefix in covered)


# --- Every kind: the page, the bell, following the notice ----------------------------------------

@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_every_kind_over_http_reaches_the_page_and_the_bell_and_leads_to_its_place(w, scenario):
    expect = scenario(w)
    unread = [n for n in stored(w.db, expect.recipient) if n.read_at is None]
    assert [n.kind for n in unread] == [expect.kind]
    (notice,) = unread
    assert notice.user_id == expect.recipient.id

    reader = as_user(w.app, expect.recipient)
    page = parse(reader.get("/notifications"))
    first = items(page)[0]
    assert first.get("id") == f"notification-{notice.id}"
    assert "notification-unread" in first.classes
    # (the page's text with its runs of white space made one space: a time's narrow no-break space too)
    assert first.one("p", class_="notification-text").text() == " ".join(f"Unread {expect.text}".split())
    assert bell(page) == ("Notifications, 1 unread", "1")
    assert "1 unread notification." in page.one("main").text()
    links = first.find_all("a")
    if expect.target is None:  # nothing left to open: the sentence only
        assert links == []
    else:
        assert [a.get("href") for a in links] == [f"/notifications/{notice.id}"]

    followed = reader.get(f"/notifications/{notice.id}")
    assert followed.status_code == 302
    if expect.target is None:
        assert followed.headers["Location"] == "/notifications"
        landing = parse(reader.get("/notifications"))
        assert " ".join(expect.text.split()) in flashes(landing)
    else:
        assert followed.headers["Location"] == expect.target
        target = urlsplit(expect.target)
        assert reader.get(target.path + (f"?{target.query}" if target.query else "")).status_code == 200
        landing = parse(reader.get("/notifications"))
    assert bell(landing) == ("Notifications", "0")
    assert "Unread" not in items(landing)[0].text()
    assert "notification-unread" not in items(landing)[0].classes
    w.db.session.refresh(notice)
    assert notice.read_at is not None


# --- Settings: a kind switched off makes none ---------------------------------------------------

@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_a_kind_switched_off_in_the_settings_form_makes_no_notice_of_it(w, scenario):
    kind = next(k for k in K if scenario.__name__.startswith(k.value))
    w.off = kind
    expect = scenario(w)
    assert expect.kind is kind
    assert kind not in [n.kind for n in stored(w.db, expect.recipient) if n.read_at is None]
    page = parse(as_user(w.app, expect.recipient).get("/notifications"))
    assert " ".join(expect.text.split()) not in page.one("main").text()


# --- Mentions of people who may not read the place -----------------------------------------------

@pytest.fixture
def rooms(w):
    """A published event: Eve and Fay in room 1 (Fay writes), Gus in room 2, Hal registered
    nowhere, room 1's two moderators."""
    event = w.make_event(participants=3)  # rooms 1, 2, 1
    eve, gus, fay = event.test_participants
    return SimpleNamespace(event=event, room=event.breakout_rooms[0], eve=eve, fay=fay, gus=gus,
                           moderators=event.test_moderators[1], hal=w.dan)


def test_a_room_message_mentions_tell_only_the_people_who_may_read_the_room(w, rooms):
    w.db.session.commit()
    body = " ".join(f"@{p.handle}" for p in (rooms.eve, rooms.gus, rooms.hal, rooms.moderators[0])) + " hello"
    done(as_user(w.app, rooms.fay).post(f"{room_path(rooms.room)}/messages", data={"body": body}))
    told = {n.user_id for n in w.db.session.scalars(select(Notification).where(Notification.kind == K.MENTION))}
    assert told == {rooms.eve.id, rooms.moderators[0].id}
    for outsider in (rooms.gus, rooms.hal):
        page = parse(as_user(w.app, outsider).get("/notifications"))
        assert items(page) == [] and bell(page) == ("Notifications", "0")


def test_a_backchannel_mention_tells_its_moderators_only(w, rooms):
    w.db.session.commit()
    one, other = rooms.moderators
    done(as_user(w.app, one).post(f"{room_path(rooms.room)}/messages", data={
        "channel": "moderators", "mod-body": f"@{rooms.eve.handle} is quiet, @{other.handle}"}))
    assert newest(w.db, Post, author_id=one.id).backchannel
    told = {n.user_id for n in w.db.session.scalars(select(Notification).where(Notification.kind == K.MENTION))}
    assert told == {other.id}
    assert bell(parse(as_user(w.app, rooms.eve).get("/"))) == ("Notifications", "0")


def test_a_draft_consultation_takes_no_post_and_so_tells_no_one(w, make_consultation):
    """Only its organiser and hosts may read a draft, and nobody may write in it yet: the
    form is refused, nothing is stored, no one is told."""
    draft = make_consultation(status="draft", owner=w.organiser)
    w.db.session.commit()
    answer = as_user(w.app, w.organiser).post(f"/consultations/{draft.id}/responses", data={
        "topic_id": draft.topics[0].id, "body": f"@{w.ann.handle} have a look"})
    assert 400 <= answer.status_code < 500
    assert newest(w.db, Post, consultation_id=draft.id) is None
    assert stored(w.db, w.ann) == []


def test_a_poll_opened_in_a_draft_tells_only_the_followers_who_may_read_it(w, make_consultation, make_user):
    """Its hosts follow a draft; one removed since keeps her Follow row but may not read it."""
    host, former = make_user(display_name="Host"), make_user(display_name="Former host")
    draft = make_consultation(status="draft", owner=w.organiser, hosts=[host, former])
    w.db.session.commit()
    organiser = as_user(w.app, w.organiser)
    former_host = next(h for h in draft.hosts if h.user_id == former.id)
    done(organiser.post(f"/consultations/{draft.id}/hosts/{former_host.id}/delete"))
    done(organiser.post(f"/consultations/{draft.id}/polls/new", data={
        "kind": "single", "question": "Ready?", "options": "Yes\nNo", "results_shown": "live", "topic_id": "0"}))
    poll = newest(w.db, Poll, consultation_id=draft.id)
    done(organiser.post(f"/polls/{poll.id}/open"))
    assert [n.user_id for n in w.db.session.scalars(select(Notification).where(Notification.kind == K.NEW_POLL))] \
        == [host.id]
    assert bell(parse(as_user(w.app, former).get("/"))) == ("Notifications", "0")


# --- Follow and unfollow buttons ------------------------------------------------------------------

@pytest.mark.parametrize("what", ["consultation", "topic", "thread"])
def test_the_follow_buttons_decide_what_one_hears_of(w, what):
    """Follow: the next thing in it tells Cat; unfollow (the same form): the next tells her nothing."""
    cat, path = follow(w, w.cat, what)
    bob, organiser = as_user(w.app, w.bob), as_user(w.app, w.organiser)

    def something_happens(n: int):
        if what == "consultation":
            done(organiser.post(f"{w.base}/topics/new", data={"title": f"New Topic {n}"}))
        elif what == "topic":
            done(bob.post(f"{w.base}/responses", data={"topic_id": w.topics[1].id, "body": f"Response {n}"}))
        else:
            done(bob.post(f"{w.base}/posts/{w.response.id}/reply", data={"body": f"Reply {n}"}))

    something_happens(1)
    expected = {"consultation": K.NEW_TOPIC, "topic": K.NEW_RESPONSE, "thread": K.THREAD_REPLY}[what]
    assert [n.kind for n in stored(w.db, w.cat)] == [expected]
    assert bell(parse(cat.get("/"))) == ("Notifications, 1 unread", "1")

    done(cat.post(path, data={"follow": "no"}))
    assert parse(cat.get("/notifications/following")).find("ul", class_="follow-list") is None
    something_happens(2)
    assert len(stored(w.db, w.cat)) == 1
    assert bell(parse(cat.get("/"))) == ("Notifications, 1 unread", "1")


def test_replying_follows_the_thread_and_unfollowing_it_sticks(w):
    """Posting follows the thread (Cat hears of the next reply); after she unfollows it,
    replying again does not follow it again."""
    cat, bob = as_user(w.app, w.cat), as_user(w.app, w.bob)
    reply_url = f"{w.base}/posts/{w.response.id}/reply"
    done(cat.post(reply_url, data={"body": "Mine"}))
    done(bob.post(reply_url, data={"body": "Bob's"}))
    assert [n.kind for n in stored(w.db, w.cat)] == [K.THREAD_REPLY]

    done(cat.post(f"{w.base}/posts/{w.response.id}/follow", data={"follow": "no"}))
    done(cat.post(reply_url, data={"body": "Mine again"}))
    done(bob.post(reply_url, data={"body": "Bob's again"}))
    assert len(stored(w.db, w.cat)) == 1


# --- Never to the person who caused it ------------------------------------------------------------

def own_reply_quoting_and_mentioning_oneself(w):
    done(as_user(w.app, w.ann).post(f"{w.base}/posts/{w.response.id}/reply",
                                    data={"body": f"To add, @{w.ann.handle}:", "quote": "y"}))
    return w.ann


def own_endorsement(w):
    as_user(w.app, w.ann).post(f"{w.base}/posts/{w.response.id}/endorsement")  # refused or not: no notice
    return w.ann


def own_response_in_a_followed_topic(w):
    follow(w, w.cat, "topic")
    done(as_user(w.app, w.cat).post(f"{w.base}/responses", data={"topic_id": w.topics[1].id, "body": "Mine"}))
    return w.cat


def own_topic_and_poll_in_a_followed_consultation(w):
    organiser = as_user(w.app, w.organiser)  # follows the consultation as its creator
    done(organiser.post(f"{w.base}/topics/new", data={"title": "Another Topic"}))
    done(organiser.post(f"{w.base}/polls/new", data={
        "kind": "single", "question": "Mine?", "options": "Yes\nNo", "results_shown": "live", "topic_id": "0"}))
    done(organiser.post(f"/polls/{newest(w.db, Poll, consultation_id=w.consultation.id).id}/open"))
    return w.organiser


def moderating_ones_own_post(w):
    own = w.make_post(w.organiser, consultation=w.consultation, body="The organiser's own response")
    w.db.session.commit()
    organiser = as_user(w.app, w.organiser)
    done(organiser.post(f"/posts/{own.id}/lock"))
    done(organiser.post(f"/posts/{own.id}/hide", data={"reason": "Posted too early"}))
    done(organiser.post(f"/posts/{own.id}/move", data={"destination": w.topics[1].id}))
    done(organiser.post(f"{w.base}/posts/{own.id}/delete"))
    return w.organiser


def choosing_ones_own_room(w):
    event = w.make_event(participants=0, assignment_mode="self_select")
    w.db.session.commit()
    ann = as_user(w.app, w.ann)
    done(ann.post(f"/events/{event.id}/register", data={"role": "participant"}))
    confirmed_already(w, w.ann)  # the confirmation of one's own registration is meant
    done(ann.post(f"{room_path(event.breakout_rooms[0])}/choose"))
    assert newest(w.db, EventMember, user_id=w.ann.id).room_id == event.breakout_rooms[0].id
    return w.ann


@pytest.mark.parametrize("scenario", [
    own_reply_quoting_and_mentioning_oneself, own_endorsement, own_response_in_a_followed_topic,
    own_topic_and_poll_in_a_followed_consultation, moderating_ones_own_post, choosing_ones_own_room,
], ids=lambda s: s.__name__)
def test_nobody_is_told_of_what_they_did_themselves(w, scenario):
    actor = scenario(w)
    assert stored(w.db, actor) == []
    page = parse(as_user(w.app, actor).get("/notifications"))
    assert items(page) == [] and bell(page) == ("Notifications", "0")
