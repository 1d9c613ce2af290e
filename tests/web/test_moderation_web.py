"""Moderation over HTTP: the buttons, the reason forms, the queues and the log, their status
codes and where they lead back to. The rules themselves: tests/services/test_moderation.py."""
from __future__ import annotations

import re
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from forum.models import Flag, ModerationAction, Moderator, PostStatus
from forum.services import moderation as service
from forum.services import posts
from tests.factories import login
from tests.web.page import error_message, flashes, parse


@pytest.fixture
def ev(db, make_event, make_user):
    event = make_event(participants=3)  # room 1, room 2, room 1
    room, other_room = event.breakout_rooms
    participant, _, bystander = event.test_participants
    message = posts.post_in_room(participant, room, body="Hello room")
    return SimpleNamespace(event=event, room=room, other_room=other_room, participant=participant,
                           bystander=bystander, moderator=event.test_moderators[1][0],
                           other_moderator=event.test_moderators[2][0], organiser=event.owner, message=message)


@pytest.fixture
def cons(db, make_user, make_consultation, make_post):
    consultation = make_consultation(topics=2)
    response = make_post(consultation=consultation)
    return SimpleNamespace(consultation=consultation, organiser=consultation.owner, response=response,
                           reply=make_post(parent=response), reader=make_user())


def at(ev, control: str) -> str:
    """The path of one of the room's controls."""
    return f"/events/{ev.room.event_id}/rooms/{ev.room.id}/{control}"


def room_location(response, ev, post=None) -> None:
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == f"/events/{ev.event.id}/rooms/{ev.room.id}"
    if post is not None:
        assert location.fragment == f"post-{post.id}"


def as_user(app, user):
    """A new browser, logged in as `user`."""
    client = app.test_client()
    login(client, user)
    return client


def actions(db) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(ModerationAction.action).order_by(ModerationAction.id)))


# --- buttons on consultation posts ---------------------------------------------------------

@pytest.mark.parametrize("path, action", [
    ("pin", "post.pinned"), ("lock", "thread.locked"),
])
def test_a_button_acts_and_comes_back_to_the_post(client, db, cons, reload, path, action):
    login(client, cons.organiser)
    response = client.post(f"/posts/{cons.response.id}/{path}")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/consultations/{cons.consultation.id}/posts/{cons.response.id}#post-{cons.response.id}")
    assert actions(db) == [action]
    page = parse(client.get(response.headers["Location"]))
    assert flashes(page)


def test_undoing_buttons(client, db, cons, reload):
    login(client, cons.organiser)
    for path in ("pin", "unpin", "lock", "unlock"):
        assert client.post(f"/posts/{cons.response.id}/{path}").status_code == 302
    assert actions(db) == ["post.pinned", "post.unpinned", "thread.locked", "thread.unlocked"]
    reload(cons.response)
    assert cons.response.pinned_at is None and cons.response.locked_at is None


def test_a_button_pressed_twice_says_so_and_changes_nothing(client, db, cons):
    login(client, cons.organiser)
    client.post(f"/posts/{cons.response.id}/pin")
    response = client.post(f"/posts/{cons.response.id}/pin", follow_redirects=True)
    assert response.status_code == 200
    assert "This post is already pinned." in flashes(parse(response))
    assert actions(db) == ["post.pinned"]


def test_a_button_goes_back_to_a_local_next_only(client, db, cons):
    login(client, cons.organiser)
    response = client.post(f"/posts/{cons.response.id}/pin", data={"next": "/consultations/1?x=1"})
    assert response.headers["Location"] == "/consultations/1?x=1"
    response = client.post(f"/posts/{cons.response.id}/unpin", data={"next": "https://evil.example/"})
    assert (urlsplit(response.headers["Location"]).path
            == f"/consultations/{cons.consultation.id}/posts/{cons.response.id}")


def test_participants_get_403_and_unreadable_posts_404(client, db, cons, make_consultation, make_post):
    login(client, cons.reader)
    assert client.post(f"/posts/{cons.response.id}/pin").status_code == 403
    assert client.get(f"/posts/{cons.response.id}/hide").status_code == 403
    assert client.get(f"/posts/{cons.response.id}/move").status_code == 403
    draft = make_consultation(status="draft")
    assert client.post("/posts/999999/pin").status_code == 404
    assert client.get(f"/consultations/{draft.id}/queue").status_code == 404
    assert actions(db) == []


