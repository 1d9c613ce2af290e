"""Factory fixtures, in the style of Indico's: each fixture returns a function that creates
one object with sensible defaults, so a test names only what matters to it::

    def test_x(make_user, make_consultation, make_post):
        organiser = make_user("organiser")
        consultation = make_consultation(owner=organiser, status="closed", topics=2)
        post = make_post(consultation=consultation)

Things are created through the services (so they are valid by the same rules as in
production); only states the services cannot reach from a fresh start (an open
consultation without topics, a closing time already passed, a chosen created_at) are
set on the models directly.

`login(client, user)` logs a test client in through POST /login.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime

import pytest

from forum.models import Consultation, Post, Topic, User
from forum.models.base import utcnow
from forum.models.consultations import ConsultationStatus
from forum.services import accounts, consultations, posts

DEFAULT_PASSWORD = "correct horse battery staple"
ROLES = ("participant", "organiser", "admin")


def login(client, user: User, password: str | None = None):
    """Log `client` in as `user` through the login form; returns the response.
    Users made by `make_user` remember their password; pass it for others."""
    password = password or getattr(user, "test_password", DEFAULT_PASSWORD)
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, (
        f"logging in as {user.email} failed with status {response.status_code}")
    return response


@pytest.fixture(name="login")
def login_fixture():
    """The `login(client, user, password=None)` helper, for tests that prefer a fixture."""
    return login


@pytest.fixture
def make_user(db):
    """make_user(role="participant"|"organiser"|"admin", **profile) -> User.

    An "admin" has the admin flag only (not the organiser one), so tests see which powers
    come from being admin. The password is DEFAULT_PASSWORD unless given, and is kept on
    the object as `user.test_password` for `login`. Its address is confirmed unless
    `verified=False`."""
    counter = itertools.count(1)

    def _make_user(role: str = "participant", *, email: str | None = None,
                   password: str = DEFAULT_PASSWORD, display_name: str | None = None,
                   organisation: str = "Test Organisation", organisation_type: str = "ngo",
                   country: str = "BE", role_title: str = "", preferred_language: str = "en",
                   timezone: str = "Europe/Brussels", verified: bool = True) -> User:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; use one of {ROLES}")
        n = next(counter)
        user = accounts.register(
            email or f"{role}{n}@example.org",
            password,
            accounts.Profile(
                display_name=display_name or f"{role.title()} {n}",
                organisation=organisation, organisation_type=organisation_type, country=country,
                role_title=role_title, preferred_language=preferred_language, timezone=timezone,
            ),
        )
        if role == "organiser":
            accounts.set_roles(None, user, organiser=True)
        elif role == "admin":
            accounts.set_roles(None, user, admin=True)
        if verified:  # a confirmed address, as most people have (tests of verification pass False)
            user.email_verified_at = utcnow()
            db.session.flush()
        user.test_password = password
        return user

    return _make_user


@pytest.fixture
def make_consultation(db, make_user):
    """make_consultation(owner=None, status="open", topics=1, **settings) -> Consultation.

    `owner` defaults to a new organiser. `hosts` takes users (linked to their accounts) or
    plain names. `closes_at` may lie in the past: the consultation is opened first and the
    time set afterwards, as happens when the clock runs past it. With `topics=0` and a
    status other than draft the status is set directly (the service refuses to open a
    consultation without topics)."""
    counter = itertools.count(1)

    def _make_consultation(owner: User | None = None, *, status: str = "open", topics: int = 1,
                           title: str | None = None, brief: str = "", tags: str = "",
                           visibility: str = "public", opens_at: datetime | None = None,
                           closes_at: datetime | None = None,
                           hosts: Iterable[User | str] = ()) -> Consultation:
        n = next(counter)
        owner = owner or make_user("organiser")
        closes_later = closes_at if closes_at is not None and closes_at <= utcnow() else None
        consultation = consultations.create_consultation(owner, consultations.ConsultationInput(
            title=title or f"Consultation {n}", brief=brief, tags=tags, visibility=visibility,
            opens_at=opens_at, closes_at=None if closes_later else closes_at,
        ))
        for i in range(1, topics + 1):
            consultations.add_topic(owner, consultation, consultations.TopicInput(
                title=f"Topic {i} of consultation {n}", guiding_questions=[f"Question {i}?"]))
        for host in hosts:
            if isinstance(host, User):
                consultations.add_host(owner, consultation, consultations.HostInput(
                    name=host.display_name, account_email=host.email))
            else:
                consultations.add_host(owner, consultation, consultations.HostInput(name=host))
        target = ConsultationStatus(status)
        if target is not ConsultationStatus.DRAFT:
            if topics:
                consultations.set_status(owner, consultation, ConsultationStatus.OPEN.value)
                if target is ConsultationStatus.CLOSED:
                    consultations.set_status(owner, consultation, ConsultationStatus.CLOSED.value)
            else:
                consultation.status = target
        if closes_later is not None:
            consultation.closes_at = closes_later
        db.session.flush()
        return consultation

    return _make_consultation


@pytest.fixture
def make_post(db, make_user, make_consultation):
    """make_post(author=None, consultation=None, topic=None, parent=None, **fields) -> Post.

    A response to `topic` (default: the consultation's first topic), or a reply when
    `parent` is given. `author` defaults to a new participant, `consultation` to a new open
    one (or the parent's); `stance` is a response's on a proposal topic. `created_at`
    overrides the creation time; `deleted=True` soft-deletes the post through the service
    afterwards."""
    counter = itertools.count(1)

    def _make_post(author: User | None = None, *, consultation: Consultation | None = None,
                   topic: Topic | None = None, parent: Post | None = None, body: str | None = None,
                   subject: str = "", on_behalf_of_organisation: bool = False,
                   created_at: datetime | None = None, deleted: bool = False, stance: str | None = None) -> Post:
        n = next(counter)
        if parent is not None:
            consultation = parent.consultation
        consultation = consultation or make_consultation()
        author = author or make_user()
        if parent is None:
            topic = topic or consultation.topics[0]
        post = posts.create_post(
            author, consultation, body=body or f"Post number {n}.", subject=subject,
            topic_id=topic.id if topic is not None else None, parent=parent,
            on_behalf_of_organisation=on_behalf_of_organisation, stance=stance,
        )
        if created_at is not None:
            post.created_at = created_at
            db.session.flush()
        if deleted:
            posts.delete_post(author, post)
        return post

    return _make_post


@pytest.fixture
def make_event(db, make_user):
    """make_event(owner=None, rooms=2, moderators=2, participants=0, status="published",
    phase="open", **settings) -> Event.

    Builds the objects directly (the event services have their own tests): a plenary and
    `rooms` breakout rooms, each with `moderators` new co-moderators; `participants` new
    participants are registered and spread over the rooms in turn. `event.test_moderators`
    maps room position -> [users]; `event.test_participants` lists the participants."""
    from datetime import timedelta

    from forum.models import Event, EventMember, Moderator, Room
    from forum.models.events import AssignmentMode, EventStatus, MemberRole, RoomPhase

    counter = itertools.count(1)

    def _make_event(owner: User | None = None, *, rooms: int = 2, moderators: int = 2,
                    participants: int = 0, status: str = "published", phase: str = "open",
                    assignment_mode: str = "balanced", title: str | None = None) -> Event:
        n = next(counter)
        owner = owner or make_user("organiser")
        start = utcnow() - timedelta(minutes=30)
        event = Event(title=title or f"Event {n}", owner=owner, starts_at=start,
                      ends_at=start + timedelta(hours=2), status=EventStatus(status),
                      assignment_mode=AssignmentMode(assignment_mode))
        event.rooms.append(Room(position=0, title="Plenary", phase=RoomPhase(phase)))
        for position in range(1, rooms + 1):
            event.rooms.append(Room(position=position, title=f"Room {position} of event {n}",
                                    phase=RoomPhase(phase)))
        db.session.add(event)
        db.session.flush()
        event.test_moderators = {}
        for room in event.breakout_rooms:
            event.test_moderators[room.position] = [make_user() for _ in range(moderators)]
            for user in event.test_moderators[room.position]:
                db.session.add(Moderator(user_id=user.id, room_id=room.id))
        event.test_participants = []
        for i in range(participants):
            user = make_user()
            room = event.breakout_rooms[i % rooms] if rooms else None
            db.session.add(EventMember(event_id=event.id, user_id=user.id, role=MemberRole.PARTICIPANT,
                                       room_id=room.id if room else None))
            event.test_participants.append(user)
        db.session.flush()
        db.session.expire(event, ["rooms"])
        return event

    return _make_event
