"""Event pages over HTTP: who may open or send what, and where each form leads."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from forum.models import Event, EventMember, HandRaise, Post, Takeaway
from forum.models.events import EventStatus, RoomPhase
from forum.services import posts
from forum.services import rooms as room_service
from tests.factories import login
from tests.web.page import parse

NEW = {"title": "Welcoming newcomers", "description": "About **it**", "agenda": "1. Plenary",
       "timezone": "Europe/Rome", "starts_at": "2031-05-04T10:00", "ends_at": "2031-05-04T12:00",
       "assignment_mode": "balanced"}


def room_path(room) -> str:
    return f"/events/{room.event_id}/rooms/{room.id}"


def as_user(client, user):
    if user is not None:
        login(client, user)
    return client


@pytest.fixture
def event(make_event):
    return make_event(rooms=2, participants=2)


def people(event, make_user):
    """Each role of the event, by name."""
    return {
        "anonymous": None, "stranger": make_user(), "participant": event.test_participants[0],
        "moderator": event.test_moderators[1][0], "organiser": event.owner, "admin": make_user("admin"),
    }


# --- Pages --------------------------------------------------------------------------

def test_the_list_groups_events_and_hides_others_drafts(client, make_event):
    make_event(title="Live one")
    draft = make_event(status="draft", title="Secret draft")
    page = client.get("/events/").get_data(as_text=True)
    assert "Live one" in page and "Secret draft" not in page and "Happening now" in page
    login(client, draft.owner)
    assert "Secret draft" in client.get("/events/").get_data(as_text=True)


@pytest.mark.parametrize("role, status", [
    ("anonymous", 200), ("stranger", 200), ("participant", 200), ("moderator", 200), ("organiser", 200),
    ("admin", 200)])
def test_the_public_page(client, event, make_user, role, status):
    user = people(event, make_user)[role]
    response = as_user(client, user).get(f"/events/{event.id}")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert event.breakout_rooms[0].title in page
    assert ("Go to your room" in page) == (role in ("participant", "moderator"))
    assert ('action="/events/%d/register"' % event.id in page) == (role in ("stranger", "admin", "organiser"))
    assert ("Edit event" in page) == (role in ("organiser", "admin"))


@pytest.mark.parametrize("role, status", [
    ("anonymous", 404), ("stranger", 404), ("moderator", 200), ("organiser", 200)])
def test_a_draft_page_is_for_its_organisers_and_moderators(client, make_event, make_user, role, status):
    draft = make_event(status="draft", participants=1)
    assert as_user(client, people(draft, make_user)[role]).get(f"/events/{draft.id}").status_code == status


@pytest.mark.parametrize("role, shown", [
    ("anonymous", False), ("stranger", False), ("participant", True), ("moderator", True), ("organiser", True)])
def test_report_cards_show_on_the_event_page_to_the_plenarys_readers(client, event, make_user, role, shown):
    """The cards carry the takeaways and the names of those credited: they are the plenary's."""
    room = event.breakout_rooms[0]
    message = posts.post_in_room(event.test_participants[0], room, body="Housing first")
    room_service.add_takeaway(event.owner, room, "", source_post=message)
    room_service.set_phase(event.owner, room, "closed")
    response = as_user(client, people(event, make_user)[role]).get(f"/events/{event.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("Report-back" in page) == shown and ("Housing first" in page) == shown
    assert (event.test_participants[0].display_name in page) == shown


# --- Organising ---------------------------------------------------------------------

def test_an_organiser_creates_an_event_in_its_time_zone(client, db, make_user):
    login(client, make_user("organiser"))
    assert client.get("/events/new").status_code == 200
    response = client.post("/events/new", data=NEW)
    assert response.status_code == 302
    event = db.session.scalar(select(Event).order_by(Event.id.desc()))
    assert response.headers["Location"] == f"/events/{event.id}/edit"
    assert event.starts_at.isoformat() == "2031-05-04T08:00:00+00:00"  # 10:00 in Rome in May
    assert [r.title for r in event.rooms] == ["Plenary"]
    assert client.get(f"/events/{event.id}/edit").status_code == 200
    bad = client.post("/events/new", data={**NEW, "ends_at": "2031-05-04T09:00"})
    assert bad.status_code == 400 and "The end must be after the start." in bad.get_data(as_text=True)


@pytest.mark.parametrize("role, status", [("participant", 403), ("admin", 200), ("organiser", 200)])
def test_who_may_open_the_new_event_form(client, make_user, role, status):
    login(client, make_user(role))
    assert client.get("/events/new").status_code == status


def test_anonymous_visitors_are_sent_to_log_in(client, event):
    for path in ("/events/new", f"/events/{event.id}/edit", f"/events/{event.id}/people",
                 f"/events/{event.id}/join/{event.invite_token}"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("role, status", [("stranger", 403), ("participant", 403), ("moderator", 403),
                                          ("organiser", 200), ("admin", 200)])
def test_organiser_pages_by_role(client, event, make_user, role, status):
    as_user(client, people(event, make_user)[role])
    for path in ("edit", "people", "broadcast", "recall", "rooms/new"):
        assert client.get(f"/events/{event.id}/{path}").status_code == status, path


def test_rooms_moderators_status_and_invitation(client, db, event, make_user, reload):
    login(client, event.owner)
    base = f"/events/{event.id}"
    created = client.post(f"{base}/rooms/new", data={"title": "Jobs", "capacity": "10"})
    assert created.headers["Location"] == f"{base}/edit#rooms"
    room = reload(event).breakout_rooms[-1]
    assert (room.title, room.capacity) == ("Jobs", 10)
    assert client.post(f"{base}/rooms/new", data={"title": "Jobs", "capacity": "0"}).status_code == 400
    assert client.get(f"{base}/rooms/{room.id}/edit").status_code == 200
    assert client.post(f"{base}/rooms/{room.id}/edit", data={"title": "Work", "capacity": ""}).status_code == 302
    helper = make_user()
    assert client.post(f"{base}/rooms/{room.id}/moderators", data={"email": helper.email}).status_code == 302
    assert reload(room).is_moderator(helper)
    response = client.post(f"{base}/rooms/{room.id}/moderators", data={"email": "nobody@example.org"})
    assert response.status_code == 302
    moderator_id = reload(room).moderators[0].id
    assert client.post(f"{base}/rooms/{room.id}/moderators/{moderator_id}/remove").status_code == 302
    assert reload(room).moderators == []
    assert client.post(f"{base}/rooms/{room.id}/remove").status_code == 302
    assert len(reload(event).breakout_rooms) == 2
    token = event.invite_token
    assert client.post(f"{base}/invite").headers["Location"] == f"{base}/edit#invitation"
    assert reload(event).invite_token != token
    assert client.post(f"{base}/status", data={"status": "ended"}).status_code == 302
    assert reload(event).status is EventStatus.ENDED
    assert client.post(f"{base}/status", data={"status": "draft"}).status_code == 400


def test_organiser_posts_are_refused_to_others(client, event, make_user):
    login(client, event.test_moderators[1][0])
    base = f"/events/{event.id}"
    room = event.breakout_rooms[0]
    for path in ("status", "invite", "rooms/new", f"rooms/{room.id}/remove", f"rooms/{room.id}/moderators",
                 "people/balance", "broadcast", "recall"):
        assert client.post(f"{base}/{path}", data={"status": "ended", "email": "x@example.org", "title": "T",
                                                   "body": "Hi"}).status_code == 403, path


def test_people_page_moves_and_balances(client, db, event, make_user, reload):
    login(client, event.owner)
    base = f"/events/{event.id}"
    page = client.get(f"{base}/people").get_data(as_text=True)
    assert event.test_participants[0].display_name in page and "Mix of each room" in page
    member = db.session.scalar(select(EventMember).where(EventMember.user_id == event.test_participants[0].id))
    target = event.breakout_rooms[1]
    response = client.post(f"{base}/people/{member.id}/move", data={"room_id": str(target.id)})
    assert response.headers["Location"] == f"{base}/people"
    assert reload(member).room_id == target.id
    assert client.post(f"{base}/people/{member.id}/move", data={"room_id": ""}).status_code == 302
    assert reload(member).room_id is None
    assert client.post(f"{base}/people/{member.id}/move", data={"room_id": "999999"}).status_code == 404
    assert client.post(f"{base}/people/999999/move", data={"room_id": ""}).status_code == 404
    for bad in ("²", "١", "12x", "-1", "9" * 10, "9" * 5000):  # "²" and "١" pass str.isdigit
        response = client.post(f"{base}/people/{member.id}/move", data={"room_id": bad})
        assert response.status_code == 400, bad
        assert "Choose one of this event&#39;s breakout rooms." in response.get_data(as_text=True)
    assert reload(member).room_id is None
    assert client.post(f"{base}/people/balance").status_code == 302
    assert reload(member).room_id is not None


def test_people_page_counts_the_unplaced(app, client, db, make_event, make_user):
    """A late arrival when every room is wrapping up or closed waits in the plenary, and the
    organisers see it."""
    event = make_event(rooms=2, participants=2)
    for room in event.breakout_rooms:
        room.phase = RoomPhase.CLOSED
    db.session.commit()
    late = make_user()
    login(client, late)
    client.post(f"/events/{event.id}/register")
    assert "No breakout room takes newcomers now" in client.get(f"/events/{event.id}").get_data(as_text=True)
    assert db.session.scalar(select(EventMember.room_id).where(EventMember.user_id == late.id)) is None
    organiser = app.test_client()
    login(organiser, event.owner)
    page = organiser.get(f"/events/{event.id}/people").get_data(as_text=True)
    assert "1 participant is not placed in a breakout room" in page
    assert "No breakout room takes newcomers now (each is wrapping up or closed)." in page
    assert f'action="/events/{event.id}/people/balance"' in page  # the organiser may place them

    # Once everyone is placed, the page offers no placing of nobody.
    db.session.execute(update(EventMember).where(EventMember.user_id == late.id)
                       .values(room_id=event.breakout_rooms[0].id))
    db.session.commit()
    page = organiser.get(f"/events/{event.id}/people").get_data(as_text=True)
    assert "not placed in a breakout room" not in page
    assert f'action="/events/{event.id}/people/balance"' not in page


def test_a_self_select_page_offers_only_rooms_taking_newcomers(client, db, make_event, make_user, reload):
    event = make_event(rooms=2, assignment_mode="self_select")
    closed, open_room = event.breakout_rooms
    closed.phase = RoomPhase.CLOSED
    user = make_user()
    db.session.add(EventMember(event_id=event.id, user_id=user.id))
    db.session.commit()
    login(client, user)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert f'action="/events/{event.id}/rooms/{open_room.id}/choose"' in page
    assert f'action="/events/{event.id}/rooms/{closed.id}/choose"' not in page
    response = client.post(f"/events/{event.id}/rooms/{closed.id}/choose", follow_redirects=True)
    assert "takes no newcomers. Choose another one." in response.get_data(as_text=True)
    member = db.session.scalar(select(EventMember).where(EventMember.user_id == user.id))
    assert reload(member).room_id is None


# --- Joining ------------------------------------------------------------------------

def test_registering(client, event, make_user, db):
    user = make_user()
    login(client, user)
    response = client.post(f"/events/{event.id}/register")
    assert response.status_code == 302 and response.headers["Location"] == f"/events/{event.id}"
    member = db.session.scalar(select(EventMember).where(EventMember.user_id == user.id))
    assert member.room_id in {r.id for r in event.breakout_rooms}
    assert client.post(f"/events/{event.id}/register").status_code == 409
    assert "Go to your room" in client.get(f"/events/{event.id}").get_data(as_text=True)


def test_the_invitation_link(client, make_event, make_user, db):
    draft = make_event(status="draft")
    user = make_user()
    login(client, user)
    assert client.get(f"/events/{draft.id}/join/wrong").status_code == 404
    assert client.post(f"/events/{draft.id}/join/wrong").status_code == 404
    assert client.get(f"/events/999999/join/{draft.invite_token}").status_code == 404
    page = client.get(f"/events/{draft.id}/join/{draft.invite_token}")
    assert page.status_code == 200 and "Join the event" in page.get_data(as_text=True)
    assert db.session.scalar(select(EventMember).where(EventMember.user_id == user.id)) is None
    response = client.post(f"/events/{draft.id}/join/{draft.invite_token}")
    assert response.status_code == 302 and response.headers["Location"] == f"/events/{draft.id}"
    assert db.session.scalar(select(EventMember).where(EventMember.user_id == user.id)) is not None


def test_choosing_a_room(client, make_event, make_user, db):
    event = make_event(rooms=2, assignment_mode="self_select")
    full, other = event.breakout_rooms
    full.capacity = 1
    db.session.add(EventMember(event_id=event.id, user_id=make_user().id, room_id=full.id))
    user = make_user()
    db.session.add(EventMember(event_id=event.id, user_id=user.id))
    db.session.flush()
    login(client, user)
    assert "Join this room" in client.get(f"/events/{event.id}").get_data(as_text=True)
    response = client.post(f"/events/{event.id}/rooms/{full.id}/choose")
    assert response.headers["Location"] == f"/events/{event.id}#rooms"
    response = client.post(f"/events/{event.id}/rooms/{other.id}/choose")
    assert response.headers["Location"] == room_path(other)
    assert client.post(f"/events/{event.id}/rooms/{event.plenary.id}/choose").status_code == 403


# --- Event-wide actions -------------------------------------------------------------

def test_broadcast_and_recall(client, event, db):
    login(client, event.owner)
    response = client.post(f"/events/{event.id}/broadcast", data={"body": "Five minutes left"})
    assert response.headers["Location"] == room_path(event.plenary)
    assert db.session.scalar(select(Post.id).where(Post.announcement.is_(True)).limit(1)) is not None
    assert client.post(f"/events/{event.id}/broadcast", data={"body": ""}).status_code == 400
    response = client.post(f"/events/{event.id}/recall", data={"message": "Come back"})
    assert response.headers["Location"] == room_path(event.plenary)


# --- A room's controls --------------------------------------------------------------

# A stranger is told to register for the event (403), as for any of its rooms.
@pytest.mark.parametrize("role, status", [("anonymous", 302), ("stranger", 403), ("participant", 403),
                                          ("moderator", 302), ("organiser", 302)])
def test_phase_control_by_role(client, event, make_user, reload, role, status):
    room = event.breakout_rooms[0]
    as_user(client, people(event, make_user)[role])
    response = client.post(f"/events/{event.id}/rooms/{room.id}/phase",
                           data={"phase": "wrap_up", "wrap_up_minutes": "3"})
    assert response.status_code == status
    assert (reload(room).phase is RoomPhase.WRAP_UP) == (role in ("moderator", "organiser"))
    if role in ("moderator", "organiser"):
        assert response.headers["Location"] == room_path(room)


def test_a_refused_phase_change_is_explained_on_the_room_page(client, event, reload):
    room = event.breakout_rooms[0]
    login(client, event.test_moderators[1][0])
    response = client.post(f"/events/{event.id}/rooms/{room.id}/phase",
                           data={"phase": "wrap_up", "wrap_up_minutes": ""})
    assert response.headers["Location"] == room_path(room)
    assert reload(room).phase is RoomPhase.OPEN
    with client.session_transaction() as session:
        assert session["_flashes"] == [("error", "Give the wrap-up between 1 and 60 minutes.")]


@pytest.mark.parametrize("minutes", ["²", "١", "3.5", "9" * 10, "9" * 5000])
def test_a_wrap_up_time_that_is_not_a_small_whole_number_is_refused(client, event, reload, minutes):
    room = event.breakout_rooms[0]
    login(client, event.test_moderators[1][0])
    response = client.post(f"/events/{event.id}/rooms/{room.id}/phase",
                           data={"phase": "wrap_up", "wrap_up_minutes": minutes})
    assert response.headers["Location"] == room_path(room)
    assert reload(room).phase is RoomPhase.OPEN
    with client.session_transaction() as session:
        assert session["_flashes"] == [("error", "Give the wrap-up between 1 and 60 minutes.")]


def test_a_co_moderator_no_longer_edits_a_closed_rooms_takeaways(client, event, reload):
    room = event.breakout_rooms[0]
    takeaway = room_service.add_takeaway(event.owner, room, "Point")
    room_service.set_phase(event.owner, room, "closed")
    base = f"/events/{event.id}/rooms/{room.id}/takeaways"
    login(client, event.test_moderators[1][0])
    page = parse(client.get(f"/events/{event.id}/rooms/{room.id}"))
    panel = page.one("section", data_panel="takeaways")
    assert "Point" in panel.text()
    assert [a for a in panel.find_all("a") if a.get("href") == f"{base}/{takeaway.id}/edit"] == []
    assert [f for f in page.find_all("form") if f.get("action") == base] == []
    assert client.get(f"{base}/{takeaway.id}/edit").status_code == 403
    assert client.post(f"{base}/{takeaway.id}/delete").status_code == 403
    assert client.post(base, data={"body": "Late"}).status_code == 403
    assert reload(takeaway).deleted_at is None
    client.post("/logout")
    login(client, event.owner)
    panel = client.get(f"/events/{event.id}/rooms/{room.id}").get_data(as_text=True)
    assert f"{base}/{takeaway.id}/edit" in panel and f'action="{base}"' in panel


def test_hands_and_floor(client, event, db, reload):
    room = event.breakout_rooms[0]
    base = f"/events/{event.id}/rooms/{room.id}"
    login(client, event.test_participants[0])
    assert client.post(f"{base}/hand", data={"action": "raise"}).headers["Location"] == room_path(room)
    assert client.post(f"{base}/hand", data={"action": "wave"}).status_code == 400
    hand = db.session.scalar(select(HandRaise))
    assert client.post(f"{base}/floor/{hand.id}").status_code == 403
    client.post("/logout")
    login(client, event.test_moderators[1][0])
    assert client.post(f"{base}/floor/{hand.id}").headers["Location"] == room_path(room)
    assert reload(hand).floor_given_at is not None
    assert client.post(f"{base}/floor/{hand.id}").status_code == 404


def test_takeaways_over_http(client, event, db, reload):
    room = event.breakout_rooms[0]
    base = f"/events/{event.id}/rooms/{room.id}/takeaways"
    message = posts.post_in_room(event.test_participants[0], room, body="Mentoring works")
    login(client, event.test_moderators[1][0])
    response = client.post(base, data={"body": "", "source_post_id": str(message.id)})
    assert response.headers["Location"] == room_path(room) + "#takeaways"
    takeaway = db.session.scalar(select(Takeaway))
    assert (takeaway.body, takeaway.credited_user_id) == ("Mentoring works", event.test_participants[0].id)
    assert client.get(f"{base}/{takeaway.id}/edit").status_code == 200
    assert client.post(f"{base}/{takeaway.id}/edit", data={"body": ""}).status_code == 400
    assert client.post(f"{base}/{takeaway.id}/edit", data={"body": "Mentoring helps"}).status_code == 302
    history = client.get(f"{base}/{takeaway.id}/history")
    assert history.status_code == 200 and "Mentoring works" in history.get_data(as_text=True)
    assert client.post(f"{base}/{takeaway.id}/delete").status_code == 302
    assert reload(takeaway).deleted_at is not None
    assert client.get(f"{base}/{takeaway.id}/history").status_code == 404


@pytest.mark.parametrize("role, status", [("stranger", 403), ("participant", 403)])
def test_takeaways_are_for_moderators(client, event, make_user, role, status):
    room = event.breakout_rooms[0]
    takeaway = room_service.add_takeaway(event.owner, room, "Point")
    base = f"/events/{event.id}/rooms/{room.id}/takeaways"
    as_user(client, people(event, make_user)[role])
    assert client.post(base, data={"body": "x"}).status_code == status
    assert client.get(f"{base}/{takeaway.id}/edit").status_code == status
    assert client.get(f"{base}/{takeaway.id}/history").status_code == status
    assert client.post(f"{base}/{takeaway.id}/delete").status_code == status


def test_event_times_are_written_like_every_other_time_to_the_minute(app, client, db, make_event, make_user):
    from datetime import datetime, timezone

    from tests.web.page import parse

    event = make_event(title="Timed")
    event.timezone = "America/New_York"
    event.starts_at = datetime(2030, 7, 1, 8, 0, tzinfo=timezone.utc)
    event.ends_at = datetime(2030, 7, 1, 10, 30, tzinfo=timezone.utc)
    db.session.flush()
    login(client, make_user(timezone="Europe/Rome"))
    times = parse(client.get(f"/events/{event.id}")).one("p", class_="event-times")
    assert times.text() == ("From Jul 1, 2030, 4:00 AM to Jul 1, 2030, 6:30 AM (America/New_York) "
                            "Your time: Jul 1, 2030, 10:00 AM – Jul 1, 2030, 12:30 PM")
    italian = app.test_client()
    login(italian, make_user(timezone="Europe/Rome", preferred_language="it"))
    times = parse(italian.get(f"/events/{event.id}")).one("p", class_="event-times")
    assert times.text() == ("Da 1 lug 2030, 04:00 a 1 lug 2030, 06:30 (America/New_York) "
                            "Nel suo fuso orario: 1 lug 2030, 10:00 – 1 lug 2030, 12:30")
