"""forum.permissions as a matrix: who may do what, written out one row per case.

Roles
  anonymous        not signed in (Flask-Login's AnonymousUserMixin)
  participant      any signed-in account
  host             a participant account linked to one of the consultation's hosts
  organiser        the consultation's owner (an account with the organiser role)
  other organiser  an organiser who owns another consultation, not this one
  admin            a platform admin (admin flag only, not organiser, not owner)
  topic moderator  (exports table only) a participant appointed co-moderator of one topic
"""
from __future__ import annotations

import inspect

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from forum import permissions
from forum.models import Moderator
from forum.models.base import utcnow
from forum.models.consultations import ConsultationStatus
from forum.services import consultations as consultation_service
from forum.services import posts as post_service
from forum.services.errors import LoginRequired, NotFound

Y, N = True, False
ROLES = ("anonymous", "participant", "host", "organiser", "other organiser", "admin")


# --- Platform -----------------------------------------------------------------------

PLATFORM = [
    # role               manage_users  create_consultation  create_event
    ("anonymous",        N,            N,                   N),
    ("participant",      N,            N,                   N),
    ("host",             N,            N,                   N),
    ("organiser",        N,            Y,                   Y),
    ("other organiser",  N,            Y,                   Y),
    ("admin",            Y,            Y,                   Y),
]

# --- Consultations ------------------------------------------------------------------

CONSULTATIONS = [
    # role               status    visibility  view  edit  post
    ("anonymous",        "draft",  "public",   N,    N,    N),
    ("participant",      "draft",  "public",   N,    N,    N),
    ("host",             "draft",  "public",   Y,    N,    N),
    ("organiser",        "draft",  "public",   Y,    Y,    N),
    ("other organiser",  "draft",  "public",   N,    N,    N),
    ("admin",            "draft",  "public",   Y,    Y,    N),

    ("anonymous",        "draft",  "members",  N,    N,    N),
    ("participant",      "draft",  "members",  N,    N,    N),
    ("host",             "draft",  "members",  Y,    N,    N),
    ("organiser",        "draft",  "members",  Y,    Y,    N),
    ("other organiser",  "draft",  "members",  N,    N,    N),
    ("admin",            "draft",  "members",  Y,    Y,    N),

    ("anonymous",        "open",   "public",   Y,    N,    N),
    ("participant",      "open",   "public",   Y,    N,    Y),
    ("host",             "open",   "public",   Y,    N,    Y),
    ("organiser",        "open",   "public",   Y,    Y,    Y),
    ("other organiser",  "open",   "public",   Y,    N,    Y),
    ("admin",            "open",   "public",   Y,    Y,    Y),

    ("anonymous",        "open",   "members",  N,    N,    N),
    ("participant",      "open",   "members",  Y,    N,    Y),
    ("host",             "open",   "members",  Y,    N,    Y),
    ("organiser",        "open",   "members",  Y,    Y,    Y),
    ("other organiser",  "open",   "members",  Y,    N,    Y),
    ("admin",            "open",   "members",  Y,    Y,    Y),

    ("anonymous",        "closed", "public",   Y,    N,    N),
    ("participant",      "closed", "public",   Y,    N,    N),
    ("host",             "closed", "public",   Y,    N,    N),
    ("organiser",        "closed", "public",   Y,    Y,    N),
    ("other organiser",  "closed", "public",   Y,    N,    N),
    ("admin",            "closed", "public",   Y,    Y,    N),

    ("anonymous",        "closed", "members",  N,    N,    N),
    ("participant",      "closed", "members",  Y,    N,    N),
    ("host",             "closed", "members",  Y,    N,    N),
    ("organiser",        "closed", "members",  Y,    Y,    N),
    ("other organiser",  "closed", "members",  Y,    N,    N),
    ("admin",            "closed", "members",  Y,    Y,    N),
]

# --- Exports ------------------------------------------------------------------------
# The moderators' exports (report and data) of a whole consultation or of one topic, and the
# summary page of a consultation (what every reader sees; shareable when it is public).
#   topic moderator  a participant account appointed co-moderator of topic 1 (a Moderator
#                    row with topic_id); topic 2 is one they do not moderate
# Only the public summary of an opened consultation is for everyone; the rest is for those
# who moderate all of it (organiser, linked host, admin), and a topic for its moderators.
# (A topic moderator's "Y" in a draft is the function's answer only: the draft itself stays
# closed to them, and the export answers "not found" because it loads the consultation first.)

EXPORT_ROLES = ROLES + ("topic moderator",)

EXPORTS = [
    # role              status    visibility  consultation  topic 1  topic 2  summary
    ("anonymous",       "draft",  "public",   N,            N,       N,       N),
    ("participant",     "draft",  "public",   N,            N,       N,       N),
    ("host",            "draft",  "public",   Y,            Y,       Y,       Y),
    ("organiser",       "draft",  "public",   Y,            Y,       Y,       Y),
    ("other organiser", "draft",  "public",   N,            N,       N,       N),
    ("admin",           "draft",  "public",   Y,            Y,       Y,       Y),
    ("topic moderator", "draft",  "public",   N,            Y,       N,       N),

    ("anonymous",       "draft",  "members",  N,            N,       N,       N),
    ("participant",     "draft",  "members",  N,            N,       N,       N),
    ("host",            "draft",  "members",  Y,            Y,       Y,       Y),
    ("organiser",       "draft",  "members",  Y,            Y,       Y,       Y),
    ("other organiser", "draft",  "members",  N,            N,       N,       N),
    ("admin",           "draft",  "members",  Y,            Y,       Y,       Y),
    ("topic moderator", "draft",  "members",  N,            Y,       N,       N),

    ("anonymous",       "open",   "public",   N,            N,       N,       Y),
    ("participant",     "open",   "public",   N,            N,       N,       Y),
    ("host",            "open",   "public",   Y,            Y,       Y,       Y),
    ("organiser",       "open",   "public",   Y,            Y,       Y,       Y),
    ("other organiser", "open",   "public",   N,            N,       N,       Y),
    ("admin",           "open",   "public",   Y,            Y,       Y,       Y),
    ("topic moderator", "open",   "public",   N,            Y,       N,       Y),

    ("anonymous",       "open",   "members",  N,            N,       N,       N),
    ("participant",     "open",   "members",  N,            N,       N,       N),
    ("host",            "open",   "members",  Y,            Y,       Y,       Y),
    ("organiser",       "open",   "members",  Y,            Y,       Y,       Y),
    ("other organiser", "open",   "members",  N,            N,       N,       N),
    ("admin",           "open",   "members",  Y,            Y,       Y,       Y),
    ("topic moderator", "open",   "members",  N,            Y,       N,       N),

    ("anonymous",       "closed", "public",   N,            N,       N,       Y),
    ("participant",     "closed", "public",   N,            N,       N,       Y),
    ("host",            "closed", "public",   Y,            Y,       Y,       Y),
    ("organiser",       "closed", "public",   Y,            Y,       Y,       Y),
    ("other organiser", "closed", "public",   N,            N,       N,       Y),
    ("admin",           "closed", "public",   Y,            Y,       Y,       Y),
    ("topic moderator", "closed", "public",   N,            Y,       N,       Y),

    ("anonymous",       "closed", "members",  N,            N,       N,       N),
    ("participant",     "closed", "members",  N,            N,       N,       N),
    ("host",            "closed", "members",  Y,            Y,       Y,       Y),
    ("organiser",       "closed", "members",  Y,            Y,       Y,       Y),
    ("other organiser", "closed", "members",  N,            N,       N,       N),
    ("admin",           "closed", "members",  Y,            Y,       Y,       Y),
    ("topic moderator", "closed", "members",  N,            Y,       N,       N),
]

