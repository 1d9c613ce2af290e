"""How many live readers one Plenary server process feeds, how fast, and at what memory cost.

A script that prints figures, not a test. It prepares a database (migrations, a consultation
with one topic, W writer accounts), starts the app under gunicorn's gevent worker, connects
N anonymous Socket.IO readers to the consultation's stream, lets the writers send M posts over
the socket at a steady pace, waits until every reader has every event (or a timeout), and
prints delivery latency, throughput, lost and duplicated deliveries and the server's memory.
Then it does the same against a bare python-socketio server (gevent, same worker count) that
only relays messages, sending an event of the same size (Plenary's own event of the run, with
its own numbers), and prints Plenary's figures as ratios of that baseline.

--matrix runs both servers, interleaved, at several sizes (readers x posts/s), each paced at
its rate, and prints one table with the ratios and PASS/FAIL against the targets (see
bench/README.md); --compare-processes does the same for one gunicorn process against two.

    .venv/bin/python bench/socket_load.py --clients 200
    .venv/bin/python bench/socket_load.py --clients 1000 --writers 5 --posts 200
    .venv/bin/python bench/socket_load.py --clients 1000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/plenary_bench
    .venv/bin/python bench/socket_load.py --clients 1000 --redis --processes 2 \\
        --database-url postgresql://postgres@127.0.0.1:5432/plenary_bench
    .venv/bin/python bench/socket_load.py --clients 200 --baseline-only   # harness check
    .venv/bin/python bench/socket_load.py --clients 1000 --rate 10 --websocket-compression
    .venv/bin/python bench/socket_load.py --matrix                      # 200x10,1000x10,2000x10,1000x20
    .venv/bin/python bench/socket_load.py --matrix 50x10,100x20 --posts 30 --repeat 1
    .venv/bin/python bench/socket_load.py --compare-processes --matrix 1000x10 --redis \\
        --database-url postgresql://postgres@127.0.0.1:5432/plenary_bench

The raw readers offer permessage-deflate, as browsers do (--no-offer-deflate: they do not);
both servers decline it unless --websocket-compression (SOCKETIO_WEBSOCKET_COMPRESSION=true).

Readers are asyncio clients on aiohttp WebSockets (a minimal Socket.IO client by default,
python-socketio's AsyncClient with --reader-client socketio), 500 per process; writers are
python-socketio AsyncClients. aiohttp and requests are bench-only requirements (bench/README.md).
Without --database-url the database is a temporary SQLite file; PostgreSQL is better for
several writers (SQLite serialises writes, and with --processes 2 the processes wait on its
lock). Every event must reach every reader exactly once and in order: lost, duplicated or
out-of-order deliveries make the script exit with status 1 (with --matrix, so does any target
not met). Everything runs on 127.0.0.1 and stops by itself.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-not-secret"
# Flask-Login's "strong" session protection binds a session to the address and User-Agent
# it logged in with: the writers' HTTP log-in and their sockets must send the same one.
USER_AGENT = "plenary-socket-load/1"
SERVER_START_TIMEOUT = 60.0
CALL_TIMEOUT = 30.0
CONNECT_TIMEOUT = 20.0
POST_ATTEMPTS = 3
MAX_CLIENTS = 2000
READERS_PER_PROCESS = 500
SYNC_PAGES_MAX = 100


# --- The baseline: a bare python-socketio relay --------------------------------------------
# Loaded by gunicorn in its own process (`socket_load:make_baseline_app()`), configured by
# BENCH_* environment variables. It speaks the same protocol as Plenary for what the bench
# uses (join, post, sync, event) but stores nothing: the cost of Socket.IO fan-out alone.

def make_baseline_app():
    import itertools

    import socketio

    redis_url = os.environ.get("BENCH_REDIS_URL") or None
    channel = os.environ.get("BENCH_CHANNEL", "plenary-bench-baseline")
    html_bytes = int(os.environ.get("BENCH_HTML_BYTES", str(DEFAULT_HTML_BYTES)))
    event_bytes = int(os.environ.get("BENCH_EVENT_BYTES") or 0)
    # Plenary's event from the same run (whatever its fields): the baseline sends it with its
    # own numbers and body, so that both send as many bytes, and bytes that compress alike.
    template = None
    if os.environ.get("BENCH_EVENT_FILE"):
        with open(os.environ["BENCH_EVENT_FILE"], encoding="utf-8") as f:
            template = f.read()
    sample = None  # older runs: Plenary's event HTML only (a string, or one per language)
    if os.environ.get("BENCH_HTML_FILE"):
        with open(os.environ["BENCH_HTML_FILE"], encoding="utf-8") as f:
            sample = json.load(f)
    compression = os.environ.get("SOCKETIO_WEBSOCKET_COMPRESSION", "").strip().lower() in {"1", "true", "yes", "on"}
    origins = [o for o in os.environ.get("BENCH_ORIGINS", "").split(",") if o] or "*"
    manager = socketio.RedisManager(redis_url, channel=channel) if redis_url else None
    sio = socketio.Server(async_mode="gevent", client_manager=manager, cors_allowed_origins=origins)

    if redis_url:
        import redis

        counter = redis.Redis.from_url(redis_url)
        key = channel + ":seq"
        counter.delete(key)

        def next_seq() -> int:
            return int(counter.incr(key))

        def current_seq() -> int:
            return int(counter.get(key) or 0)
    else:
        local = itertools.count(1)
        last = [0]

        def next_seq() -> int:
            last[0] = next(local)
            return last[0]

        def current_seq() -> int:
            return last[0]

    @sio.on("join")
    def join(sid, data):
        stream = data["stream"]
        sio.enter_room(sid, stream)
        return {"ok": True, "stream": stream, "seq": current_seq(), "missed": [], "more": False,
                "presence": {"count": 0, "users": []}, "can_post": True}

    @sio.on("sync")
    def sync(sid, data):
        return {"ok": True, "events": [], "more": False}

    filler_size = None  # with BENCH_EVENT_BYTES: the markup that brings the event to that size

    def filler_event(seq: int, stream: str, topic_id, body: str) -> dict:
        nonlocal filler_size
        head = f'<article class="post" id="post-{seq}"><p>{body}</p></article>'
        event = {"stream": stream, "seq": seq, "type": "post.created",
                 "post": {"id": seq, "thread_id": seq, "parent_id": None, "topic_id": topic_id,
                          "author_id": 1, "endorsement_count": 0, "deleted": False},
                 "html": ""}
        if isinstance(sample, dict):
            event["html"] = {lang: head + text for lang, text in sample.items()}
        elif isinstance(sample, str):
            event["html"] = head + sample
        elif event_bytes:
            if filler_size is None:
                filler_size = filler_for(event, head, event_bytes)
            event["html"] = head + _filler(filler_size)
        else:
            event["html"] = head + _filler(html_bytes - len(head))
        return event

    @sio.on("post")
    def post(sid, data):
        seq = next_seq()
        body = str(data.get("body", ""))
        if template is not None:
            event = json.loads(_BENCH_BODY.sub(lambda m: json.dumps(body)[1:-1], template))
            event.update(stream=data["stream"], seq=seq)
            post = event.get("post")
            if isinstance(post, dict):  # only the fields Plenary's event has: the same size
                post.update({k: v for k, v in (("id", seq), ("thread_id", seq), ("topic_id", data.get("topic_id")))
                             if k in post})
        else:
            event = filler_event(seq, data["stream"], data.get("topic_id"), body)
        sio.emit("event", event, to=data["stream"])
        return {"ok": True, "post": {"id": seq, "seq": seq}}

    def fallback(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"baseline\n"]

    app = socketio.WSGIApp(sio, fallback)
    if compression:
        return app

    def without_websocket_compression(environ, start_response):
        # As Plenary's forum/realtime/websocket.py: the client's offer of permessage-deflate
        # never reaches simple-websocket, which would otherwise accept it.
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return app(environ, start_response)

    return without_websocket_compression


# Without a sample of Plenary's event (--baseline-only, --html-bytes, --event-bytes) the
# baseline's event carries post-like markup: by default 7,400 characters of it, the size of
# Plenary's event HTML (one rendering per interface language) when this script was written.
DEFAULT_HTML_BYTES = 7400
_FILLER_BLOCK = (
    '<footer class="post-meta"><a href="/u/1">Writer</a> <time datetime="2026-01-01T10:00:00Z">'
    '10:00</time></footer><details class="actions"><summary>Actions</summary><ul>'
    '<li><button type="button" data-action="reply">Reply</button></li>'
    '<li><button type="button" data-action="quote">Quote</button></li>'
    '<li><button type="button" data-action="endorse">Endorse</button></li></ul></details>')
# The body of a bench post (see run_writers), as it appears in Plenary's event: the baseline
# puts its own post's body in its place.
_BENCH_BODY = re.compile(r"Load test post \d+ of \d+, sent at t=[\d.]+ \(key [^)]*\)\.")


def _filler(size: int) -> str:
    """`size` characters of post-like markup, repeated as Plenary's per-post template is."""
    return (_FILLER_BLOCK * (size // len(_FILLER_BLOCK) + 1))[:max(0, size)]


def packet_bytes(event: dict) -> int:
    """Bytes of an `event` message on the wire: the Socket.IO packet `42["event",{...}]` as
    python-socketio encodes it, which is the WebSocket message (without compression)."""
    return len(("42" + json.dumps(["event", event], separators=(",", ":"))).encode())


def filler_for(event: dict, head: str, target: int) -> int:
    """How many characters of filler markup after `head` make `event` `target` bytes."""
    lo, hi = 0, max(0, target)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if packet_bytes(dict(event, html=head + _filler(mid))) <= target:
            lo = mid
        else:
            hi = mid - 1
    return lo


# --- Processes, ports, memory ----------------------------------------------------------------

def code_version() -> str:
    """The commit being measured (read-only git calls), and whether the tree has changes."""
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (commit or "unknown") + (" with uncommitted changes" if dirty else "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proc_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def process_tree(pid: int) -> list[int]:
    children = _proc_children()
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def tree_rss_kb(pid: int) -> int:
    """VmRSS of a process and all its descendants (gunicorn master + workers), in kB."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (not of their dead children)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / tick


class Server:
    """A gunicorn process in its own session; stopped (and its group killed) on exit."""

    def __init__(self, name: str, app: str, port: int, processes: int, connections: int,
                 env: dict[str, str], logdir: Path, pythonpath: str | None = None):
        self.name, self.port = name, port
        self.log = logdir / f"{name}.log"
        cmd = [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", str(processes),
               "--bind", f"127.0.0.1:{port}", "--worker-connections", str(connections),
               "--timeout", "120", "--graceful-timeout", "5", "--log-level", "warning"]
        if pythonpath:
            cmd += ["--pythonpath", pythonpath]
        cmd.append(app)
        self.command = " ".join(cmd[1:])
        self._logfile = open(self.log, "wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._logfile,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        url = f"http://127.0.0.1:{self.port}{path}"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited with {self.proc.returncode}\n{self.tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} server did not answer {url} in {SERVER_START_TIMEOUT:.0f} s\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        self._logfile.flush()
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:  # workers left behind, if any: the group is ours (start_new_session)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._logfile.close()


# --- Database and accounts -------------------------------------------------------------------

def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def ensure_postgres_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` when it does not exist yet."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(sqlalchemy_url(url))
    with psycopg.connect(host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username,
                         password=u.password, dbname="postgres", autocommit=True,
                         connect_timeout=10) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (u.database,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{u.database}"')


def migrate(url: str) -> None:
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench-migrate", RATELIMIT_ENABLED="false")
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed:\n{result.stdout}\n{result.stderr}")


def setup_data(url: str, writers: int, run_id: str) -> dict:
    """Runs in a child process: an organiser, an open consultation with one topic, writers."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("SECRET_KEY", "bench-setup")
    os.environ.pop("REDIS_URL", None)
    from forum import create_app
    from forum.extensions import db
    from forum.services import accounts
    from forum.services import consultations as consultation_service

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url)})
    with app.app_context():
        organiser = accounts.register(f"organiser-{run_id}@bench.example", PASSWORD, accounts.Profile(
            "Bench Organiser", "Bench", "eu_institution", "BE"))
        accounts.set_roles(None, organiser, organiser=True)
        consultation = consultation_service.create_consultation(organiser, consultation_service.ConsultationInput(
            title=f"Socket load {run_id}", tags="#Bench"))
        topic = consultation_service.add_topic(organiser, consultation,
                                               consultation_service.TopicInput("Load"))
        consultation_service.set_status(organiser, consultation, "open")
        emails = []
        for i in range(writers):
            email = f"writer{i}-{run_id}@bench.example"
            accounts.register(email, PASSWORD, accounts.Profile(f"Writer {i}", f"Organisation {i}", "ngo", "IT"))
            emails.append(email)
        db.session.commit()
        return {"consultation_id": consultation.id, "topic_id": topic.id, "emails": emails}


