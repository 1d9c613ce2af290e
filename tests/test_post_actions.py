"""A live message carries what each kind of reader may do with it (permissions.actions_by_reader);
the page looks up its own reader's answer. That answer must be the server's own (the can_*
functions that pages and services ask), for every reader and every state of a post."""
from __future__ import annotations

import pytest

from forum import permissions as p
from forum.models.base import utcnow
from forum.services import moderation
from forum.services import posts as post_service
from tests.test_roles import build_scene

CHECKS = {"endorse": p.can_endorse, "reply": p.can_reply, "edit": p.can_edit_post, "delete": p.can_delete_post,
          "flag": p.can_flag}


def looked_up(user, post, *, role: str, writes: bool) -> set[str]:
    """What a page whose reader is `user` shows for `post`, from the message's `acts`."""
    own = user.is_authenticated and post.author_id == user.id
    mask = p.actions_by_reader(post)[p.reader_index(role, writes, own)]
    return {name for bit, name in enumerate(p.POST_ACTIONS) if mask & (1 << bit)}


def room_reader(user, room) -> tuple[str, bool]:
    role = p.reader_role(user, moderates=p.can_moderate_room(user, room),
                         organiser=p.is_event_organiser(user, room.event))
    return role, p.can_post_in_room(user, room)


def states(db, s):
    """The room-1 message in every state a card shows, and a reply in a locked thread."""
    message, moderator = s.message, s.actors["co-moderator"]
    yield "published", message
    reply = post_service.post_in_room(s.actors["participant"], s.room1, body="A reply", parent=message)
    yield "reply", reply
    message.locked_at = utcnow()
    db.session.flush()
    yield "reply in a locked thread", reply
    message.locked_at = None
    moderation.hide_post(moderator, message, reason="Off topic")
    yield "hidden", message
    moderation.restore_post(moderator, message)
    post_service.delete_post(s.actors["participant"], reply)
    yield "deleted", reply
    yield "backchannel", s.backchannel


@pytest.mark.parametrize("actor", ["anonymous", "participant", "participant room 2", "observer", "co-moderator",
                                   "co-moderator room 2", "organiser", "other organiser", "admin"])
def test_a_room_messages_actions_are_the_servers_for_every_reader(db, make_event, make_user, actor):
    s = build_scene(db, make_event, make_user)
    user = s.actors[actor]
    seen = 0
    for state, post in states(db, s):
        if not p.can_read_post(user, post):
            continue
        seen += 1
        expected = {name for name, check in CHECKS.items() if check(user, post)}
        if p.can_moderate_post(user, post):
            expected.add("moderate")
        role, writes = room_reader(user, s.room1)
        assert looked_up(user, post, role=role, writes=writes) == expected, (actor, state)
    assert seen or actor in ("anonymous", "participant room 2", "co-moderator room 2", "other organiser")


def test_a_consultation_posts_actions_are_the_servers(db, make_user, make_consultation, make_post):
    consultation = make_consultation()
    author, other = make_user(), make_user()
    post = make_post(author, consultation=consultation)
    visitor = p.AnonymousUserMixin()
    for user in (author, other, consultation.owner, visitor):
        expected = {name for name, check in CHECKS.items() if check(user, post)}
        if p.can_moderate_post(user, post):
            expected.add("moderate")
        role = p.reader_role(user, moderates=p.is_consultation_moderator(user, consultation),
                             organiser=p.is_organiser_of(user, consultation))
        writes = p.can_post(user, consultation) if user.is_authenticated else consultation.accepts_posts(utcnow())
        if not user.is_authenticated:
            expected.add("log-in")  # the visitor's "reply": logging in lets them
        assert looked_up(user, post, role=role, writes=writes) == expected, user


def test_who_may_post_follows_the_rooms_state(db, make_event, make_user):
    s = build_scene(db, make_event, make_user)
    assert p.posting_roles(s.room1) == {"moderator", "participant"}
    s.room1.locked = True
    assert p.posting_roles(s.room1) == {"moderator"}
    assert not p.can_post_in_room(s.p1, s.room1) and p.can_post_in_room(s.actors["co-moderator"], s.room1)
    s.room1.locked = False
    moderation.mute_user(s.actors["co-moderator"], s.room1, s.p1, 10)
    assert p.speaks_as(s.p1, s.room1) == "participant" and not p.can_post_in_room(s.p1, s.room1)
    assert p.speaks_as(s.actors["observer"], s.room1) is None
