"""Every operation of the API, property-based, against its own OpenAPI document (schemathesis).

The document is read from the app (/api/v1/openapi.json), so an operation added to any area is
tested here without a line of this file changing: schemathesis makes one test per operation and
caller. Each operation is called with generated arguments, good and bad: the coverage phase
(boundaries, wrong types, missing and extra fields, huge numbers, odd strings), the fuzzing phase
(random data, valid and invalid), with ODD_STRINGS (NUL bytes, half a UTF-16 pair, right-to-left
marks, ...) mixed into the strings; against a database seeded as the factories make it:
consultations with topics, responses and replies, an event with rooms, messages and a
takeaway, polls. Arguments named after these things (consultation_id, post_id, room_id, ...:
`SEEDED_NAMES`) are mostly drawn from the seeded ids, so that operations reach real objects,
and writes really write, rather than answering 404 throughout.

Who calls: a participant with a write token (registered for the event, placed in its first
room), on SQLite and PostgreSQL, every phase; the organiser with a write token (the moderators'
tools) and a visitor, on SQLite, without the coverage phase (its inputs are the participant's).

Every answer must have: no server error; a status the document lists for that operation (no
operation has a catch-all "default"); the content type and body schema the document gives for
it, errors included; invalid input refused with a 4xx; every refusal in the API's error format.

Deterministic (derandomized, no example database) and bounded: MAX_EXAMPLES per operation and
mode in the fuzzing phase (the knob if the module grows slow: it should run in under two
minutes on two cores). Each test runs in the rolled-back transaction of the `app` fixture and
sends its requests through the test client (an app context each, as in production), so every
operation meets the same seed and nothing written reaches another test.

A failure prints the request as a curl command and the check it failed. (The schemathesis
pytest plugin is used with a schema loaded at collection: its lazy `from_fixture` loader does
not work with pytest 9.)"""

from __future__ import annotations

import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from sqlalchemy import select

from forum import create_app
from forum.api.errors import CODES
from forum.models import Post, Takeaway
from forum.services import consultations, posts, rooms

# Fuzzing examples per operation, for each of valid and invalid data (the coverage phase adds
# its own, fixed, set). Small: the whole module must run in under two minutes on two cores.
MAX_EXAMPLES = 8

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
]

# The names an argument has when it means one of the seeded things: a path parameter, a query
# argument or a body field ("<name>s" for a list of them in a body).
SEEDED_NAMES = {
    "consultations": ["consultation_id"],
    "topics": ["topic_id"],
    "posts": ["post_id", "parent_id", "thread_id", "reply_to", "reply_to_id", "quote_id", "message_id",
              "source_post_id"],
    "events": ["event_id"],
    "rooms": ["room_id"],
    "polls": ["poll_id"],
    "options": ["option_id"],
    "takeaways": ["takeaway_id"],
    "people": ["user_id", "person_id", "author_id"],
}
KIND_OF = {name: kind for kind, names in SEEDED_NAMES.items() for name in names}
MAX_ID = 2**31 - 1  # the largest id a path takes (forum.web.requests.IdConverter)

# Stands for a lone half of a UTF-16 pair ("\ud800"), which JSON can carry and UTF-8 cannot
# (schemathesis' dictionaries take only encodable text): put in bodies by `_odd`.
HALF_PAIR = "<half of a UTF-16 pair>"
# Mixed into generated strings: what a careless or hostile client sends (PostgreSQL refuses NUL
# in text; the database must never see one).
ODD_STRINGS = ["\x00", "a\x00b", HALF_PAIR, "😀", "e\u0301", "\u202e", "%00", "../../etc/passwd", "' OR '1'='1",
               "<script>alert(1)</script>", "9" * 40, "-1", " ", "\r\n"]

ERROR_CODES = set(CODES.values()) | {"invalid", "csrf"}


def _document_app():
    """An app only to read the document from, at collection (its database is never used): the
    tests' own apps come from the fixtures, one per database backend."""
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def _schema(*, coverage: bool):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app(), config=_config(coverage))


def _config(coverage: bool) -> schemathesis.Config:
    """What a schemathesis.toml would say."""
    return schemathesis.Config.from_dict({
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none",
                       "allow-x00": True,
                       # Who calls is the test's choice, not a random Authorization header.
                       "with-security-parameters": False,
                       "dictionaries": {"string": {"dictionary": "odd strings", "probability": 0.25}}},
        "dictionaries": {"odd strings": {"values": ODD_STRINGS}},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": coverage},
                   "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    })


participant_schema = _schema(coverage=True)
caller_schema = _schema(coverage=False)  # the organiser's and the visitor's

# The seeded ids of the test under way, by kind (`seeded` fills it).
SEEDED_IDS: dict[str, list[int]] = {}


def _seeded(name: str, value):
    """A whole number generated for an argument that names a seeded thing: three times in four
    one of theirs (chosen by the number, so the run stays deterministic), else as drawn. The
    coverage phase writes path and query numbers as text: they stay text."""
    ids = SEEDED_IDS.get(KIND_OF.get(name, ""))
    as_text = isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10
    number = int(value) if as_text else value
    # Only numbers an id could be: a number out of range is some test's invalid data.
    if not ids or type(number) is not int or not 0 <= number <= MAX_ID or number % 4 == 3:
        return value
    seeded = ids[number % len(ids)]
    return str(seeded) if as_text else seeded


def _with_seeded_ids(arguments):
    if not isinstance(arguments, dict):
        return arguments
    return {name: [_seeded(name[:-1], item) for item in value] if isinstance(value, list) else _seeded(name, value)
            for name, value in arguments.items()}


for _schema_ in (participant_schema, caller_schema):
    for _part in ("path_parameters", "query", "body"):
        _schema_.hook(f"map_{_part}")(lambda context, value: _with_seeded_ids(value))


def _odd(value):
    """Some of a valid body's strings, chosen by their text, made odd (ODD_STRINGS)."""
    if isinstance(value, str):
        pick = zlib.crc32(value.encode("utf-8", "surrogatepass"))
        return value if pick % 3 else ODD_STRINGS[pick % len(ODD_STRINGS)].replace(HALF_PAIR, "\ud800")
    if isinstance(value, list):
        return [_odd(item) for item in value]
    if isinstance(value, dict):
        return {key: _odd(item) for key, item in value.items()}
    return value


def refusals_are_api_errors(ctx, response, case):
    """Every 4xx, documented or not (405, 404 for a path no route takes), is the API's JSON
    error: {"error": {"code", "message", "fields"}}, with one of its codes."""
    if response.status_code < 400:
        return None
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), \
        f"{response.status_code} answered as {response.headers.get('content-type')}"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert error["code"] in ERROR_CODES and error["message"], error
    return True


