"""A reconnect storm: a real server (gunicorn, gevent worker; on a SQLite file, and on PostgreSQL
when reachable), a few hundred readers that follow one consultation as the site's pages do, and
a writer posting to it. Half-way through, the server is killed (SIGKILL: sockets cut, nothing
cleaned up); more than a catch-up page of posts is written meanwhile, as another process would;
then it is started again on the same port, with the same database. Every reader reconnects by
itself and catches up.

Each reader behaves like the site's pages (docs/realtime.md, client rules): it remembers the
last `seq` it applied and applies only the next one; a gap makes it ask `sync`; on (re)connect
it sends `join` with its last `seq`; it follows `more` with `sync`; one `join` or `sync` at a
time; a 429 is asked again after its `retry_after`; an unanswered one after CALL_TIMEOUT; it
reconnects after a randomised, growing delay (Socket.IO's own: 1 s at first, then up to 5 s,
±50 %). The writer posts with a `client_key` and, without an answer (the server died under
it), sends the same post again with the same key.

At the end every reader holds every stored post exactly once and in order, nothing is stored
twice, nothing acknowledged is missing, and no socket was closed but by the crash. What the
storm cost (reconnections, refusals, timeouts, answer times, the server's CPU and log) is in
the assertion messages, and printed (`pytest -s`).

Readers are minimal Socket.IO 5 / Engine.IO 4 clients over aiohttp WebSockets, all in one
asyncio loop: python-socketio's client costs several times the CPU per message, and on a
2-core machine the readers would measure themselves rather than the server."""
from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import itertools
import json
import random
import sqlite3
import time
from dataclasses import dataclass, field

import aiohttp
import pytest

from tests.realtime import live

READERS = 290          # with the writer: under 300 sockets at once
POSTS = 30
DOWN_POSTS = 55        # written while the server is down: more than a catch-up page (50)
KILL_AFTER = POSTS // 2  # acknowledged posts before the server is killed
CALL_TIMEOUT = 10.0    # an unanswered join, sync or post is sent again after this
CONNECT_TIMEOUT = 10.0
DONE_TIMEOUT = 120.0   # everything in every reader, on a busy 2-core CI machine
RECONNECT_DELAY, RECONNECT_DELAY_MAX = 1.0, 5.0  # socket.io-client's reconnectionDelay(Max)


@dataclass
class Tally:
    """What the storm cost, summed over the clients."""
    counts: collections.Counter = field(default_factory=collections.Counter)
    errors: collections.Counter = field(default_factory=collections.Counter)  # kind -> count
    answered_in: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))

    def __call__(self, what: str, n: int = 1) -> None:
        self.counts[what] += n

    def error(self, what: str) -> None:
        self.errors[what[:160]] += 1

    def latencies(self) -> dict[str, str]:
        """Seconds an answer took, per kind: median / 95th centile / longest."""
        def summary(values: list[float]) -> str:
            ordered = sorted(values)
            return (f"{ordered[len(ordered) // 2]:.2f} / {ordered[int(len(ordered) * 0.95)]:.2f} / "
                    f"{ordered[-1]:.2f} s ({len(ordered)})")
        return {kind: summary(values) for kind, values in self.answered_in.items() if values}


