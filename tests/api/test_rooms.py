"""forum/api/rooms.py: a room's state, and its moderators' controls (phase, settings, mutes,
takeaways), with the pages' answers to each role and nothing stored when refused."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.models import Mute, Room, Takeaway
from forum.models.base import utcnow
from forum.models.events import EventStatus, RoomPhase
from forum.services import rooms as room_service
from tests.api.scene import count, error, ok


def _room(db, room) -> Room:
    db.session.expire_all()
    return db.session.get(Room, room.id)


# --- Reading a room ---------------------------------------------------------------------

def test_a_room_shows_its_state_moderators_figures_and_what_the_caller_may_do(live):
    room = ok(live.call("amina", "GET", f"/rooms/{live.room1.id}"))
    assert room["title"] == live.room1.title and room["phase"] == "open" and room["is_plenary"] is False
    assert [m["handle"] for m in room["moderators"]] == [live.mo.handle]
    assert "email" not in room["moderators"][0]
    assert room["counts"] == {"participants": 1, "messages": 1, "present": 0}
    assert room["viewer"] == {"moderates": False, "can_post": True, "posting_refusal": None, "can_raise_hand": True}
    observer = ok(live.call("olga", "GET", f"/rooms/{live.room1.id}"))["viewer"]
    assert observer["can_post"] is False
    assert observer["posting_refusal"] == "You are observing this event: you can read, not post."
    assert ok(live.call("mo", "GET", f"/rooms/{live.room1.id}"))["viewer"]["moderates"] is True


def test_who_may_not_read_a_room_is_told_as_by_its_page(live, db):
    error(live.call("visitor", "GET", f"/rooms/{live.room1.id}"), 401, "unauthorized")
    refused = error(live.call("bruno", "GET", f"/rooms/{live.room1.id}"), 403, "forbidden")
    assert refused["message"] == f"This is not your breakout room. Your room is {live.room2.title}."
    assert "Register" in error(live.call("xavier", "GET", f"/rooms/{live.room1.id}"), 403)["message"]
    error(live.call("amina", "GET", "/rooms/99999999"), 404, "not_found")
    live.event.status = EventStatus.DRAFT
    db.session.commit()
    for who in ("visitor", "amina", "xavier"):
        error(live.call(who, "GET", f"/rooms/{live.room1.id}"), 404, "not_found")


def test_a_wrap_up_past_its_countdown_reads_as_closed(live, db):
    live.room1.phase, live.room1.wrap_up_ends_at = RoomPhase.WRAP_UP, utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert ok(live.call("amina", "GET", f"/rooms/{live.room1.id}"))["phase"] == "closed"
    assert _room(db, live.room1).phase is RoomPhase.CLOSED


# --- Phase ------------------------------------------------------------------------------

def test_a_moderator_starts_the_wrap_up_countdown(live, db):
    room = ok(live.call("mo", "PUT", f"/rooms/{live.room1.id}/phase", json={"phase": "wrap_up", "wrap_up_minutes": 5}))
    assert room["phase"] == "wrap_up" and room["wrap_up_ends_at"] is not None
    assert _room(db, live.room1).phase is RoomPhase.WRAP_UP


@pytest.mark.parametrize(("who", "status"), [("visitor", 401), ("amina", 403), ("olga", 403), ("bruno", 403),
                                             ("xavier", 403)])
def test_only_moderators_change_the_phase(live, db, who, status):
    error(live.call(who, "PUT", f"/rooms/{live.room1.id}/phase", json={"phase": "closed"}), status)
    assert _room(db, live.room1).phase is RoomPhase.OPEN


def test_a_read_only_token_changes_nothing(live, db):
    refused = error(live.call("mo", "PUT", f"/rooms/{live.room1.id}/phase", scope="read", json={"phase": "closed"}),
                    403, "forbidden")
    assert "only read" in refused["message"]
    assert _room(db, live.room1).phase is RoomPhase.OPEN


@pytest.mark.parametrize(("body", "field"), [
    ({"phase": "sideways"}, "phase"), ({"phase": "wrap_up"}, "wrap_up_minutes"),
    ({"phase": "wrap_up", "wrap_up_minutes": 61}, "wrap_up_minutes"),
    ({"phase": "wrap_up", "wrap_up_minutes": "5"}, "wrap_up_minutes"), ({}, "phase"), ({"phase": 3}, "phase"),
    ({"phase": "not_started"}, "phase"),
])
def test_a_bad_phase_is_refused_with_its_field(live, db, body, field):
    refused = error(live.call("mo", "PUT", f"/rooms/{live.room1.id}/phase", json=body), 400)
    assert field in refused["fields"], refused
    assert _room(db, live.room1).phase is RoomPhase.OPEN


def test_only_an_organiser_reopens_a_closed_room(live, db):
    room_service.set_phase(live.mo, live.room1, "closed")
    db.session.commit()
    refused = error(live.call("mo", "PUT", f"/rooms/{live.room1.id}/phase", json={"phase": "open"}), 403)
    assert refused["message"] == "Only an organiser can reopen a closed room."
    assert ok(live.call("organiser", "PUT", f"/rooms/{live.room1.id}/phase", json={"phase": "open"}))["phase"] == "open"


# --- Settings -------------------------------------------------------------------------------

def test_a_moderator_locks_the_room_and_slows_it_down(live, db):
    room = ok(live.call("mo", "PATCH", f"/rooms/{live.room1.id}/settings",
                        json={"locked": True, "slow_mode_seconds": 30}))
    assert (room["locked"], room["slow_mode_seconds"], room["premoderated"]) == (True, 30, False)
    assert room["viewer"]["can_post"] is True  # a moderator still posts in a locked room
    stored = _room(db, live.room1)
    assert (stored.locked, stored.slow_mode_seconds) == (True, 30)
    refusal = ok(live.call("amina", "GET", f"/rooms/{live.room1.id}"))["viewer"]["posting_refusal"]
    assert refusal == "The moderators have locked this room for now."


@pytest.mark.parametrize(("body", "field"), [
    ({}, None), ({"slow_mode_seconds": 99999, "locked": True}, "slow_mode_seconds"),
    ({"slow_mode_seconds": -1, "premoderated": True}, "slow_mode_seconds"), ({"locked": "perhaps"}, "locked"),
])
def test_bad_settings_change_nothing(live, db, body, field):
    refused = error(live.call("mo", "PATCH", f"/rooms/{live.room1.id}/settings", json=body), 400)
    assert (field in refused["fields"]) if field else refused["fields"] == {}
    stored = _room(db, live.room1)
    assert (stored.locked, stored.slow_mode_seconds, stored.premoderated) == (False, 0, False)


def test_a_participant_cannot_change_the_settings(live, db):
    error(live.call("amina", "PATCH", f"/rooms/{live.room1.id}/settings", json={"locked": True}), 403)
    assert _room(db, live.room1).locked is False


# --- Mutes --------------------------------------------------------------------------------

def test_a_moderator_mutes_and_unmutes_a_participant(live, db):
    mute = ok(live.call("mo", "POST", f"/rooms/{live.room1.id}/mutes",
                        json={"user_id": live.amina.id, "minutes": 10, "reason": "Calm down"}), 201)
    assert mute["user"]["id"] == live.amina.id and mute["reason"] == "Calm down"
    refused = error(live.call("amina", "POST", f"/rooms/{live.room1.id}/messages", json={"body": "Let me speak"}), 403)
    assert refused["message"] == "A moderator has muted you in this room for now."
    assert [m["user"]["id"] for m in ok(live.call("mo", "GET", f"/rooms/{live.room1.id}/mutes"))["items"]] \
        == [live.amina.id]

    assert live.call("mo", "DELETE", f"/rooms/{live.room1.id}/mutes/{live.amina.id}").status_code == 204
    error(live.call("mo", "DELETE", f"/rooms/{live.room1.id}/mutes/{live.amina.id}"), 409, "conflict")
    ok(live.call("amina", "POST", f"/rooms/{live.room1.id}/messages", json={"body": "Thank you"}), 201)


@pytest.mark.parametrize(("body", "field"), [
    ({"user_id": "4", "minutes": 10}, "user_id"), ({"minutes": 10}, "user_id"),
    ({"user_id": 99999999, "minutes": 10}, "user_id"), ({"user_id": "@mo", "minutes": 10}, "user_id"),
    ({"user_id": "@amina", "minutes": 0}, "minutes"), ({"user_id": "@amina", "minutes": 1441}, "minutes"),
    ({"user_id": "@amina", "minutes": 2.5}, "minutes"), ({"user_id": "@amina", "minutes": "5"}, "minutes"),
    ({"user_id": "@amina", "minutes": 5, "reason": "x" * 501}, "reason"),
])
def test_a_bad_mute_is_refused_with_its_field(live, db, body, field):
    """("@name": that person's id.)"""
    if str(body.get("user_id")).startswith("@"):
        body = {**body, "user_id": getattr(live, body["user_id"][1:]).id}
    refused = error(live.call("mo", "POST", f"/rooms/{live.room1.id}/mutes", json=body), 400)
    assert field in refused["fields"], refused
    assert count(db, Mute) == 0


@pytest.mark.parametrize("who", ["amina", "olga", "bruno"])
def test_only_moderators_mute_and_see_mutes(live, db, who):
    status = 403
    error(live.call(who, "POST", f"/rooms/{live.room1.id}/mutes", json={"user_id": live.amina.id, "minutes": 5}),
          status)
    # An unknown person is not even looked up for them.
    error(live.call(who, "POST", f"/rooms/{live.room1.id}/mutes", json={"user_id": 99999999, "minutes": 5}), status)
    error(live.call(who, "GET", f"/rooms/{live.room1.id}/mutes"), status)
    error(live.call(who, "DELETE", f"/rooms/{live.room1.id}/mutes/{live.amina.id}"), status)
    assert count(db, Mute) == 0


# --- Takeaways --------------------------------------------------------------------------

def test_moderators_draft_takeaways_that_readers_see_once_the_room_closes(live, db):
    made = ok(live.call("mo", "POST", f"/rooms/{live.room1.id}/takeaways", json={"body": "Skills **first**"}), 201)
    assert made["body_html"] == "<p>Skills <strong>first</strong></p>\n" and made["credited"] is None
    assert ok(live.call("amina", "GET", f"/rooms/{live.room1.id}/takeaways")) == {"reported": False, "items": []}
    assert [t["id"] for t in ok(live.call("mo", "GET", f"/rooms/{live.room1.id}/takeaways"))["items"]] == [made["id"]]

    edited = ok(live.call("mo", "PATCH", f"/rooms/{live.room1.id}/takeaways/{made['id']}", json={"body": "Skills"}))
    assert edited["body"] == "Skills"
    room_service.set_phase(live.mo, live.room1, "closed")
    db.session.commit()
    shown = ok(live.call("olga", "GET", f"/rooms/{live.room1.id}/takeaways"))
    assert shown["reported"] is True and [t["body"] for t in shown["items"]] == ["Skills"]


def test_a_message_becomes_a_takeaway_crediting_its_author(live):
    made = ok(live.call("mo", "POST", f"/rooms/{live.room1.id}/takeaways",
                        json={"source_post_id": live.message.id}), 201)
    assert made["body"] == "Housing comes first" and made["credited"] == live.amina.display_name
    assert made["source_post_id"] == live.message.id


@pytest.mark.parametrize(("body", "field"), [
    ({"body": ""}, "body"), ({"body": "   "}, "body"), ({"body": 5}, "body"),
    ({"body": "x", "source_post_id": 99999999}, "source_post_id"), ({"body": "x", "source_post_id": "1"},
                                                                    "source_post_id"),
])
def test_a_bad_takeaway_is_refused_with_its_field(live, db, body, field):
    refused = error(live.call("mo", "POST", f"/rooms/{live.room1.id}/takeaways", json=body), 400)
    assert field in refused["fields"], refused
    assert count(db, Takeaway) == 0


def test_another_rooms_message_is_no_source(live, db, make_event):
    from forum.services import posts as post_service

    theirs = post_service.post_in_room(live.bruno, live.room2, body="Room two's")
    db.session.commit()
    refused = error(live.call("mo", "POST", f"/rooms/{live.room1.id}/takeaways",
                              json={"body": "", "source_post_id": theirs.id}), 400)
    assert list(refused["fields"]) == ["source_post_id"]


def test_after_the_room_closes_only_the_organisers_correct_its_takeaways(live, db):
    takeaway = room_service.add_takeaway(live.mo, live.room1, "First draft")
    room_service.set_phase(live.mo, live.room1, "closed")
    db.session.commit()
    path = f"/rooms/{live.room1.id}/takeaways"
    error(live.call("mo", "POST", path, json={"body": "Late"}), 403)
    error(live.call("mo", "PATCH", f"{path}/{takeaway.id}", json={"body": "Late"}), 403)
    error(live.call("amina", "POST", path, json={"body": "Mine"}), 403)
    ok(live.call("organiser", "PATCH", f"{path}/{takeaway.id}", json={"body": "Corrected"}))
    assert live.call("organiser", "DELETE", f"{path}/{takeaway.id}").status_code == 204
    db.session.expire_all()
    assert db.session.scalar(select(Takeaway.deleted_at).where(Takeaway.id == takeaway.id)) is not None
    error(live.call("organiser", "PATCH", f"{path}/{takeaway.id}", json={"body": "Gone"}), 404)
    error(live.call("visitor", "POST", path, json={"body": "Anyone?"}), 401)
