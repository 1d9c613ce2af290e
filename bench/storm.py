"""Reconnect storms: how long readers take to hold every post again after the server, or Redis, fails.

A script that prints figures, not a test. It prepares a database and starts Plenary under
gunicorn's gevent worker as bench/socket_load.py does (and with its functions), connects N
anonymous readers to a consultation's stream, and has W logged-in writers post M posts over
the socket at a steady pace. Some seconds into the posting (--fault-after, 8 s) it breaks
something:

- `--fault kill`: kill -9 the gunicorn master and its workers, and start the server again on
  the same port at once;
- `--fault redis`: the server processes (2 by default) share a redis-server of the script's
  own (its own port); it is stopped for --fault-duration seconds (2 s), then started again.

Readers behave as the site's live pages do (docs/realtime.md, static/js/app.js, live.js):
after a disconnection they reconnect with socket.io-client's backoff (1 s doubling to 5 s,
±50 %) and `join` with the last seq they applied; they apply only the next seq, hold a later
one for a reorder window (--reorder-window, 1 s) and ask `sync` if the gap is still open
then; they follow `more` pages; one `join` or `sync` is in flight per connection; a 429 is
retried after its `retry_after` plus up to a second at random, a `join` that times out (10 s)
or fails with a 5xx after 5 s; they `sync` once a minute while connected. An answer with
`reload` is handled as a reloaded page: the reader closes its socket, GETs the consultation's
page (which costs the server what a reload costs), takes the page's `data-seq`, counts every
post numbered up to it as held (the page is rendered from the database; older posts are on
its later pages), opens a new socket and joins from that seq. Reloads are counted apart.

Writers post with a `client_key` and send it again, with the same key, when no
acknowledgement comes (10 s, or the connection closed) or the answer says to retry (429 after
`retry_after`, a 5xx after a second); they reconnect as readers do.

    .venv/bin/python bench/storm.py --readers 200 --posts 100 --fault kill
    .venv/bin/python bench/storm.py --readers 200 --posts 100 --fault redis --processes 2 \\
        --database-url postgresql://postgres@127.0.0.1:5432/plenary_bench_storm
    .venv/bin/python bench/storm.py --readers 2000 --rate 10 --posts 200 --fault kill

Prints the posts acknowledged and stored; the settle time, from the fault until every reader
holds every stored post exactly once (or how many readers are short at --settle-timeout);
duplicates applied, out-of-order receptions, syncs, reloads, 429s and disconnects; counts of
"QueuePool limit", "RecursionError" and "Traceback" in the server logs; the server's CPU
seconds from the fault until settled. Exit status 1 if the readers did not settle, or a post
was lost or applied twice. Everything runs on 127.0.0.1 and stops by itself.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, for bench.socket_load

from bench.socket_load import (  # noqa: E402
    USER_AGENT,
    ReaderPool,
    Server,
    code_version,
    cpu_seconds,
    ensure_postgres_database,
    free_port,
    login,
    migrate,
    percentile,
    process_tree,
    setup_data,
    sqlalchemy_url,
)

MAX_READERS = 2000
READERS_PER_PROCESS = 500
CALL_TIMEOUT = 10.0        # the site's clients wait 10 s for an acknowledgement
CONNECT_TIMEOUT = 20.0
JOIN_RETRY_S = 5.0         # a join that timed out or failed on the server's side
SYNC_EVERY_S = 60.0        # a connected page asks once a minute
SYNC_NOTICE_SPREAD = 3.0  # the server's `sync` notice is followed within this many seconds (static/js/app.js)
BACKOFF_FIRST_S, BACKOFF_MAX_S, BACKOFF_JITTER = 1.0, 5.0, 0.5  # socket.io-client's defaults
LOG_MARKERS = ("QueuePool limit", "RecursionError", "Traceback",
               # python-socketio's Redis manager (a broadcast lost), SQLite's lock, the counters' fallback
               "Cannot publish to redis... giving up", "database is locked", "rate-limit counters unavailable")
LOG_RECORD = re.compile(r"^(\d{4}-\d\d-\d\d[ T]|\[\d{4}-)")   # the app's and gunicorn's log lines
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Timeout|Interrupt)[\w.]*(: |$)")


def backoff(attempt: int) -> float:
    """socket.io-client's reconnection delay for its `attempt`th try (0-based)."""
    delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** attempt)
    return max(0.0, delay * (1 + BACKOFF_JITTER * (2 * random.random() - 1)))


def reader_address(index: int) -> str:
    """A loopback address of its own for reader `index` (Linux routes all of 127/8 to lo), so
    that the server counts the readers' catch-up allowance per address as it would for people
    at home; 127.0.0.1 stays the writers'."""
    return f"127.0.{1 + index // 250}.{2 + index % 250}"


# --- A minimal Socket.IO 5 / Engine.IO 4 client over one aiohttp WebSocket ----------------
# socket_load.RawClient serves one join and then only receives; a storm needs reconnections,
# acknowledgements with timeouts, a cookie and a User-Agent, hence a client of its own.

class Closed(ConnectionError):
    pass


