"""The events' role matrix (docs/roles.md): every role × every action, inside and outside its
scope, written once in MATRIX and checked at each level where the action exists:

- the `forum.permissions` functions that decide it (test_function),
- the real HTTP routes (test_http): allowed -> 2xx/3xx and the effect stored (for a download:
  200 and the right file); refused -> 403/404
  (409 where the refusal is "already done"; anonymous visitors of a login-only route are sent
  to the login page) and nothing stored,
- the JSON API's operations (test_api), with a personal access token of each role: the same
  expectations, refused -> 401 for a visitor, 403/404 otherwise, and nothing stored,
- Socket.IO for what goes over the socket: tests/realtime/test_roles_socket.py reads MATRIX.

The scene (one event, self-select, two breakout rooms): see `build_scene`.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from forum import permissions as p
from forum.models import Endorsement, EventMember, PollVote, Post, Question, ReportCover, Room
from forum.models.events import MemberRole
from forum.models.moderation import Flag, HandRaise, ModerationAction, Mute, Takeaway
from forum.services import posts as post_service
from forum.services import rooms as room_service
from tests.factories import login

Y, N = True, False

#: role -> who plays it in the scene ("own room" is room 1, the scope the actions are about)
ROLES = (
    "anonymous",           # not signed in
    "participant",         # participant placed in room 1
    "participant room 2",  # participant placed in room 2 (outside room 1)
    "observer",            # registered as an observer
    "co-moderator",        # co-moderator of room 1
    "co-moderator room 2",  # co-moderator of room 2 (outside room 1)
    "organiser",           # the event's owner
    "other organiser",     # an organiser who does not own this event
    "admin",               # platform admin (admin flag only)
)

# The expectation table, once. Columns in the order of ROLES.
MATRIX = {
    #                                  anon p1  p2  obs cm1 cm2 org oorg adm
    "view the event's page":          (Y,   Y,  Y,  Y,  Y,  Y,  Y,  Y,   Y),
    "register":                       (N,   N,  N,  N,  Y,  Y,  Y,  Y,   Y),
    "accept the invitation":          (N,   N,  N,  N,  Y,  Y,  Y,  Y,   Y),
    "choose room 2":                  (N,   Y,  Y,  N,  N,  N,  N,  N,   N),
    "view room 1":                    (N,   Y,  N,  Y,  Y,  N,  Y,  N,   Y),
    "view the plenary":               (N,   Y,  Y,  Y,  Y,  Y,  Y,  N,   Y),
    "post in room 1":                 (N,   Y,  N,  N,  Y,  N,  Y,  N,   Y),
    # Co-moderators of any room speak in the plenary (they report back there).
    "post in the plenary":            (N,   Y,  Y,  N,  Y,  Y,  Y,  N,   Y),
    "read and write room 1's moderators channel": (N, N, N, N, Y, N, Y, N, Y),
    "flag a room-1 message":          (N,   N,  N,  Y,  Y,  N,  Y,  N,   Y),
    "read a hidden room-1 message's text": (N, Y, N, N, Y, N, Y, N,  Y),  # the participant wrote it
    # Agreeing where one posts, never with one's own message (the message is the participant's).
    "endorse a room-1 message":       (N,   N,  N,  N,  Y,  N,  Y,  N,   Y),
    "pin a room-1 message":           (N,   N,  N,  N,  Y,  N,  Y,  N,   Y),
    "hide a room-1 message":          (N,   N,  N,  N,  Y,  N,  Y,  N,   Y),
    "change room 1's phase":          (N,   N,  N,  N,  Y,  N,  Y,  N,   Y),
    "set slow mode in room 1":        (N,   N,  N,  N,  Y,  N,  Y,  N,   Y),
    "mute a participant of room 1":   (N,   N,  N,  N,  Y,  N,  Y,  N,   Y),
    "raise a hand in room 1":         (N,   Y,  N,  N,  N,  N,  N,  N,   N),
    # Who may post where a poll is votes in it (docs/polls.md).
    "vote in a room-1 poll":          (N,   Y,  N,  N,  Y,  N,  Y,  N,   Y),
    "give the floor in room 1":       (N,   N,  N,  N,  Y,  N,  Y,  N,   Y),
    "invite room 1's participant to speak": (N, N, N, N, Y, N, Y, N, Y),
    "add a takeaway to room 1":       (N,   N,  N,  N,  Y,  N,  Y,  N,   Y),
    # Its report-back card shows them: the organisers may still correct them.
    "add a takeaway to closed room 1": (N,  N,  N,  N,  N,  N,  Y,  N,   Y),
    "view the event's moderation log": (N,  N,  N,  N,  Y,  Y,  Y,  N,   Y),
    "edit the event (add a room)":    (N,   N,  N,  N,  N,  N,  Y,  N,   Y),
    "move people":                    (N,   N,  N,  N,  N,  N,  Y,  N,   Y),
    "broadcast":                      (N,   N,  N,  N,  N,  N,  Y,  N,   Y),
    "recall":                         (N,   N,  N,  N,  N,  N,  Y,  N,   Y),
    "reopen closed room 1":           (N,   N,  N,  N,  N,  N,  Y,  N,   Y),
    # The plenary's Q&A (docs/questions.md): who may post in the plenary asks, and upvotes
    # others' questions (the question is the participant's: never their own); the
    # plenary's moderators (the organisers) answer, dismiss and approve.
    "ask a question in the plenary":  (N,   Y,  Y,  N,  Y,  Y,  Y,  N,   Y),
    "vote for a plenary question":    (N,   N,  Y,  N,  Y,  Y,  Y,  N,   Y),
    "mark a plenary question answered": (N, N,  N,  N,  N,  N,  Y,  N,   Y),
    "see a pending plenary question": (N,   Y,  N,  N,  N,  N,  Y,  N,   Y),  # the participant asked it
    "see who asked an anonymous plenary question": (N, Y, N, N, N, N, Y, N, Y),  # they asked it
    # The moderators' exports (report and data): the organisers the whole event, a
    # co-moderator their own room only (not the event, not another room).
    "export the event":               (N,   N,  N,  N,  N,  N,  Y,  N,   Y),
    "export room 1":                  (N,   N,  N,  N,  Y,  N,  Y,  N,   Y),
    # The report's executive summary, next steps and logo: the organisers, who sign it.
    "write the event report's summary": (N, N,  N,  N,  N,  N,  Y,  N,   Y),
    # The organisers' control room: every room's figures, live (page and stream).
    "watch the control room":         (N,   N,  N,  N,  N,  N,  Y,  N,   Y),
    # Mentions (docs/mentions.md): who may ask for room 1's people to mention (its readers),
    # and who is offered there (exactly its readers: never a room's members to outsiders).
    "list room 1's people to mention": (N,  Y,  N,  Y,  Y,  N,  Y,  N,   Y),
    "be offered to mention in room 1": (N,  Y,  N,  Y,  Y,  N,  Y,  N,   Y),
    "be offered to mention in the plenary": (N, Y, Y, Y,  Y,  Y,  Y,  N,   Y),
    # Feedback after the event (docs/feedback.md), the event ended: its registered members
    # answer (once); co-moderators who did not register, the organisers and the admin do not.
    "answer the event's feedback":    (N,   Y,  Y,  Y,  N,  N,  N,  N,   N),
    "edit the event's feedback form": (N,   N,  N,  N,  N,  N,  Y,  N,   Y),
    "see the event's feedback results": (N, N,  N,  N,  N,  N,  Y,  N,   Y),
    # Pre-event input (docs/pre-event.md): room 1's board has room 1's readers; its
    # participants answer and endorse (not their own) before the start; once it is open its
    # moderators read the digest and pin from it. Organisers set the questions.
    "read room 1's pre-event board":  (N,   Y,  N,  Y,  Y,  N,  Y,  N,   Y),
    "answer room 1's pre-event question": (N, Y, N, N,  N,  N,  N,  N,   N),
    "endorse a room-1 pre-event answer": (N, Y, N,  N,  N,  N,  N,  N,   N),
    "set the pre-event questions":    (N,   N,  N,  N,  N,  N,  Y,  N,   Y),
    "see room 1's pre-event digest":  (N,   N,  N,  N,  Y,  N,  Y,  N,   Y),
    "pin pre-event input in room 1":  (N,   N,  N,  N,  Y,  N,  Y,  N,   Y),
}

ROWS = [(role, action, allowed) for action, row in MATRIX.items() for role, allowed in zip(ROLES, row, strict=True)]


def allowed(role: str, action: str) -> bool:
    return MATRIX[action][ROLES.index(role)]


# --- The scene ----------------------------------------------------------------------

def build_scene(db, make_event, make_user) -> SimpleNamespace:
    """One published self-select event, every room open: participants of room 1 and room 2,
    an observer, one co-moderator per room, its owner, another organiser, an admin; a
    message of room 1's participant and one in room 1's moderators channel."""
    event = make_event(rooms=2, moderators=1, participants=2, assignment_mode="self_select")
    room1, room2 = event.breakout_rooms
    p1, p2 = event.test_participants
    observer = make_user()
    db.session.add(EventMember(event_id=event.id, user_id=observer.id, role=MemberRole.OBSERVER))
    db.session.flush()
    actors = {
        "anonymous": AnonymousUserMixin(), "participant": p1, "participant room 2": p2,
        "observer": observer, "co-moderator": event.test_moderators[1][0],
        "co-moderator room 2": event.test_moderators[2][0], "organiser": event.owner,
        "other organiser": make_user("organiser"), "admin": make_user("admin"),
    }
    message = post_service.post_in_room(p1, room1, body="A message of room one")
    backchannel = post_service.post_in_room(actors["co-moderator"], room1, body="Between moderators",
                                            backchannel=True)
    return SimpleNamespace(event=event, plenary=event.plenary, room1=room1, room2=room2, p1=p1,
                           actors=actors, message=message, backchannel=backchannel)


@pytest.fixture
def scene(db, make_event, make_user):
    return build_scene(db, make_event, make_user)


# --- The actions --------------------------------------------------------------------

def _count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@dataclass
class Action:
    functions: tuple[Callable, ...]
    check: Callable                     # (actor, scene) -> {function name: answer}
    request: Callable | None = None     # (client, scene, actor) -> response
    effect: Callable | None = None      # (db, scene, actor) -> a value that changes when it is done
    prepare: Callable | None = None     # (scene) -> None, before anything
    refusals: tuple[int, ...] = ()     # refusal statuses besides 403 and 404
    done: Callable | None = None        # (before, after) -> whether the effect is there
    answer: Callable | None = None      # (response, scene) -> whether an allowed request's answer is right
    api_request: Callable | None = None  # (scene) -> (method, path under /api/v1, JSON body or None)
    api_answer: Callable | None = None  # (JSON answer, scene) -> whether an allowed API answer is right


def _posts_by(where):
    return lambda db, s, actor: _count(db, Post, *where(s), Post.author_id == getattr(actor, "id", None))


def _raise_p1_hand(s):
    s.hand = room_service.raise_hand(s.p1, s.room1)


def _close_room1(s):
    room_service.set_phase(s.event.owner, s.room1, "closed")


def _member_room(db, s, actor):
    db.session.expire_all()
    return db.session.scalar(select(EventMember.room_id).where(
        EventMember.event_id == s.event.id, EventMember.user_id == s.p1.id))


def _room1(s) -> str:
    return f"/events/{s.room1.event_id}/rooms/{s.room1.id}"


def _room1_field(name):
    def read(db, s, actor):
        db.session.expire_all()
        return getattr(db.session.get(Room, s.room1.id), name)
    return read


def _post_field(name):
    def read(db, s, actor):
        db.session.expire_all()
        return getattr(db.session.get(Post, s.message.id), name)
    return read


def _ask_question(s, premoderated: bool = False, anonymous: bool = False):
    from forum.services import questions as question_service

    s.plenary.questions_premoderated = premoderated
    s.question = question_service.ask(s.p1, s.plenary, "What happens next?", anonymous=anonymous)


def _question_field(name):
    def read(db, s, actor):
        from forum.models import Question

        db.session.expire_all()
        return getattr(db.session.get(Question, s.question.id), name)
    return read


def _csv_export(response, s) -> bool:
    """A CSV download with the header and room 1's message, never the moderators' channel."""
    if not response.mimetype == "text/csv" or "attachment" not in response.headers.get("Content-Disposition", ""):
        return False
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    bodies = [row["body_text"] for row in rows]
    return "A message of room one" in bodies and "Between moderators" not in bodies


def _url(s, room, tail=""):
    return f"/events/{s.event.id}/rooms/{room.id}{tail}"


def _open_room1_poll(s):
    from forum.services import polls as poll_service

    s.poll = poll_service.create_poll(s.event.owner, s.room1, {"kind": "single", "question": "Which first?"},
                                      [("Housing", ""), ("Work", "")])
    poll_service.open_poll(s.event.owner, s.poll)


def _lists_room1_message(answer, s) -> bool:
    """Room 1's messages over the API: the participant's message, never the moderators' channel."""
    ids = [message["id"] for message in answer["items"]]
    return s.message.id in ids and s.backchannel.id not in ids


