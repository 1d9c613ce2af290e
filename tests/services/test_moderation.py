"""forum.services.moderation: hiding, pinning, locking, room settings, pre-moderation, mutes,
moving, flags and the queues; each action's live events and its line in the moderation log."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from forum import permissions
from forum.models import Flag, ModerationAction, Moderator, Mute, PostStatus, StreamEvent
from forum.models.base import utcnow
from forum.services import events, posts
from forum.services import moderation as service
from forum.services.errors import Conflict, PermissionDenied, TooSoon, ValidationError

# --- helpers ------------------------------------------------------------------------------

def _pending(db) -> list[tuple[str, str, int | None, dict]]:
    """The live events recorded (not yet sent) in this transaction: (kind, stream, post id, data).
    A savepoint's release already turns them into their payloads, hence both shapes."""
    found = []
    for e in db.session.info.get(events.PENDING, []):
        if isinstance(e, StreamEvent):
            found.append((e.kind, e.stream_key, e.post_id, e.data or {}))
        elif isinstance(e, dict):
            found.append((e["type"], e["stream"], e["post"]["id"] if "post" in e else None, e.get("data", {})))
    return found


def live(db) -> list[tuple[str, str, int | None]]:
    return [(kind, stream, post_id) for kind, stream, post_id, _ in _pending(db)]


def live_data(db, kind: str) -> list[dict]:
    return [data for k, _, _, data in _pending(db) if k == kind]


def forget_live(db) -> None:
    """Start counting events after the test's setup."""
    db.session.info[events.PENDING] = []


def log(db) -> list[ModerationAction]:
    return list(db.session.scalars(select(ModerationAction).order_by(ModerationAction.id)))


@pytest.fixture
def notices(monkeypatch):
    """What would be told to individual accounts after commit: [(user id, message)]."""
    sent = []
    monkeypatch.setattr(events, "notify_user_after_commit", lambda user_id, message: sent.append((user_id, message)))
    return sent


@pytest.fixture
def ev(db, make_event, make_user):
    """An event with two breakout rooms; a participant with a message in room 1."""
    event = make_event(participants=3)  # spread in turn: room 1, room 2, room 1
    room, other_room = event.breakout_rooms
    participant, _, bystander = event.test_participants
    message = posts.post_in_room(participant, room, body="Hello room")
    forget_live(db)
    return SimpleNamespace(
        event=event, room=room, other_room=other_room, participant=participant, bystander=bystander,
        moderator=event.test_moderators[1][0], co_moderator=event.test_moderators[1][1],
        other_moderator=event.test_moderators[2][0], organiser=event.owner, message=message,
        outsider=make_user(),
    )


@pytest.fixture
def cons(db, make_user, make_consultation, make_post):
    """A consultation with two topics, a topic co-moderator of topic 2, a host and a thread."""
    host = make_user()
    consultation = make_consultation(topics=2, hosts=[host])
    topic_moderator = make_user()
    db.session.add(Moderator(user_id=topic_moderator.id, topic_id=consultation.topics[1].id))
    author = make_user()
    response = make_post(author, consultation=consultation, topic=consultation.topics[0])
    reply = make_post(make_user(), parent=response)
    forget_live(db)
    return SimpleNamespace(consultation=consultation, organiser=consultation.owner, host=host,
                           topic_moderator=topic_moderator, author=author, response=response, reply=reply,
                           participant=make_user())


REFUSED = ["participant", "other_moderator", "outsider", "anonymous", "nobody"]


def who(ev, name):
    if name == "anonymous":
        return AnonymousUserMixin()
    return None if name == "nobody" else getattr(ev, name)


# --- hiding -------------------------------------------------------------------------------