# --- Posts --------------------------------------------------------------------------
# Posts exist only in consultations that have been open (a draft cannot have any).
# The table holds for public and members-only consultations alike (anonymous visitors
# may do nothing with posts either way); the test runs it for both.
#   own              written by the actor
#   other's          written by another participant
#   own deleted      written by the actor, then deleted
#   other's deleted  written by another participant, then deleted

POSTS = [
    # role               post               status    reply  edit  delete  endorse
    ("anonymous",        "other's",         "open",   N,     N,    N,      N),
    ("anonymous",        "other's deleted", "open",   N,     N,    N,      N),
    ("participant",      "own",             "open",   Y,     Y,    Y,      N),
    ("participant",      "other's",         "open",   Y,     N,    N,      Y),
    ("participant",      "own deleted",     "open",   N,     N,    N,      N),
    ("participant",      "other's deleted", "open",   N,     N,    N,      N),
    ("host",             "own",             "open",   Y,     Y,    Y,      N),
    ("host",             "other's",         "open",   Y,     N,    N,      Y),
    ("host",             "own deleted",     "open",   N,     N,    N,      N),
    ("host",             "other's deleted", "open",   N,     N,    N,      N),
    ("organiser",        "own",             "open",   Y,     Y,    Y,      N),
    ("organiser",        "other's",         "open",   Y,     N,    Y,      Y),
    ("organiser",        "own deleted",     "open",   N,     N,    N,      N),
    ("organiser",        "other's deleted", "open",   N,     N,    N,      N),
    ("other organiser",  "own",             "open",   Y,     Y,    Y,      N),
    ("other organiser",  "other's",         "open",   Y,     N,    N,      Y),
    ("other organiser",  "own deleted",     "open",   N,     N,    N,      N),
    ("other organiser",  "other's deleted", "open",   N,     N,    N,      N),
    ("admin",            "own",             "open",   Y,     Y,    Y,      N),
    ("admin",            "other's",         "open",   Y,     N,    Y,      Y),
    ("admin",            "own deleted",     "open",   N,     N,    N,      N),
    ("admin",            "other's deleted", "open",   N,     N,    N,      N),

    # After closing: authors may still withdraw their words, organisers still moderate.
    ("anonymous",        "other's",         "closed", N,     N,    N,      N),
    ("anonymous",        "other's deleted", "closed", N,     N,    N,      N),
    ("participant",      "own",             "closed", N,     N,    Y,      N),
    ("participant",      "other's",         "closed", N,     N,    N,      N),
    ("participant",      "own deleted",     "closed", N,     N,    N,      N),
    ("participant",      "other's deleted", "closed", N,     N,    N,      N),
    ("host",             "own",             "closed", N,     N,    Y,      N),
    ("host",             "other's",         "closed", N,     N,    N,      N),
    ("host",             "own deleted",     "closed", N,     N,    N,      N),
    ("host",             "other's deleted", "closed", N,     N,    N,      N),
    ("organiser",        "own",             "closed", N,     N,    Y,      N),
    ("organiser",        "other's",         "closed", N,     N,    Y,      N),
    ("organiser",        "own deleted",     "closed", N,     N,    N,      N),
    ("organiser",        "other's deleted", "closed", N,     N,    N,      N),
    ("other organiser",  "own",             "closed", N,     N,    Y,      N),
    ("other organiser",  "other's",         "closed", N,     N,    N,      N),
    ("other organiser",  "own deleted",     "closed", N,     N,    N,      N),
    ("other organiser",  "other's deleted", "closed", N,     N,    N,      N),
    ("admin",            "own",             "closed", N,     N,    Y,      N),
    ("admin",            "other's",         "closed", N,     N,    Y,      N),
    ("admin",            "own deleted",     "closed", N,     N,    N,      N),
    ("admin",            "other's deleted", "closed", N,     N,    N,      N),
]

# --- Polls --------------------------------------------------------------------------
# A poll of an open public consultation, in these states (results_shown after the state):
#   draft               not opened yet
#   open live           results shown to everyone as votes arrive
#   open after_vote     results once one has voted (the actor has not)
#   voted after_vote    the same, the actor having voted (where they may)
#   open after_close    results after close only (the actor voted where they may)
#   closed after_close  closed by hand: results for every reader
#   closed published    ... and the breakdown published
# Managing is for those who edit the consultation (not its hosts); voting follows can_post.

POLLS = [
    # role               state                 view  manage  vote  results  breakdown
    ("anonymous",        "draft",              N,    N,      N,    N,       N),
    ("participant",      "draft",              N,    N,      N,    N,       N),
    ("host",             "draft",              N,    N,      N,    N,       N),
    ("organiser",        "draft",              Y,    Y,      N,    Y,       Y),
    ("other organiser",  "draft",              N,    N,      N,    N,       N),
    ("admin",            "draft",              Y,    Y,      N,    Y,       Y),

    ("anonymous",        "open live",          Y,    N,      N,    Y,       N),
    ("participant",      "open live",          Y,    N,      Y,    Y,       N),
    ("host",             "open live",          Y,    N,      Y,    Y,       N),
    ("organiser",        "open live",          Y,    Y,      Y,    Y,       Y),
    ("other organiser",  "open live",          Y,    N,      Y,    Y,       N),
    ("admin",            "open live",          Y,    Y,      Y,    Y,       Y),

    ("anonymous",        "open after_vote",    Y,    N,      N,    N,       N),
    ("participant",      "open after_vote",    Y,    N,      Y,    N,       N),
    ("host",             "open after_vote",    Y,    N,      Y,    N,       N),
    ("organiser",        "open after_vote",    Y,    Y,      Y,    Y,       Y),
    ("other organiser",  "open after_vote",    Y,    N,      Y,    N,       N),
    ("admin",            "open after_vote",    Y,    Y,      Y,    Y,       Y),

    ("anonymous",        "voted after_vote",   Y,    N,      N,    N,       N),
    ("participant",      "voted after_vote",   Y,    N,      Y,    Y,       N),
    ("host",             "voted after_vote",   Y,    N,      Y,    Y,       N),
    ("organiser",        "voted after_vote",   Y,    Y,      Y,    Y,       Y),
    ("other organiser",  "voted after_vote",   Y,    N,      Y,    Y,       N),
    ("admin",            "voted after_vote",   Y,    Y,      Y,    Y,       Y),

    ("anonymous",        "open after_close",   Y,    N,      N,    N,       N),
    ("participant",      "open after_close",   Y,    N,      Y,    N,       N),
    ("host",             "open after_close",   Y,    N,      Y,    N,       N),
    ("organiser",        "open after_close",   Y,    Y,      Y,    Y,       Y),
    ("other organiser",  "open after_close",   Y,    N,      Y,    N,       N),
    ("admin",            "open after_close",   Y,    Y,      Y,    Y,       Y),

    ("anonymous",        "closed after_close", Y,    N,      N,    Y,       N),
    ("participant",      "closed after_close", Y,    N,      N,    Y,       N),
    ("host",             "closed after_close", Y,    N,      N,    Y,       N),
    ("organiser",        "closed after_close", Y,    Y,      N,    Y,       Y),
    ("other organiser",  "closed after_close", Y,    N,      N,    Y,       N),
    ("admin",            "closed after_close", Y,    Y,      N,    Y,       Y),

    ("anonymous",        "closed published",   Y,    N,      N,    Y,       Y),
    ("participant",      "closed published",   Y,    N,      N,    Y,       Y),
    ("host",             "closed published",   Y,    N,      N,    Y,       Y),
    ("organiser",        "closed published",   Y,    Y,      N,    Y,       Y),
    ("other organiser",  "closed published",   Y,    N,      N,    Y,       Y),
    ("admin",            "closed published",   Y,    Y,      N,    Y,       Y),
]

