"""Setting up events: details, rooms, co-moderators, registration, invitations and placement."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from forum import permissions
from forum.models import EventMember, ModerationAction, StreamEvent
from forum.models.events import AssignmentMode, EventStatus, MemberRole, RoomPhase
from forum.services import event_setup as service
from forum.services import posts
from forum.services.errors import Conflict, NotFound, PermissionDenied, ValidationError

START = datetime(2031, 5, 4, 8, 0, tzinfo=timezone.utc)


def details(**overrides) -> service.EventInput:
    values = dict(title="Welcoming newcomers", description="We **meet**.", agenda="1. Plenary\n2. Rooms",
                  starts_at=START, ends_at=START + timedelta(hours=2), timezone="Europe/Rome",
                  assignment_mode="balanced")
    return service.EventInput(**{**values, **overrides})


def logs(action: str) -> list[ModerationAction]:
    from forum.extensions import db
    return list(db.session.scalars(select(ModerationAction).where(ModerationAction.action == action)
                                   .order_by(ModerationAction.id)))


def stream_events(stream: str, kind: str) -> list[StreamEvent]:
    """The events of `kind` on `stream`, once committed (events are numbered and stored at commit)."""
    from forum.extensions import db
    db.session.commit()
    return list(db.session.scalars(select(StreamEvent).where(StreamEvent.stream_key == stream,
                                                             StreamEvent.kind == kind).order_by(StreamEvent.seq)))


# --- The event ----------------------------------------------------------------------

def test_an_organiser_creates_a_draft_with_its_plenary(make_user):
    organiser = make_user("organiser")
    event = service.create_event(organiser, details())
    assert (event.status, event.owner_id, event.timezone) == (EventStatus.DRAFT, organiser.id, "Europe/Rome")
    assert "<strong>meet</strong>" in event.description_html and "<ol>" in event.agenda_html
    assert [(r.position, r.title, r.phase) for r in event.rooms] == [(0, "Plenary", RoomPhase.NOT_STARTED)]
    assert event.assignment_mode is AssignmentMode.BALANCED


@pytest.mark.parametrize("role", ["participant", None])
def test_only_organisers_and_admins_create_events(make_user, role):
    user = make_user(role) if role else None
    with pytest.raises(PermissionDenied):
        service.create_event(user, details())
    assert service.create_event(make_user("admin"), details()).id


@pytest.mark.parametrize("overrides, field", [
    ({"title": "  "}, "title"),
    ({"title": "x" * 301}, "title"),
    ({"description": "x" * 20_001}, "description"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"assignment_mode": "lottery"}, "assignment_mode"),
    ({"starts_at": None}, "starts_at"),
    ({"ends_at": START}, "ends_at"),
    ({"ends_at": START - timedelta(minutes=1)}, "ends_at"),
])
def test_event_details_are_validated(make_user, overrides, field):
    with pytest.raises(ValidationError) as error:
        service.create_event(make_user("organiser"), details(**overrides))
    assert error.value.field == field


def test_update_publish_and_end(make_user, make_event):
    event = make_event(status="draft", phase="open")
    owner = event.owner
    with pytest.raises(PermissionDenied):
        service.update_event(make_user("organiser"), event, details())
    service.update_event(owner, event, details(title="Renamed", assignment_mode="manual"))
    assert (event.title, event.assignment_mode) == ("Renamed", AssignmentMode.MANUAL)
    with pytest.raises(ValidationError):
        service.end_event(owner, event)
    service.publish_event(owner, event)
    assert event.status is EventStatus.PUBLISHED
    with pytest.raises(ValidationError):
        service.publish_event(owner, event)

    service.end_event(owner, event)
    assert event.status is EventStatus.ENDED
    assert {r.phase for r in event.rooms} == {RoomPhase.CLOSED}
    # Each breakout room reported back to the plenary as it closed.
    cards = stream_events(f"room:{event.plenary.id}", "report.card")
    assert [c.data["room_id"] for c in cards] == [r.id for r in event.breakout_rooms]
    with pytest.raises(PermissionDenied):
        service.update_event(owner, event, details())
    with pytest.raises(PermissionDenied):
        service.add_room(owner, event, service.RoomInput("Late room"))


def test_regenerating_the_invitation_invalidates_the_old_link(make_event, make_user):
    event = make_event()
    old = event.invite_token
    new = service.regenerate_invite(event.owner, event)
    assert new != old and event.invite_token == new
    with pytest.raises(NotFound):
        service.accept_invitation(make_user(), event, old)
    with pytest.raises(PermissionDenied):
        service.regenerate_invite(event.test_moderators[1][0], event)


# --- Rooms and co-moderators ----------------------------------------------------------

def test_rooms_are_added_updated_and_removed_in_order(make_user):
    organiser = make_user("organiser")
    event = service.create_event(organiser, details())
    a, b, c = (service.add_room(organiser, event, service.RoomInput(t, "About " + t, 12)) for t in "ABC")
    assert [(r.position, r.title) for r in event.rooms] == [(0, "Plenary"), (1, "A"), (2, "B"), (3, "C")]
    service.update_room(organiser, b, service.RoomInput("B2", "", None))
    assert (b.title, b.capacity) == ("B2", None)
    service.remove_room(organiser, a)
    assert [(r.position, r.title) for r in event.rooms] == [(0, "Plenary"), (1, "B2"), (2, "C")]
    with pytest.raises(ValidationError):
        service.remove_room(organiser, event.plenary)
    with pytest.raises(PermissionDenied):
        service.add_room(make_user("organiser"), event, service.RoomInput("X"))


@pytest.mark.parametrize("data, field", [
    (service.RoomInput(""), "title"), (service.RoomInput("R", capacity=0), "capacity"),
    (service.RoomInput("R", capacity=1001), "capacity"), (service.RoomInput("R", "x" * 4001), "description"),
])
def test_room_input_is_validated(make_event, data, field):
    event = make_event(rooms=0)
    with pytest.raises(ValidationError) as error:
        service.add_room(event.owner, event, data)
    assert error.value.field == field


def test_a_capacity_below_the_people_in_the_room_is_refused(make_event):
    event = make_event(rooms=1, participants=3)
    with pytest.raises(ValidationError) as error:
        service.update_room(event.owner, event.breakout_rooms[0], service.RoomInput("R", capacity=2))
    assert error.value.field == "capacity"


def test_a_room_with_messages_cannot_be_removed(make_event):
    event = make_event(rooms=2)
    room = event.breakout_rooms[0]
    posts.post_in_room(event.test_moderators[1][0], room, body="Welcome")
    with pytest.raises(Conflict):
        service.remove_room(event.owner, room)


def test_removing_a_room_unplaces_its_members(make_event, db):
    event = make_event(rooms=2, participants=2)
    room = event.breakout_rooms[0]
    service.remove_room(event.owner, room)
    rooms_of = set(db.session.scalars(select(EventMember.room_id).where(EventMember.event_id == event.id)))
    assert rooms_of == {None, event.breakout_rooms[0].id}


def test_appointing_moderators(make_event, make_user):
    event = make_event(rooms=1, moderators=0, participants=1)
    room = event.breakout_rooms[0]
    participant = event.test_participants[0]
    moderator = service.appoint_moderator(event.owner, room, participant.email.upper())
    assert moderator.user_id == participant.id and room.is_moderator(participant)
    # A co-moderator steers the room, they no longer take part in it.
    assert permissions.own_room(participant, event) == room
    from forum.permissions import membership
    assert membership(participant, event).room_id is None
    assert service.appoint_moderator(event.owner, room, participant.email) is moderator  # again: no change
    for _ in range(2):
        service.appoint_moderator(event.owner, room, make_user().email)
    with pytest.raises(ValidationError) as error:
        service.appoint_moderator(event.owner, room, make_user().email)
    assert error.value.field == "email"
    with pytest.raises(ValidationError):
        service.appoint_moderator(event.owner, room, "nobody@example.org")
    with pytest.raises(ValidationError):
        service.appoint_moderator(event.owner, event.plenary, make_user().email)
    with pytest.raises(PermissionDenied):
        service.appoint_moderator(participant, room, make_user().email)
    service.remove_moderator(event.owner, moderator)
    assert not room.is_moderator(participant) and len(room.moderators) == 2


def test_removing_a_moderator_reaches_their_open_sockets(make_event, monkeypatch):
    reauthorised = []
    monkeypatch.setattr(service.events, "reauthorise_stream_after_commit", reauthorised.append)
    event = make_event(rooms=1)
    room = event.breakout_rooms[0]
    service.remove_moderator(event.owner, room.moderators[0])
    assert sorted(reauthorised) == [f"room:{room.id}", f"room:{room.id}:moderators"]


def test_choosing_another_room_reaches_the_sockets_in_the_room_left(make_event, make_user, monkeypatch):
    reauthorised = []
    monkeypatch.setattr(service.events, "reauthorise_stream_after_commit", reauthorised.append)
    event = make_event(rooms=2, assignment_mode="self_select")
    first, second = event.breakout_rooms
    user = make_user()
    service.register(user, event)
    service.choose_room(user, first)
    assert reauthorised == []  # they left no room
    service.choose_room(user, first)
    assert reauthorised == []  # no change
    service.choose_room(user, second)
    assert reauthorised == [f"room:{first.id}"]


# --- Registration and placement -------------------------------------------------------

def test_registration_needs_a_published_event_and_happens_once(make_event, make_user):
    draft = make_event(status="draft")
    user = make_user()
    with pytest.raises(PermissionDenied):
        service.register(user, draft)
    with pytest.raises(PermissionDenied):
        service.register(None, make_event())
    event = make_event()
    member = service.register(user, event, "observer")
    assert (member.role, member.room_id) == (MemberRole.OBSERVER, None)
    with pytest.raises(Conflict):
        service.register(user, event)
    with pytest.raises(ValidationError):
        service.register(make_user(), event, "speaker")


def test_balanced_events_place_newcomers_where_their_country_is_rarest(make_event, make_user, db):
    event = make_event(rooms=2, moderators=1, participants=0)
    first, second = event.breakout_rooms
    for country, room in (("IT", first), ("FR", second)):
        db.session.add(EventMember(event_id=event.id, user_id=make_user(country=country).id, room_id=room.id))
    db.session.flush()
    newcomer = service.register(make_user(country="IT"), event)
    assert newcomer.room_id == second.id
    # A co-moderator who registers is never placed in the room they moderate.
    moderator = event.test_moderators[2][0]
    assert service.register(moderator, event).room_id == first.id


def test_self_select_and_manual_events_leave_newcomers_unplaced(make_event, make_user):
    for mode in ("self_select", "manual"):
        event = make_event(assignment_mode=mode)
        assert service.register(make_user(), event).room_id is None


def test_when_every_room_is_full_the_newcomer_waits_unplaced(make_event, make_user):
    event = make_event(rooms=1, participants=1)
    event.breakout_rooms[0].capacity = 1
    assert service.register(make_user(), event).room_id is None


@pytest.mark.parametrize("phase", ["wrap_up", "closed"])
def test_a_late_arrival_is_never_placed_in_a_room_wrapping_up_or_closed(make_event, make_user, phase):
    """The emptiest room is the one that closed: the newcomer goes to the open one."""
    event = make_event(rooms=2, participants=3)  # room 1 has two people, room 2 one
    first, second = event.breakout_rooms
    second.phase = RoomPhase(phase)
    assert service.register(make_user(), event).room_id == first.id


@pytest.mark.parametrize("phase", ["not_started", "open"])
def test_a_late_arrival_may_be_placed_in_a_room_not_started_or_open(make_event, make_user, phase):
    event = make_event(rooms=2, participants=3)
    event.breakout_rooms[1].phase = RoomPhase(phase)
    assert service.register(make_user(), event).room_id == event.breakout_rooms[1].id


def test_when_no_room_is_open_the_late_arrival_waits_in_the_plenary(make_event, make_user, db):
    event = make_event(rooms=2, participants=2)
    event.breakout_rooms[0].phase = RoomPhase.CLOSED
    event.breakout_rooms[1].phase = RoomPhase.WRAP_UP
    member = service.register(make_user(), event)
    assert member.room_id is None
    assert service.participation(event).rooms[-1].total == 1  # the organiser sees them unplaced


def test_the_balanced_assignment_leaves_rooms_wrapping_up_or_closed_out(make_event, make_user):
    event = make_event(rooms=3, assignment_mode="manual")
    first, second, third = event.breakout_rooms
    second.phase, third.phase = RoomPhase.WRAP_UP, RoomPhase.CLOSED
    users = [make_user() for _ in range(3)]
    for user in users:
        service.register(user, event)
    placed = service.run_balanced_assignment(event.owner, event)
    assert set(placed.values()) == {first.id}
    first.phase = RoomPhase.CLOSED
    service.register(make_user(), event)
    with pytest.raises(ValidationError, match="wrapping up or closed"):
        service.run_balanced_assignment(event.owner, event)


@pytest.mark.parametrize("phase", ["wrap_up", "closed"])
def test_a_room_wrapping_up_or_closed_cannot_be_chosen(make_event, make_user, phase):
    event = make_event(rooms=2, assignment_mode="self_select")
    user = make_user()
    service.register(user, event)
    room = event.breakout_rooms[0]
    room.phase = RoomPhase(phase)
    with pytest.raises(Conflict, match="takes no newcomers"):
        service.choose_room(user, room)
    assert service.choose_room(user, event.breakout_rooms[1]).room_id == event.breakout_rooms[1].id


def test_invitations_admit_to_drafts_but_not_to_ended_events(make_event, make_user):
    event = make_event(status="draft", assignment_mode="manual")
    user = make_user()
    with pytest.raises(NotFound):
        service.accept_invitation(user, event, event.invite_token + "x")
    member = service.accept_invitation(user, event, event.invite_token)
    assert member.role is MemberRole.PARTICIPANT
    assert service.accept_invitation(user, event, event.invite_token) is member  # following it again
    ended = make_event(status="ended")
    with pytest.raises(PermissionDenied):
        service.accept_invitation(make_user(), ended, ended.invite_token)


def test_choosing_a_room_respects_capacity(make_event, make_user):
    event = make_event(rooms=2, assignment_mode="self_select")
    small, other = event.breakout_rooms
    small.capacity = 1
    first, second = make_user(), make_user()
    for user in (first, second):
        service.register(user, event)
    assert service.choose_room(first, small).room_id == small.id
    assert service.choose_room(first, small).room_id == small.id  # choosing again: still one place taken
    with pytest.raises(Conflict):
        service.choose_room(second, small)
    assert service.choose_room(second, other).room_id == other.id
    with pytest.raises(PermissionDenied):
        service.choose_room(make_user(), other)  # not registered
    with pytest.raises(PermissionDenied):
        service.choose_room(first, event.plenary)


def test_choosing_is_only_for_self_select_events(make_event, make_user):
    event = make_event(assignment_mode="manual")
    user = make_user()
    service.register(user, event)
    with pytest.raises(PermissionDenied):
        service.choose_room(user, event.breakout_rooms[0])


def test_the_organiser_moves_people_and_it_is_logged_and_told(make_event, make_user, monkeypatch):
    told = []
    monkeypatch.setattr(service.events, "notify_user_after_commit",
                        lambda user_id, message: told.append((user_id, message)))
    event = make_event(rooms=2, participants=1, assignment_mode="manual")
    person = event.test_participants[0]
    member = service.members(event.owner, event)[0]
    first, second = event.breakout_rooms
    assert member.room_id == first.id
    service.assign_member(event.owner, member, second)
    assert member.room_id == second.id
    [entry] = logs("member.moved")
    assert (entry.actor_id, entry.target_user_id, entry.room_id, entry.details) == (
        event.owner_id, person.id, second.id, {"from_room_id": first.id, "to_room_id": second.id})
    assert told == [(person.id, {"type": "member.moved", "room_id": second.id})]
    for room in (first, second):
        [moved] = stream_events(f"room:{room.id}", "member.moved")
        assert moved.data == {"user_id": person.id, "from_room_id": first.id, "to_room_id": second.id}
    service.assign_member(event.owner, member, second)  # no change: nothing logged
    assert len(logs("member.moved")) == 1
    service.assign_member(event.owner, member, None)
    assert member.room_id is None
    with pytest.raises(ValidationError):
        service.assign_member(event.owner, member, event.plenary)
    with pytest.raises(ValidationError):
        service.assign_member(event.owner, member, make_event().breakout_rooms[0])
    with pytest.raises(PermissionDenied):
        service.assign_member(event.test_moderators[1][0], member, first)


def test_moving_into_a_full_room_or_a_moderators_own_room_is_refused(make_event, make_user):
    event = make_event(rooms=2, participants=2, assignment_mode="manual")
    first, second = event.breakout_rooms
    first.capacity = 1
    members = {m.user_id: m for m in service.members(event.owner, event)}
    in_second = members[event.test_participants[1].id]
    with pytest.raises(Conflict):
        service.assign_member(event.owner, in_second, first)
    moderator = event.test_moderators[2][0]
    member = service.register(moderator, event)
    with pytest.raises(ValidationError):
        service.assign_member(event.owner, member, second)


def test_balanced_assignment_places_the_unplaced_and_keeps_the_placed(make_event, make_user, db):
    event = make_event(rooms=4, moderators=1, participants=0, assignment_mode="manual")
    countries = ["IT", "FR", "DE", "ES"] * 3
    org_types = ["ngo", "research", "local_authority"] * 4
    users = [make_user(country=c, organisation_type=o) for c, o in zip(countries, org_types, strict=True)]
    for user in users:
        service.register(user, event)
    kept = service.members(event.owner, event)[0]
    service.assign_member(event.owner, kept, event.breakout_rooms[3])
    placed = service.run_balanced_assignment(event.owner, event)
    assert len(placed) == 11 and kept.user_id not in placed
    db.session.expire_all()
    assert kept.room_id == event.breakout_rooms[3].id
    by_room = Counter(m.room_id for m in service.members(event.owner, event))
    assert sorted(by_room.values()) == [3, 3, 3, 3]
    for room in event.breakout_rooms:  # every room mixes the four countries
        assert {m.user.country for m in service.members(event.owner, event) if m.room_id == room.id} <= set(countries)
        assert len({m.user.country for m in service.members(event.owner, event) if m.room_id == room.id}) == 3
    entry = logs("member.moved")[-1]
    assert entry.details == {"automatic": True, "count": 11}
    assert service.run_balanced_assignment(event.owner, event) == {}


def test_balanced_assignment_reports_missing_places(make_event, make_user):
    event = make_event(rooms=1, assignment_mode="manual")
    event.breakout_rooms[0].capacity = 1
    for _ in range(2):
        service.register(make_user(), event)
    with pytest.raises(ValidationError):
        service.run_balanced_assignment(event.owner, event)


# --- Reading ------------------------------------------------------------------------

def test_list_events_shows_drafts_to_their_organisers_and_moderators(make_event, make_user):
    published, ended = make_event(), make_event(status="ended")
    draft = make_event(status="draft")
    visible = lambda user: {e.id for e in service.list_events(user)} & {published.id, ended.id, draft.id}  # noqa: E731
    assert visible(None) == visible(make_user()) == {published.id, ended.id}
    assert visible(draft.owner) == visible(draft.test_moderators[1][0]) == visible(make_user("admin")) == {
        published.id, ended.id, draft.id}
    assert visible(make_user("organiser")) == {published.id, ended.id}


def test_when_groups_events_by_time(make_event):
    event = make_event()
    now = event.starts_at
    assert service.when(event, now - timedelta(seconds=1)) == "upcoming"
    assert service.when(event, now) == "live"
    assert service.when(event, event.ends_at) == "past"
    event.status = EventStatus.ENDED
    assert service.when(event, now) == "past"


def test_members_are_for_organisers_and_participation_counts_the_mix(make_event, make_user, db):
    event = make_event(rooms=2, moderators=1, assignment_mode="manual")
    first, second = event.breakout_rooms
    for country, org, room in (("IT", "ngo", first), ("IT", "research", first), ("FR", "ngo", second),
                               ("DE", "ngo", None)):
        db.session.add(EventMember(event_id=event.id, user_id=make_user(country=country, organisation_type=org).id,
                                   room_id=room.id if room else None))
    db.session.add(EventMember(event_id=event.id, user_id=make_user().id, role=MemberRole.OBSERVER))
    db.session.flush()
    with pytest.raises(PermissionDenied):
        service.members(event.test_moderators[1][0], event)
    assert len(service.members(event.owner, event)) == 5
    figures = service.participation(event)
    assert [(f.room, f.total) for f in figures.rooms] == [(first, 2), (second, 1), (None, 1)]
    assert figures.rooms[0].countries == Counter({"IT": 2})
    assert figures.rooms[0].organisation_types == Counter({"ngo": 1, "research": 1})
    assert figures.countries[0] == "IT" and set(figures.countries) == {"IT", "FR", "DE", "BE"} - {"BE"}
    assert figures.observers == 1


def test_own_room(make_event, make_user):
    event = make_event(rooms=2, participants=2)
    assert permissions.own_room(event.test_participants[1], event) == event.breakout_rooms[1]
    assert permissions.own_room(event.test_moderators[1][0], event) == event.breakout_rooms[0]
    assert permissions.own_room(make_user(), event) is None
    assert permissions.own_room(None, event) is None