def test_hiding_a_room_message_keeps_its_text_resolves_its_flags_logs_and_tells_its_author(db, ev, notices):
    service.flag_post(ev.bystander, ev.message, "Rude")
    forget_live(db)

    service.hide_post(ev.moderator, ev.message, "  Off topic  ")

    assert ev.message.is_hidden and ev.message.hidden_by_id == ev.moderator.id
    assert ev.message.hidden_reason == "Off topic" and ev.message.body == "Hello room"
    flag = db.session.scalar(select(Flag))
    db.session.refresh(flag)
    assert flag.resolved_at is not None and flag.resolved_by_id == ev.moderator.id
    assert live(db) == [("post.hidden", f"room:{ev.room.id}", ev.message.id)]
    assert notices == [(ev.participant.id, {"type": "post.hidden", "post_id": ev.message.id, "reason": "Off topic"})]
    [entry] = log(db)
    assert (entry.action, entry.actor_id, entry.post_id, entry.target_user_id, entry.reason) == (
        "post.hidden", ev.moderator.id, ev.message.id, ev.participant.id, "Off topic")
    assert (entry.event_id, entry.room_id, entry.details) == (ev.event.id, ev.room.id, {"flags_resolved": 1})
    # Readers see a placeholder; the author and moderators still read the text.
    assert permissions.can_read_hidden_text(ev.participant, ev.message)
    assert permissions.can_read_hidden_text(ev.co_moderator, ev.message)
    assert not permissions.can_read_hidden_text(ev.bystander, ev.message)


@pytest.mark.parametrize("name", REFUSED)
def test_only_the_rooms_moderators_may_hide(db, ev, name):
    with pytest.raises(PermissionDenied):
        service.hide_post(who(ev, name), ev.message, "Because")
    assert not ev.message.is_hidden and log(db) == [] and live(db) == []


def test_the_events_organiser_moderates_every_room(db, ev):
    service.hide_post(ev.organiser, ev.message, "Because")
    assert ev.message.is_hidden


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, "bad\x00byte"])
def test_hiding_needs_a_reason_of_at_most_500_characters(db, ev, reason):
    with pytest.raises(ValidationError) as error:
        service.hide_post(ev.moderator, ev.message, reason)
    assert error.value.field == "reason"
    assert not ev.message.is_hidden and log(db) == [] and live(db) == []


def test_a_reason_of_500_characters_is_accepted(db, ev):
    service.hide_post(ev.moderator, ev.message, "x" * 500)
    assert ev.message.hidden_reason == "x" * 500


def test_hiding_twice_is_a_conflict_and_restoring_brings_the_post_back(db, ev, notices):
    service.hide_post(ev.moderator, ev.message, "Off topic")
    with pytest.raises(Conflict):
        service.hide_post(ev.co_moderator, ev.message, "Again")
    forget_live(db)

    service.restore_post(ev.co_moderator, ev.message)

    assert not ev.message.is_hidden and ev.message.hidden_reason == "" and ev.message.hidden_by_id is None
    assert live(db) == [("post.restored", f"room:{ev.room.id}", ev.message.id)]
    assert [e.action for e in log(db)] == ["post.hidden", "post.restored"]
    assert notices[-1] == (ev.participant.id, {"type": "post.restored", "post_id": ev.message.id})
    with pytest.raises(Conflict):
        service.restore_post(ev.moderator, ev.message)


def test_restoring_is_for_moderators_only(db, ev):
    service.hide_post(ev.moderator, ev.message, "Off topic")
    with pytest.raises(PermissionDenied):
        service.restore_post(ev.participant, ev.message)
    assert ev.message.is_hidden


def test_a_deleted_post_cannot_be_hidden(db, ev):
    posts.delete_post(ev.participant, ev.message)
    with pytest.raises(Conflict):
        service.hide_post(ev.moderator, ev.message, "Off topic")


@pytest.mark.parametrize("name", ["organiser", "host", "topic_moderator_of_its_topic"])
def test_a_consultations_moderators_hide_its_posts(db, cons, name):
    actor = cons.topic_moderator if name == "topic_moderator_of_its_topic" else getattr(cons, name)
    post = cons.response
    if name == "topic_moderator_of_its_topic":
        db.session.add(Moderator(user_id=actor.id, topic_id=post.topic_id))
        db.session.flush()
    service.hide_post(actor, post, "Personal data")
    assert post.is_hidden
    assert live(db) == [("post.hidden", f"consultation:{cons.consultation.id}", post.id)]
    [entry] = log(db)
    assert (entry.consultation_id, entry.event_id, entry.action) == (cons.consultation.id, None, "post.hidden")