# A poll of breakout room 1 of a published event (make_event: two rooms, open), by role:
#   p1 / p2    participants placed in room 1 / room 2; obs  an observer of the event
#   cm1 / cm2  co-moderators of room 1 / room 2; org  the event's owner; oorg  another organiser
# States: draft; "voted after_vote" (open, the actor voted where they may);
# "closed published" (closed, breakdown published). Voting follows can_post_in_room.
ROOM_POLL_ROLES = ("anonymous", "p1", "p2", "obs", "cm1", "cm2", "org", "oorg", "admin")
ROOM_POLLS = {
    #                                     anon p1 p2 obs cm1 cm2 org oorg adm
    ("draft", "view"):                    (N,  N, N, N,  Y,  N,  Y,  N,   Y),
    ("draft", "manage"):                  (N,  N, N, N,  Y,  N,  Y,  N,   Y),
    ("draft", "vote"):                    (N,  N, N, N,  N,  N,  N,  N,   N),
    ("draft", "results"):                 (N,  N, N, N,  Y,  N,  Y,  N,   Y),
    ("draft", "breakdown"):               (N,  N, N, N,  Y,  N,  Y,  N,   Y),
    ("voted after_vote", "view"):         (N,  Y, N, Y,  Y,  N,  Y,  N,   Y),
    ("voted after_vote", "manage"):       (N,  N, N, N,  Y,  N,  Y,  N,   Y),
    ("voted after_vote", "vote"):         (N,  Y, N, N,  Y,  N,  Y,  N,   Y),
    ("voted after_vote", "results"):      (N,  Y, N, N,  Y,  N,  Y,  N,   Y),
    ("voted after_vote", "breakdown"):    (N,  N, N, N,  Y,  N,  Y,  N,   Y),
    ("closed published", "view"):         (N,  Y, N, Y,  Y,  N,  Y,  N,   Y),
    ("closed published", "manage"):       (N,  N, N, N,  Y,  N,  Y,  N,   Y),
    ("closed published", "vote"):         (N,  N, N, N,  N,  N,  N,  N,   N),
    ("closed published", "results"):      (N,  Y, N, Y,  Y,  N,  Y,  N,   Y),
    ("closed published", "breakdown"):    (N,  Y, N, Y,  Y,  N,  Y,  N,   Y),
}

POLL_FUNCTIONS = {"view": permissions.can_view_poll, "manage": permissions.can_manage_poll,
                  "vote": permissions.can_vote, "results": permissions.can_see_results,
                  "breakdown": permissions.can_see_breakdown}


# --- Follows and notifications (docs/notifications.md) ----------------------------------------
# Following a consultation, one of its Topics, or a thread (a response of it), by role, in a
# consultation of each status and visibility ("-": a draft has no responses to follow).

FOLLOWS = [
    # role               status    visibility  consultation  topic  thread
    ("anonymous",        "draft",  "public",   N,            N,     None),
    ("participant",      "draft",  "public",   N,            N,     None),
    ("host",             "draft",  "public",   Y,            Y,     None),
    ("organiser",        "draft",  "public",   Y,            Y,     None),
    ("other organiser",  "draft",  "public",   N,            N,     None),
    ("admin",            "draft",  "public",   Y,            Y,     None),
    ("anonymous",        "open",   "public",   N,            N,     N),
    ("participant",      "open",   "public",   Y,            Y,     Y),
    ("host",             "open",   "public",   Y,            Y,     Y),
    ("organiser",        "open",   "public",   Y,            Y,     Y),
    ("other organiser",  "open",   "public",   Y,            Y,     Y),
    ("admin",            "open",   "public",   Y,            Y,     Y),
    ("anonymous",        "open",   "members",  N,            N,     N),
    ("participant",      "open",   "members",  Y,            Y,     Y),
    ("host",             "open",   "members",  Y,            Y,     Y),
    ("organiser",        "open",   "members",  Y,            Y,     Y),
    ("other organiser",  "open",   "members",  Y,            Y,     Y),
    ("admin",            "open",   "members",  Y,            Y,     Y),
    ("anonymous",        "closed", "members",  N,            N,     N),
    ("participant",      "closed", "members",  Y,            Y,     Y),
    ("organiser",        "closed", "members",  Y,            Y,     Y),
]

# Only a response starts a thread one can follow; not a reply, a deleted response, a room's message.
FOLLOWED_THREADS = [
    # what                   follow
    ("response",             Y),
    ("reply",                N),
    ("deleted response",     N),
    ("hidden response",      Y),
    ("room message",         N),
]

# Whether a notification may show and link to what it is about, for its recipient (a
# participant of an open public consultation, placed in room 1 of an event), by target;
# anyone else (another participant, a visitor) never.
NOTIFICATION_TARGETS = [
    # target                                 recipient
    ("published post",                       Y),
    ("hidden post",                          N),
    ("hidden post of the recipient",         Y),
    ("deleted post",                         N),
    ("pending room message of another",      N),
    ("room message of their room",           Y),
    ("room message of another room",         N),
    ("back-channel message",                 N),
    ("topic",                                Y),
    ("topic of a draft consultation",        N),
    ("opened poll",                          Y),
    ("draft poll",                           N),
    ("consultation",                         Y),
    ("their room",                           Y),
    ("another room",                         N),
    ("event",                                Y),
    ("draft event",                          N),
]

FOLLOW_FUNCTIONS = (permissions.can_follow, permissions.can_open_notification)


PLATFORM_FUNCTIONS = (permissions.can_manage_users, permissions.can_create_consultation,
                      permissions.can_create_event)
CONSULTATION_FUNCTIONS = (permissions.can_view_consultation, permissions.can_edit_consultation,
                          permissions.can_post, permissions.can_read_place)
EXPORT_FUNCTIONS = (permissions.can_export_consultation, permissions.can_export_topic,
                    permissions.can_view_summary)
# One's own account (data rights): who may act on an account, by their relation to it.
TOKEN_FUNCTIONS = (permissions.can_manage_api_tokens,)
TOKEN_OWNERS = [
    # actor          manage_api_tokens
    ("anonymous",    N),
    ("owner",        Y),
    ("other person", N),
    ("admin",        N),  # an admin acts on others' accounts only by closing them
    ("closed owner", N),
]

POST_FUNCTIONS = (permissions.can_reply, permissions.can_edit_post, permissions.can_delete_post,
                  permissions.can_endorse)