class Connection:
    def __init__(self, on_message):
        self.on_message = on_message
        self.ws = None
        self.acks: dict[int, asyncio.Future] = {}
        self.next_id = 0
        self.closed: asyncio.Future | None = None
        self.task = None

    @classmethod
    async def open(cls, http, base: str, headers: dict, on_message) -> Connection:
        import aiohttp

        self = cls(on_message)
        loop = asyncio.get_running_loop()
        self.closed = loop.create_future()
        ws_url = "ws" + base[len("http"):] + "/socket.io/?EIO=4&transport=websocket"
        try:
            self.ws = await asyncio.wait_for(http.ws_connect(ws_url, headers=headers, max_msg_size=0,
                                                             autoping=False), CONNECT_TIMEOUT)
            opening = await asyncio.wait_for(self.ws.receive(), CONNECT_TIMEOUT)
            if opening.type != aiohttp.WSMsgType.TEXT or not opening.data.startswith("0"):
                raise Closed(f"no Engine.IO OPEN packet: {opening.data!r}"[:200])
            handshake = json.loads(opening.data[1:])
            # The server pings every pingInterval; silence past pingInterval + pingTimeout means
            # it is gone (socket.io-client's own rule).
            self.silence = (handshake.get("pingInterval", 25000) + handshake.get("pingTimeout", 20000)) / 1000
            await self.ws.send_str("40")
            reply = await asyncio.wait_for(self.ws.receive(), CONNECT_TIMEOUT)
            if reply.type != aiohttp.WSMsgType.TEXT or not reply.data.startswith("40"):
                raise Closed(f"connection refused: {reply.data!r}"[:200])
        except BaseException:
            if self.ws is not None:
                await self.ws.close()
            raise
        self.task = asyncio.ensure_future(self._read_loop())
        return self

    async def call(self, event: str, data, timeout: float = CALL_TIMEOUT):
        """The acknowledgement; asyncio.TimeoutError without one, Closed if the socket closes."""
        if self.closed.done():
            raise Closed("closed")
        self.next_id += 1
        ack_id = self.next_id
        future = asyncio.get_running_loop().create_future()
        self.acks[ack_id] = future
        try:
            await self.ws.send_str(f"42{ack_id}" + json.dumps([event, data]))
            return await asyncio.wait_for(future, timeout)
        except (ConnectionError, RuntimeError) as error:  # aiohttp: sending on a closing socket
            # Closed from now on, without waiting for the read loop to notice: a caller that
            # tries again must reconnect, not spin on this socket.
            self._closed()
            raise Closed(str(error)) from None
        finally:
            self.acks.pop(ack_id, None)

    def _closed(self) -> None:
        for future in self.acks.values():
            if not future.done():
                future.set_exception(Closed("closed"))
        if not self.closed.done():
            self.closed.set_result(True)

    async def _read_loop(self) -> None:
        import aiohttp

        try:
            while True:
                message = await self.ws.receive(timeout=self.silence)
                if message.type != aiohttp.WSMsgType.TEXT:
                    if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                                        aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        break
                    continue
                data = message.data
                if data == "2":
                    await self.ws.send_str("3")
                elif data.startswith("42"):
                    name, payload = json.loads(data[2:])[:2]
                    self.on_message(name, payload)
                elif data.startswith("43"):
                    i = 2
                    while data[i].isdigit():
                        i += 1
                    future = self.acks.get(int(data[2:i]))
                    if future is not None and not future.done():
                        future.set_result(json.loads(data[i:])[0])
                elif data.startswith(("41", "1")):
                    break
        except (asyncio.TimeoutError, ConnectionError, RuntimeError):
            pass
        finally:
            self._closed()
            if not self.ws.closed:
                await self.ws.close()

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            try:
                await self.ws.send_str("41")
            except Exception:  # noqa: BLE001
                pass
            await self.ws.close()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)


def error_of(ack) -> tuple[int, float]:
    """(code, retry_after) of a refusal."""
    error = ack.get("error") if isinstance(ack, dict) else None
    if not isinstance(error, dict):
        return 0, 0.0
    return int(error.get("code") or 0), float(error.get("retry_after") or 0)


# --- Readers (in child processes) ---------------------------------------------------------

