"""Against a real server: gunicorn with one gevent worker, a migrated SQLite file, log-in over
HTTP and real Socket.IO clients carrying the session cookie."""
from __future__ import annotations

import pytest
import socketio

from tests.realtime import live


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("live-server")
    database_url = f"sqlite:///{workdir / 'plenary.db'}"
    live.migrate(database_url)
    seeded = live.seed(database_url)
    port = live.free_port()
    env = live.server_env(database_url, SOCKETIO_ALLOWED_ORIGINS=f"http://127.0.0.1:{port}")
    server = live.Server("live", env, workdir, port=port)  # the allowlist names its port
    try:
        server.wait_until_up()
        server.seed = seeded
        yield server
    finally:
        server.stop()


@pytest.fixture
def readers():
    made: list[live.Reader] = []

    def _reader(*args, **kwargs) -> live.Reader:
        reader = live.Reader(*args, **kwargs)
        made.append(reader)
        return reader

    yield _reader
    for reader in made:
        reader.close()


def test_a_post_over_a_real_socket_reaches_another_signed_in_reader(server, readers):
    seed = server.seed
    amina = readers(server.url, live.login(server.url, seed.emails["amina"]))
    bruno = readers(server.url, live.login(server.url, seed.emails["bruno"]))
    a_join, b_join = amina.join(seed.stream), bruno.join(seed.stream)
    assert a_join["ok"] and b_join["ok"]
    assert b_join["can_post"] is True  # the cookie made the socket Bruno's
    assert {u["name"] for u in b_join["presence"]["users"]} >= {"Amina", "Bruno"}

    ack = amina.call("post", {"stream": seed.stream, "topic_id": seed.topic_id,
                              "body": "Live from **gunicorn**.", "client_key": "live-1"})

    assert ack["ok"] is True, ack
    event = bruno.next_event(where=lambda e: e["post"]["id"] == ack["post"]["id"])
    assert (event["type"], event["seq"], event["stream"]) == ("post.created", ack["post"]["seq"], seed.stream)
    assert "Live from <strong>gunicorn</strong>." in event["html"]


def test_a_post_over_http_reaches_a_socket(server, readers):
    seed = server.seed
    browser = live.Browser(server.url).login(seed.emails["chen"])
    watcher = readers(server.url)  # anonymous, public consultation
    joined = watcher.join(seed.stream)
    assert joined["ok"] and joined["can_post"] is False

    status = browser.respond(seed.consultation_id, seed.topic_id, "Through the form.")

    assert status == 302
    event = watcher.next_event(where=lambda e: "Through the form." in e["html"])
    assert event["type"] == "post.created" and event["seq"] == joined["seq"] + 1


def test_a_logout_in_another_browser_ends_the_sockets_session(server, readers):
    seed = server.seed
    socket = readers(server.url, live.login(server.url, seed.emails["chen"]))
    assert socket.join(seed.members_stream)["ok"] is True
    other_browser = live.Browser(server.url).login(seed.emails["chen"])

    assert other_browser.logout() == 302

    ack = socket.call("post", {"stream": seed.members_stream, "topic_id": seed.members_topic_id, "body": "Still me?"})
    assert ack["ok"] is False and ack["error"]["code"] == 401
    assert socket.join(seed.members_stream)["error"]["code"] == 404


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]], ids=["polling", "websocket"])
def test_a_socket_from_an_origin_not_allowed_is_refused_at_connect(server, readers, transports):
    with pytest.raises(socketio.exceptions.ConnectionError):
        readers(server.url, origin="http://evil.example", transports=transports)
    # The allowed origin (the site's own) connects with the same transport.
    allowed = readers(server.url, origin=server.url, transports=transports)
    assert allowed.join(server.seed.stream)["ok"] is True