def login(base: str, email: str) -> str:
    """Log in through the form (GET for the CSRF token, then POST); returns a Cookie header."""
    import requests

    with requests.Session() as http:
        http.headers["User-Agent"] = USER_AGENT
        page = http.get(f"{base}/login", timeout=15)
        page.raise_for_status()
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or \
            re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page.text)
        if not match:
            raise RuntimeError("no csrf_token field on /login")
        response = http.post(f"{base}/login", data={"email": email, "password": PASSWORD,
                                                     "csrf_token": match.group(1)},
                             allow_redirects=False, timeout=15)
        if response.status_code != 302:
            raise RuntimeError(f"logging in as {email} answered {response.status_code}")
        return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


# --- Readers (run in child processes) -------------------------------------------------------

class Reader:
    __slots__ = ("index", "client", "received", "duplicates", "out_of_order", "max_seq", "other_streams",
                 "presence", "typing", "disconnected", "join_ms", "join_seq", "event_bytes", "events",
                 "max_event_bytes", "sample")

    def __init__(self, index: int):
        self.index = index
        self.client = None
        self.received: dict[int, float] = {}
        self.duplicates = 0
        self.out_of_order = 0
        self.max_seq = 0
        self.other_streams = 0
        self.presence = 0
        self.typing = 0
        self.disconnected = False
        self.join_ms = None
        self.join_seq = None
        self.event_bytes = 0      # bytes of this stream's events on the wire, in all
        self.events = 0           # how many (duplicates included: they were sent too)
        self.max_event_bytes = 0
        self.sample = None        # the first event received, whole