class StormReader:
    """One reader page: a socket that reconnects, its catch-up queue and its reorder window."""

    def __init__(self, index: int, cfg: dict, http):
        self.index, self.cfg, self.http = index, cfg, http
        self.stream = cfg["stream"]
        self.last_seq: int | None = None
        self.held: dict[int, float] = {}      # post id -> when it was first applied
        self.pending: dict[int, tuple[dict, str]] = {}  # events ahead of the next seq, and their source
        self.gap_timer = None
        self.wanted: str | None = None        # "join" or "sync": the next catch-up to ask
        self.reason = ""                      # why: "join", "gap", "page", "minute" or "notice"
        self.via: dict[str, int] = {}         # posts first held by way of: live, join, gap, page, ...
        self.wake = asyncio.Event()
        self.conn: Connection | None = None
        self.reloading = False
        self.page_seq: int | None = None      # after a reload: posts up to this seq are on the page
        self.page_time = 0.0
        self.joined = asyncio.get_running_loop().create_future()
        self.live_since: float | None = None  # the last join answered on the open socket
        self.gave_up: str | None = None
        self.c = dict.fromkeys((
            "connects", "connect failures", "disconnects", "joins", "syncs", "gap syncs", "page syncs",
            "periodic syncs", "sync notices", "out of order", "seen again", "duplicates applied", "reloads", "429",
            "catch-up timeouts", "catch-up errors"), 0)

    # Applying events -------------------------------------------------------------------

    def on_message(self, name: str, payload) -> None:
        if name == "event" and isinstance(payload, dict) and payload.get("stream") == self.stream:
            self.receive(payload, "live")
        elif name == "sync" and isinstance(payload, dict) and payload.get("stream") == self.stream:
            # The server listens to its message queue again (docs/realtime.md): as the pages
            # do, ask within SYNC_NOTICE_SPREAD seconds.
            self.c["sync notices"] += 1
            asyncio.get_running_loop().call_later(random.random() * SYNC_NOTICE_SPREAD, self.ask, "sync", "notice")

    def receive(self, event: dict, source: str) -> None:
        if self.last_seq is None or self.reloading:
            return
        seq = event["seq"]
        if seq <= self.last_seq:
            self.c["seen again"] += 1
            return
        if seq > self.last_seq + 1:
            if seq not in self.pending:
                self.pending[seq] = (event, source)
                if source == "live":
                    self.c["out of order"] += 1
            if self.gap_timer is None:
                self.gap_timer = asyncio.get_running_loop().call_later(self.cfg["reorder_window"], self.gap_check)
            return
        self.apply(event, source)
        while self.last_seq + 1 in self.pending:
            self.apply(*self.pending.pop(self.last_seq + 1))
        for stale in [s for s in self.pending if s <= self.last_seq]:
            del self.pending[stale]
        if not self.pending and self.gap_timer is not None:  # closed in time: the next gap gets its window
            self.gap_timer.cancel()
            self.gap_timer = None

    def apply(self, event: dict, source: str) -> None:
        self.last_seq = event["seq"]
        if event.get("type") == "post.created":
            post_id = event["post"]["id"]
            if post_id in self.held:
                self.c["duplicates applied"] += 1
            else:
                self.held[post_id] = time.monotonic()
                self.via[source] = self.via.get(source, 0) + 1

    def gap_check(self) -> None:
        self.gap_timer = None
        if self.pending and min(self.pending) > self.last_seq + 1 and self.conn is not None:
            self.c["gap syncs"] += 1
            self.ask("sync", "gap")

    def ask(self, kind: str, reason: str = "join") -> None:
        if self.wanted is None or kind == "join":
            self.wanted, self.reason = kind, reason
        self.wake.set()

    # The connection ---------------------------------------------------------------------

    async def run(self, limit: asyncio.Semaphore) -> None:
        base = self.cfg["base"]
        headers = {"Origin": base}
        attempt, first = 0, True
        minute = asyncio.ensure_future(self.every_minute())  # from the page's load, as setInterval
        try:
            while self.gave_up is None:
                try:
                    if first:
                        async with limit:
                            conn = await Connection.open(self.http, base, headers, self.on_message)
                    else:
                        conn = await Connection.open(self.http, base, headers, self.on_message)
                except Exception as error:  # noqa: BLE001 - any failure: try again later
                    self.c["connect failures"] += 1
                    if first and attempt >= 5:
                        self.gave_up = f"connect: {type(error).__name__}: {error}"[:200]
                        break
                    await asyncio.sleep(backoff(attempt))
                    attempt += 1
                    continue
                first, attempt = False, 0
                self.c["connects"] += 1
                self.conn = conn
                self.ask("join")
                asking = asyncio.ensure_future(self.catch_up(conn))
                await conn.closed
                self.conn = self.live_since = None
                asking.cancel()
                await asyncio.gather(asking, return_exceptions=True)
                self.wanted = None
                if self.gap_timer is not None:
                    self.gap_timer.cancel()
                    self.gap_timer = None
                if self.reloading:
                    await self.reload_page()
                    continue
                if self.cfg["stopping"]:
                    break
                self.c["disconnects"] += 1
                await asyncio.sleep(backoff(0))
                attempt = 1
        finally:
            minute.cancel()
        if not self.joined.done():
            self.joined.set_result(self.gave_up or "stopped")

    async def every_minute(self) -> None:
        while True:
            await asyncio.sleep(SYNC_EVERY_S)
            if self.conn is not None:
                self.c["periodic syncs"] += 1
                self.ask("sync", "minute")

    async def catch_up(self, conn: Connection) -> None:
        """One join or sync in flight on this connection; the next once it is answered."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.wanted is not None:
                kind, reason, self.wanted = self.wanted, self.reason, None
                self.c["joins" if kind == "join" else "syncs"] += 1
                try:
                    ack = await conn.call(kind, {"stream": self.stream, "last_seq": self.last_seq})
                except asyncio.TimeoutError:
                    self.c["catch-up timeouts"] += 1
                    if kind == "join":
                        await asyncio.sleep(JOIN_RETRY_S)
                        self.ask("join")
                    continue
                except Closed:
                    return
                if not isinstance(ack, dict) or not ack.get("ok"):
                    code, retry_after = error_of(ack)
                    if code == 429:
                        self.c["429"] += 1
                        await asyncio.sleep(max(retry_after, 1.0) + random.random())
                        self.ask(kind, reason)
                    else:
                        self.c["catch-up errors"] += 1
                        if kind == "join" and (code == 0 or code >= 500):
                            await asyncio.sleep(JOIN_RETRY_S)
                            self.ask("join")
                        elif kind == "join":
                            self.gave_up = f"join refused: {code}"
                            await conn.close()
                            return
                    continue
                if ack.get("reload"):
                    self.c["reloads"] += 1
                    self.reloading = True
                    await conn.close()
                    return
                if kind == "join":
                    self.live_since = time.monotonic()
                    if self.last_seq is None:
                        self.last_seq = int(ack["seq"])
                    if not self.joined.done():
                        self.joined.set_result(None)
                for event in ack.get("missed" if kind == "join" else "events") or []:
                    self.receive(event, reason)
                if ack.get("more"):
                    self.c["page syncs"] += 1
                    self.ask("sync", "page")

    async def reload_page(self) -> None:
        """As a reloaded page: its data-seq; the posts up to it are on the page."""
        url = f"{self.cfg['base']}/consultations/{self.cfg['consultation_id']}"
        pattern = re.compile(r'data-stream="' + re.escape(self.stream) + r'"[^>]*?data-seq="(\d+)"')
        while True:
            try:
                async with self.http.get(url, timeout=CONNECT_TIMEOUT) as response:
                    text = await response.text()
                match = pattern.search(text) if response.status == 200 else None
                if match:
                    break
            except Exception:  # noqa: BLE001 - a page that fails to load is loaded again
                pass
            await asyncio.sleep(JOIN_RETRY_S)
        self.last_seq = self.page_seq = int(match.group(1))
        self.page_time = time.monotonic()
        self.pending = {s: e for s, e in self.pending.items() if s > self.last_seq}
        self.reloading = False

    def completed_at(self, expected: list[tuple[int, int]]) -> float | None:
        """When this reader first held every expected post while joined on an open socket (a
        reader that has them all but is disconnected would miss the next), or None."""
        if self.live_since is None:
            return None
        latest = self.live_since
        for seq, post_id in expected:
            if post_id in self.held:
                latest = max(latest, self.held[post_id])
            elif self.page_seq is not None and seq <= self.page_seq:
                latest = max(latest, self.page_time)
            else:
                return None
        return latest


async def _reader_main(conn, cfg: dict, first: int, count: int, concurrency: int) -> None:
    import aiohttp

    loop = asyncio.get_running_loop()
    sessions = {}

    def session_for(index: int):
        address = reader_address(index) if cfg["own_addresses"] else "127.0.0.1"
        if address not in sessions:
            sessions[address] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, local_addr=(address, 0)),
                cookie_jar=aiohttp.DummyCookieJar())
        return sessions[address]

    readers = [StormReader(first + i, cfg, session_for(first + i)) for i in range(count)]
    limit = asyncio.Semaphore(concurrency)
    tasks = [asyncio.ensure_future(r.run(limit)) for r in readers]
    try:
        done = await asyncio.gather(*(asyncio.wait_for(asyncio.shield(r.joined), cfg["join_timeout"])
                                      for r in readers), return_exceptions=True)
        failures: dict[str, int] = {}
        for outcome in done:
            if outcome is not None:
                key = outcome if isinstance(outcome, str) else type(outcome).__name__
                failures[key] = failures.get(key, 0) + 1
        joined = [r for r, outcome in zip(readers, done, strict=True) if outcome is None]
        conn.send(("ready", {"joined": len(joined), "failures": failures,
                             "join_seq": sorted({r.last_seq for r in joined if r.last_seq is not None})}))
        command, target = await loop.run_in_executor(None, conn.recv)
        if command != "target":
            return
        expected = [tuple(x) for x in target["expected"]]
        while time.monotonic() < target["deadline"]:
            if all(r.completed_at(expected) is not None for r in joined):
                break
            await asyncio.sleep(0.2)
        completions = [r.completed_at(expected) for r in joined]
        counters: dict[str, int] = {}
        via: dict[str, int] = {}
        for r in joined:
            for k, v in r.c.items():
                counters[k] = counters.get(k, 0) + v
            for k, v in r.via.items():
                via[k] = via.get(k, 0) + v
            via["reloaded page"] = via.get("reloaded page", 0) + sum(
                1 for s, p in expected if p not in r.held and r.page_seq is not None and s <= r.page_seq)
        conn.send(("result", {
            "via": via,
            "completions": completions,
            "missing": sum(sum(1 for s, p in expected if p not in r.held
                               and not (r.page_seq is not None and s <= r.page_seq)) for r in joined),
            "counters": counters,
            "readers disconnected": sum(1 for r in joined if r.c["disconnects"]),
            "readers reloaded": sum(1 for r in joined if r.c["reloads"]),
            "gave up": sum(1 for r in joined if r.gave_up),
            "cpu": sum(os.times()[:2]),
        }))
        await loop.run_in_executor(None, conn.recv)
    finally:
        cfg["stopping"] = True
        await asyncio.gather(*(r.conn.close() for r in readers if r.conn is not None), return_exceptions=True)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(s.close() for s in sessions.values()), return_exceptions=True)


def reader_process(conn, cfg, first, count, concurrency, lifetime) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    try:
        asyncio.run(asyncio.wait_for(_reader_main(conn, cfg, first, count, concurrency), lifetime))
    except (EOFError, BrokenPipeError, asyncio.TimeoutError):
        pass
    finally:
        conn.close()


# --- Writers (in this process) ------------------------------------------------------------

class Writer:
    def __init__(self, index: int, base: str, cookie: str):
        self.index, self.base = index, base
        self.headers = {"Origin": base, "User-Agent": USER_AGENT, "Cookie": cookie}
        self.conn: Connection | None = None
        self.attempt = 0

    async def connection(self, http) -> Connection:
        while self.conn is None or self.conn.closed.done():
            try:
                self.conn = await Connection.open(http, self.base, self.headers, lambda name, payload: None)
                self.attempt = 0
            except Exception:  # noqa: BLE001 - the server may be restarting
                self.conn = None
                await asyncio.sleep(backoff(self.attempt))
                self.attempt += 1
        return self.conn


async def run_writers(base: str, cookies: list[str], cfg: dict, args, run_id: str, on_start) -> dict:
    import aiohttp

    http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
    writers = [Writer(i, base, cookie) for i, cookie in enumerate(cookies)]
    stats = {"acked": {}, "ack s": {}, "ack wait s": [], "resends": 0, "429": 0, "5xx": 0, "refused": {},
             "gave up": 0}
    t0 = time.monotonic() + 0.5
    on_start(t0)
    give_up_at = t0 + args.posts / args.rate + args.settle_timeout

    async def write(w: Writer) -> None:
        for i in range(w.index, args.posts, len(writers)):
            delay = t0 + i / args.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            key = f"storm-{run_id}-{i}"
            payload = {"stream": cfg["stream"], "topic_id": cfg["topic_id"], "parent_id": None, "subject": "",
                       "body": f"Storm post {i + 1} of {args.posts} (key {key}).",
                       "on_behalf_of_organisation": False, "client_key": key}
            first_sent = time.monotonic()
            while True:
                if time.monotonic() > give_up_at:
                    stats["gave up"] += 1
                    break
                conn = await w.connection(http)
                try:
                    ack = await conn.call("post", payload)
                except (asyncio.TimeoutError, Closed):
                    stats["resends"] += 1  # no acknowledgement: the same key again
                    await asyncio.sleep(0)
                    continue
                if isinstance(ack, dict) and ack.get("ok"):
                    stats["acked"][key] = ack["post"]["seq"]
                    stats["ack s"][key] = time.monotonic()
                    stats["ack wait s"].append(stats["ack s"][key] - first_sent)
                    break
                code, retry_after = error_of(ack)
                if code == 429:
                    stats["429"] += 1
                    await asyncio.sleep(max(retry_after, 1.0) + random.random())
                elif code >= 500 or code == 0:
                    stats["5xx"] += 1
                    await asyncio.sleep(1.0)
                else:
                    stats["refused"][code] = stats["refused"].get(code, 0) + 1
                    break
                stats["resends"] += 1

    try:
        await asyncio.gather(*(write(w) for w in writers))
    finally:
        await asyncio.gather(*(w.conn.close() for w in writers if w.conn is not None), return_exceptions=True)
        await http.close()
    return stats


# --- Faults ---------------------------------------------------------------------------------

class OwnRedis:
    """A redis-server of the script's own on a free port, without persistence."""

    def __init__(self, logdir: Path):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError("redis-server not found on PATH")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = logdir / "redis.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        with open(self.log, "a") as log:
            self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                                          "--save", "", "--appendonly", "no", "--daemonize", "no"],
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}")
            try:
                if redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not answer")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