@pytest.mark.parametrize("name", ["topic_moderator", "participant", "author"])
def test_a_topic_moderator_of_another_topic_and_participants_may_not_hide(db, cons, name):
    with pytest.raises(PermissionDenied):
        service.hide_post(getattr(cons, name), cons.response, "Personal data")
    assert not cons.response.is_hidden and log(db) == []


# --- pinning and locking ------------------------------------------------------------------

def test_pinning_and_unpinning(db, ev):
    service.pin_post(ev.moderator, ev.message)
    assert ev.message.pinned_at is not None
    with pytest.raises(Conflict):
        service.pin_post(ev.co_moderator, ev.message)
    service.unpin_post(ev.co_moderator, ev.message)
    assert ev.message.pinned_at is None
    with pytest.raises(Conflict):
        service.unpin_post(ev.moderator, ev.message)
    stream = f"room:{ev.room.id}"
    assert live(db) == [("post.pinned", stream, ev.message.id), ("post.unpinned", stream, ev.message.id)]
    assert [(e.action, e.actor_id) for e in log(db)] == [
        ("post.pinned", ev.moderator.id), ("post.unpinned", ev.co_moderator.id)]


@pytest.mark.parametrize("name", REFUSED)
def test_only_moderators_pin(db, ev, name):
    with pytest.raises(PermissionDenied):
        service.pin_post(who(ev, name), ev.message)
    assert ev.message.pinned_at is None


def test_hidden_deleted_and_waiting_posts_cannot_be_pinned(db, ev):
    service.hide_post(ev.moderator, ev.message, "Off topic")
    with pytest.raises(Conflict):
        service.pin_post(ev.moderator, ev.message)
    deleted = posts.post_in_room(ev.bystander, ev.room, body="Gone")
    posts.delete_post(ev.bystander, deleted)
    with pytest.raises(Conflict):
        service.pin_post(ev.moderator, deleted)
    ev.room.premoderated = True
    waiting = posts.post_in_room(ev.bystander, ev.room, body="Wait")
    with pytest.raises(Conflict):
        service.pin_post(ev.moderator, waiting)


def test_locking_a_thread_stops_participants_replies_not_moderators(db, cons, make_post):
    service.lock_thread(cons.host, cons.response)
    assert cons.response.locked_at is not None
    assert live(db) == [("post.locked", f"consultation:{cons.consultation.id}", cons.response.id)]
    assert [e.action for e in log(db)] == ["thread.locked"]
    assert not permissions.can_reply(cons.participant, cons.reply)
    assert permissions.can_reply(cons.organiser, cons.reply)
    with pytest.raises(Conflict):
        service.lock_thread(cons.organiser, cons.response)

    service.unlock_thread(cons.organiser, cons.response)
    assert cons.response.locked_at is None and permissions.can_reply(cons.participant, cons.reply)
    assert live(db)[-1] == ("post.unlocked", f"consultation:{cons.consultation.id}", cons.response.id)
    with pytest.raises(Conflict):
        service.unlock_thread(cons.organiser, cons.response)


def test_a_reply_cannot_be_locked_on_its_own(db, cons):
    with pytest.raises(ValidationError):
        service.lock_thread(cons.organiser, cons.reply)
    assert cons.reply.locked_at is None and log(db) == []


def test_participants_may_not_lock(db, cons):
    with pytest.raises(PermissionDenied):
        service.lock_thread(cons.author, cons.response)


# --- room settings ------------------------------------------------------------------------