ACTIONS: dict[str, Action] = {
    "view the event's page": Action(
        (p.can_view_event,), lambda a, s: {"can_view_event": p.can_view_event(a, s.event)},
        request=lambda c, s, a: c.get(f"/events/{s.event.id}"),
        api_request=lambda s: ("GET", f"/events/{s.event.id}", None)),
    "register": Action(
        (p.can_register,), lambda a, s: {"can_register": p.can_register(a, s.event)},
        request=lambda c, s, a: c.post(f"/events/{s.event.id}/register", data={"role": "participant"}),
        effect=lambda db, s, a: _count(db, EventMember, EventMember.event_id == s.event.id),
        refusals=(409,)),
    "accept the invitation": Action(
        (p.can_accept_invitation,), lambda a, s: {"can_accept_invitation": p.can_accept_invitation(a, s.event)}),
    "choose room 2": Action(
        (p.can_choose_room,), lambda a, s: {"can_choose_room": p.can_choose_room(a, s.room2)},
        request=lambda c, s, a: c.post(_url(s, s.room2, "/choose")),
        # The effect: someone is placed in room 2 who was not (the participant of room 2
        # is there already: choosing it again changes nothing and is allowed).
        effect=lambda db, s, a: _count(db, EventMember, EventMember.room_id == s.room2.id,
                                       EventMember.user_id == getattr(a, "id", None)),
        done=lambda before, after: after == 1),
    "view room 1": Action(
        (p.can_view_room, p.can_read_post),
        lambda a, s: {"can_view_room": p.can_view_room(a, s.room1), "can_read_post": p.can_read_post(a, s.message)},
        request=lambda c, s, a: c.get(_url(s, s.room1)),
        api_request=lambda s: ("GET", f"/rooms/{s.room1.id}/messages", None), api_answer=_lists_room1_message),
    "view the plenary": Action(
        (p.can_view_room,), lambda a, s: {"can_view_room": p.can_view_room(a, s.plenary)},
        request=lambda c, s, a: c.get(_url(s, s.plenary)),
        api_request=lambda s: ("GET", f"/rooms/{s.plenary.id}", None)),
    "post in room 1": Action(
        (p.can_post_in_room, p.can_reply),
        lambda a, s: {"can_post_in_room": p.can_post_in_room(a, s.room1), "can_reply": p.can_reply(a, s.message)},
        request=lambda c, s, a: c.post(_url(s, s.room1, "/messages"), data={"body": "Hello room one"}),
        api_request=lambda s: ("POST", f"/rooms/{s.room1.id}/messages", {"body": "Hello room one"}),
        effect=_posts_by(lambda s: (Post.room_id == s.room1.id, Post.backchannel.is_(False)))),
    "post in the plenary": Action(
        (p.can_post_in_room,), lambda a, s: {"can_post_in_room": p.can_post_in_room(a, s.plenary)},
        request=lambda c, s, a: c.post(_url(s, s.plenary, "/messages"), data={"body": "Hello plenary"}),
        api_request=lambda s: ("POST", f"/rooms/{s.plenary.id}/messages", {"body": "Hello plenary"}),
        effect=_posts_by(lambda s: (Post.room_id == s.plenary.id,))),
    "read and write room 1's moderators channel": Action(
        (p.can_use_backchannel, p.can_read_post, p.can_post_in_place_of, p.can_post_in_backchannel),
        lambda a, s: {"can_use_backchannel": p.can_use_backchannel(a, s.room1),
                      "can_post_in_backchannel": p.can_post_in_backchannel(a, s.room1),
                      "can_read_post": p.can_read_post(a, s.backchannel),
                      "can_post_in_place_of": p.can_post_in_place_of(a, s.backchannel)},
        request=lambda c, s, a: c.post(_url(s, s.room1, "/messages"),
                                       data={"channel": "moderators", "mod-body": "Between us"}),
        api_request=lambda s: ("POST", f"/rooms/{s.room1.id}/messages",
                               {"body": "Between us", "channel": "moderators"}),
        effect=_posts_by(lambda s: (Post.room_id == s.room1.id, Post.backchannel.is_(True)))),
    "flag a room-1 message": Action(
        (p.can_flag,), lambda a, s: {"can_flag": p.can_flag(a, s.message)},
        request=lambda c, s, a: c.post(f"/posts/{s.message.id}/flag", data={"reason": "Off topic"}),
        effect=lambda db, s, a: _count(db, Flag, Flag.post_id == s.message.id)),
    "read a hidden room-1 message's text": Action(
        (p.can_read_hidden_text,), lambda a, s: {"can_read_hidden_text": p.can_read_hidden_text(a, s.message)}),
    "endorse a room-1 message": Action(
        (p.can_endorse,), lambda a, s: {"can_endorse": p.can_endorse(a, s.message)},
        request=lambda c, s, a: c.post(_url(s, s.room1, f"/messages/{s.message.id}/endorsement")),
        api_request=lambda s: ("PUT", f"/rooms/{s.room1.id}/messages/{s.message.id}/endorsement", None),
        effect=lambda db, s, a: _count(db, Endorsement, Endorsement.post_id == s.message.id)),
    "pin a room-1 message": Action(
        (p.can_moderate_post,), lambda a, s: {"can_moderate_post": p.can_moderate_post(a, s.message)},
        request=lambda c, s, a: c.post(f"/posts/{s.message.id}/pin"),
        api_request=lambda s: ("PUT", f"/rooms/{s.room1.id}/messages/{s.message.id}/pinned", None),
        effect=_post_field("pinned_at")),
    "hide a room-1 message": Action(
        (p.can_moderate_post,), lambda a, s: {"can_moderate_post": p.can_moderate_post(a, s.message)},
        request=lambda c, s, a: c.post(f"/posts/{s.message.id}/hide", data={"reason": "Rude"}),
        api_request=lambda s: ("PUT", f"/rooms/{s.room1.id}/messages/{s.message.id}/hidden", {"reason": "Rude"}),
        effect=_post_field("is_hidden")),
    "change room 1's phase": Action(
        (p.can_moderate_room,), lambda a, s: {"can_moderate_room": p.can_moderate_room(a, s.room1)},
        request=lambda c, s, a: c.post(_url(s, s.room1, "/phase"), data={"phase": "wrap_up", "wrap_up_minutes": "5"}),
        api_request=lambda s: ("PUT", f"/rooms/{s.room1.id}/phase", {"phase": "wrap_up", "wrap_up_minutes": 5}),
        effect=_room1_field("phase")),
    "set slow mode in room 1": Action(
        (p.can_moderate_room,), lambda a, s: {"can_moderate_room": p.can_moderate_room(a, s.room1)},
        request=lambda c, s, a: c.post(f"{_room1(s)}/settings", data={"slow_mode_seconds": "30"}),
        api_request=lambda s: ("PATCH", f"/rooms/{s.room1.id}/settings", {"slow_mode_seconds": 30}),
        effect=_room1_field("slow_mode_seconds")),
    "mute a participant of room 1": Action(
        (p.can_moderate_room,), lambda a, s: {"can_moderate_room": p.can_moderate_room(a, s.room1)},
        request=lambda c, s, a: c.post(f"{_room1(s)}/mute", data={"user_id": s.p1.id, "minutes": "10"}),
        api_request=lambda s: ("POST", f"/rooms/{s.room1.id}/mutes", {"user_id": s.p1.id, "minutes": 10}),
        effect=lambda db, s, a: _count(db, Mute, Mute.room_id == s.room1.id, Mute.user_id == s.p1.id)),
    "raise a hand in room 1": Action(
        (p.can_raise_hand,), lambda a, s: {"can_raise_hand": p.can_raise_hand(a, s.room1)},
        request=lambda c, s, a: c.post(_url(s, s.room1, "/hand"), data={"action": "raise"}),
        effect=lambda db, s, a: _count(db, HandRaise, HandRaise.room_id == s.room1.id)),
    "vote in a room-1 poll": Action(
        (p.can_vote,), lambda a, s: {"can_vote": p.can_vote(a, s.poll)},
        prepare=_open_room1_poll,
        request=lambda c, s, a: c.post(f"/polls/{s.poll.id}/vote", data={"choice": str(s.poll.options[0].id)}),
        api_request=lambda s: ("POST", f"/polls/{s.poll.id}/votes", {"choice": [s.poll.options[0].id]}),
        effect=lambda db, s, a: _count(db, PollVote, PollVote.poll_id == s.poll.id)),
    "give the floor in room 1": Action(
        (p.can_moderate_room,), lambda a, s: {"can_moderate_room": p.can_moderate_room(a, s.room1)},
        prepare=_raise_p1_hand,
        request=lambda c, s, a: c.post(_url(s, s.room1, f"/floor/{s.hand.id}")),
        effect=lambda db, s, a: _count(db, HandRaise, HandRaise.id == s.hand.id,
                                       HandRaise.floor_given_at.is_not(None))),
    "invite room 1's participant to speak": Action(
        (p.can_moderate_room,), lambda a, s: {"can_moderate_room": p.can_moderate_room(a, s.room1)},
        request=lambda c, s, a: c.post(_url(s, s.room1, "/invite"), data={"user_id": s.p1.id}),
        effect=lambda db, s, a: _count(db, ModerationAction, ModerationAction.room_id == s.room1.id,
                                       ModerationAction.action == "speak.invited",
                                       ModerationAction.target_user_id == s.p1.id)),
    "add a takeaway to room 1": Action(
        (p.can_moderate_room, p.can_edit_takeaways),
        lambda a, s: {"can_moderate_room": p.can_moderate_room(a, s.room1),
                      "can_edit_takeaways": p.can_edit_takeaways(a, s.room1)},
        request=lambda c, s, a: c.post(_url(s, s.room1, "/takeaways"), data={"body": "We agree on one thing"}),
        api_request=lambda s: ("POST", f"/rooms/{s.room1.id}/takeaways", {"body": "We agree on one thing"}),
        effect=lambda db, s, a: _count(db, Takeaway, Takeaway.room_id == s.room1.id)),
    "add a takeaway to closed room 1": Action(
        (p.can_edit_takeaways,), lambda a, s: {"can_edit_takeaways": p.can_edit_takeaways(a, s.room1)},
        prepare=_close_room1,
        request=lambda c, s, a: c.post(_url(s, s.room1, "/takeaways"), data={"body": "We agree on one thing"}),
        api_request=lambda s: ("POST", f"/rooms/{s.room1.id}/takeaways", {"body": "We agree on one thing"}),
        effect=lambda db, s, a: _count(db, Takeaway, Takeaway.room_id == s.room1.id)),
    "view the event's moderation log": Action(
        (p.can_view_moderation_log,), lambda a, s: {"can_view_moderation_log": p.can_view_moderation_log(a, s.event)},
        request=lambda c, s, a: c.get(f"/events/{s.event.id}/log")),
    "edit the event (add a room)": Action(
        (p.can_edit_event,), lambda a, s: {"can_edit_event": p.can_edit_event(a, s.event)},
        request=lambda c, s, a: c.post(f"/events/{s.event.id}/rooms/new", data={"title": "A third room"}),
        effect=lambda db, s, a: _count(db, Room, Room.event_id == s.event.id)),
    "move people": Action(
        (p.can_edit_event,), lambda a, s: {"can_edit_event": p.can_edit_event(a, s.event)},
        request=lambda c, s, a: c.post(f"/events/{s.event.id}/people/{_member_id(s)}/move",
                                       data={"room_id": s.room2.id}),
        effect=_member_room),
    "broadcast": Action(
        (p.can_edit_event,), lambda a, s: {"can_edit_event": p.can_edit_event(a, s.event)},
        request=lambda c, s, a: c.post(f"/events/{s.event.id}/broadcast", data={"body": "Five minutes left"}),
        effect=lambda db, s, a: _count(db, Post, Post.announcement.is_(True))),
    "recall": Action(
        (p.can_edit_event,), lambda a, s: {"can_edit_event": p.can_edit_event(a, s.event)},
        request=lambda c, s, a: c.post(f"/events/{s.event.id}/recall", data={"message": "Back to the plenary"}),
        effect=lambda db, s, a: _count(db, ModerationAction, ModerationAction.event_id == s.event.id,
                                       ModerationAction.action == "event.recall")),
    "reopen closed room 1": Action(
        (p.can_reopen_room,),
        lambda a, s: {"can_reopen_room": p.can_reopen_room(a, s.room1)},
        prepare=_close_room1,
        request=lambda c, s, a: c.post(_url(s, s.room1, "/phase"), data={"phase": "open"}),
        api_request=lambda s: ("PUT", f"/rooms/{s.room1.id}/phase", {"phase": "open"}),
        effect=_room1_field("phase")),
    "ask a question in the plenary": Action(
        (p.can_ask_question,), lambda a, s: {"can_ask_question": p.can_ask_question(a, s.plenary)},
        request=lambda c, s, a: c.post(_url(s, s.plenary, "/questions"), data={"question-body": "Who decides?"}),
        api_request=lambda s: ("POST", f"/rooms/{s.plenary.id}/questions", {"body": "Who decides?"}),
        effect=lambda db, s, a: _count(db, Question, Question.author_id == getattr(a, "id", None))),
    "vote for a plenary question": Action(
        (p.can_vote_question,), lambda a, s: {"can_vote_question": p.can_vote_question(a, s.question)},
        prepare=_ask_question,
        request=lambda c, s, a: c.post(_url(s, s.plenary, f"/questions/{s.question.id}/vote"),
                                       data={"action": "vote"}),
        api_request=lambda s: ("PUT", f"/rooms/{s.plenary.id}/questions/{s.question.id}/vote", None),
        effect=_question_field("vote_count")),
    "mark a plenary question answered": Action(
        (p.can_moderate_questions,),
        lambda a, s: {"can_moderate_questions": p.can_moderate_questions(a, s.plenary)},
        prepare=_ask_question,
        request=lambda c, s, a: c.post(_url(s, s.plenary, f"/questions/{s.question.id}/moderate"),
                                       data={"action": "answered"}),
        effect=_question_field("status")),
    "see a pending plenary question": Action(
        (p.can_read_question,), lambda a, s: {"can_read_question": p.can_read_question(a, s.question)},
        prepare=lambda s: _ask_question(s, premoderated=True)),
    "see who asked an anonymous plenary question": Action(
        (p.can_see_question_author,),
        lambda a, s: {"can_see_question_author": p.can_see_question_author(a, s.question)},
        prepare=lambda s: _ask_question(s, anonymous=True)),
    "export the event": Action(
        (p.can_export_event,), lambda a, s: {"can_export_event": p.can_export_event(a, s.event)},
        request=lambda c, s, a: c.get(f"/exports/event/{s.event.id}.csv"), answer=_csv_export),
    "write the event report's summary": Action(
        (p.can_write_report,), lambda a, s: {"can_write_report": p.can_write_report(a, s.event)},
        request=lambda c, s, a: c.post(f"/exports/event/{s.event.id}/cover",
                                       data={"summary": "Our summary", "next_steps": ""}),
        effect=lambda db, s, a: _count(db, ReportCover, ReportCover.event_id == s.event.id)),
    "export room 1": Action(
        (p.can_export_room,), lambda a, s: {"can_export_room": p.can_export_room(a, s.room1)},
        request=lambda c, s, a: c.get(f"/exports/room/{s.room1.id}.csv"), answer=_csv_export),
    "watch the control room": Action(
        (p.can_run_control_room,), lambda a, s: {"can_run_control_room": p.can_run_control_room(a, s.event)},
        request=lambda c, s, a: c.get(f"/events/{s.event.id}/control")),
}

