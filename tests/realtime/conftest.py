"""Fixtures of the real-time tests (tests/realtime/).

`connect(http_client=None, headers=None)` opens a Flask-SocketIO test client. Pass a logged-in
Flask test client to share its session cookie, as a browser's socket shares the page's.
Every message the socket sends runs in a fresh app context, as on a real server: its own
`db.session` (bound to the test's connection, so it sees the test's data) and its own `g`
(Flask-Login caches the current user there; a shared `g` would let one socket act as another).

Commit the test's own session (`db.session.commit()`) after building the data: it only
releases a savepoint (the test's transaction is still rolled back at the end), and it
broadcasts the events the factories queued then, not in the middle of what the test watches.

The live-server helpers (gunicorn subprocesses, log-in over http.client, real
`socketio.Client`s) are in tests/realtime/live.py.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum.extensions import socketio
from forum.models import Post, StreamEvent


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "redis: needs Redis at 127.0.0.1:6379 (skipped without it, except under CI=true where it fails)",
    )


class SocketClient:
    """One Socket.IO connection to the app under test, with what it received kept in order."""

    def __init__(self, app, http_client=None, headers=None):
        self.app = app
        with app.app_context():
            self.raw = socketio.test_client(app, flask_test_client=http_client, headers=headers)
        self._inbox: list[tuple[str, object]] = []

    @property
    def connected(self) -> bool:
        return self.raw.is_connected()

    def emit(self, event: str, *args):
        """Send a message; returns the server's acknowledgement."""
        with self.app.app_context():
            return self.raw.emit(event, *args, callback=True)

    def join(self, stream: str, last_seq: int | None = None) -> dict:
        data = {"stream": stream}
        if last_seq is not None:
            data["last_seq"] = last_seq
        return self.emit("join", data)

    def post(self, stream: str, body: str, **fields) -> dict:
        return self.emit("post", {"stream": stream, "body": body, **fields})

    def _drain(self) -> None:
        # Straight from the test client's queue: what arrived before a disconnect still counts.
        arrived, self.raw.queue = self.raw.queue, []
        self._inbox.extend((m["name"], m["args"][0] if m["args"] else None) for m in arrived)

    def received(self, name: str) -> list:
        """The messages named `name` received since the last call (they are consumed). Presence
        announcements that are due are sent first (see `presence_announcements`)."""
        deliver_presence()
        self._drain()
        wanted = [data for n, data in self._inbox if n == name]
        self._inbox = [(n, data) for n, data in self._inbox if n != name]
        return wanted

    def events(self) -> list[dict]:
        return self.received("event")

    def disconnect(self) -> None:
        with self.app.app_context():
            self.raw.disconnect()


_scheduled_presence: list[str] = []


def deliver_presence() -> list[str]:
    """Send the presence announcements scheduled so far, as their background tasks would
    PRESENCE_INTERVAL seconds later; returns their streams."""
    from forum.presence import announcer

    due, _scheduled_presence[:] = list(_scheduled_presence), []
    for stream in due:
        announcer.announce(stream)
    return due


@pytest.fixture(autouse=True)
def presence_announcements(request, monkeypatch):
    """Presence announcements are scheduled as here rather than started in the background:
    `deliver_presence()` (which `SocketClient.received` calls) sends them, so that tests
    neither wait a PRESENCE_INTERVAL nor race a background thread. Yields the list of
    streams with an announcement scheduled and not yet sent."""
    from forum.presence import announcer

    if "app" in request.fixturenames:  # made first: creating the app sets the announcer up
        request.getfixturevalue("app")  # (not asked for otherwise: it would run every test per backend)
    monkeypatch.setattr(announcer, "start_task", lambda function, stream: _scheduled_presence.append(stream))
    _scheduled_presence.clear()
    announcer._scheduled.clear()
    yield _scheduled_presence
    _scheduled_presence.clear()
    announcer._scheduled.clear()


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttles are process-wide and SQLite reuses ids: one test's typing notice must not
    silence the next test's."""
    from forum.presence import presence

    presence._last_seen.clear()
    yield
    presence._last_seen.clear()


@pytest.fixture
def connect(app):
    """connect(http_client=None, headers=None) -> SocketClient; all are disconnected at the end
    (presence and rooms are process-wide, and SQLite reuses ids: nothing may leak into the next test)."""
    made: list[SocketClient] = []

    def _connect(http_client=None, headers=None) -> SocketClient:
        client = SocketClient(app, http_client, headers)
        made.append(client)
        assert client.connected, "the server refused the socket connection"
        return client

    yield _connect
    for client in made:
        if client.connected:
            client.disconnect()


@pytest.fixture
def user_client(app, login):
    """user_client(user) -> a new Flask test client logged in as `user`."""
    def _client(user):
        client = app.test_client()
        login(client, user)
        return client
    return _client


@pytest.fixture
def stored(db):
    """stored() -> (posts, stream events) in the database now, as a fresh query sees it."""
    def _stored() -> tuple[int, int]:
        db.session.expire_all()
        return (db.session.scalar(select(func.count(Post.id))),
                db.session.scalar(select(func.count(StreamEvent.id))))
    return _stored


@pytest.fixture
def readers():
    """readers(base_url, cookie=None, origin=None, transports=None) -> a connected real
    `socketio.Client` (tests/realtime/live.py's Reader); all are closed at the end."""
    from tests.realtime.live import Reader

    made: list[Reader] = []

    def _reader(*args, **kwargs) -> Reader:
        reader = Reader(*args, **kwargs)
        made.append(reader)
        return reader

    yield _reader
    for reader in made:
        reader.close()


_preparation = None  # live.DatabasePreparation, once the run is known to need real servers


def pytest_collection_finish(session):
    # Migrating takes seconds of subprocess time: start it now, so that it overlaps the
    # in-process tests that come first, when some collected test needs a real server.
    global _preparation
    if any("live_databases" in getattr(item, "fixturenames", ()) for item in session.items):
        from tests.realtime import live

        _preparation = live.DatabasePreparation(Path(tempfile.mkdtemp(prefix="plenary-live-")))


def pytest_sessionfinish(session):
    if _preparation is not None:  # drops the PostgreSQL database even if no test got to use it
        _preparation.close()
        shutil.rmtree(_preparation.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def live_databases(tmp_path_factory):
    """Databases for the real servers, migrated with `flask db upgrade` and filled through the
    services: {"sqlite": (url, seed), "postgresql": (url, seed) or None, "postgresql_problem"}.
    PostgreSQL is used when reachable (a database of its own, dropped at the end)."""
    from tests.realtime import live

    preparation = _preparation or live.DatabasePreparation(tmp_path_factory.mktemp("live"))
    try:
        urls = preparation.wait()
        found = {name: (url, live.seed(url)) if url else None for name, url in urls.items()}
        found["postgresql_problem"] = preparation.postgresql_problem
        yield found
    finally:
        preparation.close()


@pytest.fixture(scope="session")
def live_postgres(live_databases):
    """(url, seed) of the PostgreSQL database for real servers; skipped (failed under CI=true)
    without a PostgreSQL server."""
    from tests.realtime import live

    if live_databases["postgresql"] is None:
        live.unavailable(live_databases["postgresql_problem"])
    return live_databases["postgresql"]


# rate_limited_app(**config): a second app with rate limits on (tests/web/conftest.py says why).
from tests.web.conftest import rate_limited_app  # noqa: E402,F401
