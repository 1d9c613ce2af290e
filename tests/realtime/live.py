"""Helpers for the tests against real servers: gunicorn (gevent worker) subprocesses on free
ports, a database migrated with `flask db upgrade` and filled through the services, log-in
over http.client, and real `socketio.Client`s whose messages are waited for with timeouts.

Only 127.0.0.1 is ever contacted.
"""
from __future__ import annotations

import contextlib
import http.client
import itertools
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import socketio

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET_KEY = "realtime-live-test-secret"
PASSWORD = "correct horse battery staple"
USER_AGENT = "plenary-realtime-tests/1.0"  # the same on log-in and socket: sessions are "strong"
IN_CI = os.environ.get("CI", "").strip().lower() == "true"
# Upper bounds for conditions waited on: generous, for CI's busy 2-core machines (where
# several gunicorn processes import the app at once); reaching one is a failure, never a pace.
STARTUP_TIMEOUT = 90.0
MESSAGE_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float, what: str, interval: float = 0.05):
    """Poll `condition()` until it returns something truthy (returned) or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)  # the pause between two polls of a condition, not a synchronisation


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"REDIS_URL", "SOCKETIO_ALLOWED_ORIGINS", "SOCKETIO_CHANNEL", "PLENARY_ENV",
                     "SOCKETIO_WEBSOCKET_COMPRESSION"}}
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY, "RATELIMIT_ENABLED": "false",
                "SOCKETIO_ASYNC_MODE": "gevent", "PYTHONUNBUFFERED": "1", **extra})
    return env


def migrate(*database_urls: str) -> None:
    """`flask db upgrade` on each database, all at once."""
    runs = [(url, subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                                   env=server_env(url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)) for url in database_urls]
    for url, run in runs:
        output, _ = run.communicate(timeout=120)
        assert run.returncode == 0, f"flask db upgrade failed on {url}:\n{output}"


class DatabasePreparation:
    """The databases for real servers: a SQLite file, and a PostgreSQL database of its own when
    a server is reachable, both migrated with `flask db upgrade`. The work runs in a thread,
    started as soon as the run is known to need it, so that it overlaps the in-process tests;
    `wait()` returns {"sqlite": url, "postgresql": url or None}; `close()` drops PostgreSQL's."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.urls: dict[str, str | None] = {"sqlite": f"sqlite:///{directory / 'plenary.db'}", "postgresql": None}
        self.postgresql_problem: str | None = None
        self._postgres = contextlib.ExitStack()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._prepare, name="live-databases", daemon=True)
        self._thread.start()

    def _prepare(self) -> None:
        import pytest

        from tests.conftest import postgres_database

        try:
            try:
                self.urls["postgresql"] = self._postgres.enter_context(postgres_database("plenary_live"))
            except (pytest.skip.Exception, pytest.fail.Exception) as exc:  # not reachable
                self.postgresql_problem = str(exc)
            migrate(*(url for url in self.urls.values() if url))
        except BaseException as exc:  # handed to the test that waits
            self._error = exc

    def wait(self, timeout: float = 180) -> dict[str, str | None]:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"the databases were not ready within {timeout}s")
        if self._error is not None:
            raise self._error
        return self.urls

    def close(self) -> None:
        self._thread.join(180)
        self._postgres.close()


@dataclass
class Seed:
    """What `seed` created: ids and e-mail addresses (the objects belong to a closed session)."""
    consultation_id: int
    topic_id: int
    members_consultation_id: int
    members_topic_id: int
    emails: dict[str, str] = field(default_factory=dict)

    @property
    def stream(self) -> str:
        return f"consultation:{self.consultation_id}"

    @property
    def members_stream(self) -> str:
        return f"consultation:{self.members_consultation_id}"


@contextlib.contextmanager
def app_for(database_url: str):
    """An app context on `database_url`, as another server process would have: its own app,
    whose connections are closed afterwards."""
    from forum import create_app
    from forum.extensions import db

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    try:
        with app.app_context():
            yield
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def seed(database_url: str, people=("amina", "bruno", "chen")) -> Seed:
    """Users and two open consultations (one public, one for members), made with the services
    in an app context of their own, and committed."""
    from forum.extensions import db
    from forum.models.consultations import ConsultationStatus
    from forum.services import accounts, consultations

    with app_for(database_url):
        def person(name: str):
            return accounts.register(f"{name}@example.org", PASSWORD, accounts.Profile(
                display_name=name.title(), organisation="Test Organisation", organisation_type="ngo",
                country="BE"))

        organiser = person("organiser")
        accounts.set_roles(None, organiser, organiser=True)
        made = []
        for visibility in ("public", "members"):
            consultation = consultations.create_consultation(organiser, consultations.ConsultationInput(
                title=f"Live {visibility} consultation", visibility=visibility))
            topic = consultations.add_topic(organiser, consultation, consultations.TopicInput(title="Housing"))
            consultations.set_status(organiser, consultation, ConsultationStatus.OPEN.value)
            made.append((consultation, topic))
        emails = {name: person(name).email for name in people}
        db.session.flush()
        result = Seed(made[0][0].id, made[0][1].id, made[1][0].id, made[1][1].id, emails)
        db.session.commit()
        return result