def _ids(rows, width):
    return ["-".join(str(v) for v in row[:width]).replace(" ", "_") for row in rows]


@pytest.fixture
def make_actor(db, make_user, make_consultation):
    """make_actor(role, consultation=None) -> the user playing `role` (linking the host, or
    appointing the topic moderator to the consultation's first topic)."""
    def _make_actor(role, consultation=None):
        if role == "anonymous":
            return AnonymousUserMixin()
        if role == "organiser":
            return consultation.owner if consultation is not None else make_user("organiser")
        if role == "other organiser":
            return make_consultation().owner
        if role == "admin":
            return make_user("admin")
        user = make_user()
        if role == "host" and consultation is not None:
            consultation_service.add_host(consultation.owner, consultation, consultation_service.HostInput(
                name=user.display_name, account_email=user.email))
        if role == "topic moderator":
            db.session.add(Moderator(user_id=user.id, topic_id=consultation.topics[0].id))
            db.session.flush()
        return user

    return _make_actor


def results(functions, *args) -> dict[str, bool]:
    return {f.__name__: f(*args) for f in functions}


def test_the_tables_cover_every_role_and_every_can_function():
    """Every can_* function is in a table: here (platform, consultations, their posts) or in
    the events' role matrix of tests/test_roles.py."""
    from tests.test_roles import TESTED_FUNCTIONS as EVENT_FUNCTIONS

    defined = {name for name, f in inspect.getmembers(permissions, inspect.isfunction) if name.startswith("can_")}
    tested = {f.__name__ for f in PLATFORM_FUNCTIONS + CONSULTATION_FUNCTIONS + EXPORT_FUNCTIONS + POST_FUNCTIONS
              + tuple(POLL_FUNCTIONS.values())}
    tested |= {f.__name__ for f in BOARD_FUNCTIONS + STATEMENT_FUNCTIONS}  # statements boards
    tested |= {permissions.can_run_polls.__name__}  # its rows: "manage" of a draft in the poll tables
    tested |= {f.__name__ for f in FOLLOW_FUNCTIONS}  # follows and notifications
    tested |= {f.__name__ for f in PEOPLE_FUNCTIONS}
    tested |= {f.__name__ for f in TOKEN_FUNCTIONS + ACCOUNT_FUNCTIONS}
    tested |= {f.__name__ for f in PERSONAL_DATA_FUNCTIONS}
    assert {row[0] for row in ACCOUNTS} == {row[0] for row in PROFILES} | {"host"}
    tested |= {permissions.can_find_post.__name__}  # SEARCH; rooms too: tests/services/test_search_permissions.py
    assert defined == tested | EVENT_FUNCTIONS
    assert {row[0] for row in PLATFORM} == {row[0] for row in CONSULTATIONS} == {row[0] for row in POSTS} == set(ROLES)
    assert len({row[:3] for row in CONSULTATIONS}) == len(CONSULTATIONS) == len(ROLES) * 3 * 2
    assert len({row[:3] for row in POSTS}) == len(POSTS)
    assert {row[0] for row in EXPORTS} == set(EXPORT_ROLES)
    assert len({row[:3] for row in EXPORTS}) == len(EXPORTS) == len(EXPORT_ROLES) * 3 * 2
    assert {row[0] for row in POLLS} == set(ROLES)
    assert [row[0] for row in PERSONAL_DATA] == list(ROLES)
    assert len({row[:2] for row in POLLS}) == len(POLLS) == len(ROLES) * 7
    assert {what for _, what in ROOM_POLLS} == set(POLL_FUNCTIONS)


@pytest.mark.parametrize(("role", "manage_api_tokens"), TOKEN_OWNERS, ids=_ids(TOKEN_OWNERS, 1))
def test_api_token_owner(db, make_user, role, manage_api_tokens):
    owner = make_user()
    actor = {"anonymous": AnonymousUserMixin(), "owner": owner, "other person": make_user(),
             "admin": make_user("admin"), "closed owner": owner}[role]
    if role == "closed owner":
        owner.closed_at = utcnow()
    assert results(TOKEN_FUNCTIONS, actor, owner) == {"can_manage_api_tokens": manage_api_tokens}


@pytest.mark.parametrize(("role", "manage_users", "create_consultation", "create_event"), PLATFORM,
                         ids=_ids(PLATFORM, 1))
def test_platform(db, make_actor, make_consultation, role, manage_users, create_consultation, create_event):
    consultation = make_consultation() if role == "host" else None
    actor = make_actor(role, consultation)
    assert results(PLATFORM_FUNCTIONS, actor) == {
        "can_manage_users": manage_users, "can_create_consultation": create_consultation,
        "can_create_event": create_event}


@pytest.mark.parametrize(("role", "status", "visibility", "view", "edit", "post"), CONSULTATIONS,
                         ids=_ids(CONSULTATIONS, 3))
def test_consultation(db, make_actor, make_consultation, role, status, visibility, view, edit, post):
    consultation = make_consultation(status="draft", visibility=visibility)
    actor = make_actor(role, consultation)
    if status != "draft":
        consultation_service.set_status(consultation.owner, consultation, "open")
    if status == "closed":
        consultation_service.set_status(consultation.owner, consultation, "closed")
    assert consultation.status is ConsultationStatus(status)

    assert results(CONSULTATION_FUNCTIONS, actor, consultation) == {
        "can_view_consultation": view, "can_edit_consultation": edit, "can_post": post, "can_read_place": view}
    # Whom a mention there may suggest (permissions.readers_of, one SQL condition): exactly
    # the accounts that may read it. A visitor is no account, so never among them.
    if role != "anonymous":
        assert _among_readers(actor, consultation) is view


def _among_readers(user, place) -> bool:
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import User

    return db.session.scalar(select(User.id).where(User.id == user.id, permissions.readers_of(place))) is not None


# --- A person's copy of their own data (docs/data-rights.md) ---------------------------------

PERSONAL_DATA = [
    # role               ask for one  download own  download another's (theirs to ask and open alone)
    ("anonymous",        N,           N,            N),
    ("participant",      Y,           Y,            N),
    ("host",             Y,           Y,            N),
    ("organiser",        Y,           Y,            N),
    ("other organiser",  Y,           Y,            N),
    ("admin",            Y,           Y,            N),
]
PERSONAL_DATA_FUNCTIONS = (permissions.can_request_personal_data, permissions.can_download_personal_data)


@pytest.mark.parametrize(("role", "ask", "own", "another"), PERSONAL_DATA, ids=_ids(PERSONAL_DATA, 1))
def test_personal_data(db, make_actor, make_consultation, make_user, role, ask, own, another):
    from forum.models import ReportFile
    from forum.models.reports import PERSONAL_DATA_KIND

    consultation = make_consultation() if role == "host" else None
    actor = make_actor(role, consultation)
    someone = make_user()

    def copy_of(user):
        return ReportFile(user_id=user.id, kind=PERSONAL_DATA_KIND, object_id=user.id, format="zip")

    mine = copy_of(actor) if role != "anonymous" else copy_of(someone)
    assert permissions.can_request_personal_data(actor) is ask
    assert permissions.can_download_personal_data(actor, mine) is own
    assert permissions.can_download_personal_data(actor, copy_of(someone)) is another
    if role != "anonymous":
        # A report of another kind, or a copy asked for someone else, is never one's data to download.
        assert not permissions.can_download_personal_data(
            actor, ReportFile(user_id=actor.id, kind="event", object_id=actor.id, format="pdf"))
        assert not permissions.can_download_personal_data(
            actor, ReportFile(user_id=actor.id, kind=PERSONAL_DATA_KIND, object_id=someone.id, format="zip"))