class Plenary:
    """The server under test; `restart` kills it (-9, master and workers) and starts it again."""

    def __init__(self, port: int, args, env: dict, logdir: Path):
        self.port, self.args, self.env, self.logdir = port, args, env, logdir
        self.servers: list[Server] = []
        self.dead_cpu = 0.0  # CPU seconds of the killed processes, read just before the kill
        self.start()

    def start(self) -> Server:
        name = "plenary" if not self.servers else f"plenary-{len(self.servers) + 1}"
        server = Server(name, "wsgi:app", self.port, self.args.processes, self.args.worker_connections,
                        self.env, self.logdir)
        self.servers.append(server)
        return server

    @property
    def current(self) -> Server:
        return self.servers[-1]

    def cpu(self) -> float:
        return self.dead_cpu + cpu_seconds(process_tree(self.current.pid))

    def kill_and_start(self) -> None:
        old = self.current
        pids = process_tree(old.pid)
        self.dead_cpu += cpu_seconds(pids)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        old.proc.wait(timeout=10)
        old.stop()  # closes its log; nothing of it is left to stop
        self.start()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def logs(self) -> list[Path]:
        return [s.log for s in self.servers]


async def storm(args, plenary: Plenary, redis: OwnRedis | None, base: str, cookies: list[str], cfg: dict,
                run_id: str) -> dict:
    loop = asyncio.get_running_loop()
    marks: dict = {"cpu": []}
    stop_sampling = asyncio.Event()

    async def sample_cpu() -> None:
        while not stop_sampling.is_set():
            marks["cpu"].append((time.monotonic(), plenary.cpu()))
            try:
                await asyncio.wait_for(stop_sampling.wait(), 0.5)
            except asyncio.TimeoutError:
                pass

    async def fault(t0: float) -> None:
        await asyncio.sleep(max(0.0, t0 + args.fault_after - time.monotonic()))
        marks["cpu"].append((time.monotonic(), plenary.cpu()))
        marks["fault"] = time.monotonic()
        if args.fault == "kill":
            plenary.kill_and_start()
            marks["restarted"] = time.monotonic()
            await loop.run_in_executor(None, plenary.current.wait_ready, "/login")
            marks["serving"] = time.monotonic()
        else:
            await loop.run_in_executor(None, redis.stop)
            marks["redis stopped"] = time.monotonic()
            await asyncio.sleep(args.fault_duration)
            await loop.run_in_executor(None, redis.start)
            marks["serving"] = time.monotonic()

    started = loop.create_future()
    sampler = asyncio.ensure_future(sample_cpu())
    writing = asyncio.ensure_future(run_writers(base, cookies, cfg, args, run_id, started.set_result))
    t0 = await started
    marks["first send"] = t0
    faulting = asyncio.ensure_future(fault(t0))
    try:
        stats = await writing
        await faulting
    finally:
        faulting.cancel()
    marks["writers done"] = time.monotonic()
    return {"writers": stats, "marks": marks, "sampler": sampler, "stop sampling": stop_sampling}