@pytest.fixture
def seeded(db, make_user, make_consultation, make_post, make_event, make_poll):
    """A small but realistic site: its participant (registered for the event, placed in its
    first room) and its organiser (who owns the consultations and the event)."""
    organiser = make_user("organiser")
    event = make_event(organiser, rooms=2, moderators=1, participants=2)
    writer, other = event.test_participants
    open_one = make_consultation(organiser, topics=2, title="Open consultation", tags="employment, esf-plus",
                                 brief="## Context\n\nWhy we ask *you*.")
    members = make_consultation(organiser, visibility="members", title="For members")
    closed = make_consultation(organiser, title="Closed consultation")
    draft = make_consultation(organiser, status="draft", title="Draft")
    response = make_post(other, consultation=open_one, subject="A first response", body="With **Markdown**.")
    reply = make_post(writer, parent=response, body="A reply.")
    make_post(other, parent=reply, body="A reply to the reply.")
    make_post(writer, consultation=open_one, topic=open_one.topics[1], on_behalf_of_organisation=True)
    make_post(other, consultation=open_one, deleted=True)
    make_post(other, consultation=members)
    make_post(other, consultation=closed)
    consultations.set_status(organiser, closed, "closed")
    room = event.breakout_rooms[0]
    moderator = event.test_moderators[room.position][0]
    message = posts.post_in_room(writer, room, body="Hello, room.")
    posts.post_in_room(moderator, room, body="Welcome.", parent=message)
    rooms.add_takeaway(moderator, room, "People want shorter forms.")
    polls = [make_poll(open_one), make_poll(room, kind="multiple"), make_poll(members, status="draft")]
    db.session.flush()
    SEEDED_IDS.update({
        "consultations": [c.id for c in (open_one, members, closed, draft)],
        "topics": [t.id for c in (open_one, members, closed) for t in c.topics],
        "posts": list(db.session.scalars(select(Post.id).order_by(Post.id))),
        "events": [event.id],
        "rooms": [r.id for r in event.rooms],
        "polls": [p.id for p in polls],
        "options": [o.id for p in polls for o in p.options],
        "takeaways": list(db.session.scalars(select(Takeaway.id))),
        "people": [u.id for u in (organiser, writer, other, moderator)],
    })
    yield {"participant": writer, "organiser": organiser}
    SEEDED_IDS.clear()


def _with_seeded_objects(case) -> None:
    """The coverage phase varies one argument at a time and gives the others a fixed valid
    value, such as 0 for an id: make those seeded ids, so that the varied argument (a body
    with a NUL byte, say) meets a real object and reaches the service."""
    if case.meta is None or case.meta.phase.name.value != "coverage":
        return  # the fuzzing phase's hooks (above) did it
    varied = getattr(case.meta.phase.data, "parameter", None)
    for arguments in (case.path_parameters, case.query):
        for name, value in (arguments or {}).items():
            if name != varied:
                arguments[name] = _seeded(name, value)


def _call(case, app, client, headers):
    _with_seeded_objects(case)
    if isinstance(case.body, dict) and case.meta is not None and case.meta.phase.name.value == "fuzzing" \
            and case.meta.generation.mode.value == "positive":
        # schemathesis mixes ODD_STRINGS into path and query strings only; valid bodies get them
        # here (the coverage phase's bodies vary one thing at a time: left as they are).
        case.body = _odd(case.body)
    # Through the test client: each request in its own app context and session, as in
    # production (tests/conftest.py), so that a refused request rolls back only its own writes.
    case.call_and_validate(app=app, session=client, headers=headers, additional_checks=[refusals_are_api_errors])


@pytest.fixture
def participant(seeded, bearer) -> dict:
    return bearer(seeded["participant"], "write")


@pytest.fixture
def organiser(seeded, bearer) -> dict:
    return bearer(seeded["organiser"], "write")


@participant_schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_as_a_participant_with_a_write_token(case, app, client, participant):
    _call(case, app, client, participant)


@caller_schema.parametrize()
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_as_the_organiser_with_a_write_token(case, app, client, organiser):
    _call(case, app, client, organiser)


@caller_schema.parametrize()
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_as_a_visitor(case, app, client, seeded):
    _call(case, app, client, {})
