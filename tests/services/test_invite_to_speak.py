"""Inviting a quiet participant to speak (the moderators' console): who may, whom, and what
it leaves behind (a line in the moderation log and a notice to that person, nothing else)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import EventMember, ModerationAction
from forum.models.events import EventStatus, MemberRole
from forum.services import moderation
from forum.services import rooms as service
from forum.services.errors import PermissionDenied, ValidationError


@pytest.fixture
def told(monkeypatch):
    messages = []
    monkeypatch.setattr(service.events, "notify_user_after_commit",
                        lambda user_id, message: messages.append((user_id, message)))
    return messages


def invitations() -> list[ModerationAction]:
    return list(db.session.scalars(select(ModerationAction).where(ModerationAction.action == "speak.invited")
                                   .order_by(ModerationAction.id)))


@pytest.fixture
def scene(make_event):
    event = make_event(rooms=2, moderators=1, participants=4)
    room, other_room = event.breakout_rooms
    # Participants are spread over the rooms in turn: 0 and 2 in room 1, 1 and 3 in room 2.
    quiet, other_rooms = event.test_participants[0], event.test_participants[1]
    return event, room, other_room, quiet, other_rooms


@pytest.mark.parametrize("who", ["co-moderator", "organiser"])
def test_a_rooms_moderator_invites_a_participant_placed_there(scene, told, who):
    event, room, _, quiet, _ = scene
    actor = event.test_moderators[1][0] if who == "co-moderator" else event.owner
    service.invite_to_speak(actor, room, quiet)
    [entry] = invitations()
    assert (entry.actor_id, entry.room_id, entry.event_id, entry.target_user_id) == (
        actor.id, room.id, event.id, quiet.id)
    assert told == [(quiet.id, {"type": "speak.invited", "room_id": room.id})]


@pytest.mark.parametrize("who", ["participant", "other room's co-moderator", "stranger"])
def test_only_the_rooms_moderators_invite(scene, told, make_user, who):
    event, room, _, quiet, _ = scene
    actor = {"participant": event.test_participants[2], "other room's co-moderator": event.test_moderators[2][0],
             "stranger": make_user()}[who]
    with pytest.raises(PermissionDenied):
        service.invite_to_speak(actor, room, quiet)
    assert invitations() == [] and told == []


def test_only_a_participant_placed_in_the_room_can_be_invited(scene, told, make_user):
    event, room, _, _, other_rooms = scene
    moderator = event.test_moderators[1][0]
    observer, outsider, unplaced = make_user(), make_user(), make_user()
    db.session.add(EventMember(event_id=event.id, user_id=observer.id, role=MemberRole.OBSERVER, room_id=room.id))
    db.session.add(EventMember(event_id=event.id, user_id=unplaced.id, role=MemberRole.PARTICIPANT))
    db.session.flush()
    for person in (other_rooms, observer, outsider, unplaced, moderator, event.owner):
        with pytest.raises(ValidationError) as refused:
            service.invite_to_speak(moderator, room, person)
        assert str(refused.value.message) == "Only a participant placed in this room can be invited to speak."
        assert refused.value.field == "user_id"
    assert invitations() == [] and told == []


def test_nobody_is_invited_who_cannot_speak_now(scene, told):
    event, room, _, quiet, _ = scene
    moderator = event.test_moderators[1][0]
    moderation.mute_user(moderator, room, quiet, 10)
    with pytest.raises(ValidationError, match="cannot post in this room now"):
        service.invite_to_speak(moderator, room, quiet)
    moderation.unmute_user(moderator, room, quiet)
    moderation.set_room_lock(moderator, room, True)
    with pytest.raises(ValidationError, match="cannot post in this room now"):
        service.invite_to_speak(moderator, room, quiet)
    assert invitations() == []
    assert [message["type"] for _, message in told] == ["user.muted", "user.unmuted"]  # no invitation


def test_an_ended_event_invites_nobody(scene, told):
    event, room, _, quiet, _ = scene
    event.status = EventStatus.ENDED
    with pytest.raises(PermissionDenied):
        service.invite_to_speak(event.owner, room, quiet)
    assert invitations() == [] and told == []