class Server:
    """`gunicorn -k gevent -w 1 wsgi:app` on a free port of 127.0.0.1. Its master and worker are
    a process group of their own, so that `kill()` ends both at once, as a crash would."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path, port: int | None = None):
        self.name = name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self.env = env
        self._log = open(self.log_path, "w")
        self.process = self._spawn()

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen(
            [str(BIN / "gunicorn"), "--worker-class", "gevent", "--workers", "1",
             "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "1", "--no-control-socket", "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL to the master and its worker together: sockets are cut, nothing is cleaned up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server's live processes (its group)."""
        total = 0
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        fields = stat.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[2]) == self.process.pid:  # the process group: master and worker
                    total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def start_again(self) -> None:
        """The same server (port, environment, database) started anew after `kill()`; its log
        goes on in the same file. Returns at once: wait with `wait_until_up()` if needed."""
        assert self.process.poll() is not None, "start_again() after kill()"
        self._log.write(f"\n--- {self.name} started again ---\n")
        self._log.flush()
        self.process = self._spawn()

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_until_up(self, timeout: float = STARTUP_TIMEOUT) -> None:
        def answers():
            if self.process.poll() is not None:
                raise AssertionError(f"server {self.name} exited with {self.process.returncode}:\n{self.log()}")
            try:
                return request(self.url, "GET", "/login")[0] == 200
            except OSError:
                return False
        wait_for(answers, timeout, f"server {self.name} to answer on {self.url}", interval=0.1)

    def signal_stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown

    def stop(self) -> None:
        self.signal_stop()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        self._log.close()


def stop_servers(servers: list[Server]) -> None:
    for server in servers:
        server.signal_stop()
    for server in servers:
        server.stop()


def start_servers(specs: list[tuple[str, dict[str, str]]], log_dir: Path) -> list[Server]:
    """Start several servers at once (their imports overlap) and wait until all answer."""
    servers = [Server(name, env, log_dir) for name, env in specs]
    try:
        for server in servers:
            server.wait_until_up()
    except BaseException:
        stop_servers(servers)
        raise
    return servers


# --- HTTP ---------------------------------------------------------------------------