async def _connect_reader(reader: Reader, url: str, stream: str, origin: str, http, limit) -> str | None:
    """A python-socketio AsyncClient reader (--reader-client socketio)."""
    import socketio

    client = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=http,
                                  request_timeout=CALL_TIMEOUT)
    reader.client = client
    on_event = _event_handler(reader, stream)
    client.on("event", on_event)
    client.on("presence", lambda data: _count(reader, "presence"))
    client.on("typing", lambda data: _count(reader, "typing"))
    client.on("disconnect", lambda *args: setattr(reader, "disconnected", True))
    async with limit:
        try:
            await client.connect(url, headers={"Origin": origin}, transports=["websocket"],
                                 wait_timeout=CONNECT_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - any failure is a figure
            return f"connect: {type(error).__name__}: {error}"
        t0 = time.monotonic()
        try:
            ack = await client.call("join", {"stream": stream, "last_seq": None}, timeout=CALL_TIMEOUT)
        except Exception as error:  # noqa: BLE001
            return f"join: {type(error).__name__}"
    return _joined(reader, ack, t0)


def _count(reader: Reader, attribute: str) -> None:
    setattr(reader, attribute, getattr(reader, attribute) + 1)


def _joined(reader: Reader, ack, t0: float) -> str | None:
    reader.join_ms = (time.monotonic() - t0) * 1000
    if not isinstance(ack, dict) or not ack.get("ok"):
        return f"join refused: {ack!r}"[:200]
    reader.join_seq = ack.get("seq")
    return None


def _event_handler(reader: Reader, stream: str):
    def on_event(data, wire_bytes: int | None = None):
        now = time.monotonic()
        if data.get("stream") != stream:
            reader.other_streams += 1
            return
        if wire_bytes is None:  # python-socketio's client hands over the decoded event only
            wire_bytes = packet_bytes(data)
        reader.events += 1
        reader.event_bytes += wire_bytes
        if wire_bytes > reader.max_event_bytes:
            reader.max_event_bytes = wire_bytes
        if reader.sample is None:
            reader.sample = data
        seq = data["seq"]
        if seq in reader.received:
            reader.duplicates += 1
            return
        reader.received[seq] = now
        if seq < reader.max_seq:  # a later event came first
            reader.out_of_order += 1
        else:
            reader.max_seq = seq
    return on_event


class RawClient:
    """A minimal Socket.IO 5 / Engine.IO 4 client over one aiohttp WebSocket (--reader-client raw).

    It does what a reader needs (connect to the default namespace, one `join` with an ack,
    answer the server's pings, receive events) at a fraction of python-socketio's CPU cost
    per message (that client starts two asyncio tasks per message), so that on a small
    machine the readers measure the server rather than themselves."""

    def __init__(self, reader: Reader, stream: str, http):
        self.reader, self.stream, self.http = reader, stream, http
        self.ws = None
        self.task = None
        self.on_event = _event_handler(reader, stream)
        self.connected: asyncio.Future | None = None
        self.acks: dict[int, asyncio.Future] = {}

    async def connect(self, url: str, origin: str) -> None:
        ws_url = "ws" + url[len("http"):] + "/socket.io/?EIO=4&transport=websocket"
        # Browsers offer permessage-deflate; so do these readers unless --no-offer-deflate.
        compress = 15 if os.environ.get("BENCH_OFFER_DEFLATE", "1") == "1" else 0
        self.ws = await asyncio.wait_for(
            self.http.ws_connect(ws_url, headers={"Origin": origin}, max_msg_size=0, compress=compress),
            CONNECT_TIMEOUT)
        self.deflate = self.ws.compress
        opening = await asyncio.wait_for(self.ws.receive(), CONNECT_TIMEOUT)
        if not isinstance(opening.data, str) or not opening.data.startswith("0"):
            raise ConnectionError(f"no Engine.IO OPEN packet: {opening.data!r}"[:200])
        self.connected = asyncio.get_running_loop().create_future()
        self.task = asyncio.ensure_future(self._read_loop())
        await self.ws.send_str("40")
        await asyncio.wait_for(self.connected, CONNECT_TIMEOUT)

    async def call(self, event: str, data, ack_id: int):
        future = asyncio.get_running_loop().create_future()
        self.acks[ack_id] = future
        await self.ws.send_str(f"42{ack_id}" + json.dumps([event, data]))
        return await asyncio.wait_for(future, CALL_TIMEOUT)

    async def _read_loop(self) -> None:
        import aiohttp

        ws = self.ws
        try:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = message.data
                if data == "2":  # Engine.IO ping
                    await ws.send_str("3")
                elif data.startswith("42"):
                    name, payload = json.loads(data[2:])[:2]
                    if name == "event":
                        self.on_event(payload, len(data) if data.isascii() else len(data.encode()))
                    elif name == "presence":
                        self.reader.presence += 1
                    elif name == "typing":
                        self.reader.typing += 1
                elif data.startswith("43"):
                    i = 2
                    while data[i].isdigit():
                        i += 1
                    future = self.acks.pop(int(data[2:i]), None)
                    if future is not None and not future.done():
                        future.set_result(json.loads(data[i:])[0])
                elif data.startswith("40"):
                    if not self.connected.done():
                        self.connected.set_result(True)
                elif data.startswith("44"):
                    if not self.connected.done():
                        self.connected.set_exception(ConnectionError(f"connection refused: {data[2:]}"[:200]))
                elif data.startswith(("41", "1")):  # Socket.IO or Engine.IO disconnect
                    break
        finally:
            self.reader.disconnected = True
            if self.connected is not None and not self.connected.done():
                self.connected.set_exception(ConnectionError("closed"))

    async def disconnect(self) -> None:
        if self.ws is not None and not self.ws.closed:
            try:
                await self.ws.send_str("41")
            except Exception:  # noqa: BLE001
                pass
            await self.ws.close()
        if self.task is not None:
            self.task.cancel()


async def _connect_raw_reader(reader: Reader, url: str, stream: str, origin: str, http, limit) -> str | None:
    client = RawClient(reader, stream, http)
    reader.client = client
    async with limit:
        try:
            await client.connect(url, origin)
        except Exception as error:  # noqa: BLE001 - any failure is a figure
            return f"connect: {type(error).__name__}: {error}"[:200]
        t0 = time.monotonic()
        try:
            ack = await client.call("join", {"stream": stream, "last_seq": None}, ack_id=1)
        except Exception as error:  # noqa: BLE001
            return f"join: {type(error).__name__}"
    return _joined(reader, ack, t0)


async def _reader_main(conn, url: str, stream: str, origin: str, first: int, count: int,
                       concurrency: int, kind: str) -> None:
    import aiohttp

    loop = asyncio.get_running_loop()
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=False),
                                 cookie_jar=aiohttp.DummyCookieJar())
    readers = [Reader(first + i) for i in range(count)]
    limit = asyncio.Semaphore(concurrency)
    try:
        connect = _connect_raw_reader if kind == "raw" else _connect_reader
        errors = await asyncio.gather(*(connect(r, url, stream, origin, http, limit) for r in readers))
        ok = [r for r, e in zip(readers, errors, strict=True) if e is None]
        failures: dict[str, int] = {}
        for e in errors:
            if e is not None:
                failures[e] = failures.get(e, 0) + 1
        conn.send(("ready", {"connected": len(ok), "failures": failures,
                             "join_ms": [r.join_ms for r in ok], "join_seq": [r.join_seq for r in ok],
                             "presence": sum(r.presence for r in readers)}))
        command, payload = await loop.run_in_executor(None, conn.recv)
        if command != "collect":
            return
        sent: dict[int, float] = payload["sent"]
        expected = set(sent)
        deadline = time.monotonic() + payload["timeout"]
        while time.monotonic() < deadline:
            if all(r.disconnected or expected.issubset(r.received.keys()) for r in ok):
                break
            await asyncio.sleep(0.1)
        latencies, lost, last = [], 0, 0.0
        for r in ok:
            for seq, t in r.received.items():
                if seq in sent:
                    latencies.append(t - sent[seq])
                    last = max(last, t)
            lost += sum(1 for seq in expected if seq not in r.received)
        conn.send(("result", {
            "latencies": latencies, "lost": lost,
            "duplicates": sum(r.duplicates for r in ok),
            "unexpected": sum(sum(1 for seq in r.received if seq not in sent) for r in ok),
            "out_of_order": sum(r.out_of_order for r in ok),
            "other_streams": sum(r.other_streams for r in ok),
            "presence": sum(r.presence for r in ok), "typing": sum(r.typing for r in ok),
            "disconnected": sum(1 for r in ok if r.disconnected),
            "readers_complete": sum(1 for r in ok if expected.issubset(r.received.keys())),
            "last_delivery": last, "event_bytes": sum(r.event_bytes for r in ok),
            "events": sum(r.events for r in ok), "max_event_bytes": max((r.max_event_bytes for r in ok), default=0),
            "sample": next((r.sample for r in ok if r.sample), None),
            "deflate": sum(1 for r in ok if getattr(getattr(r, "client", None), "deflate", 0)),
            "cpu": os.times().user + os.times().system,
        }))
        command, _ = await loop.run_in_executor(None, conn.recv)
    finally:
        await asyncio.gather(*(r.client.disconnect() for r in readers if r.client is not None),
                             return_exceptions=True)
        await http.close()