def _offered(actor, room) -> bool:
    """Whether `actor` is among the people a mention in `room` may offer (permissions.readers_of)."""
    from forum.extensions import db
    from forum.models import User

    if not getattr(actor, "is_authenticated", False):
        return False
    return db.session.scalar(select(User.id).where(User.id == actor.id, p.readers_of(room))) is not None


def _mention_list(response, s) -> bool:
    """JSON of room 1's readers whose handle or name starts with "p", room 1's participant
    among them unless they are the one asking, room 2's never."""
    from forum.extensions import db
    from forum.models import User

    if response.mimetype != "application/json":
        return False
    handles = {person["handle"] for person in response.get_json()["people"]}
    readers = set(db.session.scalars(select(User.handle).where(p.readers_of(s.room1))))
    asked_by_p1 = s.p1.handle not in handles and len(handles) < 8
    return (handles <= readers and s.actors["participant room 2"].handle not in handles
            and (s.p1.handle in handles or asked_by_p1))


ACTIONS.update({
    "list room 1's people to mention": Action(
        (p.can_read_place,), lambda a, s: {"can_read_place": p.can_read_place(a, s.room1)},
        request=lambda c, s, a: c.get(f"/people/mentionable?room={s.room1.id}&q=p"),
        answer=_mention_list, refusals=(401,)),
    "be offered to mention in room 1": Action(
        (p.can_view_room,), lambda a, s: {"can_view_room": p.can_view_room(a, s.room1),
                                          "offered": _offered(a, s.room1)}),
    "be offered to mention in the plenary": Action(
        (p.can_view_room,), lambda a, s: {"can_view_room": p.can_view_room(a, s.plenary),
                                          "offered": _offered(a, s.plenary)}),
})