def test_locking_a_room_announces_its_state_and_is_logged(db, ev):
    assert service.set_room_lock(ev.moderator, ev.room, True) is True
    assert ev.room.locked
    [state] = live_data(db, "room.state")
    assert state["locked"] is True and state["room_id"] == ev.room.id
    assert live(db) == [("room.state", f"room:{ev.room.id}", None)]
    with pytest.raises(PermissionDenied, match="locked"):
        posts.post_in_room(ev.participant, ev.room, body="Hello?")
    # The moderators still speak.
    posts.post_in_room(ev.co_moderator, ev.room, body="We are pausing.")

    assert service.set_room_lock(ev.co_moderator, ev.room, True) is False  # no change: nothing logged
    assert service.set_room_lock(ev.co_moderator, ev.room, False) is True
    entries = log(db)
    assert [(e.action, e.room_id, e.event_id, e.post_id) for e in entries] == [
        ("room.locked", ev.room.id, ev.event.id, None), ("room.unlocked", ev.room.id, ev.event.id, None)]


def test_slow_mode(db, ev):
    assert service.set_slow_mode(ev.moderator, ev.room, 30) is True
    assert ev.room.slow_mode_seconds == 30
    assert live_data(db, "room.state")[0]["slow_mode_seconds"] == 30
    [entry] = log(db)
    assert (entry.action, entry.details) == ("room.slow_mode", {"seconds": 30, "previous": 0})
    with pytest.raises(TooSoon):
        posts.post_in_room(ev.participant, ev.room, body="Again")
    assert service.set_slow_mode(ev.moderator, ev.room, 30) is False
    assert service.set_slow_mode(ev.moderator, ev.room, 0) is True
    posts.post_in_room(ev.participant, ev.room, body="Again")


@pytest.mark.parametrize("seconds", [-1, 3601, "30", 2.5, True, None])
def test_slow_mode_takes_0_to_3600_seconds(db, ev, seconds):
    with pytest.raises(ValidationError) as error:
        service.set_slow_mode(ev.moderator, ev.room, seconds)
    assert error.value.field == "slow_mode_seconds"
    db.session.refresh(ev.room)
    assert ev.room.slow_mode_seconds == 0 and log(db) == [] and live(db) == []


def test_3600_seconds_is_the_longest_slow_mode(db, ev):
    assert service.set_slow_mode(ev.moderator, ev.room, 3600) is True


@pytest.mark.parametrize("name", REFUSED)
@pytest.mark.parametrize("change", [
    lambda actor, room: service.set_room_lock(actor, room, True),
    lambda actor, room: service.set_slow_mode(actor, room, 10),
    lambda actor, room: service.set_premoderation(actor, room, True),
], ids=["lock", "slow_mode", "premoderation"])
def test_only_the_rooms_moderators_change_its_settings(db, ev, name, change):
    with pytest.raises(PermissionDenied):
        change(who(ev, name), ev.room)
    db.session.refresh(ev.room)
    assert (ev.room.locked, ev.room.slow_mode_seconds, ev.room.premoderated) == (False, 0, False)
    assert log(db) == [] and live(db) == []


# --- pre-moderation -----------------------------------------------------------------------

def test_premoderated_messages_wait_then_are_approved_for_the_room(db, ev, notices):
    assert service.set_premoderation(ev.moderator, ev.room, True) is True
    assert log(db)[-1].details == {"on": True}
    waiting = posts.post_in_room(ev.participant, ev.room, body="May I?")
    assert waiting.status is PostStatus.PENDING
    forget_live(db)

    service.approve_post(ev.co_moderator, waiting)

    assert waiting.status is PostStatus.PUBLISHED
    assert live(db) == [("post.created", f"room:{ev.room.id}", waiting.id),
                        ("post.approved", f"room:{ev.room.id}:moderators", waiting.id)]
    assert notices == [(ev.participant.id, {"type": "post.approved", "post_id": waiting.id})]
    assert [(e.action, e.post_id, e.target_user_id) for e in log(db)][-1] == (
        "post.approved", waiting.id, ev.participant.id)
    # A second co-moderator acting on the same message learns it was handled.
    with pytest.raises(Conflict):
        service.approve_post(ev.moderator, waiting)
    with pytest.raises(Conflict):
        service.reject_post(ev.moderator, waiting, "Late")