def stored_posts(url: str, stream: str, consultation_id: int) -> dict:
    """What the database holds: the stream's post.created events and the consultation's posts."""
    from sqlalchemy import create_engine, text

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as db:
            events = db.execute(text("SELECT seq, kind, post_id FROM stream_event WHERE stream_key = :s "
                                     "ORDER BY seq"), {"s": stream}).all()
            posts, keys = db.execute(text("SELECT count(*), count(DISTINCT client_key) FROM post "
                                          "WHERE consultation_id = :c"), {"c": consultation_id}).one()
    finally:
        engine.dispose()
    return {"created": [(e.seq, e.post_id) for e in events if e.kind == "post.created"],
            "seqs": [e.seq for e in events], "posts": posts, "distinct keys": keys}


def log_figures(paths: list[Path]) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Counts of the markers, and the last line of each traceback (what failed), most frequent first."""
    counts = dict.fromkeys(LOG_MARKERS, 0)
    failures: dict[str, int] = {}
    for path in paths:
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        candidate = None  # the exception line last seen in the traceback being read
        for line in [*lines, None]:
            if line is not None:
                for marker in LOG_MARKERS:
                    counts[marker] += line.count(marker)
            if candidate is not None and (line is None or LOG_RECORD.match(line)):
                failures[candidate] = failures.get(candidate, 0) + 1
                candidate = None
            if line is not None and EXCEPTION_LINE.match(line):
                candidate = line[:160]
    return counts, sorted(failures.items(), key=lambda kv: -kv[1])


def cpu_at(samples: list[tuple[float, float]], t: float) -> float:
    """The server's CPU seconds at instant t, from the samples (linear between two)."""
    before = [s for s in samples if s[0] <= t]
    after = [s for s in samples if s[0] >= t]
    if not before:
        return samples[0][1]
    if not after:
        return samples[-1][1]
    (t1, c1), (t2, c2) = before[-1], after[0]
    return c1 if t2 == t1 else c1 + (c2 - c1) * (t - t1) / (t2 - t1)