def _end_event(s):
    from forum.extensions import db
    from forum.models.events import EventStatus

    s.event.status = EventStatus.ENDED
    db.session.flush()


def _feedback_answers(db, s, a):
    from forum.models.feedback import FeedbackSubmission

    return _count(db, FeedbackSubmission, FeedbackSubmission.event_id == s.event.id)


def _feedback_form(db, s, a):
    from forum.models.feedback import FeedbackForm

    db.session.expire_all()
    return db.session.scalar(select(FeedbackForm.questions).where(FeedbackForm.event_id == s.event.id))


ACTIONS.update({
    "answer the event's feedback": Action(
        (p.can_answer_feedback,), lambda a, s: {"can_answer_feedback": p.can_answer_feedback(a, s.event)},
        prepare=_end_event,
        request=lambda c, s, a: c.post(f"/events/{s.event.id}/feedback", data={"overall": "4"}),
        effect=_feedback_answers),
    "edit the event's feedback form": Action(
        (p.can_edit_feedback_form,), lambda a, s: {"can_edit_feedback_form": p.can_edit_feedback_form(a, s.event)},
        prepare=_end_event,
        request=lambda c, s, a: c.post(f"/events/{s.event.id}/feedback/form", data={"questions": "Why?"}),
        effect=_feedback_form),
    "see the event's feedback results": Action(
        (p.can_see_feedback_results,),
        lambda a, s: {"can_see_feedback_results": p.can_see_feedback_results(a, s.event)},
        prepare=_end_event,
        request=lambda c, s, a: c.get(f"/events/{s.event.id}/feedback/results"),
        answer=lambda response, s: "Feedback results" in response.get_data(as_text=True)),
})