def reader_process(conn, url, stream, origin, first, count, concurrency, kind, lifetime) -> None:
    """Entry point of a reader process; never outlives `lifetime` seconds."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    try:
        asyncio.run(asyncio.wait_for(_reader_main(conn, url, stream, origin, first, count, concurrency, kind),
                                     lifetime))
    except (EOFError, BrokenPipeError, asyncio.TimeoutError):
        pass
    finally:
        conn.close()


class ReaderPool:
    """`n` readers spread over processes of at most `per_process` each (bench/storm.py too):
    each runs `target(pipe, *head, first, size, concurrency, *tail)`, readers
    first..first+size-1, answering commands sent down its pipe."""

    def __init__(self, n: int, per_process: int, concurrency: int, target, head: tuple = (), tail: tuple = ()):
        ctx = multiprocessing.get_context("spawn")
        n_procs = max(1, math.ceil(n / per_process))
        sizes = [n // n_procs + (1 if i < n % n_procs else 0) for i in range(n_procs)]
        self.procs, self.conns = [], []
        first = 0
        for size in sizes:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=target, daemon=True,
                               args=(child, *head, first, size, max(1, concurrency // n_procs), *tail))
            proc.start()
            child.close()
            self.procs.append(proc)
            self.conns.append(parent)
            first += size

    def gather(self, kind: str, timeout: float) -> list[dict]:
        """One `kind` message from every process, within `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        results = []
        for conn, proc in zip(self.conns, self.procs, strict=True):
            if not conn.poll(max(0.1, deadline - time.monotonic())):
                raise RuntimeError(f"a reader process sent no {kind!r} within {timeout:.0f} s")
            try:
                message, payload = conn.recv()
            except EOFError:
                raise RuntimeError(f"a reader process died (exit code {proc.exitcode})") from None
            assert message == kind, message
            results.append(payload)
        return results

    def send(self, command: str, payload=None) -> None:
        for conn in self.conns:
            try:
                conn.send((command, payload))
            except (BrokenPipeError, OSError):
                pass

    def wait_ready(self, timeout: float) -> list[dict]:
        return self.gather("ready", timeout)

    def collect(self, sent: dict[int, float], timeout: float) -> list[dict]:
        self.send("collect", {"sent": sent, "timeout": timeout})
        return self.gather("result", timeout + 60)

    def cpu(self) -> float:
        return cpu_seconds([p.pid for p in self.procs if p.pid])

    def stop(self) -> None:
        self.send("stop")
        for proc in self.procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        for conn in self.conns:
            conn.close()


# --- Writers (in this process) ---------------------------------------------------------------

async def connect_client(url: str, origin: str, cookie: str | None, clients: list, sessions: list):
    """A python-socketio client over WebSocket, logged in by `cookie` (None: anonymous),
    connected; it and its HTTP session are added to `clients` and `sessions`, which the caller
    closes. Raises RuntimeError if it cannot connect."""
    import aiohttp
    import socketio

    # aiohttp's default cookie jar drops cookies of IP-address hosts such as 127.0.0.1,
    # and python-socketio moves a Cookie header into that jar: hence unsafe=True.
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    sessions.append(session)
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=session,
                                  request_timeout=CALL_TIMEOUT)
    clients.append(client)
    headers = {"Origin": origin, "User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    try:
        await asyncio.wait_for(client.connect(url, headers=headers, transports=["websocket"],
                                              wait_timeout=CONNECT_TIMEOUT), CONNECT_TIMEOUT + 5)
    except (asyncio.TimeoutError, socketio.exceptions.SocketIOError) as error:
        raise RuntimeError(f"socket {len(clients)} could not connect: {type(error).__name__} {error}") from None
    return client


async def send_paced(clients: list, count: int, rate: float, t0: float, open_loop: bool, send) -> int:
    """Send messages 0..count-1, message i by clients[i % len(clients)] through `send(client,
    i)`, at `rate` per second from `t0` (0: each client's next one once its last is
    acknowledged). Paced, a client waits for its slot and, unless `open_loop`, for its previous
    acknowledgement; open loop, each leaves at its slot whatever is unacknowledged, so a slow
    server cannot lower the offered rate. Returns how many left more than 50 ms after their slot."""
    late = 0

    async def sender(w: int) -> None:
        nonlocal late
        in_flight = []
        for i in range(w, count, len(clients)):
            if rate > 0:
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -0.05:
                    late += 1
            if open_loop and rate > 0:
                in_flight.append(asyncio.ensure_future(send(clients[w], i)))
            else:
                await send(clients[w], i)
        await asyncio.gather(*in_flight)

    await asyncio.gather(*(sender(w) for w in range(len(clients))))
    return late


async def run_writers(url: str, origin: str, stream: str, topic_id: int, cookies: list[str | None],
                      posts: int, rate: float, run_id: str, open_loop: bool = False) -> dict:
    """Send `posts` posts over the writers' sockets at `rate` posts/s (0: each writer's next
    one when its last is acknowledged). Paced, a writer waits for its slot and, unless
    `open_loop`, also for its previous post's acknowledgement; open loop, each post leaves at
    its slot whatever is still unacknowledged, so a slow server cannot lower the offered rate."""
    import socketio

    clients, sessions = [], []

    async def close_all() -> None:
        await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)

    try:
        for cookie in cookies:
            client = await connect_client(url, origin, cookie, clients, sessions)
            try:
                ack = await client.call("join", {"stream": stream, "last_seq": None}, timeout=CALL_TIMEOUT)
            except (asyncio.TimeoutError, socketio.exceptions.SocketIOError) as error:
                raise RuntimeError(f"writer {len(clients)} could not connect and join: "
                                   f"{type(error).__name__} {error}") from None
            if not ack.get("ok") or not ack.get("can_post"):
                raise RuntimeError(f"a writer may not post: join answered {ack!r}")
    except BaseException:
        await close_all()
        raise
    join_seq = ack.get("seq")

    sent: dict[int, float] = {}      # seq -> send time (monotonic) of the first attempt
    acked: dict[str, int] = {}       # client_key -> seq
    errors: dict[str, int] = {}
    retries = 0
    ack_ms: list[float] = []
    acks: list[tuple[int, float]] = []  # (post's index, time of its acknowledgement)
    t0 = time.monotonic() + 0.5
    first_ack, last_ack = None, t0

    async def send(client, i: int) -> None:
        nonlocal retries, first_ack, last_ack
        key = f"bench-{run_id}-{i}"
        sent_at = time.monotonic()
        payload = {"stream": stream, "topic_id": topic_id, "parent_id": None, "subject": "",
                   "body": f"Load test post {i + 1} of {posts}, sent at t={sent_at:.6f} (key {key}).",
                   "on_behalf_of_organisation": False, "client_key": key}
        for _attempt in range(POST_ATTEMPTS):
            try:
                ack = await client.call("post", payload, timeout=CALL_TIMEOUT)
                break
            except socketio.exceptions.TimeoutError:
                retries += 1  # same client_key: the server must not create a second post
        else:
            errors["timeout"] = errors.get("timeout", 0) + 1
            return
        now = time.monotonic()
        if isinstance(ack, dict) and ack.get("ok"):
            seq = ack["post"]["seq"]
            if key in acked and acked[key] != seq:
                errors["same key, other seq"] = errors.get("same key, other seq", 0) + 1
            acked[key] = seq
            sent.setdefault(seq, sent_at)
            ack_ms.append((now - sent_at) * 1000)
            acks.append((i, now))
            first_ack = now if first_ack is None else min(first_ack, now)
            last_ack = max(last_ack, now)
        else:
            code = str((ack or {}).get("error", {}).get("code", "?")) if isinstance(ack, dict) else "?"
            errors[code] = errors.get(code, 0) + 1

    try:
        late = await send_paced(clients, posts, rate, t0, open_loop, send)
        sync_count = None
        if join_seq is not None:
            sync_count = await count_sync(clients[0], stream, join_seq)
    finally:
        await close_all()
    return {"sent": sent, "errors": errors, "retries": retries, "ack_ms": ack_ms, "late": late,
            "first_send": t0, "first_ack": first_ack, "acks": acks, "last_ack": last_ack, "join_seq": join_seq,
            "sync_count": sync_count}


async def count_sync(client, stream: str, since: int) -> int | None:
    """How many events `sync` returns after `since`, following `more` (bounded)."""
    count, last = 0, since
    for _ in range(SYNC_PAGES_MAX):
        ack = await client.call("sync", {"stream": stream, "last_seq": last}, timeout=CALL_TIMEOUT)
        if not isinstance(ack, dict) or not ack.get("ok") or ack.get("reload"):
            return None
        events = ack.get("events") or []
        count += len(events)
        if events:
            last = events[-1]["seq"]
        if not ack.get("more") or not events:
            break
    return count


# --- One phase: a server, N readers, W writers ----------------------------------------------

def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def acknowledged_pace(acks: list[tuple[int, float]], t0: float, rate: float) -> float:
    """The pace, in posts/s, that the acknowledgements kept. Paced, post i's slot is
    t0 + i / rate and its lag the time from its slot to its acknowledgement: a server that
    keeps the pace keeps the lag steady, one that falls behind lets it grow. The pace is the
    offered span (first to last post) over that span plus the growth of the lag, taken as the
    median lag of the last tenth of the posts minus that of the first tenth (one slow
    acknowledgement at either end does not decide it). Unpaced: acknowledgements over the
    time from the first to the last."""
    if len(acks) < 2:
        return float("nan")
    acks = sorted(acks)
    if rate <= 0:
        span = max(t for _, t in acks) - min(t for _, t in acks)
        return (len(acks) - 1) / span if span > 0 else float("nan")
    k = max(1, len(acks) // 10)
    lags = [t - (t0 + i / rate) for i, t in acks]
    offered_span = (acks[-1][0] - acks[0][0]) / rate
    growth = percentile(lags[-k:], 50) - percentile(lags[:k], 50)
    return rate * offered_span / max(1e-9, offered_span + growth)


def run_phase(name: str, server: Server, args, stream: str, topic_id: int, cookies: list[str | None],
              run_id: str) -> dict:
    url = f"http://127.0.0.1:{server.port}"
    origin = url
    figures: dict = {"name": name, "server command": server.command}
    rss_before = tree_rss_kb(server.pid)
    pool = ReaderPool(args.clients, args.readers_per_process, args.connect_concurrency, reader_process,
                      head=(url, stream, origin), tail=(args.reader_client, args.timeout + 1800))
    try:
        t_connect = time.monotonic()
        ready = pool.wait_ready(timeout=max(120.0, args.clients * 0.5))
        figures["connect s"] = time.monotonic() - t_connect
        time.sleep(1.0)  # let the server settle before reading its memory
        rss_after = tree_rss_kb(server.pid)
        connected = sum(r["connected"] for r in ready)
        failures: dict[str, int] = {}
        for r in ready:
            for k, v in r["failures"].items():
                failures[k] = failures.get(k, 0) + v
        join_ms = [ms for r in ready for ms in r["join_ms"]]
        figures.update({
            "connected": connected, "connect failures": failures,
            "join ms": join_ms, "presence during joins": sum(r["presence"] for r in ready),
            "rss before kb": rss_before, "rss after kb": rss_after,
        })
        print(f"  {name}: {connected}/{args.clients} readers joined in {figures['connect s']:.1f} s"
              + (f"; failures: {failures}" if failures else ""), flush=True)
        if not connected:
            raise RuntimeError(f"no reader could join\n{server.tail()}")

        server_pids = process_tree(server.pid)
        cpu_server0, cpu_readers0, cpu_self0 = cpu_seconds(server_pids), pool.cpu(), sum(os.times()[:2])
        writers = asyncio.run(asyncio.wait_for(
            run_writers(url, origin, stream, topic_id, cookies, args.posts, args.rate, run_id,
                        open_loop=getattr(args, "open_loop", False)),
            timeout=args.posts / max(args.rate, 1.0) + args.timeout + 120))
        sent = writers["sent"]
        results = pool.collect(sent, timeout=args.timeout)
        cpu_server1, cpu_readers1, cpu_self1 = cpu_seconds(server_pids), pool.cpu(), sum(os.times()[:2])
        figures["rss end kb"] = tree_rss_kb(server.pid)
    finally:
        pool.stop()

    latencies = [x for r in results for x in r["latencies"]]
    deliveries = len(latencies)
    last_delivery = max((r["last_delivery"] for r in results), default=0.0)
    span = max(1e-9, last_delivery - writers["first_send"])
    post_span = max(1e-9, writers["last_ack"] - writers["first_send"])
    ack_pace = acknowledged_pace(writers["acks"], writers["first_send"], args.rate)
    events = sum(r["events"] for r in results)
    figures.update({
        "posts ok": len(sent), "post errors": writers["errors"], "post retries": writers["retries"],
        "late posts": writers["late"], "ack ms": writers["ack_ms"],
        "posts/s": len(sent) / post_span, "deliveries": deliveries, "expected deliveries": len(sent) * connected,
        "deliveries/s": deliveries / span, "latency ms": [x * 1000 for x in latencies],
        "lost": sum(r["lost"] for r in results), "duplicates": sum(r["duplicates"] for r in results),
        "unexpected": sum(r["unexpected"] for r in results),
        "out of order": sum(r["out_of_order"] for r in results),
        "presence": sum(r["presence"] for r in results), "typing": sum(r["typing"] for r in results),
        "disconnected": sum(r["disconnected"] for r in results),
        "readers complete": sum(r["readers_complete"] for r in results),
        "ack posts/s": ack_pace,
        "offered posts/s": args.rate,
        "event bytes": sum(r["event_bytes"] for r in results) / events if events else float("nan"),
        "max event bytes": max((r["max_event_bytes"] for r in results), default=0),
        "event sample": next((r["sample"] for r in results if r.get("sample")), None),
        "deflate readers": sum(r.get("deflate", 0) for r in results),
        "server cpu s": cpu_server1 - cpu_server0, "readers cpu s": cpu_readers1 - cpu_readers0,
        "writers cpu s": cpu_self1 - cpu_self0, "span s": span,
        "seqs": sorted(sent), "join seq": writers["join_seq"], "sync count": writers["sync_count"],
    })
    return figures


# --- Report ----------------------------------------------------------------------------------

def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{percentile(values, 50):.1f} / {percentile(values, 95):.1f} / {percentile(values, 99):.1f}"


def report(args, phases: list[dict], database: str) -> bool:
    rows = [
        ("readers joined", lambda f: f"{f['connected']}/{args.clients}"),
        ("of which permessage-deflate", lambda f: str(f["deflate readers"])),
        ("connect + join of all readers, s", lambda f: f"{f['connect s']:.1f}"),
        ("join ack ms p50/p95/p99", lambda f: _ms(f["join ms"])),
        ("posts acknowledged", lambda f: f"{f['posts ok']}/{args.posts}"),
        ("post errors (by code) / retries", lambda f: f"{f['post errors'] or 0} / {f['post retries']}"),
        ("post ack ms p50/p95/p99", lambda f: _ms(f["ack ms"])),
        ("posts/s", lambda f: f"{f['posts/s']:.1f}"),
        ("acknowledgements' pace, posts/s", lambda f: f"{f['ack posts/s']:.1f}"),
        ("deliveries (expected)", lambda f: f"{f['deliveries']} ({f['expected deliveries']})"),
        ("deliveries/s", lambda f: f"{f['deliveries/s']:.0f}"),
        ("delivery latency ms p50/p95/p99", lambda f: _ms(f["latency ms"])),
        ("lost deliveries", lambda f: str(f["lost"])),
        ("duplicated deliveries", lambda f: str(f["duplicates"])),
        ("out-of-order deliveries", lambda f: str(f["out of order"])),
        ("readers with every event", lambda f: f"{f['readers complete']}/{f['connected']}"),
        ("readers disconnected", lambda f: str(f["disconnected"])),
        ("presence msgs (joins / while posting)",
         lambda f: f"{f['presence during joins']} / {f['presence'] - f['presence during joins']}"),
        ("event bytes on the wire, mean / max",
         lambda f: f"{f['event bytes']:.0f} / {f['max event bytes']}"),
        ("server RSS before clients, MB", lambda f: f"{f['rss before kb'] / 1024:.1f}"),
        ("server RSS with clients, MB", lambda f: f"{f['rss after kb'] / 1024:.1f}"),
        ("server RSS per connection, kB",
         lambda f: f"{(f['rss after kb'] - f['rss before kb']) / max(1, f['connected']):.1f}"),
        ("server RSS at the end, MB", lambda f: f"{f['rss end kb'] / 1024:.1f}"),
        ("server CPU while posting, s (% of span)",
         lambda f: f"{f['server cpu s']:.1f} ({100 * f['server cpu s'] / f['span s']:.0f}%)"),
        ("server CPU ms per post", lambda f: f"{1000 * f['server cpu s'] / max(1, f['posts ok']):.1f}"),
        ("deliveries per server CPU second", lambda f: f"{f['deliveries'] / max(1e-9, f['server cpu s']):.0f}"),
        ("reader processes CPU, s", lambda f: f"{f['readers cpu s']:.1f}"),
        ("sync after the run returns", lambda f: "-" if f["sync count"] is None else f"{f['sync count']} events"),
    ]
    print()
    pace = f"{args.rate:g} posts/s" if args.rate > 0 else "unpaced"
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end "
          f"(other work on the machine skews the figures)")
    print(f"clients {args.clients}, writers {args.writers}, posts {args.posts}, pace {pace}, "
          f"processes {args.processes}, redis {'yes' if args.redis else 'no'}, database {database}")
    width = max(len(r[0]) for r in rows)
    print(f"{'':<{width}}  " + "  ".join(f"{p['name']:>22}" for p in phases))
    for label, cell in rows:
        values = []
        for p in phases:
            try:
                values.append(cell(p))
            except (KeyError, ZeroDivisionError, TypeError):
                values.append("-")
        print(f"{label:<{width}}  " + "  ".join(f"{v:>22}" for v in values))
    ok = True
    for p in phases:
        if p["lost"] or p["duplicates"] or p["out of order"] or p["unexpected"] or p["posts ok"] != args.posts:
            ok = False
        if p["name"] == "plenary":
            seqs = p["seqs"]
            if seqs and seqs != list(range(seqs[0], seqs[0] + len(seqs))):
                print(f"plenary: the acknowledged seqs are not consecutive: {seqs[:5]}...{seqs[-5:]}")
                ok = False
            if p["join seq"] is not None and seqs and seqs[0] != p["join seq"] + 1:
                print(f"plenary: first seq {seqs[0]} does not follow the seq at join {p['join seq']}")
            if p["sync count"] is not None and p["sync count"] != p["posts ok"]:
                print(f"plenary: sync returned {p['sync count']} events for {p['posts ok']} posts")
                ok = False
    names = [p["name"] for p in phases]
    if "plenary" in names and "baseline" in names:
        ours = phases[names.index("plenary")]
        base = phases[names.index("baseline")]
        print(f"plenary deliveries/s as a share of the bare python-socketio baseline: "
              f"{ours['deliveries/s'] / max(1e-9, base['deliveries/s']):.2f}")
        ours_p50, base_p50 = percentile(ours["latency ms"], 50), percentile(base["latency ms"], 50)
        print(f"median latency, plenary / baseline: {ours_p50:.1f} ms / {base_p50:.1f} ms")
        ours_p95, base_p95 = percentile(ours["latency ms"], 95), percentile(base["latency ms"], 95)
        print(f"p95 latency, plenary / baseline: {ours_p95:.1f} ms / {base_p95:.1f} ms "
              f"(ratio {ours_p95 / max(1e-9, base_p95):.2f})")
        ours_eff = ours["deliveries"] / max(1e-9, ours["server cpu s"])
        base_eff = base["deliveries"] / max(1e-9, base["server cpu s"])
        print(f"deliveries per server CPU second, plenary as a share of the baseline: {ours_eff / base_eff:.2f}")
    print("every event reached every reader exactly once, in order" if ok else
          "FAILED: lost, duplicated, out-of-order or unexpected deliveries, or posts not acknowledged "
          "(see above)")
    return ok


# --- Servers ---------------------------------------------------------------------------------

def start_plenary_server(url: str, args, logdir: Path, channel: str, *, processes: int | None = None,
                         name: str = "plenary", servers: list | None = None) -> Server:
    """Plenary under gunicorn on a free port, answering: a fresh SECRET_KEY (log the writers in
    again), its own Socket.IO channel, REDIS_URL with `args.redis`. Appended to `servers`
    (stopped by the caller, also on errors) before waiting for it."""
    port = free_port()
    # The `sync` check after the run pages through every post: no reload threshold.
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=secrets.token_urlsafe(32),
               RATELIMIT_ENABLED="false", PLENARY_ENV="development",
               CATCH_UP_RELOAD_AFTER=str(args.posts + 1),
               SOCKETIO_ALLOWED_ORIGINS=f"http://127.0.0.1:{port}", SOCKETIO_CHANNEL=channel)
    env.pop("REDIS_URL", None)
    if args.redis:
        env["REDIS_URL"] = args.redis
    server = Server(name, "wsgi:app", port, processes or args.processes, args.worker_connections, env, logdir)
    if servers is not None:
        servers.append(server)
    server.wait_ready("/login")
    return server


def start_baseline_server(args, logdir: Path, channel: str, *, sample: dict | None = None,
                          event_bytes: int | None = None, processes: int | None = None,
                          name: str = "baseline", servers: list | None = None) -> Server:
    """The bare python-socketio relay on a free port. Its event: `sample` (Plenary's event,
    with the baseline's own numbers and body), else post data and markup making it
    `event_bytes` bytes on the wire, else `args.html_bytes` (or 7,400) characters of markup."""
    port = free_port()
    env = dict(os.environ, BENCH_HTML_BYTES=str(args.html_bytes or DEFAULT_HTML_BYTES),
               BENCH_ORIGINS=f"http://127.0.0.1:{port}", BENCH_CHANNEL=channel)
    for key in ("BENCH_EVENT_FILE", "BENCH_EVENT_BYTES", "BENCH_HTML_FILE", "BENCH_REDIS_URL"):
        env.pop(key, None)
    if sample is not None:
        path = logdir / f"{name}-event.json"
        path.write_text(json.dumps(sample), encoding="utf-8")
        env["BENCH_EVENT_FILE"] = str(path)
    elif event_bytes:
        env["BENCH_EVENT_BYTES"] = str(int(event_bytes))
    if args.redis:
        env["BENCH_REDIS_URL"] = args.redis
    server = Server(name, "socket_load:make_baseline_app()", port, processes or args.processes,
                    args.worker_connections, env, logdir, pythonpath=str(ROOT / "bench"))
    if servers is not None:
        servers.append(server)
    server.wait_ready("/")
    return server


def baseline_payload(args, plenary: dict | None) -> tuple[dict | None, int | None]:
    """What the baseline sends (see start_baseline_server): --html-bytes or --event-bytes if
    given, else Plenary's event sample from `plenary` (a phase's figures), else its size."""
    if args.html_bytes or args.event_bytes or plenary is None:
        return None, args.event_bytes
    if plenary.get("event sample") is not None:
        return plenary["event sample"], None
    size = plenary.get("event bytes", float("nan"))
    return None, (round(size) if size == size else None)


def prepare_database(url: str) -> str:
    """Create (PostgreSQL) and migrate the database; returns how to name it in a report."""
    database = url.split("@")[-1] if "@" in url else url.split(":///")[0]
    if url.startswith(("postgres://", "postgresql")):
        ensure_postgres_database(url)
    print(f"preparing the database ({database}) ...", flush=True)
    migrate(url)
    return database


def prepare_consultation(url: str, writers: int, run_id: str) -> dict:
    """setup_data in a child process (it creates the app): consultation, topic, writers."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(setup_data, url, writers, run_id).result(timeout=300)


# --- The matrix: Plenary and the bare server, interleaved, at several sizes -------------------

DEFAULT_MATRIX = "200x10,1000x10,2000x10,1000x20"
DEFAULT_COMPARE = "1000x10"
# The targets (docs: bench/README.md, "The matrix").
P95_RATIO_MAX = 1.3          # Plenary's delivery p95 / the bare server's, same payload
PACE_MIN = 0.95              # acknowledgements' pace / offered rate
EVENT_BYTES_MAX = 1024       # an event on the wire
IDLE_SOCKET_KB_MAX = 80.0    # server memory per idle socket
PROCESSES_CPU_RATIO_MAX = 1.1  # CPU per delivery, two processes / one
PROCESSES_P95_RATIO_MAX = 1.0  # p95, two processes / one


def parse_sizes(text: str) -> list[tuple[int, float]]:
    """'200x10,1000x20' -> [(200, 10.0), (1000, 20.0)]: readers x posts per second."""
    sizes = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*[x×]\s*(\d+(?:\.\d+)?)\s*", part)
        if not match:
            raise argparse.ArgumentTypeError(f"{part!r} is not READERSxRATE, e.g. 1000x10")
        readers, rate = int(match.group(1)), float(match.group(2))
        if not 1 <= readers <= MAX_CLIENTS or rate <= 0:
            raise argparse.ArgumentTypeError(f"{part!r}: readers between 1 and {MAX_CLIENTS}, rate above 0")
        sizes.append((readers, rate))
    return sizes


def size_label(size: tuple[int, float]) -> str:
    return f"{size[0]}x{size[1]:g}"


def size_args(args, size: tuple[int, float]):
    """The run's options for one size: its readers and rate, open-loop pacing, enough
    gunicorn worker connections for its readers (unless --worker-connections was given)."""
    phase = argparse.Namespace(**vars(args))
    phase.clients, phase.rate = size
    phase.open_loop = True
    phase.worker_connections = args.worker_connections_given or max(1000, 2 * (phase.clients + args.writers) + 100)
    return phase


def plenary_checks(figures: dict) -> list[str]:
    """What a Plenary phase got wrong about its stream: numbers, catch-up."""
    problems = []
    seqs = figures["seqs"]
    if seqs and seqs != list(range(seqs[0], seqs[0] + len(seqs))):
        problems.append("acknowledged seqs not consecutive")
    if figures["sync count"] is not None and figures["sync count"] != figures["posts ok"]:
        problems.append(f"sync returned {figures['sync count']} events for {figures['posts ok']} posts")
    return problems


def run_matrix(args, run_id: str, tmp: Path, servers: list[Server]) -> tuple[list[dict], str]:
    """Every size, `args.repeat` times: each variant in turn (the order reversed every other
    repetition), each on a fresh server. One database, one consultation per size (its
    repetitions post to the same one: each phase checks its own posts' numbers)."""
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    database = prepare_database(url)
    if args.compare_processes:
        variants = [("1 process", "plenary", 1), (f"{max(2, args.processes)} processes", "plenary",
                                                  max(2, args.processes))]
    else:
        variants = [("plenary", "plenary", args.processes), ("bare", "baseline", args.processes)]
    data = {}
    for size in args.sizes:
        data[size] = prepare_consultation(url, args.writers, f"{run_id}-{size_label(size)}")
    samples: dict[tuple, dict] = {}  # size -> Plenary's last event sample and its wire size
    records = []
    phases = len(args.sizes) * len(variants) * args.repeat
    for rep in range(args.repeat):
        for size in args.sizes:
            order = variants if rep % 2 == 0 else variants[::-1]
            for label, kind, processes in order:
                tag = f"{size_label(size)}-r{rep + 1}-{kind}-{processes}p"
                phase_args = size_args(args, size)
                phase_args.processes = processes
                record = {"size": size, "rep": rep + 1, "label": label, "kind": kind, "processes": processes}
                print(f"[{len(records) + 1}/{phases}] {size_label(size)} run {rep + 1}: {label} "
                      f"(load average {os.getloadavg()[0]:.2f})", flush=True)
                server = None
                try:
                    channel = f"plenary-bench-{run_id}-{tag}"
                    if kind == "plenary":
                        server = start_plenary_server(url, phase_args, tmp, channel, processes=processes,
                                                      name=f"plenary-{tag}", servers=servers)
                        base = f"http://127.0.0.1:{server.port}"
                        cookies = [login(base, email) for email in data[size]["emails"]]
                        figures = run_phase(label, server, phase_args, f"consultation:{data[size]['consultation_id']}",
                                            data[size]["topic_id"], cookies, f"{run_id}-{tag}")
                        record["problems"] = plenary_checks(figures)
                        samples[size] = figures
                    else:
                        sample, event_bytes = baseline_payload(args, samples.get(size))
                        server = start_baseline_server(phase_args, tmp, channel, sample=sample,
                                                       event_bytes=event_bytes, processes=processes,
                                                       name=f"baseline-{tag}", servers=servers)
                        figures = run_phase(label, server, phase_args, "consultation:1", 1,
                                            [None] * args.writers, f"{run_id}-{tag}")
                        record["problems"] = []
                    record["figures"] = figures
                    print("    " + phase_summary(figures), flush=True)
                except Exception as error:  # noqa: BLE001 - one phase's failure is a figure; go on
                    record["error"] = f"{type(error).__name__}: {error}"
                    print(f"    failed: {record['error']}", file=sys.stderr, flush=True)
                    if server is not None:
                        print(f"--- last lines of {server.log}:\n{server.tail()}", file=sys.stderr, flush=True)
                    args.keep_logs = True
                finally:
                    if server is not None:
                        server.stop()
                records.append(record)
    return records, database


def phase_summary(f: dict) -> str:
    return (f"delivery p50/p95 {percentile(f['latency ms'], 50):.0f}/{percentile(f['latency ms'], 95):.0f} ms, "
            f"acks' pace {f['ack posts/s']:.1f}/{f['offered posts/s']:g} posts/s, "
            f"{f['posts ok']} posts acknowledged, lost/dup/ooo {f['lost']}/{f['duplicates']}/{f['out of order']}, "
            f"{f['event bytes']:.0f} B/event, "
            f"{(f['rss after kb'] - f['rss before kb']) / max(1, f['connected']):.1f} kB/socket, "
            f"CPU {1000 * f['server cpu s'] / max(1, f['posts ok']):.1f} ms/post")


def pooled(records: list[dict], args) -> dict | None:
    """One variant's figures at one size over its repetitions (failed phases count as such)."""
    runs = [r["figures"] for r in records if "figures" in r]
    if not runs:
        return None
    latencies = [x for f in runs for x in f["latency ms"]]
    posts = sum(f["posts ok"] for f in runs)
    deliveries = sum(f["deliveries"] for f in runs)
    cpu = sum(f["server cpu s"] for f in runs)
    return {
        "runs": len(runs), "failed runs": len(records) - len(runs),
        "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
        "p95 each": [percentile(f["latency ms"], 95) for f in runs],
        "pace": min(f["ack posts/s"] if f["ack posts/s"] == f["ack posts/s"] else 0.0 for f in runs),
        "offered": runs[0]["offered posts/s"],
        "all acknowledged": all(f["posts ok"] == args.posts and not f["post errors"] for f in runs),
        "posts": posts, "posts expected": args.posts * len(records),
        "lost": sum(f["lost"] for f in runs), "duplicates": sum(f["duplicates"] for f in runs),
        "out of order": sum(f["out of order"] for f in runs), "unexpected": sum(f["unexpected"] for f in runs),
        "missing readers": sum(r["size"][0] - r["figures"]["connected"] for r in records if "figures" in r),
        "event bytes": sum(f["event bytes"] for f in runs) / len(runs),
        "max event bytes": max(f["max event bytes"] for f in runs),
        "kb per socket": max((f["rss after kb"] - f["rss before kb"]) / max(1, f["connected"]) for f in runs),
        "ms per post": 1000 * cpu / max(1, posts),
        "us per delivery": 1e6 * cpu / max(1, deliveries),
        "problems": [p for r in records for p in r.get("problems", [])] +
                    [r["error"] for r in records if "error" in r],
    }


def _verdict(failures: list[str]) -> str:
    return "PASS" if not failures else "FAIL: " + ", ".join(failures)


def delivery_failures(v: dict) -> list[str]:
    failures = []
    if v["failed runs"] or v["problems"]:
        failures.append("run failed" if v["failed runs"] else "stream")
    if v["missing readers"]:
        failures.append("readers")
    if not v["all acknowledged"] or v["pace"] < PACE_MIN * v["offered"]:
        failures.append("pace")
    if v["lost"] or v["duplicates"] or v["out of order"] or v["unexpected"]:
        failures.append("lost/dup/ooo")
    return failures


def _row(name: str, label: str, v: dict, verdict: str) -> str:
    p95 = f"{v['p95']:.0f} (" + ", ".join(f"{x:.0f}" for x in v["p95 each"]) + ")"
    pace = f"{v['pace']:.1f} / {v['offered']:g}" + ("" if v["all acknowledged"] else
                                                     f" ({v['posts']}/{v['posts expected']} acked)")
    wrong = f"{v['lost']}/{v['duplicates']}/{v['out of order']}"
    return (f"{name:<10} {label:<12} {v['p50']:>7.0f} {p95:>22} {pace:>22} {wrong:>13} "
            f"{v['event bytes']:>8.0f} {v['kb per socket']:>10.1f} {v['ms per post']:>12.1f} "
            f"{v['us per delivery']:>16.1f}  {verdict}")


def report_ratios(args, size, labels: list[str], v: dict) -> bool:
    """The ratio line under a size: Plenary / bare (p95 and CPU), or two processes / one."""
    first, second = (v.get(label) for label in labels[:2]) if len(labels) >= 2 else (None, None)
    if first is None or second is None:
        return False
    if args.compare_processes:
        one, two = (first, second) if labels[0] == "1 process" else (second, first)
        name = f"{max(2, args.processes)} / 1"
        cpu = two["us per delivery"] / max(1e-9, one["us per delivery"])
        p95 = two["p95"] / max(1e-9, one["p95"])
        failures = ([] if cpu <= PROCESSES_CPU_RATIO_MAX else ["CPU"]) + \
                   ([] if p95 <= PROCESSES_P95_RATIO_MAX else ["p95"])
        print(f"{'':<10} {name:<12} CPU per delivery {cpu:.2f} (target <= {PROCESSES_CPU_RATIO_MAX:g}), "
              f"p95 {p95:.2f} (target <= {PROCESSES_P95_RATIO_MAX:g}), "
              f"each run: {_each_ratio(two, one)}  {_verdict(failures)}")
        return not failures
    ours, bare = (first, second) if labels[0] == "plenary" else (second, first)
    p95 = ours["p95"] / max(1e-9, bare["p95"])
    cpu_delivery = ours["us per delivery"] / max(1e-9, bare["us per delivery"])
    cpu_post = ours["ms per post"] / max(1e-9, bare["ms per post"])
    failures = [] if p95 <= P95_RATIO_MAX else ["p95"]
    same_payload = abs(ours["event bytes"] - bare["event bytes"]) <= max(16, 0.02 * ours["event bytes"])
    if not same_payload:
        failures.append("payloads differ")
    print(f"{'':<10} {'plenary/bare':<12} p95 {p95:.2f} (target <= {P95_RATIO_MAX:g}; each run: "
          f"{_each_ratio(ours, bare)}), CPU per post {cpu_post:.2f}, per delivery {cpu_delivery:.2f}  "
          f"{_verdict(failures)}")
    return not failures


def _each_ratio(a: dict, b: dict) -> str:
    return ", ".join(f"{x / max(1e-9, y):.2f}" for x, y in zip(a["p95 each"], b["p95 each"], strict=False))


def report_matrix(args, records: list[dict], database: str) -> bool:
    """One table: per size, each variant's figures over the repetitions, then the ratios."""
    labels = list(dict.fromkeys(r["label"] for r in records))
    print()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end "
          f"(other work on the machine skews the figures); code: {code_version()}")
    print(f"writers {args.writers}, posts {args.posts} per run, {args.repeat} run(s) per size and server, "
          f"open-loop pacing at the offered rate, redis {'yes' if args.redis else 'no'}, database {database}, "
          f"WebSocket compression {'on' if args.websocket_compression else 'off'}")
    head = (f"{'size':<10} {'server':<12} {'p50 ms':>7} {'p95 ms (each run)':>22} {'posts/s acked/offered':>22} "
            f"{'lost/dup/ooo':>13} {'B/event':>8} {'kB/socket':>10} {'CPU ms/post':>12} "
            f"{'CPU µs/delivery':>16}  verdict")
    print(head)
    print("-" * len(head))
    ok = True
    for size in args.sizes:
        pooled_by_label = {}
        for label in labels:
            v = pooled([r for r in records if r["size"] == size and r["label"] == label], args)
            pooled_by_label[label] = v
            name = size_label(size)
            if v is None:
                print(f"{name:<10} {label:<12} every run failed")
                ok = False
                continue
            failures = delivery_failures(v)
            is_plenary = not args.compare_processes and label == "plenary"
            if is_plenary or args.compare_processes:
                if v["max event bytes"] > EVENT_BYTES_MAX:
                    failures.append("event size")
                if v["kb per socket"] > IDLE_SOCKET_KB_MAX:
                    failures.append("memory")
            verdict = _verdict(failures)
            if label == "bare" and failures:
                verdict = "bare " + verdict + " (the harness or machine is the limit)"
            ok = ok and not failures
            print(_row(name, label, v, verdict))
        ok = report_ratios(args, size, labels, pooled_by_label) and ok
    print()
    print("every target met" if ok else "FAILED: see the verdicts above (targets: bench/README.md, \"The matrix\")")
    return ok

# --- Main ------------------------------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200, help="reader connections (max 2000; default 200)")
    parser.add_argument("--writers", type=int, default=5, help="logged-in writer connections (default 5)")
    parser.add_argument("--posts", type=int, default=None,
                        help="posts in total, per run (default 200; 100 with --matrix or --compare-processes)")
    parser.add_argument("--rate", type=float, default=None,
                        help="posts per second over all writers (default: 6,000 deliveries/s worth, "
                             "between 2 and 20: loads one process without saturating it); 0: unpaced, "
                             "each writer posts as soon as its previous post is acknowledged")
    parser.add_argument("--database-url", default=None,
                        help="default: a temporary SQLite file; PostgreSQL is better for several writers, "
                             "e.g. postgresql://postgres@127.0.0.1:5432/plenary_bench (created if missing)")
    parser.add_argument("--redis", nargs="?", const="redis://127.0.0.1:6379/0", default=None, metavar="URL",
                        help="use Redis as the Socket.IO message queue (default URL redis://127.0.0.1:6379/0)")
    parser.add_argument("--processes", type=int, default=1, help="gunicorn worker processes (needs --redis if > 1)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for the last deliveries after the last post (default 60)")
    parser.add_argument("--connect-concurrency", type=int, default=50, help="connections opened at once (default 50)")
    parser.add_argument("--readers-per-process", type=int, default=READERS_PER_PROCESS,
                        help=f"readers per client process (default {READERS_PER_PROCESS})")
    parser.add_argument("--reader-client", choices=("raw", "socketio"), default="raw",
                        help="raw: a minimal Socket.IO client on aiohttp (default, cheap per message); "
                             "socketio: python-socketio's AsyncClient")
    parser.add_argument("--worker-connections", type=int, default=None,
                        help="gunicorn --worker-connections (default: enough for every client; "
                             "gunicorn's own default, 1000, caps the open sockets per process)")
    parser.add_argument("--baseline-only", action="store_true", help="only the bare python-socketio server")
    parser.add_argument("--no-baseline", action="store_true", help="only the Plenary server")
    parser.add_argument("--websocket-compression", action="store_true",
                        help="both servers accept permessage-deflate (SOCKETIO_WEBSOCKET_COMPRESSION=true); "
                             "default: neither does, as Plenary ships")
    parser.add_argument("--no-offer-deflate", action="store_true",
                        help="the raw readers do not offer permessage-deflate (browsers do; default: offer it)")
    parser.add_argument("--html-bytes", type=int, default=None,
                        help="the baseline's event carries N characters of post-like HTML (default: Plenary's "
                             f"own event from the same run, else {DEFAULT_HTML_BYTES} characters)")
    parser.add_argument("--event-bytes", type=int, default=None,
                        help="the baseline's event is N bytes on the wire: post data and post-like markup "
                             "(default: Plenary's own event from the same run)")
    parser.add_argument("--open-loop", action="store_true",
                        help="paced posts leave at their slot even when the writer's previous post is not yet "
                             "acknowledged (always so with --matrix and --compare-processes)")
    parser.add_argument("--matrix", nargs="?", const=DEFAULT_MATRIX, default=None, type=parse_sizes,
                        metavar="SIZES",
                        help=f"Plenary and the bare server, interleaved, at each READERSxRATE size "
                             f"(default {DEFAULT_MATRIX}), paced open loop at that rate; prints one table "
                             "with the ratios and PASS/FAIL against the targets")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each server at each size with --matrix or --compare-processes, the "
                             "order reversed every other time (default 2)")
    parser.add_argument("--compare-processes", action="store_true",
                        help="Plenary with one gunicorn process against two (or --processes), interleaved, "
                             f"at the --matrix sizes (default {DEFAULT_COMPARE}); needs --redis and PostgreSQL")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temporary directory with server logs")
    args = parser.parse_args(argv)
    args.sizes = args.matrix or (parse_sizes(DEFAULT_COMPARE) if args.compare_processes else None)
    if args.posts is None:
        args.posts = 100 if args.sizes else 200
    if args.sizes:
        if args.baseline_only or args.no_baseline:
            parser.error("--matrix and --compare-processes choose the servers: no --baseline-only or --no-baseline")
        if args.repeat < 1:
            parser.error("--repeat must be at least 1")
        if args.html_bytes and args.event_bytes:
            parser.error("--html-bytes or --event-bytes, not both")
    if args.compare_processes and not (args.redis and (args.database_url or "").startswith("postgres")):
        parser.error("--compare-processes needs --redis and PostgreSQL (--database-url postgresql://...)")
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be between 1 and {MAX_CLIENTS}")
    if args.writers < 1 or args.posts < 1:
        parser.error("--writers and --posts must be at least 1")
    if args.processes > 1 and not args.redis:
        parser.error("--processes above 1 needs --redis (the processes share events through it)")
    if args.processes > 1 and not args.baseline_only and not (args.database_url or "").startswith("postgres"):
        parser.error("--processes above 1 needs PostgreSQL (--database-url postgresql://...): with SQLite, "
                     "posts from two processes fail at once with 'database is locked'")
    if args.rate is None:
        args.rate = min(20.0, max(2.0, round(6_000 / args.clients, 1)))
    args.worker_connections_given = args.worker_connections
    if args.worker_connections is None:
        args.worker_connections = max(1000, 2 * (args.clients + args.writers) + 100)
    return args


def forget_redis_keys(url: str, run_id: str) -> None:
    """Delete the keys this run left in Redis (presence, the baseline's counter): only ours."""
    try:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        keys = list(client.scan_iter(match=f"plenary-bench-*{run_id}*", count=500))
        if keys:
            client.delete(*keys)
        client.close()
    except Exception as error:  # noqa: BLE001 - cleaning up must not hide the figures
        print(f"could not delete this run's Redis keys: {error}", file=sys.stderr)


def main(argv=None) -> int:
    args = parse_args(argv)
    run_id = f"{int(time.time())}-{secrets.token_hex(3)}"
    tmp = Path(tempfile.mkdtemp(prefix="plenary-socket-load-"))
    servers: list[Server] = []
    phases: list[dict] = []
    database = "-"
    ok = False
    # Both servers (and the reader processes, spawned later) read these from the environment.
    os.environ["SOCKETIO_WEBSOCKET_COMPRESSION"] = "true" if args.websocket_compression else "false"
    os.environ["BENCH_OFFER_DEFLATE"] = "0" if args.no_offer_deflate else "1"
    print(f"code: {code_version()}; load average at the start: {os.getloadavg()[0]:.2f}; "
          f"WebSocket compression {'on' if args.websocket_compression else 'off'} in the servers, "
          f"{'not ' if args.no_offer_deflate else ''}offered by the readers", flush=True)
    try:
        if args.sizes:
            records, database = run_matrix(args, run_id, tmp, servers)
            ok = report_matrix(args, records, database)
            return 0 if ok else 1
        if not args.baseline_only:
            url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
            database = prepare_database(url)
            data = prepare_consultation(url, args.writers, run_id)
            server = start_plenary_server(url, args, tmp, f"plenary-bench-{run_id}", servers=servers)
            print(f"plenary server: {server.command}", flush=True)
            base = f"http://127.0.0.1:{server.port}"
            cookies = [login(base, email) for email in data["emails"]]
            phases.append(run_phase("plenary", server, args, f"consultation:{data['consultation_id']}",
                                    data["topic_id"], cookies, run_id))
            server.stop()
        if not args.no_baseline:
            sample, event_bytes = baseline_payload(args, phases[0] if phases else None)
            server = start_baseline_server(args, tmp, f"plenary-bench-baseline-{run_id}", sample=sample,
                                           event_bytes=event_bytes, servers=servers)
            print(f"baseline server: {server.command}", flush=True)
            phases.append(run_phase("baseline", server, args, "consultation:1", 1,
                                    [None] * args.writers, run_id))
            server.stop()
        ok = report(args, phases, database)
    except Exception as error:
        print(f"\nbench failed: {type(error).__name__}: {error}", file=sys.stderr)
        for server in servers:
            print(f"--- last lines of the {server.name} server log ({server.log}):\n{server.tail()}", file=sys.stderr)
        args.keep_logs = True
    finally:
        for server in servers:
            server.stop()
        if args.redis:
            forget_redis_keys(args.redis, run_id)
        if args.keep_logs:
            print(f"server logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
