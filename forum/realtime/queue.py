"""The Socket.IO message queue (Redis, REDIS_URL): python-socketio's RedisManager, which also
tells this process's readers to catch up once it listens again after losing Redis.

While Redis is unreachable, and until this process has subscribed again once it is back
(python-socketio retries after 1, 2, 4, ... s), what any process publishes is lost for this
process's readers: a post made then is stored and numbered, but its message never arrives.
A reader notices a lost message at the stream's next one (a gap in the numbers); if none
follows, it would wait for its once-a-minute `sync`. So, each time this process subscribes
again, it sends every stream it has readers in a `sync` notice, to this process's readers
only (docs/realtime.md): they ask for what they missed, each after a short random delay.
"""
from __future__ import annotations

import logging
import time

import socketio

from forum.services.events import STREAM_PREFIXES

logger = logging.getLogger("forum.realtime")


class RedisManager(socketio.RedisManager):
    def _redis_listen_with_retries(self):
        # python-socketio's own loop (5.x: connect, subscribe, listen; on an error wait 1, 2,
        # 4, ... 60 s and again), with the notice after each subscription but the first: its
        # pubsub ignores subscription messages, so they cannot be watched from outside.
        retry_sleep = 1
        listened_before = False
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                retry_sleep = 1
                if listened_before:
                    self._tell_readers_to_catch_up()
                listened_before = True
                yield from self.pubsub.listen()
            except Exception as exc:
                self._get_logger().error(f"Cannot receive from redis... retrying in {retry_sleep} secs",
                                         extra={"redis_exception": str(exc)})
                time.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, 60)

    def _tell_readers_to_catch_up(self) -> None:
        streams = [room for room in list(self.rooms.get("/", {}))
                   if isinstance(room, str) and room.startswith(STREAM_PREFIXES)]
        logger.warning("listening to the message queue again: %d streams told to catch up", len(streams))
        for stream in streams:
            # Not through the queue: every process sends its own readers this notice.
            self.emit("sync", {"stream": stream}, namespace="/", room=stream, ignore_queue=True)