def _preevent(s, *, before_start: bool):
    """Room 1's question and an answer by another participant of room 1; the event starts
    tomorrow (`before_start`) or has started (rooms open)."""
    from datetime import timedelta

    from forum.extensions import db
    from forum.models.base import utcnow
    from forum.services import preevent

    s.event.starts_at = utcnow() + timedelta(days=1)
    s.question = preevent.add_question(s.event.owner, s.event, kind="discuss", label="What to discuss?",
                                       room=s.room1)
    other = EventMember(event_id=s.event.id, user_id=s.actors["other organiser"].id,
                        role=MemberRole.PARTICIPANT, room_id=s.room1.id)
    db.session.add(other)
    db.session.flush()
    s.answer = preevent.answer(s.actors["other organiser"], s.question, "Recognition of skills")
    db.session.delete(other)
    if not before_start:
        s.event.starts_at = utcnow() - timedelta(minutes=5)
    db.session.flush()


def _answers_by(db, s, actor):
    from forum.models import PreEventAnswer

    return _count(db, PreEventAnswer, PreEventAnswer.author_id == getattr(actor, "id", None))


def _endorsements(db, s, actor):
    from forum.models import PreEventEndorsement

    return _count(db, PreEventEndorsement, PreEventEndorsement.answer_id == s.answer.id)