def test_rejecting_a_waiting_message_tells_its_author_why(db, ev, notices):
    ev.room.premoderated = True
    waiting = posts.post_in_room(ev.participant, ev.room, body="Buy my stuff")
    forget_live(db)

    service.reject_post(ev.moderator, waiting, "Advertising")

    assert (waiting.status, waiting.rejected_reason) == (PostStatus.REJECTED, "Advertising")
    assert live(db) == [("post.rejected", f"room:{ev.room.id}:moderators", waiting.id)]
    assert notices == [(ev.participant.id, {"type": "post.rejected", "post_id": waiting.id, "reason": "Advertising"})]
    [entry] = log(db)
    assert (entry.action, entry.reason) == ("post.rejected", "Advertising")
    assert not permissions.can_read_post(ev.bystander, waiting)
    assert permissions.can_read_post(ev.participant, waiting)


def test_a_rejected_message_cannot_be_edited_by_its_author(db, ev):
    """Editing it would change what was refused without a moderator seeing it again."""
    ev.room.premoderated = True
    waiting = posts.post_in_room(ev.participant, ev.room, body="Buy my stuff")
    assert permissions.can_edit_post(ev.participant, waiting)  # still waiting: it may be corrected
    service.reject_post(ev.moderator, waiting, "Advertising")

    assert not permissions.can_edit_post(ev.participant, waiting)
    with pytest.raises(PermissionDenied):
        posts.edit_post(ev.participant, waiting, body="Buy my other stuff")
    assert waiting.body == "Buy my stuff"


def test_rejecting_needs_a_reason(db, ev):
    ev.room.premoderated = True
    waiting = posts.post_in_room(ev.participant, ev.room, body="Hm")
    with pytest.raises(ValidationError):
        service.reject_post(ev.moderator, waiting, " ")
    assert waiting.status is PostStatus.PENDING and log(db) == []


def test_only_waiting_messages_are_approved(db, ev):
    with pytest.raises(Conflict):
        service.approve_post(ev.moderator, ev.message)
    assert log(db) == []


@pytest.mark.parametrize("name", REFUSED)
def test_only_the_rooms_moderators_approve(db, ev, name):
    ev.room.premoderated = True
    waiting = posts.post_in_room(ev.bystander, ev.room, body="Hm")
    with pytest.raises(PermissionDenied):
        service.approve_post(who(ev, name), waiting)
    assert waiting.status is PostStatus.PENDING


def test_turning_premoderation_off_leaves_the_queue_to_handle(db, ev):
    service.set_premoderation(ev.moderator, ev.room, True)
    waiting = posts.post_in_room(ev.participant, ev.room, body="Waiting")
    service.set_premoderation(ev.moderator, ev.room, False)
    assert waiting.status is PostStatus.PENDING
    assert [p.id for p in service.queue(ev.moderator, ev.room).pending] == [waiting.id]
    assert [e.action for e in log(db)] == ["room.premoderation", "room.premoderation"]
    assert log(db)[-1].details == {"on": False}


# --- mutes --------------------------------------------------------------------------------