def test_visitors_are_sent_to_log_in(client, cons):
    response = client.post(f"/posts/{cons.response.id}/pin")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def test_a_lock_on_a_reply_is_a_400(client, db, cons):
    login(client, cons.organiser)
    response = client.post(f"/posts/{cons.reply.id}/lock")
    assert response.status_code == 400
    assert "lock the post that starts it" in error_message(parse(response))


# --- reason forms ----------------------------------------------------------------------------

def test_hiding_through_its_form(client, db, cons, reload):
    login(client, cons.organiser)
    page = parse(client.get(f"/posts/{cons.response.id}/hide"))
    assert page.control("reason").tag == "textarea"

    empty = client.post(f"/posts/{cons.response.id}/hide", data={"reason": "  "})
    assert empty.status_code == 400
    too_long = client.post(f"/posts/{cons.response.id}/hide", data={"reason": "x" * 501})
    assert too_long.status_code == 400 and "too long" in too_long.get_data(as_text=True)
    assert not reload(cons.response).is_hidden

    done = client.post(f"/posts/{cons.response.id}/hide", data={"reason": "Personal data"})
    assert done.status_code == 302
    assert reload(cons.response).hidden_reason == "Personal data"
    assert client.post(f"/posts/{cons.response.id}/restore").status_code == 302
    assert not reload(cons.response).is_hidden
    assert actions(db) == ["post.hidden", "post.restored"]


def test_flagging_through_its_form(client, db, cons):
    login(client, cons.reader)
    assert client.get(f"/posts/{cons.response.id}/flag").status_code == 200
    assert client.post(f"/posts/{cons.response.id}/flag", data={"reason": ""}).status_code == 400
    response = client.post(f"/posts/{cons.response.id}/flag", data={"reason": "Spam"})
    assert response.status_code == 302
    again = client.get(f"/posts/{cons.response.id}/flag", follow_redirects=True)
    assert "You have already reported this post; its moderators have your report." in flashes(parse(again))
    assert db.session.scalar(select(func.count(Flag.id))) == 1


def test_authors_cannot_flag_their_own_post(client, cons):
    login(client, cons.response.author)
    assert client.get(f"/posts/{cons.response.id}/flag").status_code == 403
    assert client.post(f"/posts/{cons.response.id}/flag", data={"reason": "Me"}).status_code == 403


def test_moving_through_its_form(client, db, cons, reload):
    login(client, cons.organiser)
    target = cons.consultation.topics[1]
    page = parse(client.get(f"/posts/{cons.response.id}/move"))
    options = [o.get("value") for o in page.control("destination").find_all("option")]
    assert options == ["0", str(target.id)]
    assert client.post(f"/posts/{cons.response.id}/move", data={"destination": "0"}).status_code == 400
    assert client.post(f"/posts/{cons.response.id}/move",
                       data={"destination": str(cons.response.topic_id)}).status_code == 400
    assert client.post(f"/posts/{cons.response.id}/move", data={"destination": str(target.id)}).status_code == 302
    assert reload(cons.response).topic_id == target.id and reload(cons.reply).topic_id == target.id


# --- the consultation's queue and log --------------------------------------------------------

def test_the_consultation_queue_and_log(app, client, db, cons, make_user):
    service.flag_post(cons.reader, cons.reply, "Spam")
    topic_moderator = make_user()
    db.session.add(Moderator(user_id=topic_moderator.id, topic_id=cons.consultation.topics[1].id))
    db.session.flush()

    login(client, cons.organiser)
    page = client.get(f"/consultations/{cons.consultation.id}/queue")
    assert page.status_code == 200 and "Spam" in page.get_data(as_text=True)
    assert client.post(f"/posts/{cons.reply.id}/dismiss-flags").status_code == 302
    log = client.get(f"/consultations/{cons.consultation.id}/log")
    assert log.status_code == 200
    rows = parse(log).find_all("tr")
    assert "dismissed reports" in rows[1].text() and "1 report" in rows[1].text()

    topic_moderators = as_user(app, topic_moderator)  # moderates topic 2, where nothing was reported
    queue = topic_moderators.get(f"/consultations/{cons.consultation.id}/queue")
    assert queue.status_code == 200 and "Spam" not in queue.get_data(as_text=True)
    assert topic_moderators.get(f"/consultations/{cons.consultation.id}/log").status_code == 200
    readers = as_user(app, cons.reader)
    assert readers.get(f"/consultations/{cons.consultation.id}/queue").status_code == 403
    assert readers.get(f"/consultations/{cons.consultation.id}/log").status_code == 403