def _questions_count(db, s, actor):
    from forum.models import PreEventQuestion

    return _count(db, PreEventQuestion, PreEventQuestion.event_id == s.event.id)


def _pinned(db, s, actor):
    from forum.models import PreEventAnswer

    db.session.expire_all()
    return db.session.get(PreEventAnswer, s.answer.id).pinned_post_id


def _board_lists_the_answer(response, s) -> bool:
    return "Recognition of skills" in response.get_data(as_text=True)


ACTIONS.update({
    "read room 1's pre-event board": Action(
        (p.can_view_preevent_board,),
        lambda a, s: {"can_view_preevent_board": p.can_view_preevent_board(a, s.room1)},
        prepare=lambda s: _preevent(s, before_start=True),
        request=lambda c, s, a: c.get(f"/events/{s.event.id}/pre-event/boards/{s.room1.id}"),
        answer=_board_lists_the_answer),
    "answer room 1's pre-event question": Action(
        (p.can_answer_preevent,), lambda a, s: {"can_answer_preevent": p.can_answer_preevent(a, s.question)},
        prepare=lambda s: _preevent(s, before_start=True),
        request=lambda c, s, a: c.post(f"/events/{s.event.id}/pre-event/questions/{s.question.id}/answer",
                                       data={f"answer-{s.question.id}-body": "Our priority"}),
        effect=_answers_by),
    "endorse a room-1 pre-event answer": Action(
        (p.can_endorse_preevent,), lambda a, s: {"can_endorse_preevent": p.can_endorse_preevent(a, s.answer)},
        prepare=lambda s: _preevent(s, before_start=True),
        request=lambda c, s, a: c.post(f"/events/{s.event.id}/pre-event/answers/{s.answer.id}/endorsement",
                                       data={"action": "endorse"}),
        effect=_endorsements),
    "set the pre-event questions": Action(
        (p.can_manage_preevent,), lambda a, s: {"can_manage_preevent": p.can_manage_preevent(a, s.event)},
        request=lambda c, s, a: c.post(f"/events/{s.event.id}/pre-event/questions",
                                       data={"kind": "priorities", "label": "Priorities?", "room_id": ""}),
        effect=_questions_count),
    "see room 1's pre-event digest": Action(
        (p.can_view_preevent_digest,),
        lambda a, s: {"can_view_preevent_digest": p.can_view_preevent_digest(a, s.room1)},
        prepare=lambda s: _preevent(s, before_start=False),
        request=lambda c, s, a: c.get(_url(s, s.room1, "/panels/preevent")),
        answer=_board_lists_the_answer),
    "pin pre-event input in room 1": Action(
        (p.can_pin_preevent,), lambda a, s: {"can_pin_preevent": p.can_pin_preevent(a, s.room1)},
        prepare=lambda s: _preevent(s, before_start=False),
        request=lambda c, s, a: c.post(f"/events/{s.event.id}/pre-event/answers/{s.answer.id}/pin"),
        effect=_pinned),
})