def test_a_muted_participant_cannot_post_until_unmuted(db, ev, notices):
    mute = service.mute_user(ev.moderator, ev.room, ev.participant, 10, reason="Cool down")

    assert timedelta(minutes=9) < mute.until - utcnow() <= timedelta(minutes=10)
    assert permissions.is_muted(ev.participant, ev.room)
    with pytest.raises(PermissionDenied, match="muted"):
        posts.post_in_room(ev.participant, ev.room, body="Hey")
    [data] = live_data(db, "member.muted")
    assert data == {"room_id": ev.room.id, "user_id": ev.participant.id, "until": mute.until.isoformat(),
                    "reason": "Cool down"}
    assert live(db) == [("member.muted", f"room:{ev.room.id}:moderators", None)]
    assert notices == [(ev.participant.id, {"type": "user.muted", "room_id": ev.room.id,
                                            "until": mute.until.isoformat(), "reason": "Cool down"})]
    [entry] = log(db)
    assert (entry.action, entry.target_user_id, entry.reason, entry.details["minutes"]) == (
        "user.muted", ev.participant.id, "Cool down", 10)

    service.unmute_user(ev.co_moderator, ev.room, ev.participant)

    assert not permissions.is_muted(ev.participant, ev.room)
    assert live(db)[-1] == ("member.unmuted", f"room:{ev.room.id}:moderators", None)
    assert live_data(db, "member.unmuted") == [{"room_id": ev.room.id, "user_id": ev.participant.id}]
    assert [e.action for e in log(db)] == ["user.muted", "user.unmuted"]
    posts.post_in_room(ev.participant, ev.room, body="Sorry")
    assert notices[-1] == (ev.participant.id, {"type": "user.unmuted", "room_id": ev.room.id})
    with pytest.raises(Conflict):
        service.unmute_user(ev.co_moderator, ev.room, ev.participant)


def test_muting_again_replaces_the_remaining_time(db, ev):
    service.mute_user(ev.moderator, ev.room, ev.participant, 600)
    second = service.mute_user(ev.moderator, ev.room, ev.participant, 1)
    active = db.session.scalars(select(Mute).where(Mute.until > second.created_at)).all()
    assert [m.id for m in active] == [second.id]


@pytest.mark.parametrize("minutes", [0, -5, 1441, "10", True])
def test_mutes_last_1_to_1440_minutes(db, ev, minutes):
    with pytest.raises(ValidationError) as error:
        service.mute_user(ev.moderator, ev.room, ev.participant, minutes)
    assert error.value.field == "minutes"
    assert db.session.scalar(select(func.count(Mute.id))) == 0 and log(db) == [] and live(db) == []


@pytest.mark.parametrize("target", ["co_moderator", "organiser", "outsider"])
def test_moderators_and_people_outside_the_event_cannot_be_muted(db, ev, target):
    with pytest.raises(ValidationError) as error:
        service.mute_user(ev.moderator, ev.room, getattr(ev, target), 10)
    assert error.value.field == "user_id"
    assert db.session.scalar(select(func.count(Mute.id))) == 0 and log(db) == []


@pytest.mark.parametrize("name", REFUSED)
def test_only_the_rooms_moderators_mute(db, ev, name):
    with pytest.raises(PermissionDenied):
        service.mute_user(who(ev, name), ev.room, ev.bystander, 10)
    assert not permissions.is_muted(ev.bystander, ev.room)


# --- moving -------------------------------------------------------------------------------

def test_moving_a_response_takes_its_replies_to_the_new_topic(db, cons):
    target = cons.consultation.topics[1]
    old_topic = cons.response.topic_id

    service.move_post(cons.organiser, cons.response, topic=target)

    assert cons.response.topic_id == target.id and cons.reply.topic_id == target.id
    stream = f"consultation:{cons.consultation.id}"
    assert live(db) == [("post.moved", stream, cons.response.id), ("post.created", stream, cons.response.id),
                        ("post.moved", stream, cons.reply.id), ("post.created", stream, cons.reply.id)]
    [entry] = log(db)
    assert (entry.action, entry.post_id, entry.details) == (
        "post.moved", cons.response.id, {"scope": "topic", "from": old_topic, "to": target.id})


def test_a_co_moderator_of_both_topics_moves_threads_between_them(db, cons):
    db.session.add(Moderator(user_id=cons.topic_moderator.id, topic_id=cons.response.topic_id))
    db.session.flush()
    service.move_post(cons.topic_moderator, cons.response, topic=cons.consultation.topics[1])
    assert cons.response.topic_id == cons.consultation.topics[1].id