# --- People's pages ---------------------------------------------------------------------

PROFILES = [
    # role               view another person's page
    ("anonymous",        N),
    ("participant",      Y),
    ("host",             Y),
    ("organiser",        Y),
    ("other organiser",  Y),
    ("admin",            Y),
]
PEOPLE_FUNCTIONS = (permissions.can_view_profile,)


@pytest.mark.parametrize(("role", "view"), PROFILES, ids=_ids(PROFILES, 1))
def test_profile(db, make_actor, make_consultation, make_user, role, view):
    consultation = make_consultation() if role == "host" else None
    actor = make_actor(role, consultation)
    person = make_user()
    person.named_in_reports = False  # not named in reports: still shown in the app
    assert results(PEOPLE_FUNCTIONS, actor, person) == {"can_view_profile": view}
    person.closed_at = utcnow()  # a closed account has no page (forum/services/account_closure.py)
    assert results(PEOPLE_FUNCTIONS, actor, person) == {"can_view_profile": False}


# --- Closing an account ---------------------------------------------------------------
# Its owner closes it from their profile; a platform admin on the person's request; once only.

ACCOUNTS = [
    # role               own account  another's  another's, closed
    ("anonymous",        N,           N,         N),
    ("participant",      Y,           N,         N),
    ("host",             Y,           N,         N),
    ("organiser",        Y,           N,         N),
    ("other organiser",  Y,           N,         N),
    ("admin",            Y,           Y,         N),
]
ACCOUNT_FUNCTIONS = (permissions.can_close_account,)


@pytest.mark.parametrize(("role", "own", "another", "closed"), ACCOUNTS, ids=_ids(ACCOUNTS, 1))
def test_closing_an_account(db, make_actor, make_consultation, make_user, role, own, another, closed):
    consultation = make_consultation() if role == "host" else None
    actor = make_actor(role, consultation)
    person, gone = make_user(), make_user()
    gone.closed_at = utcnow()
    assert {
        "own account": permissions.can_close_account(actor, actor) if role != "anonymous" else False,
        "another's": permissions.can_close_account(actor, person),
        "another's, closed": permissions.can_close_account(actor, gone),
    } == {"own account": own, "another's": another, "another's, closed": closed}
    if role != "anonymous":
        actor.closed_at = utcnow()
        assert permissions.can_close_account(actor, actor) is False  # once only


@pytest.mark.parametrize(("role", "status", "visibility", "consultation", "topic", "other_topic", "summary"),
                         EXPORTS, ids=_ids(EXPORTS, 3))
def test_exports(db, make_actor, make_consultation, role, status, visibility, consultation, topic, other_topic,
                 summary):
    place = make_consultation(status="draft", visibility=visibility, topics=2)
    actor = make_actor(role, place)
    if status != "draft":
        consultation_service.set_status(place.owner, place, "open")
    if status == "closed":
        consultation_service.set_status(place.owner, place, "closed")
    assert place.status is ConsultationStatus(status)
    topic1, topic2 = place.topics

    assert {
        "consultation": permissions.can_export_consultation(actor, place),
        "topic 1": permissions.can_export_topic(actor, topic1),
        "topic 2": permissions.can_export_topic(actor, topic2),
        "summary": permissions.can_view_summary(actor, place),
    } == {"consultation": consultation, "topic 1": topic, "topic 2": other_topic, "summary": summary}


@pytest.mark.parametrize("visibility", ["public", "members"])
@pytest.mark.parametrize(("role", "kind", "status", "reply", "edit", "delete", "endorse"), POSTS,
                         ids=_ids(POSTS, 3))
def test_post(db, make_user, make_actor, make_consultation, make_post,
              visibility, role, kind, status, reply, edit, delete, endorse):
    consultation = make_consultation(status="open", visibility=visibility)
    actor = make_actor(role, consultation)
    author = actor if kind.startswith("own") else make_user()
    post = make_post(author, consultation=consultation, deleted=kind.endswith("deleted"))
    if status == "closed":
        consultation_service.set_status(consultation.owner, consultation, "closed")

    assert results(POST_FUNCTIONS, actor, post) == {
        "can_reply": reply, "can_edit_post": edit, "can_delete_post": delete, "can_endorse": endorse}


# The same rows through the JSON API (forum/api/posts.py), each caller with a write token: what
# the table allows succeeds, what it refuses is 401 for a visitor and 403 for anyone signed in,
# and a refused write stores nothing.

@pytest.mark.parametrize("visibility", ["public", "members"])
@pytest.mark.parametrize(("role", "kind", "status", "reply", "edit", "delete", "endorse"), POSTS,
                         ids=_ids(POSTS, 3))
def test_post_api(db, client, make_user, make_actor, make_consultation, make_post,
                  visibility, role, kind, status, reply, edit, delete, endorse):
    from forum.models import Endorsement, Post
    from forum.services import api_tokens

    consultation = make_consultation(status="open", visibility=visibility)
    actor = make_actor(role, consultation)
    author = actor if kind.startswith("own") else make_user()
    post = make_post(author, consultation=consultation, deleted=kind.endswith("deleted"))
    if status == "closed":
        consultation_service.set_status(consultation.owner, consultation, "closed")
    headers = {}
    if role != "anonymous":
        secret = api_tokens.create_token(actor, name="matrix", scope="write", days=7).secret
        headers = {"Authorization": f"Bearer {secret}"}
    refused = 401 if role == "anonymous" else 403

    def stored() -> tuple:
        db.session.expire_all()
        return (db.session.scalar(select(func.count(Post.id))), db.session.scalar(select(func.count(Endorsement.id))),
                db.session.get(Post, post.id).body, db.session.get(Post, post.id).deleted_at)

    url = f"/api/v1/posts/{post.id}"
    for allowed, call, success in (
            (reply, lambda: client.post(f"{url}/replies", json={"body": "A reply."}, headers=headers), 201),
            (endorse, lambda: client.put(f"{url}/endorsement", headers=headers), 200),
            (edit, lambda: client.patch(url, json={"body": "Edited."}, headers=headers), 200),
            (delete, lambda: client.delete(url, headers=headers), 204)):
        before = stored()
        response = call()
        assert response.status_code == (success if allowed else refused), response.get_data(as_text=True)
        if not allowed:
            assert stored() == before


# --- Search ----------------------------------------------------------------------------
# Whether a search may show a post of an open consultation: can_find_post, and the SQL clause
# the search runs (permissions.findable_documents) must say the same. Every reader × every
# kind of object, rooms included: tests/services/test_search_permissions.py.

