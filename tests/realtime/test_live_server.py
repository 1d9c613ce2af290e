"""Against a real server: gunicorn with one gevent worker on a migrated SQLite file, log-in
over HTTP (http.client) and real Socket.IO clients carrying the session cookie; origins
checked at the handshake. One more server, on PostgreSQL, shows that one client's writes keep
their order even when the first waits on the database (SQLite would block the whole worker,
so nothing could overtake there)."""
from __future__ import annotations

import functools
import json
import queue
import socket
import time
from urllib.parse import urlsplit

import pytest
import socketio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Ping, Request, TextMessage
from wsproto.extensions import PerMessageDeflate

from tests.realtime import live


@pytest.fixture(scope="module")
def servers(live_databases, tmp_path_factory):
    """The SQLite server (allowing its own origin only, by name), and when PostgreSQL is
    reachable a second one on it; started together."""
    port = live.free_port()
    sqlite_url, sqlite_seed = live_databases["sqlite"]
    specs = [("live-sqlite", live.server_env(sqlite_url, SOCKETIO_ALLOWED_ORIGINS=f"http://127.0.0.1:{port}"), port,
              sqlite_seed)]
    if live_databases["postgresql"]:
        postgres_url, postgres_seed = live_databases["postgresql"]
        specs.append(("live-postgresql", live.server_env(postgres_url), None, postgres_seed))
    log_dir = tmp_path_factory.mktemp("live-server")
    started = [live.Server(name, env, log_dir, port=port) for name, env, port, _ in specs]
    try:
        for server, (_, _, _, seeded) in zip(started, specs, strict=True):
            server.wait_until_up()
            server.seed = seeded
        yield {server.name: server for server in started}
    finally:
        live.stop_servers(started)


@pytest.fixture
def server(servers):
    return servers["live-sqlite"]


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
    assert "Live from <strong>gunicorn</strong>." in event["post"]["body_html"]


def test_a_post_over_http_reaches_a_socket(server, readers):
    seed = server.seed
    browser = live.Browser(server.url).login(seed.emails["chen"])
    watcher = readers(server.url)  # anonymous, public consultation
    joined = watcher.join(seed.stream)
    assert joined["ok"] and joined["can_post"] is False

    status = browser.respond(seed.consultation_id, seed.topic_id, "Through the form.")

    assert status == 302
    event = watcher.next_event(where=lambda e: "Through the form." in str(e["post"].get("body_html")))
    assert event["type"] == "post.created" and event["seq"] == joined["seq"] + 1


def test_a_logout_in_another_browser_ends_the_sockets_session(server, readers):
    seed = server.seed
    socket = readers(server.url, live.login(server.url, seed.emails["chen"]))
    assert socket.join(seed.members_stream)["ok"] is True
    other_browser = live.Browser(server.url).login(seed.emails["chen"])

    assert other_browser.logout() == 302

    # The server closes the account's sockets; until then they act for nobody.
    live.assert_signed_out(socket, seed.members_stream, seed.members_topic_id)
    # A page reconnecting with the old cookie is anonymous: members-only is out of reach.
    stale = readers(server.url, socket.cookie)
    assert stale.join(seed.members_stream)["error"]["code"] == 404
    ack = stale.call("post", {"stream": seed.stream, "topic_id": seed.topic_id, "body": "Still me?"})
    assert ack["ok"] is False and ack["error"]["code"] == 401


def test_a_reader_catching_up_gets_in_pages_exactly_what_was_broadcast(server, readers):
    import json

    seed = server.seed
    writer = readers(server.url, live.login(server.url, seed.emails["bruno"]))
    watcher, late = readers(server.url), readers(server.url)
    joined = watcher.join(seed.stream)
    assert joined["ok"] and writer.join(seed.stream)["ok"]
    for n in range(55):  # more than a page (50)
        ack = writer.call("post", {"stream": seed.stream, "topic_id": seed.topic_id, "body": f"Paged {n}."})
        assert ack["ok"], ack
    live_events = [watcher.next_event(where=lambda e, n=n: e["seq"] > joined["seq"] + n) for n in range(55)]

    first = late.join(seed.stream, last_seq=joined["seq"])
    second = late.call("sync", {"stream": seed.stream, "last_seq": first["missed"][-1]["seq"]})

    assert (len(first["missed"]), first["more"], len(second["events"]), second["more"]) == (50, True, 5, False)
    caught_up = first["missed"] + second["events"]
    # What the late reader got, through a real server's JSON, is what the watcher got live.
    assert [json.dumps(e) for e in caught_up] == [json.dumps(e) for e in live_events]


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]], ids=["polling", "websocket"])
def test_a_socket_from_an_origin_not_allowed_is_refused_at_connect(server, readers, transports):
    with pytest.raises(socketio.exceptions.ConnectionError):
        readers(server.url, origin="http://evil.example", transports=transports)
    # The allowed origin (the site's own) connects with the same transport.
    allowed = readers(server.url, origin=server.url, transports=transports)
    assert allowed.join(server.seed.stream)["ok"] is True


# --- one client's writes, in order ------------------------------------------------------

@pytest.fixture
def postgres_server(live_postgres, servers):
    """The server on PostgreSQL, whose driver lets a waiting query yield to other greenlets
    (as in production); skipped without PostgreSQL, except under CI=true."""
    server = servers["live-postgresql"]
    server.database_url = live_postgres[0]
    return server