def test_a_topic_moderator_cannot_pull_threads_from_other_topics(db, cons):
    with pytest.raises(PermissionDenied):
        service.move_post(cons.topic_moderator, cons.response, topic=cons.consultation.topics[1])
    assert cons.response.topic_id == cons.consultation.topics[0].id and log(db) == []


def test_moving_checks_the_destination(db, cons, make_consultation):
    elsewhere = make_consultation().topics[0]
    for kwargs in ({"topic": elsewhere}, {"topic": cons.response.topic}, {}):
        with pytest.raises(ValidationError):
            service.move_post(cons.organiser, cons.response, **kwargs)
    with pytest.raises(ValidationError):
        service.move_post(cons.organiser, cons.reply, topic=cons.consultation.topics[1])
    assert cons.response.topic_id == cons.consultation.topics[0].id and log(db) == [] and live(db) == []


def test_moving_a_room_message_with_its_replies_to_another_room(db, ev):
    reply = posts.post_in_room(ev.moderator, ev.room, body="Welcome", parent=ev.message)
    forget_live(db)

    service.move_post(ev.organiser, ev.message, room=ev.other_room)

    assert (ev.message.room_id, reply.room_id) == (ev.other_room.id, ev.other_room.id)
    old, new = f"room:{ev.room.id}", f"room:{ev.other_room.id}"
    assert live(db) == [("post.moved", old, ev.message.id), ("post.created", new, ev.message.id),
                        ("post.moved", old, reply.id), ("post.created", new, reply.id)]
    [entry] = log(db)
    assert (entry.room_id, entry.event_id, entry.details) == (
        ev.room.id, ev.event.id, {"scope": "room", "from": ev.room.id, "to": ev.other_room.id})


def test_a_room_moderator_cannot_move_into_a_room_they_do_not_moderate(db, ev):
    with pytest.raises(PermissionDenied):
        service.move_post(ev.moderator, ev.message, room=ev.other_room)
    with pytest.raises(PermissionDenied):  # ...nor pull from one
        service.move_post(ev.other_moderator, ev.message, room=ev.other_room)
    assert ev.message.room_id == ev.room.id and log(db) == [] and live(db) == []


def test_a_room_message_moves_only_within_its_event(db, ev, make_event):
    elsewhere = make_event(owner=ev.organiser).breakout_rooms[0]
    with pytest.raises(ValidationError):
        service.move_post(ev.organiser, ev.message, room=elsewhere)
    with pytest.raises(ValidationError):
        service.move_post(ev.organiser, ev.message, topic=None, room=None)
    assert ev.message.room_id == ev.room.id


# --- flags --------------------------------------------------------------------------------

def test_flagging_a_room_message_puts_it_in_the_moderators_queue(db, ev, make_user):
    flag = service.flag_post(ev.bystander, ev.message, "Insulting")
    assert (flag.post_id, flag.user_id, flag.reason, flag.resolved_at) == (
        ev.message.id, ev.bystander.id, "Insulting", None)
    assert live(db) == [("flag.created", f"room:{ev.room.id}:moderators", None)]
    assert live_data(db, "flag.created") == [
        {"flag_id": flag.id, "post_id": ev.message.id, "reason": "Insulting", "flag_count": 1}]
    service.flag_post(ev.moderator, ev.message, "Indeed")
    assert live_data(db, "flag.created")[-1]["flag_count"] == 2
    assert log(db) == []  # reports are not moderation actions; the queue holds them

    [item] = service.queue(ev.co_moderator, ev.room).flagged
    assert item.post.id == ev.message.id and [f.reason for f in item.flags] == ["Insulting", "Indeed"]


def test_one_flag_per_person_and_post(db, ev):
    service.flag_post(ev.bystander, ev.message, "Insulting")
    with pytest.raises(Conflict, match="already reported"):
        service.flag_post(ev.bystander, ev.message, "Really")
    assert db.session.scalar(select(func.count(Flag.id))) == 1