def request(base_url: str, method: str, path: str, *, form: dict | None = None, cookie: str | None = None,
            timeout: float = MESSAGE_TIMEOUT) -> tuple[int, dict[str, list[str]], str]:
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    headers = {"User-Agent": USER_AGENT}
    body = None
    if cookie:
        headers["Cookie"] = cookie
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        received: dict[str, list[str]] = {}
        for name, value in response.getheaders():
            received.setdefault(name.lower(), []).append(value)
        return response.status, received, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def _session_cookie(headers: dict[str, list[str]]) -> str | None:
    for value in headers.get("set-cookie", []):
        pair = value.split(";", 1)[0]
        if pair.startswith("session="):
            return pair
    return None


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Browser:
    """One browser's cookie (Flask keeps the whole session in it, so every answer may renew it)."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookie: str | None = None

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        status, headers, body = request(self.base_url, method, path, form=form, cookie=self.cookie)
        self.cookie = _session_cookie(headers) or self.cookie
        return status, body

    def submit(self, page_path: str, action: str, form: dict) -> int:
        """Send a form the way a browser does: load its page (for the CSRF token), then POST."""
        status, html = self.request("GET", page_path)
        assert status == 200, f"GET {page_path} answered {status}"
        status, _ = self.request("POST", action, form={"csrf_token": csrf_token(html), **form})
        return status

    def login(self, email: str, password: str = PASSWORD) -> "Browser":
        status = self.submit("/login", "/login", {"email": email, "password": password})
        assert status == 302, f"logging in as {email} answered {status}"
        return self

    def logout(self) -> int:
        return self.submit("/", "/logout", {})

    def respond(self, consultation_id: int, topic_id: int, body: str) -> int:
        return self.submit(f"/consultations/{consultation_id}", f"/consultations/{consultation_id}/responses",
                           {"topic_id": topic_id, "body": body})


def login(base_url: str, email: str, password: str = PASSWORD) -> str:
    """The session cookie of a browser that just logged in as `email`."""
    return Browser(base_url).login(email, password).cookie


# --- Sockets --------------------------------------------------------------------------

class Reader:
    """A real Socket.IO client; what it receives is queued and waited for with timeouts."""

    _numbers = itertools.count(1)

    def __init__(self, base_url: str, cookie: str | None = None, origin: str | None = None,
                 transports: list[str] | None = None, wait_timeout: float = MESSAGE_TIMEOUT):
        self.name = f"reader-{next(self._numbers)}"
        # websocket-client adds an Origin of its own (the server's) unless told not to; a test
        # that names the origin wants exactly that one sent.
        options = {"websocket_extra_options": {"suppress_origin": True}} if origin else {}
        self.client = socketio.Client(reconnection=False, **options)
        self.messages: queue.Queue[tuple[str, object]] = queue.Queue()
        for name in ("event", "presence", "typing", "sync"):
            self.client.on(name, self._keeper(name))
        self.cookie = cookie
        headers = {"User-Agent": USER_AGENT}
        if cookie:
            headers["Cookie"] = cookie
        if origin:
            headers["Origin"] = origin
        self.client.connect(base_url, headers=headers, transports=transports, wait_timeout=wait_timeout)

    def _keeper(self, name):
        def keep(data=None):
            self.messages.put((name, data))
        return keep

    def call(self, event: str, data) -> dict:
        return self.client.call(event, data, timeout=MESSAGE_TIMEOUT)

    def join(self, stream: str, last_seq: int | None = None) -> dict:
        data = {"stream": stream} if last_seq is None else {"stream": stream, "last_seq": last_seq}
        return self.call("join", data)

    def next_message(self, name: str, where=lambda data: True, timeout: float = MESSAGE_TIMEOUT):
        """The next message called `name` matching `where`; earlier non-matching ones are dropped."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: no matching {name!r} message within {timeout}s")
            try:
                got, data = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if got == name and where(data):
                return data

    def next_event(self, where=lambda event: True, timeout: float = MESSAGE_TIMEOUT) -> dict:
        return self.next_message("event", where, timeout)

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


def assert_signed_out(socket: Reader, stream: str, topic_id: int) -> None:
    """After the account logged out elsewhere (the logout's answer received): the server
    closes the socket, and until it has, the socket acts for nobody. Whichever comes first
    on a slow machine, a post is never accepted; and the socket is closed in the end."""
    if socket.client.connected:
        try:
            ack = socket.call("post", {"stream": stream, "topic_id": topic_id, "body": "Still me?"})
        except (socketio.exceptions.BadNamespaceError, socketio.exceptions.TimeoutError):
            assert not socket.client.connected, "no answer, yet the socket is still open"
        else:
            assert ack["ok"] is False and ack["error"]["code"] == 401, ack
    wait_for(lambda: not socket.client.connected, MESSAGE_TIMEOUT, "the server to close the socket")


# --- Redis ------------------------------------------------------------------------------

def unavailable(message: str):
    """Skip the test, or fail it under CI=true (where everything it needs must be there)."""
    import pytest

    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def redis_client(port: int):
    import redis

    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2, socket_connect_timeout=2)


def require_redis(port: int = 6379) -> None:
    import redis

    try:
        redis_client(port).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis not reachable at 127.0.0.1:{port}: {exc}")


def subscribers(port: int, channel: str) -> int:
    """How many connections listen on the Socket.IO channel (one per server process that has
    started its message-queue listener)."""
    import redis

    try:
        return dict(redis_client(port).pubsub_numsub(channel)).get(channel.encode(), 0)
    except redis.RedisError:
        return 0


class OwnRedis:
    """A redis-server of the test's own on a free port, without persistence, that the test may
    stop and start again (on the same port)."""

    def __init__(self, log_dir: Path):
        import shutil

        self.binary = shutil.which("redis-server")
        if self.binary is None:
            unavailable("redis-server not found on PATH (apt-get install redis-server)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_dir / f"redis-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--daemonize", "no"],
                stdout=log, stderr=subprocess.STDOUT)

        def answers():
            if self.process.poll() is not None:
                raise AssertionError(f"redis-server exited with {self.process.returncode}:\n"
                                     f"{self.log_path.read_text(errors='replace')}")
            try:
                return redis_client(self.port).ping()
            except Exception:
                return False
        wait_for(answers, 10, f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