# --- rooms -----------------------------------------------------------------------------------

def test_room_post_actions_come_back_to_the_room(client, db, ev, reload):
    login(client, ev.moderator)
    room_location(client.post(f"/posts/{ev.message.id}/pin"), ev, ev.message)
    room_location(client.post(f"/posts/{ev.message.id}/hide", data={"reason": "Off topic"}), ev, ev.message)
    assert reload(ev.message).is_hidden
    assert actions(db) == ["post.pinned", "post.hidden"]


def test_another_rooms_moderator_cannot_see_nor_act_on_the_room(app, client, db, ev):
    login(client, ev.other_moderator)
    assert client.post(f"/posts/{ev.message.id}/pin").status_code == 404
    # The room's tools say whose room it is not, and point to their own.
    queue = client.get(at(ev, "queue"))
    assert queue.status_code == 403 and "This is not your breakout room." in queue.get_data(as_text=True)
    assert client.post(at(ev, "settings"), data={"locked": "1"}).status_code == 403
    participant = as_user(app, ev.participant)
    assert participant.get(at(ev, "queue")).status_code == 403
    assert participant.post(at(ev, "settings"), data={"locked": "1"}).status_code == 403
    mute = {"user_id": ev.bystander.id, "minutes": "5"}
    assert participant.post(at(ev, "mute"), data=mute).status_code == 403
    assert participant.get(f"/events/{ev.event.id}/log").status_code == 403
    assert actions(db) == []


def test_room_settings(client, db, ev, reload):
    login(client, ev.moderator)
    room_location(client.post(at(ev, "settings"), data={"locked": "1"}), ev)
    response = client.post(at(ev, "settings"),
                           data={"slow_mode_seconds": "30", "premoderated": "1", "next": at(ev, "queue")})
    assert response.headers["Location"] == at(ev, "queue")
    reload(ev.room)
    assert (ev.room.locked, ev.room.slow_mode_seconds, ev.room.premoderated) == (True, 30, True)
    assert actions(db) == ["room.locked", "room.slow_mode", "room.premoderation"]


@pytest.mark.parametrize("data", [{}, {"locked": "maybe"}, {"slow_mode_seconds": "soon"},
                                  {"slow_mode_seconds": "3601"}, {"locked": "1", "slow_mode_seconds": "-1"}])
def test_bad_room_settings_change_nothing(client, db, ev, reload, data):
    login(client, ev.moderator)
    assert client.post(at(ev, "settings"), data=data).status_code == 400
    reload(ev.room)
    assert (ev.room.locked, ev.room.slow_mode_seconds) == (False, 0) and actions(db) == []


