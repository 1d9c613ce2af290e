"""The events' role matrix over Socket.IO: the rows of tests/test_roles.py's MATRIX that go over
the socket (joining room 1 and its moderators' stream; posting in room 1, the plenary and the
moderators' stream), for every role. Allowed -> ok and the post stored; refused -> an error
(403/404; 401 for anonymous) and nothing stored."""
from __future__ import annotations

import pytest

from forum.services import control_room, events
from tests.test_roles import ROLES, allowed, build_scene

SOCKET = {
    # socket action: (MATRIX row, what is sent)
    "join room 1": ("view room 1", "join", "room1", None),
    "join room 1's moderators stream": ("read and write room 1's moderators channel", "join", "moderators", None),
    "post in room 1": ("post in room 1", "post", "room1", "Hello room one"),
    "post in the plenary": ("post in the plenary", "post", "plenary", "Hello plenary"),
    "post in room 1's moderators stream": ("read and write room 1's moderators channel", "post", "moderators",
                                           "Between us"),
    "join the event's control room stream": ("watch the control room", "join", "control", None),
}
ROWS = [(role, name) for name in SOCKET for role in ROLES]


@pytest.fixture
def socket_scene(db, make_event, make_user, user_client, connect):
    scene = build_scene(db, make_event, make_user)
    db.session.commit()
    scene.streams = {"room1": events.room_stream(scene.room1), "plenary": events.room_stream(scene.plenary),
                     "moderators": events.moderators_stream(scene.room1),
                     "control": control_room.control_stream(scene.event)}
    scene.connect = lambda role: connect() if role == "anonymous" else connect(user_client(scene.actors[role]))
    return scene


@pytest.mark.parametrize(("role", "name"), ROWS, ids=[f"{n}-{r}".replace(" ", "_") for r, n in ROWS])
def test_socket(socket_scene, stored, role, name):
    row, verb, stream, body = SOCKET[name]
    expected = allowed(role, row)
    socket = socket_scene.connect(role)
    before = stored()

    ack = socket.join(socket_scene.streams[stream]) if verb == "join" else socket.post(
        socket_scene.streams[stream], body)

    assert ack["ok"] is expected, ack
    if expected and verb == "post":
        assert ack["post"]["status"] == "published"
        assert stored()[0] == before[0] + 1
    if not expected:
        # A visitor not signed in may be asked to log in (401) instead (posting needs an account).
        assert ack["error"]["code"] in ((401, 403, 404) if role == "anonymous" else (403, 404)), ack
        assert stored() == before
