"""Running rooms: phases and countdown, broadcast and recall, hands, speaking share,
takeaways, report-back and reading messages."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import ModerationAction, Post, PostStatus, StreamEvent
from forum.models.base import utcnow
from forum.models.events import RoomPhase
from forum.services import posts
from forum.services import rooms as service
from forum.services.errors import NotFound, PermissionDenied, ValidationError


@pytest.fixture
def told(monkeypatch):
    messages = []
    monkeypatch.setattr(service.events, "notify_user_after_commit",
                        lambda user_id, message: messages.append((user_id, message)))
    return messages


def logs(action: str) -> list[ModerationAction]:
    return list(db.session.scalars(select(ModerationAction).where(ModerationAction.action == action)
                                   .order_by(ModerationAction.id)))


def recording(stream: str | None = None, kind: str | None = None) -> list[StreamEvent]:
    """The events recorded for a stream: those stored by earlier commits, then those of this
    transaction, which are numbered and stored as it commits."""
    stored = db.session.scalars(select(StreamEvent).order_by(StreamEvent.stream_key, StreamEvent.seq))
    pending = [e for e in db.session.info.get(service.events.PENDING, []) if isinstance(e, StreamEvent)]
    return [e for e in [*stored, *pending] if (stream is None or e.stream_key == stream)
            and (kind is None or e.kind == kind)]


def recorded(stream: str, kind: str) -> list[dict]:
    return [e.data for e in recording(stream, kind)]


def say(user, room, body, **kwargs) -> Post:
    return posts.post_in_room(user, room, body=body, **kwargs)


# --- Phases -------------------------------------------------------------------------

def test_moderators_drive_the_phases_with_a_shared_countdown(make_event):
    event = make_event(rooms=1, phase="not_started")
    room = event.breakout_rooms[0]
    moderator = event.test_moderators[1][0]
    assert service.set_phase(moderator, room, "open") is True
    assert service.set_phase(moderator, room, "open") is False  # same phase: nothing happens
    before = utcnow()
    service.set_phase(moderator, room, "wrap_up", wrap_up_minutes=5)
    assert room.phase is RoomPhase.WRAP_UP
    assert before + timedelta(minutes=5) <= room.wrap_up_ends_at <= utcnow() + timedelta(minutes=5)
    state = recorded(f"room:{room.id}", "room.state")
    assert [s["phase"] for s in state] == ["open", "wrap_up"]
    assert state[-1]["wrap_up_ends_at"] == room.wrap_up_ends_at.isoformat()
    service.set_phase(moderator, room, "closed")
    assert (room.phase, room.wrap_up_ends_at) == (RoomPhase.CLOSED, None)
    assert [(e.actor_id, e.room_id, e.details["from"], e.details["to"]) for e in logs("room.phase")] == [
        (moderator.id, room.id, "not_started", "open"), (moderator.id, room.id, "open", "wrap_up"),
        (moderator.id, room.id, "wrap_up", "closed")]
    assert logs("room.phase")[1].details["minutes"] == 5


@pytest.mark.parametrize("start, target", [
    ("not_started", "wrap_up"), ("not_started", "closed"), ("wrap_up", "open"), ("closed", "wrap_up"),
])
def test_impossible_transitions_are_refused(make_event, start, target):
    event = make_event(rooms=1, phase=start)
    with pytest.raises(ValidationError):
        service.set_phase(event.owner, event.breakout_rooms[0], target, wrap_up_minutes=5)


@pytest.mark.parametrize("minutes", [None, 0, 61, "5"])
def test_wrap_up_needs_one_to_sixty_minutes(make_event, minutes):
    event = make_event(rooms=1)
    with pytest.raises(ValidationError) as error:
        service.set_phase(event.owner, event.breakout_rooms[0], "wrap_up", wrap_up_minutes=minutes)
    assert error.value.field == "wrap_up_minutes"


def test_only_an_organiser_reopens_a_closed_room(make_event):
    event = make_event(rooms=1, phase="closed")
    room = event.breakout_rooms[0]
    with pytest.raises(PermissionDenied):
        service.set_phase(event.test_moderators[1][0], room, "open")
    service.set_phase(event.owner, room, "open")
    assert room.phase is RoomPhase.OPEN


def test_phase_changes_need_a_moderator_of_that_room_and_a_running_event(make_event, make_user):
    event = make_event(rooms=2, participants=1)
    first, second = event.breakout_rooms
    for user in (event.test_moderators[2][0], event.test_participants[0], make_user("organiser"), None):
        with pytest.raises(PermissionDenied):
            service.set_phase(user, first, "closed")
    with pytest.raises(PermissionDenied):  # the plenary is the organisers'
        service.set_phase(event.test_moderators[1][0], event.plenary, "closed")
    assert service.set_phase(make_user("admin"), first, "closed")
    draft = make_event(status="draft")
    with pytest.raises(ValidationError):
        service.set_phase(draft.owner, draft.breakout_rooms[0], "closed")
    with pytest.raises(ValidationError):
        service.set_phase(event.owner, second, "sleeping")


def test_closing_reports_back_to_the_plenary(make_event, make_user):
    event = make_event(rooms=2, participants=2)
    room = event.breakout_rooms[1]
    moderators = event.test_moderators[2]
    participant = event.test_participants[1]
    message = say(participant, room, "We need *language courses* first.")
    service.add_takeaway(moderators[0], room, "Housing before jobs.")
    service.add_takeaway(moderators[1], room, "", source_post=message)
    service.set_phase(moderators[0], room, "closed")
    [card] = recorded(f"room:{event.plenary.id}", "report.card")
    assert card == {
        "room_id": room.id, "position": 2, "title": room.title,
        "moderators": [m.display_name for m in moderators],
        "takeaways": [{"body_html": "<p>Housing before jobs.</p>\n", "credited": None},
                      {"body_html": "<p>We need <em>language courses</em> first.</p>\n",
                       "credited": participant.display_name}],
    }


def test_close_if_due_closes_an_expired_wrap_up_once(make_event):
    event = make_event(rooms=1)
    room = event.breakout_rooms[0]
    service.set_phase(event.test_moderators[1][0], room, "wrap_up", wrap_up_minutes=2)
    assert service.close_if_due(room) is False
    assert service.close_if_due(room, now=room.wrap_up_ends_at - timedelta(seconds=1)) is False
    assert service.close_if_due(room, now=room.wrap_up_ends_at + timedelta(seconds=1)) is True
    assert (room.phase, room.wrap_up_ends_at) == (RoomPhase.CLOSED, None)
    entry = logs("room.phase")[-1]
    assert (entry.actor_id, entry.details) == (event.owner_id, {"automatic": True, "from": "wrap_up", "to": "closed"})
    assert recorded(f"room:{room.id}", "room.state")[-1]["phase"] == "closed"
    assert len(recorded(f"room:{event.plenary.id}", "report.card")) == 1
    assert service.close_if_due(room, now=utcnow() + timedelta(hours=1)) is False
    assert len(logs("room.phase")) == 2


# --- Broadcast and recall -----------------------------------------------------------

def test_an_organiser_broadcasts_to_every_room_not_closed(make_event, make_user):
    event = make_event(rooms=3)
    service.set_phase(event.owner, event.breakout_rooms[2], "closed")
    sent = service.broadcast(event.owner, event, "Ten minutes **left**.")
    assert [p.room_id for p in sent] == [r.id for r in event.rooms[:3]]
    assert all(p.announcement and p.is_published and "<strong>left</strong>" in p.body_html for p in sent)
    for post in sent:
        [created] = [e for e in recording() if e.post_id == post.id]
        assert (created.stream_key, created.kind) == (f"room:{post.room_id}", "post.created")
    [entry] = logs("event.broadcast")
    assert entry.details == {"post_ids": [p.id for p in sent]} and entry.event_id == event.id
    for user in (event.test_moderators[1][0], make_user("organiser")):
        with pytest.raises(PermissionDenied):
            service.broadcast(user, event, "Hello")
    with pytest.raises(ValidationError):
        service.broadcast(event.owner, event, "   ")


def test_recall_tells_every_breakout_room(make_event, make_user):
    event = make_event(rooms=2)
    service.recall(event.owner, event, "Back to the plenary, please")
    for room in event.breakout_rooms:
        assert recorded(f"room:{room.id}", "event.recall") == [{
            "plenary_id": event.plenary.id, "message": "Back to the plenary, please"}]
    assert recorded(f"room:{event.plenary.id}", "event.recall") == []
    assert logs("event.recall")[0].details == {"message": "Back to the plenary, please"}
    with pytest.raises(PermissionDenied):
        service.recall(event.test_moderators[1][0], event)


# --- Hands --------------------------------------------------------------------------

def test_hands_queue_in_order_and_the_floor_is_given(make_event, told):
    event = make_event(rooms=1, participants=3)
    room = event.breakout_rooms[0]
    first, second, third = event.test_participants
    moderator = event.test_moderators[1][0]
    hand_one = service.raise_hand(first, room)
    assert service.raise_hand(first, room) is hand_one  # raising twice keeps the place
    hand_two = service.raise_hand(second, room)
    service.raise_hand(third, room)
    assert service.lower_hand(third, room) is True and service.lower_hand(third, room) is False
    assert [h.user_id for h in service.hand_queue(moderator, room)] == [first.id, second.id]
    with pytest.raises(PermissionDenied):
        service.hand_queue(first, room)

    service.give_floor(moderator, room, hand_two.id)
    assert hand_two.floor_given_by_id == moderator.id and hand_two.lowered_at is not None
    assert [h.user_id for h in service.hand_queue(moderator, room)] == [first.id]
    assert recorded(f"room:{room.id}", "hand.floor") == [
        {"room_id": room.id, "user_id": second.id, "name": second.display_name}]
    queues = recorded(f"room:{room.id}:moderators", "hand.queue")
    assert [[q["user_id"] for q in each["queue"]] for each in queues] == [
        [first.id], [first.id, second.id], [first.id, second.id, third.id], [first.id, second.id], [first.id]]
    [entry] = logs("floor.given")
    assert (entry.actor_id, entry.target_user_id) == (moderator.id, second.id)
    assert (second.id, {"type": "hand.state", "room_id": room.id, "raised": False, "floor": True}) in told
    assert told[0] == (first.id, {"type": "hand.state", "room_id": room.id, "raised": True, "floor": False})
    with pytest.raises(NotFound):
        service.give_floor(moderator, room, hand_two.id)  # no longer raised
    with pytest.raises(PermissionDenied):
        service.give_floor(first, room, hand_one.id)


def test_who_may_raise_a_hand(make_event, make_user):
    event = make_event(rooms=2, participants=2, phase="not_started")
    room = event.breakout_rooms[0]
    with pytest.raises(PermissionDenied):
        service.raise_hand(event.test_participants[0], room)  # the room has not started
    service.set_phase(event.owner, room, "open")
    with pytest.raises(PermissionDenied):
        service.raise_hand(event.test_moderators[1][0], room)
    with pytest.raises(PermissionDenied):
        service.raise_hand(event.test_participants[1], room)  # another room's participant
    assert service.raise_hand(event.test_participants[0], room).user_id == event.test_participants[0].id


# --- Speaking share -----------------------------------------------------------------

def test_gini_on_known_inputs():
    assert service.gini([]) == 0.0
    assert service.gini([0, 0, 0]) == 0.0
    assert service.gini([5, 5, 5, 5]) == 0.0
    assert service.gini([0, 0, 0, 12]) == pytest.approx(0.75)
    assert service.gini([1, 2, 3]) == pytest.approx(2 / 9)  # sum|xi-xj| = 8, 2 n^2 mean = 36


def test_speaking_share_counts_participants_words_and_finds_the_quiet(make_event, make_user):
    event = make_event(rooms=1, participants=4)
    room = event.breakout_rooms[0]
    talker, brief, silent, mid = event.test_participants
    moderator = event.test_moderators[1][0]
    say(talker, room, "one two three four five six seven eight nine ten")
    say(talker, room, "one two three four five six")
    say(brief, room, "yes")
    say(mid, room, "I agree with that point")
    deleted = say(mid, room, "this should not count at all")
    posts.delete_post(mid, deleted)
    say(moderator, room, "moderators are not counted here at all")
    say(moderator, room, "back channel", backchannel=True)
    service.broadcast(event.owner, event, "announcements are not counted")
    room.premoderated = True
    say(brief, room, "pending words do not count")

    share = service.speaking_share(moderator, room)
    assert [(s.name, s.posts, s.words) for s in share.speakers] == [
        (talker.display_name, 2, 16), (mid.display_name, 1, 5), (brief.display_name, 1, 1), (silent.display_name, 0, 0)]
    assert (share.posts, share.words) == (4, 22)
    assert share.speakers[0].word_share == pytest.approx(16 / 22)
    assert share.speakers[0].post_share == pytest.approx(0.5)
    assert share.gini == pytest.approx(service.gini([16, 5, 1, 0]))
    # Mean share is 1/4; quiet is below 1/8 of the words: brief (1/22) and silent (0).
    assert [s.name for s in share.quiet] == sorted([brief.display_name, silent.display_name], key=str.casefold)
    with pytest.raises(PermissionDenied):
        service.speaking_share(talker, room)


def test_speaking_share_of_a_silent_room(make_event):
    event = make_event(rooms=1, participants=2)
    share = service.speaking_share(event.owner, event.breakout_rooms[0])
    assert (share.gini, share.words, len(share.quiet)) == (0.0, 0, 2)


# --- Takeaways ----------------------------------------------------------------------

def test_co_moderators_draft_takeaways_together_with_history(make_event, make_user):
    event = make_event(rooms=1, participants=1)
    room = event.breakout_rooms[0]
    first, second = event.test_moderators[1]
    takeaway = service.add_takeaway(first, room, "Draft *one*")
    assert service.edit_takeaway(second, takeaway, "Final one") is True
    assert service.edit_takeaway(second, takeaway, "Final one") is False
    assert (takeaway.body, takeaway.body_html) == ("Final one", "<p>Final one</p>\n")
    [revision] = service.takeaway_history(first, takeaway)
    assert (revision.body, revision.editor_id) == ("Draft *one*", second.id)
    other = service.add_takeaway(second, room, "Second")
    assert [t.position for t in service.takeaways(room)] == [1, 2]
    service.delete_takeaway(first, other)
    assert service.takeaways(room) == [takeaway] and other.deleted_at is not None
    with pytest.raises(NotFound):
        service.takeaway_of(room, other.id)
    changes = recorded(f"room:{room.id}:moderators", "takeaway.changed")
    assert [[t["body"] for t in c["takeaways"]] for c in changes] == [
        ["Draft *one*"], ["Final one"], ["Final one", "Second"], ["Final one"]]
    for user in (event.test_participants[0], make_user("organiser")):
        with pytest.raises(PermissionDenied):
            service.add_takeaway(user, room, "No")
        with pytest.raises(PermissionDenied):
            service.edit_takeaway(user, takeaway, "No")
    with pytest.raises(ValidationError):
        service.add_takeaway(first, room, " ")


def test_promoting_a_post_credits_its_author(make_event):
    event = make_event(rooms=2, participants=2)
    room, other_room = event.breakout_rooms
    author = event.test_participants[0]
    moderator = event.test_moderators[1][0]
    post = say(author, room, "Mentoring works.")
    takeaway = service.add_takeaway(moderator, room, "Mentoring programmes work.", source_post=post)
    assert (takeaway.credited_user_id, takeaway.source_post_id, takeaway.body) == (
        author.id, post.id, "Mentoring programmes work.")
    [entry] = logs("takeaway.promoted")
    assert (entry.actor_id, entry.post_id, entry.target_user_id) == (moderator.id, post.id, author.id)
    elsewhere = say(event.test_participants[1], other_room, "Elsewhere")
    backchannel = say(moderator, room, "Between us", backchannel=True)
    for source in (elsewhere, backchannel):
        with pytest.raises(ValidationError):
            service.add_takeaway(moderator, room, "", source_post=source)


def test_only_what_every_reader_sees_can_become_a_takeaway(make_event):
    """A takeaway is published on the report-back card: a hidden, deleted, waiting, rejected
    or announced message must not reach it that way."""
    from forum.services import moderation

    event = make_event(rooms=1, participants=3)
    room = event.breakout_rooms[0]
    author, second, third = event.test_participants
    moderator = event.test_moderators[1][0]
    hidden = say(author, room, "Hidden words")
    moderation.hide_post(moderator, hidden, "Off topic")
    deleted = say(second, room, "Deleted words")
    posts.delete_post(second, deleted)
    room.premoderated = True
    pending, rejected = say(author, room, "Waiting words"), say(third, room, "Rejected words")
    moderation.reject_post(moderator, rejected, "No")
    room.premoderated = False
    [announcement] = [p for p in service.broadcast(event.owner, event, "Ten minutes left") if p.room_id == room.id]
    for source in (hidden, deleted, pending, rejected, announcement):
        with pytest.raises(ValidationError) as error:
            service.add_takeaway(event.owner, room, "", source_post=source)
        assert error.value.field == "source_post_id"
    assert service.takeaways(room) == [] and logs("takeaway.promoted") == []


def test_who_edits_takeaways_and_when(make_event):
    """Co-moderators until the room closes; organisers after that too (the card shows them);
    nobody once the event has ended; nobody in the plenary."""
    from forum import permissions
    from forum.services import event_setup

    event = make_event(rooms=1)
    room = event.breakout_rooms[0]
    moderator = event.test_moderators[1][0]
    takeaway = service.add_takeaway(moderator, room, "Open room")
    service.set_phase(moderator, room, "closed")
    assert not permissions.can_edit_takeaways(moderator, room)
    with pytest.raises(PermissionDenied):
        service.add_takeaway(moderator, room, "Too late")
    with pytest.raises(PermissionDenied):
        service.edit_takeaway(moderator, takeaway, "Too late")
    with pytest.raises(PermissionDenied):
        service.delete_takeaway(moderator, takeaway)
    assert service.edit_takeaway(event.owner, takeaway, "Corrected by the organiser") is True
    with pytest.raises(PermissionDenied):
        service.add_takeaway(event.owner, event.plenary, "The plenary reports nothing")
    event_setup.end_event(event.owner, event)
    with pytest.raises(PermissionDenied):
        service.edit_takeaway(event.owner, takeaway, "After the end")
    assert takeaway.body == "Corrected by the organiser"


def test_editing_a_closed_rooms_takeaway_updates_its_card(make_event):
    event = make_event(rooms=1)
    room = event.breakout_rooms[0]
    takeaway = service.add_takeaway(event.owner, room, "First")
    service.set_phase(event.owner, room, "closed")
    service.edit_takeaway(event.owner, takeaway, "Corrected")
    cards = recorded(f"room:{event.plenary.id}", "report.card")
    assert [c["takeaways"][0]["body_html"] for c in cards] == ["<p>First</p>\n", "<p>Corrected</p>\n"]


def test_report_back_lists_closed_rooms_in_order(make_event):
    event = make_event(rooms=3)
    first, second, third = event.breakout_rooms
    service.add_takeaway(event.owner, third, "Third room's point")
    for room in (third, first):
        service.set_phase(event.owner, room, "closed")
    cards = service.report_back(event)
    assert [c.room_id for c in cards] == [first.id, third.id]
    assert cards[1].moderators == [m.display_name for m in event.test_moderators[3]]
    assert [t.body_html for t in cards[1].takeaways] == ["<p>Third room's point</p>\n"] and cards[0].takeaways == []


# --- Messages -----------------------------------------------------------------------

def test_list_messages_shows_what_each_reader_may_see(make_event, make_user):
    event = make_event(rooms=2, participants=3)
    room = event.breakout_rooms[0]
    author, _, reader = event.test_participants[0], None, event.test_participants[2]
    moderator = event.test_moderators[1][0]
    published = [say(author, room, f"Message {i}") for i in range(3)]
    room.premoderated = True
    pending = say(reader, room, "Waiting")
    assert pending.status is PostStatus.PENDING
    secret = say(moderator, room, "Between us", backchannel=True)

    ids = lambda page: [p.id for p in page.messages]  # noqa: E731
    assert ids(service.list_messages(author, room)) == [p.id for p in published]
    assert ids(service.list_messages(reader, room)) == [p.id for p in published] + [pending.id]
    assert ids(service.list_messages(moderator, room)) == [p.id for p in published] + [pending.id]
    assert ids(service.list_messages(moderator, room, backchannel=True)) == [secret.id]
    # A rejected message stays readable by its author and the moderators (can_read_post).
    from forum.services import moderation
    moderation.reject_post(moderator, pending, "Off topic")
    assert ids(service.list_messages(reader, room)) == [p.id for p in published] + [pending.id]
    assert ids(service.list_messages(moderator, room)) == [p.id for p in published] + [pending.id]
    assert ids(service.list_messages(event.owner, room)) == [p.id for p in published] + [pending.id]
    assert ids(service.list_messages(author, room)) == [p.id for p in published]
    with pytest.raises(PermissionDenied):
        service.list_messages(author, room, backchannel=True)
    with pytest.raises(NotFound):
        service.list_messages(event.test_participants[1], room)  # in the other room
    page = service.list_messages(author, room, limit=2)
    assert (ids(page), page.has_more) == ([published[1].id, published[2].id], True)
    older = service.list_messages(author, room, before_id=page.messages[0].id, limit=2)
    assert (ids(older), older.has_more) == ([published[0].id], False)


def test_pinned_messages(make_event):
    event = make_event(rooms=1, participants=1)
    room = event.breakout_rooms[0]
    first, second = say(event.test_participants[0], room, "A"), say(event.test_participants[0], room, "B")
    second.pinned_at = utcnow()
    first.pinned_at = utcnow() + timedelta(seconds=1)
    db.session.flush()
    assert service.pinned_messages(event.owner, room) == [second, first]
    with pytest.raises(NotFound):
        service.pinned_messages(None, room)