#: Every can_* function the matrix exercises (test_permissions.py checks that all are).
TESTED_FUNCTIONS = {f.__name__ for action in ACTIONS.values() for f in action.functions}


def _member_id(s) -> int:
    from forum.extensions import db

    return db.session.scalar(select(EventMember.id).where(EventMember.event_id == s.event.id,
                                                          EventMember.user_id == s.p1.id))


def _ids(rows):
    return [f"{action}-{role}".replace(" ", "_") for role, action, _ in rows]


def test_the_matrix_covers_every_role_and_action():
    assert set(MATRIX) == set(ACTIONS)
    assert all(len(row) == len(ROLES) for row in MATRIX.values())


@pytest.mark.parametrize("action", list(MATRIX))
def test_function(scene, action):
    """Every role at once (the scene is built once per action): the cells that disagree are listed."""
    spec = ACTIONS[action]
    if spec.prepare:
        spec.prepare(scene)
    wrong = {}
    for role in ROLES:
        answers = spec.check(scene.actors[role], scene)
        expected = allowed(role, action)
        if any(answer is not expected for answer in answers.values()):
            wrong[role] = (expected, answers)
    assert wrong == {}


HTTP_ROWS = [row for row in ROWS if ACTIONS[row[1]].request is not None]


@pytest.mark.parametrize(("role", "action", "expected"), HTTP_ROWS, ids=_ids(HTTP_ROWS))
def test_http(db, app, scene, role, action, expected):
    spec = ACTIONS[action]
    if spec.prepare:
        spec.prepare(scene)
    actor = scene.actors[role]
    client = app.test_client()
    if role != "anonymous":
        login(client, actor)
    before = spec.effect(db, scene, actor) if spec.effect else None

    response = spec.request(client, scene, actor)

    after = spec.effect(db, scene, actor) if spec.effect else None
    if expected:
        assert 200 <= response.status_code < 400, response.status_code
        if response.status_code in (302, 303):
            assert "/login" not in response.headers["Location"]
        if spec.effect:
            done = spec.done(before, after) if spec.done else after != before
            assert done, f"{action}: allowed but not done ({before!r} -> {after!r})"
        if spec.answer:
            assert response.status_code == 200 and spec.answer(response, scene), \
                f"{action}: allowed but the answer is wrong ({response.status_code}, {response.content_type})"
    else:
        to_login = response.status_code == 302 and "/login" in response.headers["Location"]
        assert response.status_code in (403, 404, *spec.refusals) or (role == "anonymous" and to_login), \
            response.status_code
        assert after == before, f"{action}: refused but something changed"


API_ROWS = [row for row in ROWS if ACTIONS[row[1]].api_request is not None]


