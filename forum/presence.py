"""Who is here now, per stream, and which connections belong to an account: in Redis when
REDIS_URL is set (shared by every server process), in this process's memory otherwise."""
from __future__ import annotations

import functools
import json
import logging
import math
import threading
import time

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

    def init_app(self, app: Flask) -> None:
        url = app.config["SOCKETIO_MESSAGE_QUEUE"]
        self._prefix = f"{app.config['SOCKETIO_CHANNEL']}:presence:"
        if url:
            import redis

            self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        else:
            self._redis = None

    @best_effort(None)
    def add(self, stream: str, sid: str, user: dict) -> None:
        if self._redis is not None:
            self._redis.hset(self._prefix + stream, sid, json.dumps(user))
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
        if self._redis is not None:
            return [sid.decode() for sid in self._redis.hkeys(self._prefix + stream)]
        with self._lock:
            return list(self._local.get(stream, {}))

    @best_effort(lambda: {"count": 0, "users": []})
    def summary(self, stream: str) -> dict:
        """{"count": connections, "users": signed-in people, each once}."""
        if self._redis is not None:
            entries = [json.loads(v) for v in self._redis.hvals(self._prefix + stream)]
        else:
            with self._lock:
                entries = list(self._local.get(stream, {}).values())
        users = {e["id"]: e for e in entries if e.get("id")}
        return {"count": len(entries), "users": sorted(users.values(), key=lambda u: u["name"].lower())}

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


presence = Presence()