class Connection:
    """One Socket.IO connection over an aiohttp WebSocket: acks by id, events to `on_event`."""

    def __init__(self, ws, on_event, on_closed):
        self.ws, self.on_event, self.on_closed = ws, on_event, on_closed
        self.acks: dict[int, asyncio.Future] = {}
        self.ids = itertools.count(1)
        self.connected = asyncio.get_running_loop().create_future()
        self.closed = False
        self.task = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, http, url: str, headers: dict[str, str], on_event, on_closed) -> Connection:
        ws_url = "ws" + url[len("http"):] + "/socket.io/?EIO=4&transport=websocket"
        ws = await asyncio.wait_for(http.ws_connect(ws_url, headers=headers, max_msg_size=0, compress=0,
                                                    autoping=True), CONNECT_TIMEOUT)
        connection = cls(ws, on_event, on_closed)
        try:
            await ws.send_str("40")
            await asyncio.wait_for(asyncio.shield(connection.connected), CONNECT_TIMEOUT)
        except BaseException:
            await connection.close()
            raise
        return connection

    async def call(self, event: str, data: dict) -> dict:
        """The acknowledgement; TimeoutError without one, ConnectionError if the socket closes."""
        if self.closed:
            raise ConnectionError("closed")
        ack_id = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.acks[ack_id] = future
        try:
            await self.ws.send_str(f"42{ack_id}" + json.dumps([event, data]))
            return await asyncio.wait_for(future, CALL_TIMEOUT)
        except (aiohttp.ClientError, RuntimeError) as error:  # sending on a closing socket
            raise ConnectionError(str(error)) from error
        finally:
            self.acks.pop(ack_id, None)

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = message.data
                if data == "2":                      # Engine.IO ping: answered, or the server drops us
                    await self.ws.send_str("3")
                elif data.startswith("42"):
                    name, payload = json.loads(data[2:])[:2]
                    if name == "event":
                        self.on_event(payload)
                elif data.startswith("43"):
                    digits = len(data) - len(data[2:].lstrip("0123456789"))
                    future = self.acks.get(int(data[2:digits]))
                    if future is not None and not future.done():
                        future.set_result(json.loads(data[digits:])[0])
                elif data.startswith("40"):
                    if not self.connected.done():
                        self.connected.set_result(True)
                elif data.startswith("44"):
                    if not self.connected.done():
                        self.connected.set_exception(ConnectionError(f"refused: {data[2:]}"[:200]))
                elif data.startswith(("41", "1")):   # Socket.IO or Engine.IO close
                    break
        except (aiohttp.ClientError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.closed = True
            for future in [self.connected, *self.acks.values()]:
                if not future.done():
                    future.set_exception(ConnectionError("closed"))
            if not self.connected.cancelled():
                self.connected.exception()  # retrieved: a connection refused is handled by `open`
            self.on_closed(self)

    async def close(self) -> None:
        self.closed = True
        if not self.ws.closed:
            await self.ws.close()
        self.task.cancel()


async def backoff(attempt: int) -> None:
    """socket.io-client's reconnection delay: doubling from RECONNECT_DELAY up to its maximum, ±50 %.
    A client's behaviour, not a synchronisation: nothing waits on it."""
    delay = min(RECONNECT_DELAY * 2 ** attempt, RECONNECT_DELAY_MAX)
    await asyncio.sleep(delay * random.uniform(0.5, 1.5))


class StormReader:
    """A page following one stream: see the module docstring."""

    def __init__(self, server, stream: str, http, tally: Tally, changed: asyncio.Condition):
        self.server, self.stream, self.http, self.tally, self.changed = server, stream, http, tally, changed
        self.last = 0
        self.applied: list[tuple[int, int]] = []   # (seq, post id) of each post.created applied
        self.joined = asyncio.Event()               # answered one join (at least)
        self.want: str | None = None               # the catch-up to ask next: "join" covers "sync"
        self.wake = asyncio.Event()
        self.connection: Connection | None = None
        self.stopping = False

    # -- applying, as client rule 2 says: only the next seq; a gap asks for what is missing --
    def receive(self, event: dict, live: bool) -> None:
        if event.get("stream") != self.stream:
            return
        seq = event["seq"]
        if seq <= self.last:
            self.tally("seen again (live)" if live else "seen again (catch-up)")
            return
        if seq > self.last + 1:
            self.tally("gaps seen")
            self.ask("sync")
            return
        self.last = seq
        if event.get("type") == "post.created":
            self.applied.append((seq, event["post"]["id"]))
        self.notify()

    def notify(self) -> None:
        async def tell():
            async with self.changed:
                self.changed.notify_all()
        asyncio.ensure_future(tell())

    def ask(self, kind: str) -> None:
        if self.want != "join":
            self.want = kind
        self.wake.set()

    # -- the connection: connect, join, catch up; again after every disconnection --------------
    async def run(self) -> None:
        attempt = 0
        while not self.stopping:
            try:
                self.connection = await Connection.open(
                    self.http, self.server.url, {"Origin": self.server.url}, lambda e: self.receive(e, True),
                    lambda c: self.wake.set())
            except (OSError, aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as error:
                self.tally.error(f"connect: {type(error).__name__}")
                await backoff(attempt)
                attempt += 1
                continue
            self.tally("connections")
            attempt = 0
            self.ask("join")
            await self.catch_up(self.connection)
            if not self.stopping:
                self.tally("disconnections")
                await backoff(0)

    async def catch_up(self, connection: Connection) -> None:
        """One join or sync at a time, until the connection closes."""
        while not connection.closed:
            await self.wake.wait()
            self.wake.clear()
            while self.want and not connection.closed:
                kind, self.want = self.want, None
                asked = time.monotonic()
                try:
                    ack = await connection.call(kind, {"stream": self.stream, "last_seq": self.last})
                except asyncio.TimeoutError:
                    self.tally.error(f"{kind}: no answer within {CALL_TIMEOUT}s")
                    self.ask(kind)
                    continue
                except ConnectionError:
                    self.ask("join")   # asked again on the next connection
                    break
                self.tally(kind + "s answered")
                self.tally.answered_in[kind].append(time.monotonic() - asked)
                if not ack.get("ok"):
                    error = ack.get("error") or {}
                    self.tally.error(f"{kind} refused: {error.get('code')} {error.get('message')}")
                    self.ask(kind)
                    if error.get("code") == 429:
                        # The client's own behaviour (static/js/stream.js): wait as told, plus up to 1 s.
                        await asyncio.sleep(float(error.get("retry_after") or 1) + random.random())
                    else:
                        await backoff(1)
                    continue
                if ack.get("reload"):
                    self.tally.error(f"{kind} answered reload")
                    continue
                caught_up = ack["missed" if kind == "join" else "events"]
                self.tally("events caught up", len(caught_up))
                for event in caught_up:
                    self.receive(event, False)
                if kind == "join":
                    self.joined.set()
                if ack.get("more"):
                    self.ask("sync")
                    self.tally("more pages")


class Writer:
    """Posts POSTS responses, each with its own client_key; without an answer, the same again."""

    def __init__(self, server, seed, consultation, cookie: str, http, tally: Tally):
        self.server, self.seed, self.http, self.tally = server, seed, http, tally
        self.consultation_id, self.topic_id = consultation
        self.headers = {"Origin": server.url, "Cookie": cookie, "User-Agent": live.USER_AGENT}
        self.acknowledged: dict[str, dict] = {}   # client_key -> the acknowledged post
        self.connection: Connection | None = None
        self.halfway = asyncio.Event()

    async def connect(self) -> Connection:
        attempt = 0
        while self.connection is None or self.connection.closed:
            try:
                self.connection = await Connection.open(self.http, self.server.url, self.headers,
                                                        lambda e: None, lambda c: None)
            except (OSError, aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as error:
                self.tally.error(f"writer connect: {type(error).__name__}")
                await backoff(attempt)
                attempt += 1
        return self.connection

    async def run(self, run_id: str) -> None:
        for n in range(POSTS):
            key = f"{run_id}-{n}"
            data = {"stream": f"consultation:{self.consultation_id}", "topic_id": self.topic_id,
                    "body": f"Storm post {n}.", "client_key": key}
            sent = 0
            while key not in self.acknowledged:
                connection = await self.connect()
                sent += 1
                try:
                    ack = await connection.call("post", data)
                except (asyncio.TimeoutError, ConnectionError) as error:
                    self.tally.error(f"post: {type(error).__name__} (sent again with its key)")
                    continue
                if ack.get("ok"):
                    self.acknowledged[key] = ack["post"]
                elif (ack.get("error") or {}).get("code") == 429:
                    self.tally.error("post refused: 429")
                    await asyncio.sleep(float(ack["error"].get("retry_after") or 1))
                else:
                    self.tally.error(f"post refused: {ack.get('error')}")
                    await backoff(1)
            self.tally("posts sent again", sent - 1)
            if len(self.acknowledged) == KILL_AFTER:
                self.halfway.set()


def stored(database_url: str, stream: str) -> tuple[list[tuple[int, int]], list[tuple[str, int]]]:
    """([(seq, post id)] of the stream's post.created events, [(client key, id)] of its posts)."""
    from sqlalchemy import create_engine, select

    from forum.models import Post, StreamEvent

    engine = create_engine(database_url)
    try:
        with engine.connect() as db:
            created = db.execute(select(StreamEvent.seq, StreamEvent.post_id).where(
                StreamEvent.stream_key == stream, StreamEvent.kind == "post.created").order_by(StreamEvent.seq)).all()
            posts = db.execute(select(Post.client_key, Post.id).where(
                Post.consultation_id == int(stream.split(":")[1]))).all()
    finally:
        engine.dispose()
    return [tuple(row) for row in created], [tuple(row) for row in posts]


@pytest.fixture(params=["sqlite", "postgresql"])
def storm(request, live_databases, tmp_path):
    """A server of the test's own on a database of its own (a copy of the SQLite file, or a new
    PostgreSQL database, migrated and seeded), with a consultation of its own; catch-up limits
    as a venue needs them (hundreds of readers behind one address)."""
    from tests.conftest import postgres_database

    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            source_url, seed = live_databases["sqlite"]
            database_url = f"sqlite:///{tmp_path / 'storm.db'}"
            with contextlib.closing(sqlite3.connect(source_url.removeprefix("sqlite:///"))) as source, \
                    contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as target:
                source.backup(target)
        else:
            if live_databases["postgresql"] is None:
                live.unavailable(live_databases["postgresql_problem"])
            database_url = stack.enter_context(postgres_database("plenary_storm"))
            live.migrate(database_url)
            seed = live.seed(database_url)
        consultation = open_consultation(database_url)
        env = live.server_env(database_url, RATELIMIT_ENABLED="true",
                              RATELIMIT_CATCH_UP_PER_ADDRESS="100000 per minute",
                              RATELIMIT_POST_PER_ACCOUNT="1000 per minute")
        server = live.Server(f"storm-{request.param}", env, tmp_path)
        try:
            server.wait_until_up()
            yield server, seed, database_url, consultation
        finally:
            server.stop()


def write_while_down(database_url: str, consultation: tuple[int, int], email: str) -> None:
    """DOWN_POSTS responses made through the services, as another server process would."""
    from forum.extensions import db
    from forum.models import Consultation
    from forum.models.users import find_user_by_email
    from forum.services import posts

    with live.app_for(database_url):
        author = find_user_by_email(email)
        for n in range(DOWN_POSTS):
            posts.create_post(author, db.session.get(Consultation, consultation[0]), topic_id=consultation[1],
                              body=f"Written while the server was down ({n}).")
            db.session.commit()


def open_consultation(database_url: str) -> tuple[int, int]:
    from forum.extensions import db
    from forum.models.consultations import ConsultationStatus
    from forum.models.users import find_user_by_email
    from forum.services import consultations

    with live.app_for(database_url):
        organiser = find_user_by_email("organiser@example.org")
        made = consultations.create_consultation(organiser, consultations.ConsultationInput(
            title="Storm consultation", visibility="public"))
        topic = consultations.add_topic(organiser, made, consultations.TopicInput(title="Weather"))
        consultations.set_status(organiser, made, ConsultationStatus.OPEN.value)
        db.session.flush()
        ids = made.id, topic.id
        db.session.commit()
        return ids


def test_after_a_crash_every_reader_ends_with_every_post_once_and_in_order(storm):
    server, seed, database_url, consultation = storm
    stream = f"consultation:{consultation[0]}"
    cookie = live.login(server.url, seed.emails["amina"])
    started = time.monotonic()
    tally = Tally()
    # In a thread of its own: in a full run, the browser tests' Playwright keeps an event loop
    # running in this one, and asyncio.run() refuses to start another there.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as thread:
        readers, writer, timings = thread.submit(
            asyncio.run, _storm(server, database_url, stream, consultation, seed, cookie, tally)).result()
    created, posts = stored(database_url, stream)

    report = (f"{dict(tally.counts)}; failures: {dict(tally.errors)}; timings: {timings}; "
              f"answered in (median / 95 % / max): {tally.latencies()}; "
              f"server log:\n{_log_excerpt(server)}")
    # Nothing stored twice, nothing acknowledged missing.
    keys = [key for key, _ in posts if key is not None]
    assert len(keys) == len(set(keys)) == POSTS and len(posts) == POSTS + DOWN_POSTS, report
    acknowledged = {post["id"]: post["seq"] for post in writer.acknowledged.values()}
    assert {post_id: seq for seq, post_id in created if post_id in acknowledged} == acknowledged, report
    assert len(created) == len(posts), report
    # Every reader: every stored post, once, in order.
    wrong = [r for r in readers if r.applied != created]
    assert not wrong, f"{len(wrong)} readers differ, e.g. {wrong[0].applied[-5:]} vs {created[-5:]}; {report}"
    # The server took the storm without failing: no 500 answer, no traceback in its log, and no
    # socket closed but by the crash (a ping timeout would close more).
    assert not [e for e in tally.errors if " 500 " in e], report
    assert tally.counts["disconnections"] == READERS, report
    assert "Traceback" not in server.log(), report
    print(f"storm: {time.monotonic() - started:.1f}s; {report}")


async def _storm(server, database_url, stream, consultation, seed, cookie, tally):
    changed = asyncio.Condition()
    timings = {}
    t0 = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     cookie_jar=aiohttp.DummyCookieJar()) as http:
        readers = [StormReader(server, stream, http, tally, changed) for _ in range(READERS)]
        tasks = [asyncio.ensure_future(reader.run()) for reader in readers]
        try:
            await asyncio.wait_for(asyncio.gather(*(r.joined.wait() for r in readers)), DONE_TIMEOUT)
            timings["all joined"] = round(time.monotonic() - t0, 1)
            writer = Writer(server, seed, consultation, cookie, http, tally)
            writing = asyncio.ensure_future(writer.run(f"storm-{int(t0)}"))
            await asyncio.wait_for(writer.halfway.wait(), DONE_TIMEOUT)
            # Mid-way, while posts and their events are on their way: a crash, and a restart.
            server.kill()
            timings["killed"] = round(time.monotonic() - t0, 1)
            # Meanwhile another process writes: every reader will need more than one page.
            await asyncio.get_running_loop().run_in_executor(
                None, write_while_down, database_url, consultation, seed.emails["bruno"])
            timings["written while down"] = round(time.monotonic() - t0, 1)
            server.start_again()
            timings["restarted"] = round(time.monotonic() - t0, 1)
            await asyncio.wait_for(writing, DONE_TIMEOUT)
            timings["all posted"] = round(time.monotonic() - t0, 1)
            last = stored(database_url, stream)[0][-1][0]
            try:
                async with changed:
                    await asyncio.wait_for(changed.wait_for(lambda: all(r.last >= last for r in readers)),
                                           DONE_TIMEOUT)
            except asyncio.TimeoutError:
                behind = [r for r in readers if r.last < last]
                raise AssertionError(f"after {DONE_TIMEOUT}s, {len(behind)} readers still behind "
                                     f"(e.g. last={behind[0].last}, want {last}); {dict(tally.counts)}; "
                                     f"{dict(tally.errors)}\n{_log_excerpt(server)}") from None
            timings["all caught up"] = round(time.monotonic() - t0, 1)
            timings["server CPU since the restart"] = round(server.cpu_seconds(), 1)
            return readers, writer, timings
        finally:
            for reader in readers:
                reader.stopping = True
                if reader.connection is not None:
                    await reader.connection.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def _log_excerpt(server, lines: int = 40) -> str:
    interesting = [line for line in server.log().splitlines()
                   if any(word in line for word in ("Error", "error", "Traceback", "QueuePool", "WORKER", "timeout"))]
    return "\n".join(interesting[-lines:])