def test_one_clients_writes_are_numbered_in_the_order_sent(postgres_server, readers):
    import psycopg
    from sqlalchemy.engine import make_url

    server, seed = postgres_server, postgres_server.seed
    writer = readers(server.url, live.login(server.url, seed.emails["amina"]))
    watcher = readers(server.url)
    assert watcher.join(seed.stream)["ok"]
    root = writer.call("post", {"stream": seed.stream, "topic_id": seed.topic_id, "body": "A thread."})
    assert root["ok"], root
    acks: queue.Queue[tuple[str, dict]] = queue.Queue()

    # Another transaction holds the thread's row for a moment, so that a reply to it waits.
    url = make_url(server.database_url)
    connect = functools.partial(psycopg.connect, host=url.host, port=url.port, user=url.username,
                                password=url.password, dbname=url.database)
    with connect() as blocker, connect(autocommit=True) as observer:
        blocker.execute("SELECT id FROM post WHERE id = %s FOR UPDATE", (root["post"]["id"],))
        writer.client.emit("post", {"stream": seed.stream, "parent_id": root["post"]["id"], "body": "Sent first."},
                           callback=lambda ack: acks.put(("first", ack)))
        writer.client.emit("post", {"stream": seed.stream, "topic_id": seed.topic_id, "body": "Sent second."},
                           callback=lambda ack: acks.put(("second", ack)))
        # However slow the machine, the first write is seen waiting for the lock before going on.
        live.wait_for(lambda: observer.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()[0], live.MESSAGE_TIMEOUT, "the first write to wait for the lock")
        try:  # in order, nothing can be answered while the first write waits
            early = [acks.get(timeout=1)]  # a chance for the second to overtake, if it could
        except queue.Empty:
            early = []
        blocker.rollback()
    answers = dict(early + [acks.get(timeout=live.MESSAGE_TIMEOUT) for _ in range(2 - len(early))])

    assert early == [], f"answered while the first write waited: {early}"
    assert answers["first"]["ok"] and answers["second"]["ok"], answers
    assert answers["first"]["post"]["seq"] < answers["second"]["post"]["seq"], answers
    seen = [watcher.next_event(where=lambda e: "Sent" in str(e["post"].get("body_html")))["post"]["id"]
            for _ in range(2)]
    assert seen == [answers["first"]["post"]["id"], answers["second"]["post"]["id"]]


class RawWebSocket:
    """A WebSocket opened by hand (wsproto on a plain socket) that offers permessage-deflate,
    as every browser does; speaks just enough Engine.IO 4 / Socket.IO 5 for one test."""

    def __init__(self, base_url: str, path: str, origin: str):
        url = urlsplit(base_url)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=live.MESSAGE_TIMEOUT)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(Request(
            host=url.netloc, target=path, extensions=[PerMessageDeflate()],
            extra_headers=[(b"Origin", origin.encode()), (b"User-Agent", live.USER_AGENT.encode())])))
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = self.sock.recv(65536)
            assert chunk, f"connection closed during the handshake: {raw!r}"
            raw += chunk
        head, _, _ = raw.partition(b"\r\n\r\n")
        self.status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.headers = [tuple(part.strip() for part in line.split(":", 1)) for line in header_lines]
        self.pending: list[str] = []
        self.accepted = None
        self._feed(raw)

    def _feed(self, data: bytes) -> None:
        self.ws.receive_data(data)
        text = ""
        for event in self.ws.events():
            if isinstance(event, AcceptConnection):
                self.accepted = event
            elif isinstance(event, Ping):
                self.sock.sendall(self.ws.send(event.response()))
            elif isinstance(event, TextMessage):
                text += event.data
                if event.message_finished:
                    if text == "2":  # Engine.IO ping
                        self.send("3")
                    else:
                        self.pending.append(text)
                    text = ""
            else:
                raise AssertionError(f"unexpected WebSocket event {event!r}")

    def send(self, text: str) -> None:
        self.sock.sendall(self.ws.send(TextMessage(data=text)))

    def receive(self, where=lambda text: True) -> str:
        deadline = time.monotonic() + live.MESSAGE_TIMEOUT
        while True:
            for i, text in enumerate(self.pending):
                if where(text):
                    return self.pending.pop(i)
            left = deadline - time.monotonic()
            assert left > 0, f"no matching message within {live.MESSAGE_TIMEOUT}s; got {self.pending!r}"
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            assert data, "the server closed the connection"
            self._feed(data)

    def close(self) -> None:
        self.sock.close()


def test_the_websocket_declines_permessage_deflate_and_socketio_messages_flow(server):
    """Browsers offer permessage-deflate; the server must not accept it (it compressed every
    broadcast once per socket), and Socket.IO must work on the plain WebSocket."""
    seed = server.seed
    ws = RawWebSocket(server.url, "/socket.io/?EIO=4&transport=websocket", origin=server.url)
    try:
        assert ws.status_line.startswith("HTTP/1.1 101"), ws.status_line
        assert [value for name, value in ws.headers if name.lower() == "sec-websocket-extensions"] == []
        assert ws.accepted is not None and ws.accepted.extensions == []

        assert ws.receive().startswith("0{")  # Engine.IO open
        ws.send("40")  # Socket.IO connect
        assert ws.receive().startswith("40{")
        ws.send("420" + json.dumps(["join", {"stream": seed.stream}]))
        joined = json.loads(ws.receive(lambda text: text.startswith("430"))[3:])[0]
        assert joined["ok"] is True

        body = "Plain frames, " + "no deflate. " * 400  # an event of several kB
        status = live.Browser(server.url).login(seed.emails["amina"]).respond(
            seed.consultation_id, seed.topic_id, body)
        assert status == 302

        text = ws.receive(lambda text: text.startswith("42") and "no deflate." in text)
        name, event = json.loads(text[2:])
        assert (name, event["type"], event["seq"]) == ("event", "post.created", joined["seq"] + 1)
        assert len(text) > 4000
    finally:
        ws.close()
