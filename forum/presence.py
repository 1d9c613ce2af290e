"""Who is here now, per stream, and which connections belong to an account: in Redis when
REDIS_URL is set (shared by every server process), in this process's memory otherwise.

In Redis each entry names the server process that holds the connection, and every process
keeps a heartbeat key alive (PRESENCE_TTL seconds, refreshed every third of that): the
entries of a process that died without saying goodbye (killed, its machine lost) stop being
counted once its heartbeat has expired, and are erased by the next reader.

Changes are announced to a stream's readers at most once per PRESENCE_INTERVAL seconds
(`PresenceAnnouncer`): the first change schedules one announcement that carries the state
as it is then; further changes in the meantime are folded into it.
"""
from __future__ import annotations

import functools
import json
import logging
import math
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable

from flask import Flask

log = logging.getLogger("forum.presence")


def best_effort(empty):
    """Presence is a courtesy: if Redis is unreachable, connecting, joining and catching up
    must still work, so a failure is logged and answered with `empty`."""
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except Exception as error:  # redis.RedisError and connection errors
                log.warning("presence unavailable (%s): %s", method.__name__, error)
                return empty() if callable(empty) else empty
        return wrapper
    return decorate


class Presence:
    def __init__(self) -> None:
        self._redis = None
        self._prefix = "plenary:presence:"
        self._local: dict[str, dict[str, dict]] = {}
        self._last_seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self.ttl = 60.0
        self.list_limit = 50
        self._process: tuple[int, str] | None = None
        self._beaten = -math.inf  # when this process's heartbeat was last refreshed (monotonic)
        self._start_task: Callable | None = None
        self._sleep: Callable = time.sleep
        self._heart_running = False

    def init_app(self, app: Flask, start_task: Callable | None = None, sleep: Callable | None = None) -> None:
        """`start_task(function)` runs a function in the background (the heartbeat, with
        Redis): Socket.IO's, so that it is a greenlet under gevent."""
        url = app.config["SOCKETIO_MESSAGE_QUEUE"]
        self._prefix = f"{app.config['SOCKETIO_CHANNEL']}:presence:"
        self.ttl = float(app.config.get("PRESENCE_TTL", 60.0))
        self.list_limit = int(app.config.get("PRESENCE_LIST_LIMIT", 50))
        self._start_task, self._sleep = start_task, sleep or time.sleep
        self._beaten = -math.inf
        if url:
            import redis

            self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        else:
            self._redis = None

    # --- this process and its heartbeat (Redis only) ---

    @property
    def process_id(self) -> str:
        """This server process, as its entries name it (a new one after a fork)."""
        if self._process is None or self._process[0] != os.getpid():
            self._process = (os.getpid(), f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}")
            self._beaten, self._heart_running = -math.inf, False
        return self._process[1]

    def _heartbeat_key(self, process_id: str) -> str:
        return f"{self._prefix}process:{process_id}"

    def beat(self, force: bool = False) -> None:
        """Say that this process is alive (every third of PRESENCE_TTL is enough)."""
        process_id = self.process_id
        now = time.monotonic()
        if force or now - self._beaten > self.ttl / 3:
            self._redis.set(self._heartbeat_key(process_id), 1, ex=max(1, math.ceil(self.ttl)))
            self._beaten = now
        if not self._heart_running and self._start_task is not None:
            self._heart_running = True
            self._start_task(self._heartbeat_loop)

    def _heartbeat_loop(self) -> None:
        process = self._process
        while self._process == process:
            self._sleep(self.ttl / 3)
            try:
                self.beat(force=True)
            except Exception as error:
                log.warning("presence heartbeat failed: %s", error)

    def _entries(self, stream: str) -> dict[str, dict]:
        return self._entries_of([stream])[stream]

    def _entries_of(self, streams: list[str]) -> dict[str, dict[str, dict]]:
        """stream -> (sid -> entry) of those streams' live connections, in two Redis round trips
        however many streams; with Redis, those of processes whose heartbeat has expired are
        left out, and erased."""
        if self._redis is None:
            with self._lock:
                return {stream: dict(self._local.get(stream, {})) for stream in streams}
        pipe = self._redis.pipeline(transaction=False)
        for stream in streams:
            pipe.hgetall(self._prefix + stream)
        raw = {stream: {sid.decode(): json.loads(value) for sid, value in found.items()}
               for stream, found in zip(streams, pipe.execute(), strict=True)}
        processes = sorted({entry.get("p", "") for entries in raw.values() for entry in entries.values()})
        if not processes:
            return raw
        alive = self._redis.mget([self._heartbeat_key(p) for p in processes])
        dead = {p for p, beat in zip(processes, alive, strict=True) if beat is None}
        for stream, entries in raw.items():
            stale = [sid for sid, entry in entries.items() if entry.get("p", "") in dead]
            if stale:
                self._redis.hdel(self._prefix + stream, *stale)
                raw[stream] = {sid: entry for sid, entry in entries.items() if sid not in stale}
        return raw

    @best_effort(None)
    def add(self, stream: str, sid: str, user: dict) -> None:
        if self._redis is not None:
            self.beat()
            self._redis.hset(self._prefix + stream, sid, json.dumps({**user, "p": self.process_id}))
            return
        with self._lock:
            self._local.setdefault(stream, {})[sid] = user

    @best_effort(None)
    def remove(self, stream: str, sid: str) -> None:
        if self._redis is not None:
            self._redis.hdel(self._prefix + stream, sid)
            return
        with self._lock:
            self._local.get(stream, {}).pop(sid, None)

    # Which connections belong to an account, so that logging out can close them all.

    @best_effort(None)
    def add_connection(self, user_id: int, sid: str) -> None:
        if self._redis is not None:
            self._redis.sadd(f"{self._prefix}user:{user_id}", sid)
            return
        with self._lock:
            self._local.setdefault(f"user:{user_id}", {})[sid] = {}

    @best_effort(None)
    def remove_connection(self, user_id: int, sid: str) -> None:
        if self._redis is not None:
            self._redis.srem(f"{self._prefix}user:{user_id}", sid)
            return
        with self._lock:
            self._local.get(f"user:{user_id}", {}).pop(sid, None)

    @best_effort(list)
    def connections(self, user_id: int) -> list[str]:
        if self._redis is not None:
            return [sid.decode() for sid in self._redis.smembers(f"{self._prefix}user:{user_id}")]
        with self._lock:
            return list(self._local.get(f"user:{user_id}", {}))

    @best_effort(list)
    def connections_in(self, stream: str) -> list[str]:
        return list(self._entries(stream))

    @best_effort(lambda: {"count": 0, "users": []})
    def summary(self, stream: str) -> dict:
        """{"count": connections, "users": signed-in people, each once, by name}. Above
        PRESENCE_LIST_LIMIT people, only the first that many are listed and "more" says how
        many others are signed in (a large audience is shown as a number)."""
        entries = self._entries(stream).values()
        users = {e["id"]: {"id": e["id"], "name": e["name"]} for e in entries if e.get("id")}
        listed = sorted(users.values(), key=lambda u: (u["name"].lower(), u["id"]))
        answer = {"count": len(entries), "users": listed[:self.list_limit]}
        if len(listed) > self.list_limit:
            answer["more"] = len(listed) - self.list_limit
        return answer

    @best_effort({})
    def people_counts(self, streams: list[str]) -> dict[str, int]:
        """How many signed-in people are in each stream, each once however many connections
        they have (the organisers' control room: people present in each room)."""
        return {stream: len({entry["id"] for entry in entries.values() if entry.get("id")})
                for stream, entries in self._entries_of(streams).items()}

    # Throttles shared by all of an account's connections (typing notices), in Redis when
    # there is one, so that sockets of one account in several server processes share them.

    # Atomic in Redis, on Redis's clock: "now" if at least ARGV[1] ms passed since the last
    # time the key was let through (which is then moved to now), else 0.
    _THROTTLE_SCRIPT = """
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    local last = tonumber(redis.call('GET', KEYS[1]))
    if last and now - last < tonumber(ARGV[1]) then return 0 end
    redis.call('SET', KEYS[1], now, 'PX', math.max(tonumber(ARGV[1]), 1))
    return now
    """

    @best_effort(False)
    def allow_once_per(self, key: str, seconds: float) -> bool:
        """True at most once per `seconds` for `key`, across all server processes. If Redis
        is unreachable, False: what this throttles is a courtesy (a typing notice)."""
        if self._redis is not None:
            return bool(self._redis.eval(self._THROTTLE_SCRIPT, 1, f"{self._prefix}throttle:{key}",
                                         int(seconds * 1000)))
        now = time.monotonic()
        with self._lock:
            if now - self._last_seen.get(key, -math.inf) < seconds:
                return False
            if len(self._last_seen) > 10_000:  # forget keys whose interval has long passed
                self._last_seen = {k: t for k, t in self._last_seen.items() if now - t < 60}
            self._last_seen[key] = now
            return True