SEARCH = [
    # role               post                 public  members
    ("anonymous",        "other's",           Y,      N),
    ("anonymous",        "other's hidden",    N,      N),
    ("participant",      "other's",           Y,      Y),
    ("participant",      "other's hidden",    N,      N),
    ("participant",      "other's pending",   N,      N),
    ("participant",      "own hidden",        Y,      Y),
    ("participant",      "own pending",       Y,      Y),
    ("participant",      "own deleted",       N,      N),
    ("host",             "other's hidden",    Y,      Y),
    ("host",             "other's pending",   Y,      Y),
    ("topic moderator",  "other's hidden",    Y,      Y),
    ("organiser",        "other's pending",   Y,      Y),
    ("organiser",        "other's deleted",   N,      N),
    ("other organiser",  "other's hidden",    N,      N),
    ("admin",            "other's hidden",    Y,      Y),
    ("admin",            "other's deleted",   N,      N),
]


@pytest.mark.parametrize(("role", "kind", "public", "members"), SEARCH, ids=_ids(SEARCH, 2))
def test_find_post(db, make_user, make_actor, make_consultation, make_post, role, kind, public, members):
    from forum.models import Post, PostStatus, SearchDocument
    from forum.services import moderation

    for visibility, expected in (("public", public), ("members", members)):
        consultation = make_consultation(status="open", visibility=visibility)
        actor = make_actor(role, consultation)
        author = actor if kind.startswith("own") else make_user()
        post = make_post(author, consultation=consultation, deleted=kind.endswith("deleted"))
        if kind.endswith("hidden"):
            moderation.hide_post(consultation.owner, post, "Off topic")
        if kind.endswith("pending"):
            post.status = PostStatus.PENDING
            db.session.flush()
        found_by_sql = db.session.scalar(
            select(SearchDocument.id).outerjoin(Post, Post.id == SearchDocument.post_id)
            .where(SearchDocument.kind == "post", SearchDocument.object_id == post.id,
                   permissions.findable_documents(actor))) is not None

        assert (permissions.can_find_post(actor, post), found_by_sql) == (expected, expected), visibility


# --- Statements boards ----------------------------------------------------------------
# A board of an open public consultation, in each of its states.

BOARDS = [
    # role               board     view  manage  moderate  submit
    ("anonymous",        "draft",  N,    N,      N,        N),
    ("participant",      "draft",  N,    N,      N,        N),
    ("host",             "draft",  Y,    N,      Y,        N),
    ("organiser",        "draft",  Y,    Y,      Y,        N),
    ("other organiser",  "draft",  N,    N,      N,        N),
    ("admin",            "draft",  Y,    Y,      Y,        N),

    ("anonymous",        "open",   Y,    N,      N,        N),
    ("participant",      "open",   Y,    N,      N,        Y),
    ("host",             "open",   Y,    N,      Y,        Y),
    ("organiser",        "open",   Y,    Y,      Y,        Y),
    ("other organiser",  "open",   Y,    N,      N,        Y),
    ("admin",            "open",   Y,    Y,      Y,        Y),

    ("anonymous",        "closed", Y,    N,      N,        N),
    ("participant",      "closed", Y,    N,      N,        N),
    ("host",             "closed", Y,    N,      Y,        N),
    ("organiser",        "closed", Y,    Y,      Y,        N),
    ("other organiser",  "closed", Y,    N,      N,        N),
    ("admin",            "closed", Y,    Y,      Y,        N),
]

# Statements of an open board: "own" written by the actor, "other's" by another participant.
STATEMENTS = [
    # role               statement              read  vote  moderate
    ("anonymous",        "other's published",   Y,    N,    N),
    ("anonymous",        "other's pending",     N,    N,    N),
    ("anonymous",        "other's hidden",      N,    N,    N),
    ("participant",      "other's published",   Y,    Y,    N),
    ("participant",      "other's pending",     N,    N,    N),
    ("participant",      "other's hidden",      N,    N,    N),
    ("participant",      "own pending",         Y,    N,    N),
    ("participant",      "own hidden",          Y,    N,    N),
    ("host",             "other's published",   Y,    Y,    Y),
    ("host",             "other's pending",     Y,    N,    Y),
    ("host",             "other's hidden",      Y,    N,    Y),
    ("organiser",        "other's published",   Y,    Y,    Y),
    ("organiser",        "other's pending",     Y,    N,    Y),
    ("organiser",        "other's hidden",      Y,    N,    Y),
    ("other organiser",  "other's published",   Y,    Y,    N),
    ("other organiser",  "other's pending",     N,    N,    N),
    ("admin",            "other's published",   Y,    Y,    Y),
    ("admin",            "other's pending",     Y,    N,    Y),
    ("admin",            "other's hidden",      Y,    N,    Y),
]

BOARD_FUNCTIONS = (permissions.can_view_board, permissions.can_manage_board, permissions.can_moderate_statements,
                   permissions.can_submit_statement)
STATEMENT_FUNCTIONS = (permissions.can_read_statement, permissions.can_vote_statement,
                       permissions.can_moderate_statement)


def _board(consultation, status):
    from forum.services import opinion

    board = opinion.save_board(consultation.owner, consultation, prompt="Why?", premoderated=True)
    if status != "draft":
        opinion.set_board_status(consultation.owner, board, "open")
    if status == "closed":
        opinion.set_board_status(consultation.owner, board, "closed")
    return board


@pytest.mark.parametrize(("role", "status", "view", "manage", "moderate", "submit"), BOARDS, ids=_ids(BOARDS, 2))
def test_board(db, make_actor, make_consultation, role, status, view, manage, moderate, submit):
    consultation = make_consultation()
    actor = make_actor(role, consultation)
    board = _board(consultation, status)
    assert {
        "view": permissions.can_view_board(actor, board),
        "manage": permissions.can_manage_board(actor, consultation),
        "moderate": permissions.can_moderate_statements(actor, board),
        "submit": permissions.can_submit_statement(actor, board),
    } == {"view": view, "manage": manage, "moderate": moderate, "submit": submit}
    if view:
        assert permissions.access_board(actor, consultation.id) is board
    else:
        with pytest.raises(NotFound):
            permissions.access_board(actor, consultation.id)


@pytest.mark.parametrize(("role", "kind", "read", "vote", "moderate"), STATEMENTS, ids=_ids(STATEMENTS, 2))
def test_statement(db, make_user, make_actor, make_consultation, role, kind, read, vote, moderate):
    from forum.services import opinion

    consultation = make_consultation()
    actor = make_actor(role, consultation)
    board = _board(consultation, "open")
    statement = opinion.submit_statement(actor if kind.startswith("own") else make_user(), board, "A statement")
    if kind.endswith("published") or kind.endswith("hidden"):
        opinion.approve_statement(consultation.owner, statement)
    if kind.endswith("hidden"):
        opinion.hide_statement(consultation.owner, statement, "Spam")
    assert results(STATEMENT_FUNCTIONS, actor, statement) == {
        "can_read_statement": read, "can_vote_statement": vote, "can_moderate_statement": moderate}
    if read:
        assert permissions.access_statement(actor, board, statement.id) is statement
    else:
        with pytest.raises(NotFound):
            permissions.access_statement(actor, board, statement.id)


def _poll_in_state(poll, state: str, actor) -> None:
    from forum.services import polls as poll_service

    owner = poll.created_by
    if state == "draft":
        return
    poll_service.open_poll(owner, poll)
    if state.startswith(("voted", "open after_close")) and permissions.can_vote(actor, poll):
        poll_service.cast_vote(actor, poll, [poll.options[0].id])
    if state.startswith("closed"):
        poll_service.close_poll(owner, poll)
    if state == "closed published":
        poll_service.publish_breakdown(owner, poll)