# --- Main -----------------------------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", type=int, default=200, help=f"reader connections (max {MAX_READERS}; default 200)")
    parser.add_argument("--writers", type=int, default=5, help="logged-in writer connections (default 5)")
    parser.add_argument("--posts", type=int, default=200, help="posts in total (default 200)")
    parser.add_argument("--rate", type=float, default=10.0, help="posts per second over all writers (default 10)")
    parser.add_argument("--fault", choices=("kill", "redis"), default="kill",
                        help="kill: kill -9 gunicorn (master and workers) and start it again at once; "
                             "redis: stop the script's own redis-server and start it again (default kill)")
    parser.add_argument("--fault-after", type=float, default=8.0, help="seconds into the posting (default 8)")
    parser.add_argument("--fault-duration", type=float, default=2.0,
                        help="seconds Redis stays stopped (--fault redis; default 2)")
    parser.add_argument("--processes", type=int, default=None,
                        help="gunicorn worker processes (default 1 for kill, 2 for redis; above 1 the processes "
                             "share the script's own redis-server)")
    parser.add_argument("--database-url", default=None,
                        help="default: a temporary SQLite file; e.g. postgresql://postgres@127.0.0.1:5432/"
                             "plenary_bench_storm (created if missing)")
    parser.add_argument("--settle-timeout", type=float, default=120.0,
                        help="seconds after the fault to wait for every reader to hold every post (default 120; "
                             "the target is 30)")
    parser.add_argument("--reorder-window", type=float, default=1.0,
                        help="seconds a reader holds an event ahead of the next seq before it asks sync (default 1)")
    parser.add_argument("--shared-address", action="store_true",
                        help="every reader connects from 127.0.0.1 (one address, as behind a venue's NAT); "
                             "default: each from a loopback address of its own")
    parser.add_argument("--connect-concurrency", type=int, default=50,
                        help="first connections opened at once (default 50)")
    parser.add_argument("--readers-per-process", type=int, default=READERS_PER_PROCESS,
                        help=f"readers per client process (default {READERS_PER_PROCESS})")
    parser.add_argument("--worker-connections", type=int, default=None,
                        help="gunicorn --worker-connections (default: enough for every client)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temporary directory with server logs")
    args = parser.parse_args(argv)
    if not 1 <= args.readers <= MAX_READERS:
        parser.error(f"--readers must be between 1 and {MAX_READERS}")
    if args.writers < 1 or args.posts < 1 or args.rate <= 0:
        parser.error("--writers and --posts must be at least 1, --rate above 0")
    if args.processes is None:
        args.processes = 2 if args.fault == "redis" else 1
    if args.worker_connections is None:
        args.worker_connections = max(1000, 2 * (args.readers + args.writers) + 100)
    return args