class PresenceAnnouncer:
    """Tells a stream's readers who is here, at most once per PRESENCE_INTERVAL seconds.

    The first change (`changed`) claims the stream and schedules one announcement
    PRESENCE_INTERVAL seconds later, in the background; changes until then find the claim
    taken and are folded in, since the announcement carries the state as it is when sent.
    With Redis the claim is a key there (SET NX, expiring in case its process dies first),
    so changes in every server process share one announcement; otherwise it is this
    process's. The claim is given up just before the state is read, so that a change after
    that point schedules the next announcement. Nothing is ever sent from within
    `changed`: a socket's disconnect handler calls it, and sending to sockets that are
    themselves gone makes the server disconnect them there and then (engineio's send
    closes a socket past its ping timeout, which runs its disconnect handler), one inside
    the other, 2,000 deep when 2,000 readers time out together."""

    def __init__(self, store: Presence) -> None:
        self.store = store
        self.interval = 1.0
        self._scheduled: set[str] = set()
        self._lock = threading.Lock()
        self.start_task: Callable | None = None
        self.sleep: Callable = time.sleep
        self.emit: Callable | None = None

    def init_app(self, app: Flask, emit: Callable, start_task: Callable, sleep: Callable) -> None:
        self.interval = float(app.config.get("PRESENCE_INTERVAL", 1.0))
        self.emit, self.start_task, self.sleep = emit, start_task, sleep
        with self._lock:
            self._scheduled.clear()

    def _key(self, stream: str) -> str:
        return f"{self.store._prefix}announce:{stream}"

    @best_effort(False)
    def _claim(self, stream: str) -> bool:
        redis = self.store._redis
        if redis is not None:
            # Expires by itself if this process dies before announcing.
            return bool(redis.set(self._key(stream), self.store.process_id, nx=True,
                                  px=int(self.interval * 3000) + 1000))
        with self._lock:
            if stream in self._scheduled:
                return False
            self._scheduled.add(stream)
            return True

    @best_effort(None)
    def _release(self, stream: str) -> None:
        if self.store._redis is not None:
            self.store._redis.delete(self._key(stream))
        with self._lock:
            self._scheduled.discard(stream)

    def changed(self, stream: str) -> None:
        """Someone came or went: schedule an announcement unless one is already due."""
        if self._claim(stream):
            self.start_task(self._announce_later, stream)

    def _announce_later(self, stream: str) -> None:
        self.sleep(self.interval)
        self.announce(stream)

    def announce(self, stream: str) -> None:
        """Send the stream's presence now (the scheduled task does, after the interval)."""
        self._release(stream)
        try:
            self.emit("presence", {"stream": stream, **self.store.summary(stream)}, to=stream)
        except Exception:
            log.exception("presence could not be announced")


presence = Presence()
announcer = PresenceAnnouncer(presence)