@pytest.mark.parametrize(("role", "state", "view", "manage", "vote", "results", "breakdown"), POLLS,
                         ids=_ids(POLLS, 2))
def test_poll(db, make_actor, make_consultation, role, state, view, manage, vote, results, breakdown):
    from forum.services import polls as poll_service

    consultation = make_consultation()
    actor = make_actor(role, consultation)
    shown = state.split()[-1] if state != "closed published" else "after_close"
    poll = poll_service.create_poll(consultation.owner, consultation, {
        "kind": "single", "question": "Which?", "results_shown": "live" if shown == "draft" else shown},
        ["One", "Two"])
    _poll_in_state(poll, state, actor)

    assert {what: f(actor, poll) for what, f in POLL_FUNCTIONS.items()} == {
        "view": view, "manage": manage, "vote": vote, "results": results, "breakdown": breakdown}
    # Who runs a poll is who runs the polls of its place: creating one there too.
    assert permissions.can_run_polls(actor, consultation) == manage


@pytest.mark.parametrize("state", sorted({state for state, _ in ROOM_POLLS}))
def test_room_poll(db, make_user, make_event, state):
    from forum.models import EventMember
    from forum.models.events import MemberRole
    from forum.services import polls as poll_service

    event = make_event(participants=2)
    room = event.breakout_rooms[0]
    observer = make_user()
    db.session.add(EventMember(event_id=event.id, user_id=observer.id, role=MemberRole.OBSERVER))
    db.session.flush()
    actors = dict(zip(ROOM_POLL_ROLES, (
        AnonymousUserMixin(), *event.test_participants, observer, event.test_moderators[1][0],
        event.test_moderators[2][0], event.owner, make_user("organiser"), make_user("admin")), strict=True))

    answers, expected = {}, {}
    for role, actor in actors.items():
        poll = poll_service.create_poll(event.owner, room, {"kind": "single", "question": "Which?",
                                                            "results_shown": "after_vote"}, ["One", "Two"])
        _poll_in_state(poll, state, actor)
        for what, f in POLL_FUNCTIONS.items():
            answers[(role, what)] = f(actor, poll)
            expected[(role, what)] = ROOM_POLLS[(state, what)][ROOM_POLL_ROLES.index(role)]
        answers[(role, "run polls")] = permissions.can_run_polls(actor, room)
        expected[(role, "run polls")] = ROOM_POLLS[(state, "manage")][ROOM_POLL_ROLES.index(role)]
    assert answers == expected


def test_access_poll_says_not_found_for_missing_drafts_and_unreadable_places(db, make_user, make_consultation):
    from forum.services import polls as poll_service

    consultation = make_consultation(visibility="members")
    draft = poll_service.create_poll(consultation.owner, consultation, {"kind": "single", "question": "Q?"},
                                     ["a", "b"])
    opened = poll_service.create_poll(consultation.owner, consultation, {"kind": "single", "question": "Q?"},
                                      ["a", "b"])
    poll_service.open_poll(consultation.owner, opened)
    reader = make_user()
    assert permissions.access_poll(reader, opened.id) is opened
    assert permissions.access_poll(consultation.owner, draft.id) is draft
    for user, poll_id in ((reader, draft.id), (AnonymousUserMixin(), opened.id), (reader, 2**31),
                          (reader, opened.id + 1000)):
        with pytest.raises(NotFound):
            permissions.access_poll(user, poll_id)


def test_none_is_treated_as_anonymous(db, make_consultation, make_post):
    post = make_post()
    anonymous = AnonymousUserMixin()
    for function in PLATFORM_FUNCTIONS:
        assert function(None) is function(anonymous) is False
    for function in CONSULTATION_FUNCTIONS:
        assert function(None, post.consultation) == function(anonymous, post.consultation)
    for function in POST_FUNCTIONS:
        assert function(None, post) is function(anonymous, post) is False
    assert permissions.can_export_consultation(None, post.consultation) is False
    assert permissions.can_export_topic(None, post.topic) is False
    assert permissions.can_view_summary(None, post.consultation) is permissions.can_view_summary(
        anonymous, post.consultation) is True


def test_a_consultation_not_yet_open_by_its_opening_time_takes_no_posts(db, make_user, make_consultation, make_post):
    from datetime import timedelta

    from forum.models.base import utcnow

    consultation = make_consultation()
    post = make_post(consultation=consultation)
    consultation.opens_at = utcnow() + timedelta(hours=1)
    reader = make_user()
    assert permissions.can_view_consultation(reader, consultation)
    assert not permissions.can_post(reader, consultation)
    assert not permissions.can_reply(reader, post)
    assert not permissions.can_endorse(reader, post)
    assert not permissions.can_edit_post(post.author, post)
    assert permissions.can_delete_post(post.author, post)


# --- access_* -----------------------------------------------------------------------

def not_found(call) -> NotFound:
    with pytest.raises(NotFound) as error:
        call()
    return error.value


def test_access_consultation_says_not_found_for_missing_and_forbidden_alike(db, make_user, make_consultation):
    draft = make_consultation(status="draft")
    members = make_consultation(visibility="members")
    reader = make_user()

    missing = not_found(lambda: permissions.access_consultation(reader, draft.id + members.id + 1000))
    forbidden_draft = not_found(lambda: permissions.access_consultation(reader, draft.id))
    anonymous_draft = not_found(lambda: permissions.access_consultation(AnonymousUserMixin(), draft.id))
    for error in (forbidden_draft, anonymous_draft):
        assert (type(error), str(error.message), error.status_code) == (
            type(missing), str(missing.message), missing.status_code) == (NotFound, str(missing.message), 404)

    assert permissions.access_consultation(reader, members.id) is members
    assert permissions.access_consultation(draft.owner, draft.id) is draft


def test_a_visitor_of_a_members_only_consultation_is_asked_to_log_in(db, make_consultation, make_post):
    members = make_consultation(visibility="members")
    post = make_post(consultation=members)
    for call in (lambda: permissions.access_consultation(AnonymousUserMixin(), members.id),
                 lambda: permissions.access_post(AnonymousUserMixin(), post.id)):
        with pytest.raises(LoginRequired) as error:
            call()
        assert error.value.status_code == 401


def test_access_post_says_not_found_for_missing_and_forbidden_alike(db, make_user, make_consultation, make_post):
    post = make_post(consultation=make_consultation(visibility="members"))
    draft_post = make_post()
    draft_post.consultation.status = ConsultationStatus.DRAFT  # back to draft after a post
    db.session.flush()
    reader = make_user()

    missing = not_found(lambda: permissions.access_post(reader, post.id + draft_post.id + 1000))
    forbidden = not_found(lambda: permissions.access_post(AnonymousUserMixin(), draft_post.id))
    assert (type(forbidden), str(forbidden.message), forbidden.status_code) == (
        type(missing), str(missing.message), missing.status_code)

    assert permissions.access_post(reader, post.id) is post
    assert permissions.access_post(reader, post.id, post.consultation_id) is post


# Ids a URL can carry but the database cannot hold (PostgreSQL integer columns end at
# 2**31 - 1, SQLite's at 2**63 - 1): answering them must not reach the database.