def report(args, figures: dict) -> bool:
    f = figures
    settled = f["settle s"] is not None
    rows = [
        ("readers joined", f"{f['joined']}/{args.readers}"),
        ("posts acknowledged / stored", f"{f['acked']}/{args.posts} / {f['stored']}"),
        ("writer resends (same key) / 429 / 5xx", f"{f['w resends']} / {f['w 429']} / {f['w 5xx']}"),
        ("post acknowledged after its first sending, s p50/p95/max",
         "/".join(f"{x:.2f}" for x in f["ack pcts"]) if f["ack pcts"] else "-"),
        ("server back after the fault, s", f"{f['back s']:.1f}"),
        ("last post acknowledged, s after the fault", f"{f['last ack s']:.1f}"),
        ("settle time, s after the fault", f"{f['settle s']:.1f}" if settled else
         f"not settled: {f['short']} readers short at {args.settle_timeout:g} s "
         f"({f['missing']} posts still missing when counted)"),
        ("  of which after the last acknowledgement, s",
         f"{max(0.0, f['settle s'] - f['last ack s']):.1f}" if settled else "-"),
        ("reader completion, s after the fault p50/p95/max",
         "/".join(f"{x:.1f}" for x in f["completion pcts"]) if f["completion pcts"] else "-"),
        ("duplicates applied", str(f["c"]["duplicates applied"])),
        ("posts held via live / join / gap sync / page / minute sync / notice / reload",
         " / ".join(str(f["via"].get(k, 0))
                    for k in ("live", "join", "gap", "page", "minute", "notice", "reloaded page"))),
        ("server's sync notices received", str(f["c"]["sync notices"])),
        ("out-of-order receptions / events already applied (ignored)",
         f"{f['c']['out of order']} / {f['c']['seen again']}"),
        ("syncs sent (asked: after a gap / next page / each minute)",
         f"{f['c']['syncs']} ({f['c']['gap syncs']} / {f['c']['page syncs']} / {f['c']['periodic syncs']})"),
        ("joins (first ones included)", str(f["c"]["joins"])),
        ("reloads (readers)", f"{f['c']['reloads']} ({f['readers reloaded']})"),
        ("429s to readers", str(f["c"]["429"])),
        ("catch-up timeouts / other errors", f"{f['c']['catch-up timeouts']} / {f['c']['catch-up errors']}"),
        ("disconnects (readers)", f"{f['c']['disconnects']} ({f['readers disconnected']})"),
        ("failed connection attempts", str(f["c"]["connect failures"])),
        ("readers that gave up", str(f["gave up"])),
        *((f"server log: {marker!r}", str(n)) for marker, n in f["log counts"].items()),
        ("server CPU from the fault until settled, s", f"{f['storm cpu']:.1f}"),
        ("server CPU before the fault, s per s of posting", f"{f['cpu rate before']:.2f}"),
    ]
    print()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end "
          f"(other work on the machine skews the figures)")
    print(f"fault {args.fault} at {args.fault_after:g} s" + (f" for {args.fault_duration:g} s" if args.fault == "redis"
                                                             else "")
          + f"; readers {args.readers}, writers {args.writers}, posts {args.posts} at {args.rate:g}/s, "
          f"processes {args.processes}, database {f['database']}, "
          f"reader addresses {'one' if args.shared_address else 'one each'}")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    if f["failures"]:
        print("what failed in the server (last line of each traceback, by count):")
        for line, n in f["failures"][:8]:
            print(f"  {n:>6} × {line}")
    problems = []
    if not settled:
        problems.append("the readers did not settle")
    if f["c"]["duplicates applied"]:
        problems.append("posts applied twice")
    if f["acked"] != args.posts:
        problems.append(f"{args.posts - f['acked']} posts not acknowledged")
    if f["stored"] != f["acked"] or f["stored keys"] != f["stored"]:
        problems.append(f"stored {f['stored']} posts ({f['stored keys']} keys) for {f['acked']} acknowledged")
    if f["gaps in seqs"]:
        problems.append("the stream's seqs are not consecutive")
    print("FAILED: " + "; ".join(problems) if problems else
          "every reader holds every stored post exactly once")
    return not problems