def test_premoderation_queue_approve_and_reject(client, db, ev, reload):
    ev.room.premoderated = True
    first = posts.post_in_room(ev.participant, ev.room, body="First waiting")
    second = posts.post_in_room(ev.bystander, ev.room, body="Second waiting")
    login(client, ev.moderator)
    page = client.get(at(ev, "queue"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert text.index("First waiting") < text.index("Second waiting")

    here = at(ev, "queue")
    assert client.post(f"/posts/{first.id}/approve", data={"next": here}).headers["Location"] == here
    assert client.get(f"/posts/{second.id}/reject").status_code == 200
    assert client.post(f"/posts/{second.id}/reject", data={"reason": ""}).status_code == 400
    room_location(client.post(f"/posts/{second.id}/reject", data={"reason": "Off topic"}), ev, second)
    assert reload(first).status is PostStatus.PUBLISHED
    assert (reload(second).status, second.rejected_reason) == (PostStatus.REJECTED, "Off topic")
    again = client.post(f"/posts/{first.id}/approve", data={"next": here}, follow_redirects=True)
    assert "This message is no longer waiting for moderation." in flashes(parse(again))
    assert actions(db) == ["post.approved", "post.rejected"]


def test_mute_and_unmute(client, db, ev):
    login(client, ev.moderator)
    response = client.post(at(ev, "mute"), data={"user_id": ev.participant.id, "minutes": "30",
                                                              "reason": "Cool down"})
    room_location(response, ev)
    queue = client.get(at(ev, "queue"))
    assert "Cool down" in queue.get_data(as_text=True)
    assert client.post(at(ev, "unmute"), data={"user_id": ev.participant.id}).status_code == 302
    again = client.post(at(ev, "unmute"), data={"user_id": ev.participant.id}, follow_redirects=True)
    assert "This person is not muted in this room." in flashes(parse(again))
    assert actions(db) == ["user.muted", "user.unmuted"]


@pytest.mark.parametrize("data", [{"user_id": ""}, {"user_id": "x"}, {"user_id": "999999"},
                                  {"minutes": "0"}, {"minutes": "1441"}, {"minutes": "ten"}])
def test_bad_mutes_are_400(client, db, ev, data):
    login(client, ev.moderator)
    data = {"user_id": ev.participant.id, **data}
    assert client.post(at(ev, "mute"), data=data).status_code == 400
    assert actions(db) == []


def test_muting_someone_outside_the_event_is_400(client, db, ev, make_user):
    login(client, ev.moderator)
    outsider = make_user()
    assert client.post(at(ev, "mute"), data={"user_id": outsider.id, "minutes": "5"}).status_code == 400


def test_moving_a_room_message(app, client, db, ev, reload):
    login(client, ev.organiser)
    page = parse(client.get(f"/posts/{ev.message.id}/move"))
    values = [o.get("value") for o in page.control("destination").find_all("option")]
    assert values == ["0", str(ev.event.plenary.id), str(ev.other_room.id)]
    response = client.post(f"/posts/{ev.message.id}/move", data={"destination": str(ev.other_room.id)})
    assert response.status_code == 302
    assert re.fullmatch(rf"/events/{ev.event.id}/rooms/{ev.other_room.id}", urlsplit(response.headers["Location"]).path)
    assert reload(ev.message).room_id == ev.other_room.id
    # Room 1's moderator can no longer read it (it is in room 2 now).
    assert as_user(app, ev.moderator).get(f"/posts/{ev.message.id}/move").status_code == 404


def test_a_room_moderator_with_nowhere_to_move_to_is_told_so(client, ev):
    login(client, ev.moderator)
    page = client.get(f"/posts/{ev.message.id}/move")
    assert page.status_code == 200
    assert "There is no other topic or room that you moderate" in page.get_data(as_text=True)


def test_the_event_log_lists_actions_newest_first_with_older_pages(app, client, db, ev, monkeypatch):
    service.set_slow_mode(ev.moderator, ev.room, 30)
    service.pin_post(ev.moderator, ev.message)
    service.hide_post(ev.moderator, ev.message, "Off topic")
    monkeypatch.setattr("forum.services.audit.LOG_PAGE_SIZE", 2)
    login(client, ev.organiser)

    page = parse(client.get(f"/events/{ev.event.id}/log"))
    rows = page.find_all("tr")[1:]
    assert ["hid a post" in rows[0].text(), "pinned a post" in rows[1].text()] == [True, True]
    assert "Off topic" in rows[0].text() and ev.participant.display_name in rows[0].text()
    older = page.one("a", rel="next").get("href")
    rows = parse(client.get(older)).find_all("tr")[1:]
    assert len(rows) == 1 and "changed slow mode" in rows[0].text() and "30 seconds" in rows[0].text()

    moderator = as_user(app, ev.moderator)  # co-moderators read it too
    assert moderator.get(f"/events/{ev.event.id}/log").status_code == 200
    assert moderator.get("/events/999999/log").status_code == 404


def _log_rows(response) -> list[str]:
    return [row.text() for row in parse(response).find_all("tr")[1:]]


def test_the_event_log_is_filtered_by_room_moderator_and_action_with_a_get_form(app, db, ev, monkeypatch):
    service.set_slow_mode(ev.moderator, ev.room, 30)
    service.pin_post(ev.moderator, ev.message)
    other = posts.post_in_room(ev.other_moderator, ev.other_room, body="Room two")
    service.pin_post(ev.other_moderator, other)
    service.set_room_lock(ev.organiser, ev.other_room, True)
    db.session.commit()
    client = as_user(app, ev.organiser)
    base = f"/events/{ev.event.id}/log"

    page = parse(client.get(base))
    form = page.one("main").one("form", method="get")
    assert form.get("action") == base
    room_choices = [o.get("value") for o in form.control("room").find_all("option")]
    assert room_choices == ["", *[str(r.id) for r in ev.event.rooms]]
    people = {o.text(): o.get("value") for o in form.control("moderator").find_all("option")}
    assert set(people) == {"Everyone", ev.moderator.display_name, ev.other_moderator.display_name,
                           ev.organiser.display_name}
    assert all(page.find("label", for_=f"filter-{name}") for name in ("room", "moderator", "action"))

    assert len(_log_rows(client.get(f"{base}?room={ev.other_room.id}"))) == 2
    by_moderator = _log_rows(client.get(f"{base}?moderator={ev.moderator.id}"))
    assert len(by_moderator) == 2 and all(ev.moderator.display_name in row for row in by_moderator)
    assert len(_log_rows(client.get(f"{base}?action=post.pinned"))) == 2
    response = client.get(f"{base}?room={ev.room.id}&moderator={ev.moderator.id}&action=post.pinned")
    assert len(_log_rows(response)) == 1
    chosen = parse(response).one("main").one("form", method="get").control("action")
    assert chosen.value() == "post.pinned"  # the form shows what is applied
    empty = client.get(f"{base}?room={ev.room.id}&action=room.locked")
    assert empty.status_code == 200 and "Nothing in the log matches these filters." in empty.get_data(as_text=True)

    # Older pages keep the filters.
    monkeypatch.setattr("forum.services.audit.LOG_PAGE_SIZE", 1)
    page = parse(client.get(f"{base}?action=post.pinned"))
    older = page.one("a", rel="next").get("href")
    assert "action=post.pinned" in older and "before=" in older
    rows = _log_rows(client.get(older))
    assert len(rows) == 1 and "pinned a post" in rows[0]
    assert parse(client.get(older)).find("a", rel="next") is None


@pytest.mark.parametrize("query", [
    "room=abc", "room=999999", "room=-1", "room=1%C2%B2", "room=" + "9" * 40, "moderator=xyz",
    "moderator=999999", "action=drop.table", "action=%00", "before=5&room=zz",
])
def test_bad_log_filters_are_refused_with_400_and_a_message(app, db, ev, query):
    service.pin_post(ev.moderator, ev.message)
    db.session.commit()
    client = as_user(app, ev.organiser)
    response = client.get(f"/events/{ev.event.id}/log?{query}")
    assert response.status_code == 400
    page = parse(response)
    assert page.find("div", role="alert") is not None
    assert page.one("main").one("form", method="get")  # to choose again
    assert _log_rows(response) == []


def test_a_room_of_another_event_is_not_a_filter(app, db, ev, make_event):
    elsewhere = make_event(owner=ev.organiser)
    db.session.commit()
    client = as_user(app, ev.organiser)
    assert client.get(f"/events/{ev.event.id}/log?room={elsewhere.breakout_rooms[0].id}").status_code == 400


def test_the_consultation_log_is_filtered_by_moderator_and_action(app, db, cons):
    service.pin_post(cons.organiser, cons.response)
    service.lock_thread(cons.organiser, cons.response)
    db.session.commit()
    client = as_user(app, cons.organiser)
    base = f"/consultations/{cons.consultation.id}/log"
    page = parse(client.get(base))
    assert page.find("select", id="filter-room") is None  # a consultation has topics, not rooms
    rows = _log_rows(client.get(f"{base}?action=thread.locked&moderator={cons.organiser.id}"))
    assert len(rows) == 1 and "locked a thread" in rows[0]
    assert client.get(f"{base}?room=1").status_code == 200  # not a filter here: ignored