def assert_id_not_found(post, missing_id):
    not_found(lambda: permissions.access_consultation(None, missing_id))
    not_found(lambda: permissions.access_post(None, missing_id))
    not_found(lambda: permissions.access_post(None, post.id, missing_id))


@pytest.mark.parametrize("missing_id", [2**63, 10**20])
def test_ids_beyond_64_bits_are_not_found(db, make_post, missing_id):
    assert_id_not_found(make_post(), missing_id)


def test_ids_beyond_32_bits_are_not_found(db, make_post):
    assert_id_not_found(make_post(), 2**31)


def test_access_post_refuses_a_post_id_under_another_consultation(db, make_user, make_consultation, make_post):
    post = make_post()
    other = make_consultation()
    not_found(lambda: permissions.access_post(make_user(), post.id, other.id))
    not_found(lambda: permissions.access_post(post.consultation.owner, post.id, other.id))
    not_found(lambda: permissions.access_post(make_user("admin"), post.id, other.id))


def test_access_post_hides_posts_of_a_consultation_the_user_cannot_see(db, make_user, make_consultation, make_post):
    post = make_post()
    # No service turns a consultation back into a draft; this stands for any consultation
    # the user may not see (the draft rule is the one that hides from signed-in users).
    post.consultation.status = ConsultationStatus.DRAFT
    db.session.flush()
    not_found(lambda: permissions.access_post(make_user(), post.id, post.consultation_id))
    assert permissions.access_post(post.consultation.owner, post.id, post.consultation_id) is post


def test_post_service_enforces_the_matrix(db, make_user, make_post):
    """The services ask the same functions: a spot check that a refusal in the table is a
    refusal in the service."""
    from forum.services.errors import PermissionDenied

    post = make_post()
    stranger = make_user()
    assert not permissions.can_edit_post(stranger, post)
    with pytest.raises(PermissionDenied):
        post_service.edit_post(stranger, post, body="Not mine")
    assert not permissions.can_endorse(post.author, post)
    with pytest.raises(PermissionDenied):
        post_service.endorse(post.author, post)


@pytest.mark.parametrize(("role", "status", "visibility", "consultation", "topic", "thread"), FOLLOWS,
                         ids=_ids(FOLLOWS, 3))
def test_follow(db, make_actor, make_consultation, make_post, role, status, visibility, consultation, topic,
                thread):
    place = make_consultation(status="draft", visibility=visibility)
    actor = make_actor(role, place)
    response = None
    if status != "draft":
        consultation_service.set_status(place.owner, place, "open")
        response = make_post(consultation=place)
    if status == "closed":
        consultation_service.set_status(place.owner, place, "closed")

    assert {
        "consultation": permissions.can_follow(actor, place),
        "topic": permissions.can_follow(actor, place.topics[0]),
        "thread": permissions.can_follow(actor, response) if response is not None else None,
    } == {"consultation": consultation, "topic": topic, "thread": thread}


@pytest.mark.parametrize(("what", "follow"), FOLLOWED_THREADS, ids=[row[0] for row in FOLLOWED_THREADS])
def test_follow_thread(db, make_user, make_post, make_event, what, follow):
    from forum.services import moderation

    reader = make_user()
    if what == "room message":
        event = make_event(participants=1)
        post = post_service.post_in_room(event.test_participants[0], event.plenary, body="Hello")
        reader = event.test_participants[0]
    else:
        post = make_post()
        if what == "reply":
            post = make_post(parent=post)
        elif what == "deleted response":
            post_service.delete_post(post.author, post)
        elif what == "hidden response":
            moderation.hide_post(post.consultation.owner, post, "Off topic")
    assert permissions.can_follow(reader, post) is follow


def _notification_target(target, db, make_user, make_consultation, make_post, make_event, recipient):
    """A notification for `recipient` about `target` (not stored: only what it points at)."""
    from forum.models import EventMember
    from forum.models.events import EventStatus, MemberRole
    from forum.models.notifications import Notification, NotificationKind
    from forum.services import moderation
    from forum.services import polls as poll_service

    kind = NotificationKind.REPLY
    consultation = make_consultation()
    event = make_event(participants=1, status="draft" if target == "draft event" else "published")
    db.session.add(EventMember(event_id=event.id, user_id=recipient.id, role=MemberRole.PARTICIPANT,
                               room_id=event.breakout_rooms[0].id))
    db.session.flush()
    if "room message" in target or target == "back-channel message":
        moderator = event.test_moderators[1][0]
        if target == "back-channel message":
            post = post_service.post_in_room(moderator, event.breakout_rooms[0], body="Between us", backchannel=True)
        else:
            room = event.breakout_rooms[1] if target == "room message of another room" else event.breakout_rooms[0]
            author = event.test_moderators[room.position][0]
            if target.startswith("pending"):
                room.premoderated = True
                author = event.test_participants[0]
                db.session.execute(db.text("UPDATE event_member SET room_id = :r WHERE user_id = :u"),
                                   {"r": room.id, "u": author.id})
                db.session.expire_all()
            post = post_service.post_in_room(author, room, body="In the room")
        return Notification(user_id=recipient.id, kind=kind, post_id=post.id)
    if target.endswith("post") or target == "hidden post of the recipient":
        post = make_post(consultation=consultation, author=recipient if target.endswith("recipient") else None)
        if target.startswith("hidden"):
            moderation.hide_post(consultation.owner, post, "Off topic")
        if target == "deleted post":
            post_service.delete_post(post.author, post)
        return Notification(user_id=recipient.id, kind=kind, post_id=post.id)
    if target.startswith("topic"):
        place = make_consultation(status="draft") if "draft" in target else consultation
        return Notification(user_id=recipient.id, kind=NotificationKind.NEW_TOPIC, topic_id=place.topics[0].id,
                            consultation_id=place.id)
    if target.endswith("poll"):
        poll = poll_service.create_poll(consultation.owner, consultation, {"kind": "single", "question": "Which?"},
                                        ["One", "Two"])
        if target == "opened poll":
            poll_service.open_poll(consultation.owner, poll)
        return Notification(user_id=recipient.id, kind=NotificationKind.NEW_POLL, poll_id=poll.id,
                            consultation_id=consultation.id)
    if target == "consultation":
        return Notification(user_id=recipient.id, kind=NotificationKind.CLOSING_SOON, consultation_id=consultation.id)
    if target.endswith("room"):
        room = event.breakout_rooms[0 if target == "their room" else 1]
        return Notification(user_id=recipient.id, kind=NotificationKind.PLACEMENT, room_id=room.id,
                            event_id=event.id)
    assert event.status is (EventStatus.DRAFT if target == "draft event" else EventStatus.PUBLISHED)
    return Notification(user_id=recipient.id, kind=NotificationKind.EVENT_STARTING, event_id=event.id)


@pytest.mark.parametrize(("target", "recipient"), NOTIFICATION_TARGETS, ids=[row[0] for row in NOTIFICATION_TARGETS])
def test_open_notification(db, make_user, make_consultation, make_post, make_event, target, recipient):
    reader = make_user()
    notification = _notification_target(target, db, make_user, make_consultation, make_post, make_event, reader)
    db.session.expire_all()
    assert permissions.can_open_notification(reader, notification) is recipient
    assert permissions.can_open_notification(make_user(), notification) is False  # never someone else's
    assert permissions.can_open_notification(AnonymousUserMixin(), notification) is False
