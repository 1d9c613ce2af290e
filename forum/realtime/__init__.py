"""Socket.IO: authenticate on connect, parse events, call the services. See docs/realtime.md."""
from __future__ import annotations

import gc

from flask import Flask

from forum.extensions import socketio
from forum.realtime.queue import RedisManager


def init_app(app: Flask) -> None:
    from forum.presence import announcer, presence
    from forum.realtime import (
        handlers,  # noqa: F401  (registers the event handlers)
        messages,  # noqa: F401  (builds the live events' messages: events.build_messages_with)
        websocket,
    )

    origins = app.config["SOCKETIO_ALLOWED_ORIGINS"] or None  # None: the site's own origin only
    queue_url = app.config["SOCKETIO_MESSAGE_QUEUE"]
    # With Redis, our RedisManager (forum/realtime/queue.py) is the message queue.
    more = {"client_manager": RedisManager(queue_url, channel=app.config["SOCKETIO_CHANNEL"])} if queue_url else {}
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        **more,
        cors_allowed_origins=origins,
        manage_session=False,
        # Each connection's messages are handled one after the other, in the order sent:
        # one client's writes are never reordered.
        async_handlers=False,
        logger=False,
        engineio_logger=False,
    )
    # In front of Socket.IO: WebSockets without permessage-deflate (checked, or no start).
    websocket.install(app, socketio)
    presence.init_app(app, start_task=socketio.start_background_task, sleep=socketio.sleep)
    announcer.init_app(app, emit=socketio.emit, start_task=socketio.start_background_task, sleep=socketio.sleep)


def tune_garbage_collector(app: Flask) -> None:
    """For the server process (wsgi.py): collect less often (GC_THRESHOLDS). Each full
    collection walks every object of every open socket, with the process, and so every
    reader, waiting. (Not gc.freeze() of what was loaded at start-up: frozen objects are
    never collected, not even at exit, so the database connections of `flask` commands were
    left open and SQLite's write-ahead log never checkpointed into the database file.)"""
    setting = app.config["GC_THRESHOLDS"].strip()
    if setting == "default":
        return
    try:
        thresholds = [int(part) for part in setting.split(",")]
        if len(thresholds) != 3 or min(thresholds) < 1:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"GC_THRESHOLDS must be three whole numbers above 0, like 50000,20,20, "
                           f"or 'default'; it is {setting!r}") from None
    gc.set_threshold(*thresholds)