@pytest.mark.parametrize(("role", "action", "expected"), API_ROWS, ids=_ids(API_ROWS))
def test_api(db, app, scene, role, action, expected):
    """The same cells through the JSON API (forum/api/), with the role's own write token."""
    from forum.services import api_tokens

    spec = ACTIONS[action]
    if spec.prepare:
        spec.prepare(scene)
    actor = scene.actors[role]
    headers = {}
    if role != "anonymous":
        headers["Authorization"] = "Bearer " + api_tokens.create_token(actor, name="matrix", scope="write",
                                                                       days=7).secret
    before = spec.effect(db, scene, actor) if spec.effect else None
    method, path, body = spec.api_request(scene)

    response = app.test_client().open(f"/api/v1{path}", method=method, headers=headers, json=body)

    after = spec.effect(db, scene, actor) if spec.effect else None
    assert response.mimetype == "application/json"
    if expected:
        assert 200 <= response.status_code < 300, (response.status_code, response.get_json())
        if spec.effect:
            done = spec.done(before, after) if spec.done else after != before
            assert done, f"{action}: allowed but not done ({before!r} -> {after!r})"
        if spec.api_answer:
            assert spec.api_answer(response.get_json(), scene), f"{action}: allowed but the answer is wrong"
    else:
        # A visitor is asked to authenticate; anyone else is refused as by the page.
        assert response.status_code in ((401,) if role == "anonymous" else (403, 404, *spec.refusals)), \
            (response.status_code, response.get_json())
        assert after == before, f"{action}: refused but something changed"


# --- Following a room's link ----------------------------------------------------------
# A room link shared in the plenary, a chat or an e-mail is opened by everyone. Besides
# "allowed or not" (MATRIX), each role must learn what to do: a visitor logs in and comes
# back, someone signed in but not registered is sent to register, a participant of another
# room (or its co-moderator) is shown the way to their own room. Only what the person may
# not know exists answers "not found" (see test_a_draft_events_rooms_are_not_found).

LOGIN, OK, REGISTER, YOUR_ROOM_2 = "log in and come back", "the room", "register", "go to room 2"

ROOM_LINKS = {
    #               anon   p1  p2           obs cm1 cm2          org oorg      adm
    "room 1":       (LOGIN, OK, YOUR_ROOM_2, OK, OK, YOUR_ROOM_2, OK, REGISTER, OK),
    "the plenary":  (LOGIN, OK, OK,          OK, OK, OK,          OK, REGISTER, OK),
}


def _check_link_answer(response, scene, expected: str, url: str) -> None:
    from tests.web.page import parse

    if expected == OK:
        assert response.status_code == 200
        return
    if expected == LOGIN:
        assert response.status_code == 302
        assert response.headers["Location"] == f"/login?next={url}"
        return
    assert response.status_code == 403
    main = parse(response).find("main")
    links = {a.text(): a.get("href") for a in main.find_all("a")}
    if expected == REGISTER:
        assert "Register for the event to take part." in main.find("h1").text()
        assert links["Register on the event's page"] == f"/events/{scene.event.id}"
    else:
        assert main.find("h1").text() == f"This is not your breakout room. Your room is {scene.room2.title}."
        assert links[f"Go to your room: {scene.room2.title}"] == _url(scene, scene.room2)


LINK_ROWS = [(role, place, expected) for place, row in ROOM_LINKS.items()
             for role, expected in zip(ROLES, row, strict=True)]


@pytest.mark.parametrize(("role", "place", "expected"), LINK_ROWS,
                         ids=[f"{place}-{role}".replace(" ", "_") for role, place, _ in LINK_ROWS])
def test_a_room_link_tells_each_role_what_to_do(app, scene, role, place, expected):
    room = scene.room1 if place == "room 1" else scene.plenary
    assert (expected == OK) == p.can_view_room(scene.actors[role], room)  # the same decision as MATRIX
    client = app.test_client()
    if role != "anonymous":
        login(client, scene.actors[role])
    url = _url(scene, room)
    _check_link_answer(client.get(url), scene, expected, url)


def test_a_visitor_comes_back_to_the_room_after_logging_in(app, scene):
    client = app.test_client()
    url = _url(scene, scene.room1)
    to_login = client.get(url).headers["Location"]
    response = client.post(to_login, data={"email": scene.p1.email, "password": scene.p1.test_password})
    assert response.status_code == 302 and response.headers["Location"] == url
    assert client.get(url).status_code == 200


def test_a_participant_not_yet_placed_is_sent_to_the_plenary(app, db, scene, make_user):
    waiting = make_user()
    db.session.add(EventMember(event_id=scene.event.id, user_id=waiting.id, role=MemberRole.PARTICIPANT))
    db.session.commit()
    client = app.test_client()
    login(client, waiting)
    from tests.web.page import parse

    response = client.get(_url(scene, scene.room1))
    assert response.status_code == 403
    main = parse(response).find("main")
    assert "You have not been placed in a breakout room yet." in main.find("h1").text()
    links = {a.text(): a.get("href") for a in main.find_all("a")}
    assert links["Go to the plenary"] == _url(scene, scene.plenary)
    assert links["Go to the event's page"] == f"/events/{scene.event.id}"


def test_after_the_event_a_stranger_is_told_the_rooms_are_for_its_participants(app, db, scene):
    from forum.services import event_setup

    event_setup.end_event(scene.event.owner, scene.event)
    db.session.commit()
    client = app.test_client()
    login(client, scene.actors["other organiser"])
    response = client.get(_url(scene, scene.room1))
    assert response.status_code == 403
    from tests.web.page import parse

    main = parse(response).find("main")
    assert main.find("h1").text() == "This room is for the event's registered participants."
    assert "Register" not in main.text()


@pytest.mark.parametrize("role", ["anonymous", "other organiser", "participant room 2"])
def test_a_draft_events_rooms_are_not_found(app, db, scene, role):
    """A draft's rooms do not exist for those who may not see it: not even "log in"."""
    from forum.models.events import EventStatus

    scene.event.status = EventStatus.DRAFT
    db.session.commit()
    client = app.test_client()
    if role != "anonymous":
        login(client, scene.actors[role])
    for room in (scene.room1, scene.plenary):
        assert client.get(_url(scene, room)).status_code == 404
    assert client.get(f"/events/{scene.event.id}/rooms/999999").status_code == 404