@pytest.mark.parametrize("name", ["participant", "anonymous", "nobody", "outsider"])
def test_authors_visitors_and_outsiders_cannot_flag(db, ev, name):
    with pytest.raises(PermissionDenied):
        service.flag_post(who(ev, name), ev.message, "Meh")
    assert db.session.scalar(select(func.count(Flag.id))) == 0


def test_a_flag_needs_a_reason(db, ev):
    with pytest.raises(ValidationError):
        service.flag_post(ev.bystander, ev.message, "")
    with pytest.raises(ValidationError):
        service.flag_post(ev.bystander, ev.message, "x" * 501)
    assert db.session.scalar(select(func.count(Flag.id))) == 0


def test_dismissing_flags(db, ev):
    service.flag_post(ev.bystander, ev.message, "Insulting")
    with pytest.raises(PermissionDenied):
        service.dismiss_flags(ev.other_moderator, ev.message)
    forget_live(db)

    assert service.dismiss_flags(ev.moderator, ev.message) == 1

    assert service.queue(ev.moderator, ev.room).flagged == []
    assert live(db) == [("flag.dismissed", f"room:{ev.room.id}:moderators", None)]
    assert live_data(db, "flag.dismissed") == [{"post_id": ev.message.id}]
    [entry] = log(db)
    assert (entry.action, entry.post_id, entry.details) == ("flag.dismissed", ev.message.id, {"flags": 1})
    assert not ev.message.is_hidden
    with pytest.raises(Conflict):
        service.dismiss_flags(ev.moderator, ev.message)


def test_flags_on_consultation_posts_have_no_live_event(db, cons):
    service.flag_post(cons.participant, cons.reply, "Spam")
    assert live(db) == []


# --- queues -------------------------------------------------------------------------------

def test_a_rooms_queue_lists_waiting_messages_oldest_first_and_flagged_ones(db, ev, count_queries):
    ev.room.premoderated = True
    first = posts.post_in_room(ev.participant, ev.room, body="First")
    second = posts.post_in_room(ev.bystander, ev.room, body="Second")
    other = posts.post_in_room(ev.event.test_participants[1], ev.other_room, body="Elsewhere")
    service.flag_post(ev.bystander, ev.message, "Rude")
    service.flag_post(ev.organiser, other, "Rude too")  # in room 2's queue, not room 1's
    db.session.flush()
    db.session.expire_all()

    with count_queries() as statements:
        result = service.queue(ev.moderator, ev.room)
        names = [p.author.display_name for p in result.pending] + [
            f.user.display_name for item in result.flagged for f in item.flags] + [
            item.post.author.display_name for item in result.flagged]

    assert [p.id for p in result.pending] == [first.id, second.id]
    assert [item.post.id for item in result.flagged] == [ev.message.id]
    assert len(names) == 4
    assert len(statements) <= 6  # the permission check and two reads, never one per post


@pytest.mark.parametrize("name", REFUSED)
def test_only_the_rooms_moderators_see_its_queue(db, ev, name):
    with pytest.raises(PermissionDenied):
        service.queue(who(ev, name), ev.room)


def test_a_consultations_queue_shows_topic_moderators_their_topics_only(db, cons, make_post):
    in_topic_2 = make_post(consultation=cons.consultation, topic=cons.consultation.topics[1])
    service.flag_post(cons.participant, cons.response, "Off topic")
    service.flag_post(cons.participant, in_topic_2, "Spam")

    assert [i.post.id for i in service.consultation_queue(cons.organiser, cons.consultation).flagged] == [
        cons.response.id, in_topic_2.id]
    assert [i.post.id for i in service.consultation_queue(cons.host, cons.consultation).flagged] == [
        cons.response.id, in_topic_2.id]
    assert [i.post.id for i in service.consultation_queue(cons.topic_moderator, cons.consultation).flagged] == [
        in_topic_2.id]
    for actor in (cons.participant, cons.author, None, AnonymousUserMixin()):
        with pytest.raises(PermissionDenied):
            service.consultation_queue(actor, cons.consultation)