def main(argv=None) -> int:
    args = parse_args(argv)
    run_id = f"{int(time.time())}-{secrets.token_hex(3)}"
    tmp = Path(tempfile.mkdtemp(prefix="plenary-storm-"))
    plenary = redis = pool = None
    ok = False
    print(f"code: {code_version()}; load average at the start: {os.getloadavg()[0]:.2f}", flush=True)
    try:
        url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        database = url.split("@")[-1] if "@" in url else url.split(":///")[0]
        if url.startswith(("postgres://", "postgresql")):
            ensure_postgres_database(url)
        print(f"preparing the database ({database}) ...", flush=True)
        migrate(url)
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as executor:
            data = executor.submit(setup_data, url, args.writers, run_id).result(timeout=300)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        # Rate limits as shipped, but for the writers' allowance: they stand for many people.
        env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=secrets.token_urlsafe(32),
                   PLENARY_ENV="development", RATELIMIT_ENABLED="true",
                   SOCKETIO_ALLOWED_ORIGINS=base, SOCKETIO_CHANNEL=f"plenary-bench-storm-{run_id}")
        env.setdefault("RATELIMIT_POST_PER_ACCOUNT", "100000 per minute")
        env.setdefault("RATELIMIT_POST_PER_ADDRESS", "100000 per minute")
        env.pop("REDIS_URL", None)
        if args.processes > 1 or args.fault == "redis":
            redis = OwnRedis(tmp)
            redis.start()
            env["REDIS_URL"] = redis.url
        plenary = Plenary(port, args, env, tmp)
        plenary.current.wait_ready("/login")
        print(f"plenary server: {plenary.current.command}" + (f", redis-server on port {redis.port}" if redis else ""),
              flush=True)
        cookies = [login(base, email) for email in data["emails"]]
        stream = f"consultation:{data['consultation_id']}"
        cfg = {"base": base, "stream": stream, "consultation_id": data["consultation_id"],
               "topic_id": data["topic_id"], "reorder_window": args.reorder_window,
               "own_addresses": not args.shared_address, "stopping": False,
               "join_timeout": max(120.0, args.readers * 0.2)}
        lifetime = args.posts / args.rate + args.settle_timeout + cfg["join_timeout"] + 600
        pool = ReaderPool(args.readers, args.readers_per_process, args.connect_concurrency, reader_process,
                          head=(cfg,), tail=(lifetime,))
        t_join = time.monotonic()
        ready = pool.gather("ready", cfg["join_timeout"] + 60)
        joined = sum(r["joined"] for r in ready)
        failures: dict[str, int] = {}
        for r in ready:
            for k, v in r["failures"].items():
                failures[k] = failures.get(k, 0) + v
        print(f"{joined}/{args.readers} readers joined in {time.monotonic() - t_join:.1f} s"
              + (f"; failures: {failures}" if failures else ""), flush=True)
        if not joined:
            raise RuntimeError("no reader could join")

        print(f"posting {args.posts} posts at {args.rate:g}/s; fault ({args.fault}) at {args.fault_after:g} s ...",
              flush=True)
        outcome = asyncio.run(asyncio.wait_for(
            _storm_and_settle(args, plenary, redis, base, cookies, cfg, run_id, pool, url, data),
            timeout=args.posts / args.rate + 2 * args.settle_timeout + 300))
        outcome.update(joined=joined, database=database)
        counts, failure_lines = log_figures(plenary.logs())
        outcome.update({"log counts": counts, "failures": failure_lines})
        ok = report(args, outcome)
    except Exception as error:
        print(f"\nstorm failed: {type(error).__name__}: {error}", file=sys.stderr)
        if plenary is not None:
            print(f"--- last lines of the server log ({plenary.current.log}):\n{plenary.current.tail()}",
                  file=sys.stderr)
        args.keep_logs = True
    finally:
        if pool is not None:
            pool.stop()
        if plenary is not None:
            plenary.stop()
        if redis is not None:
            redis.stop()
        if args.keep_logs:
            print(f"server logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


async def _storm_and_settle(args, plenary, redis, base, cookies, cfg, run_id, pool, url, data) -> dict:
    loop = asyncio.get_running_loop()
    result = await storm(args, plenary, redis, base, cookies, cfg, run_id)
    stats, marks = result["writers"], result["marks"]
    fault_at = marks["fault"]
    db = await loop.run_in_executor(None, stored_posts, url, cfg["stream"], data["consultation_id"])
    pool.send("target", {"expected": db["created"], "deadline": fault_at + args.settle_timeout})
    results = await loop.run_in_executor(None, pool.gather, "result", args.settle_timeout + 120)
    result["stop sampling"].set()
    await result["sampler"]
    # A reader that got there after --settle-timeout (the writers may finish later) is short.
    completions = [c if c is not None and c <= fault_at + args.settle_timeout else None
                   for r in results for c in r["completions"]]
    done = [c for c in completions if c is not None]
    settled = len(done) == len(completions)
    settle_at = max([fault_at, *done]) if settled else fault_at + args.settle_timeout
    samples = marks["cpu"]
    first_send = marks["first send"]
    counters: dict[str, int] = {}
    via: dict[str, int] = {}
    for r in results:
        for k, v in r["counters"].items():
            counters[k] = counters.get(k, 0) + v
        for k, v in r["via"].items():
            via[k] = via.get(k, 0) + v
    seqs = db["seqs"]
    return {
        "acked": len(stats["acked"]), "stored": len(db["created"]), "stored keys": db["distinct keys"],
        "ack pcts": [percentile(stats["ack wait s"], p) for p in (50, 95, 100)] if stats["ack wait s"] else [],
        "w resends": stats["resends"], "w 429": stats["429"], "w 5xx": stats["5xx"],
        "back s": marks["serving"] - fault_at,
        "last ack s": max(stats["ack s"].values(), default=fault_at) - fault_at,
        "settle s": max(0.0, settle_at - fault_at) if settled else None,
        "short": len(completions) - len(done), "missing": sum(r["missing"] for r in results),
        "completion pcts": [percentile([c - fault_at for c in done], p) for p in (50, 95, 100)] if done else [],
        "c": counters, "via": via,
        "readers disconnected": sum(r["readers disconnected"] for r in results),
        "readers reloaded": sum(r["readers reloaded"] for r in results),
        "gave up": sum(r["gave up"] for r in results),
        "storm cpu": cpu_at(samples, settle_at) - cpu_at(samples, fault_at),
        "cpu rate before": (cpu_at(samples, fault_at) - cpu_at(samples, first_send)) / max(1e-9, fault_at - first_send),
        "gaps in seqs": seqs != list(range(1, len(seqs) + 1)),
    }


if __name__ == "__main__":
    sys.exit(main())
