"""The room page over HTTP: what each reader sees, the form fallback for messages, the
fragments the page's script fetches, and refusals that say why."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.models import EventMember, Post
from forum.models.events import RoomPhase
from forum.services import event_setup, moderation, posts
from forum.services import rooms as room_service
from tests.factories import login
from tests.web.page import parse


def path(room, suffix: str = "") -> str:
    return f"/events/{room.event_id}/rooms/{room.id}{suffix}"


@pytest.fixture
def scene(db, make_event):
    event = make_event(rooms=2, moderators=1, participants=2)
    room = event.breakout_rooms[0]
    participant, other_room_participant = event.test_participants
    moderator = event.test_moderators[1][0]
    posts.post_in_room(participant, room, body="Childcare during **courses**.")
    posts.post_in_room(moderator, room, body="Shall we wrap up at 11?", backchannel=True)
    hidden = posts.post_in_room(participant, room, body="Names a person's asylum status.")
    moderation.hide_post(moderator, hidden, "No personal details, please.")
    db.session.commit()
    return event, room, participant, other_room_participant, moderator, hidden


def messages_of(response) -> list[str]:
    return [li.text() for li in parse(response).find_all("li", class_="message")]


def test_a_participant_sees_the_room_without_the_moderators_channel_or_hidden_text(client, scene):
    event, room, participant, _, _, hidden = scene
    login(client, participant)
    response = client.get(path(room))
    assert response.status_code == 200
    page = parse(response)
    text = page.text()
    assert "Childcare during courses." in text
    assert "Shall we wrap up at 11?" not in text
    assert page.find(id="backchannel") is None
    # Their own hidden message: its text and why it was hidden.
    assert "A moderator hid your message from the others. Reason: No personal details, please." in text
    assert "Names a person's asylum status." in text


def test_other_participants_see_a_placeholder_for_a_hidden_message(client, scene, make_user, db):
    event, room, participant, _, moderator, hidden = scene
    from forum.models.events import MemberRole
    neighbour = make_user()
    db.session.add(EventMember(event_id=event.id, user_id=neighbour.id, role=MemberRole.PARTICIPANT, room_id=room.id))
    db.session.commit()
    login(client, neighbour)
    text = parse(client.get(path(room))).text()
    assert "This message was hidden by a moderator." in text
    assert "asylum status" not in text and "No personal details" not in text


def test_a_moderator_sees_the_channel_the_tools_and_hidden_text_with_the_reason(client, scene):
    event, room, _, _, moderator, _ = scene
    login(client, moderator)
    page = parse(client.get(path(room)))
    text = page.text()
    assert "Shall we wrap up at 11?" in text
    assert "Hidden from participants. Reason: No personal details, please." in text
    assert "Names a person's asylum status." in text
    for heading in ("Room phase", "Room settings", "Raised hands", "Moderation queue", "Speaking share",
                    "Key takeaways"):
        assert heading in text


@pytest.mark.parametrize("name", ["controls", "hands", "queue", "share"])
def test_moderators_panels_are_not_found_for_participants(client, scene, name):
    event, room, participant, _, moderator, _ = scene
    login(client, participant)
    assert client.get(path(room, f"/panels/{name}")).status_code == 404
    client.post("/logout")
    login(client, moderator)
    assert client.get(path(room, f"/panels/{name}")).status_code == 200


def test_an_unknown_panel_is_not_found(client, scene):
    event, room, _, _, moderator, _ = scene
    login(client, moderator)
    assert client.get(path(room, "/panels/everything")).status_code == 404


def test_a_participant_of_another_room_is_shown_the_way_to_theirs(client, scene, db):
    event, room, _, other, _, _ = scene
    theirs = event.breakout_rooms[1]
    theirs.title = "Housing <em>first</em>"  # shown as typed, never as markup
    db.session.commit()
    login(client, other)
    response = client.get(path(room))
    assert response.status_code == 403
    page = parse(response)
    assert page.find("h1").text() == f"This is not your breakout room. Your room is {theirs.title}."
    links = {a.text(): a.get("href") for a in page.find("main").find_all("a")}
    assert links[f"Go to your room: {theirs.title}"] == path(theirs)
    assert page.find("main").find("em") is None
    before = db.session.scalar(select(func.count(Post.id)))
    assert client.post(path(room, "/messages"), data={"body": "Hello?"}).status_code == 403
    assert db.session.scalar(select(func.count(Post.id))) == before
    # What does not exist is still simply not found.
    assert client.get(f"/events/{event.id}/rooms/999999").status_code == 404


def test_the_form_posts_a_message_and_comes_back_to_it(client, scene, db):
    event, room, participant, _, _, _ = scene
    login(client, participant)
    response = client.post(path(room, "/messages"), data={"body": "Evening classes help.", "client_key": "k-1"})
    assert response.status_code == 302
    post = db.session.scalar(select(Post).where(Post.body == "Evening classes help."))
    assert response.headers["Location"].endswith(path(room, f"#post-{post.id}"))
    # The same key again (a resend): still one message.
    client.post(path(room, "/messages"), data={"body": "Evening classes help.", "client_key": "k-1"})
    assert db.session.scalar(select(func.count(Post.id)).where(Post.body == "Evening classes help.")) == 1


@pytest.mark.parametrize("data", [{}, {"body": "   "}, {"body": "x", "parent_id": "abc"}, {"body": "x\x00"}])
def test_bad_messages_are_refused_with_4xx_and_store_nothing(client, scene, db, data):
    event, room, participant, _, _, _ = scene
    login(client, participant)
    before = db.session.scalar(select(func.count(Post.id)))
    response = client.post(path(room, "/messages"), data=data)
    assert 400 <= response.status_code < 500
    assert db.session.scalar(select(func.count(Post.id))) == before


def test_a_reply_to_a_message_of_another_room_is_not_found(client, scene, db):
    event, room, participant, _, moderator, _ = scene
    elsewhere = posts.post_in_room(event.test_moderators[2][0], event.breakout_rooms[1], body="Room two")
    db.session.commit()
    login(client, participant)
    response = client.post(path(room, "/messages"), data={"body": "Re", "parent_id": str(elsewhere.id)})
    assert response.status_code == 404


def test_a_closed_room_says_so_and_refuses_messages(client, scene, db):
    event, room, participant, _, _, _ = scene
    room.phase = RoomPhase.CLOSED
    db.session.commit()
    login(client, participant)
    page = parse(client.get(path(room)))
    assert "This room is closed: you can read its discussion." in page.text()
    assert page.find("textarea") is None
    response = client.post(path(room, "/messages"), data={"body": "Too late"})
    assert response.status_code == 403
    assert "This room is closed" in parse(response).text()


def test_a_refused_button_flashes_for_a_page_and_answers_4xx_to_the_script(client, scene):
    event, room, _, _, moderator, _ = scene
    login(client, moderator)
    target = f"/events/{event.id}/rooms/{room.id}/phase"
    plain = client.post(target, data={"phase": "wrap_up", "wrap_up_minutes": "999"})
    assert plain.status_code == 302
    assert "Give the wrap-up between 1 and 60 minutes." in parse(client.get(path(room))).text()
    scripted = client.post(target, data={"phase": "wrap_up", "wrap_up_minutes": "999"},
                           headers={"X-Plenary-Async": "1"})
    assert scripted.status_code == 400
    assert "Give the wrap-up between 1 and 60 minutes." in parse(scripted).text()
    db_room = room
    assert db_room.phase is RoomPhase.OPEN


def test_the_log_says_what_happened_to_the_room_in_words(client, scene, db):
    event, room, participant, other, moderator, _ = scene
    room_service.set_phase(moderator, room, "wrap_up", 2)
    member = event_setup.member_of(event, member_id(db, event, other))
    event_setup.assign_member(event.owner, member, room)
    db.session.commit()
    login(client, moderator)
    text = parse(client.get(f"/events/{event.id}/log")).text()
    assert "Open → Wrap-up (countdown of 2 minutes)" in text
    assert f"from {event.breakout_rooms[1].title} to {room.title}" in text
    assert "from_room_id" not in text and "minutes:" not in text


def member_id(db, event, user) -> int:
    return db.session.scalar(select(EventMember.id).where(EventMember.event_id == event.id,
                                                          EventMember.user_id == user.id))


def test_someone_registers_as_an_observer_and_reads_every_room_without_posting(client, scene, make_user, db):
    event, room, _, _, _, _ = scene
    observer = make_user()
    db.session.commit()
    login(client, observer)
    page = parse(client.get(f"/events/{event.id}"))
    assert "Register as an observer" in page.text()
    assert client.post(f"/events/{event.id}/register", data={"role": "observer"}).status_code == 302
    for each in event.breakout_rooms:
        assert client.get(path(each)).status_code == 200
    before = db.session.scalar(select(func.count(Post.id)))
    assert client.post(path(room, "/messages"), data={"body": "Just watching"}).status_code == 403
    assert db.session.scalar(select(func.count(Post.id))) == before
