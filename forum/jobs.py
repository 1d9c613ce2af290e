"""The job queue: work too slow for a request (recomputing an opinion map, ...) runs here.

With REDIS_URL (JOBS_REDIS_URL) jobs go to an RQ queue in Redis, and `flask worker` (forum/cli.py)
runs them, each in an app context of its own (its own database session, committed when the
job returns, rolled back when it raises). Without Redis a job runs in this process, once the
transaction that asked for it has committed (never inside it: it must read what was committed,
and a failure must not undo the write that asked for it).

Debouncing. `enqueue(func, *args, key=..., debounce_seconds=...)` with a key asks for *one*
run of `func` that starts at least `debounce_seconds` later and sees everything committed
before it starts. A gate key in Redis (`SET NX EX`, JOBS_KEY_PREFIX + "gate:" + key) marks a
run as scheduled: the first request in a quiet period sets it and schedules the job (RQ's
`enqueue_in`); the requests that follow, while the gate stands, add nothing. The job deletes
the gate as it *starts*, before it reads anything: whatever committed before that moment is
read by this run, and whatever commits after it finds no gate and schedules the next run.
The gate's expiry (the delay plus GATE_SLACK_SECONDS) only matters if a job is lost (a worker
killed mid-job): the next request after it schedules again. Without Redis the same gate is kept
in this process's memory and the run waits on a timer (a thread; a greenlet under gevent), off
the request that asked for it; with `debounce_seconds` 0 it runs right after the commit.

Keys: RQ's queue is named JOBS_KEY_PREFIX + "queue" and the gates start with JOBS_KEY_PREFIX,
so deployments (and tests) sharing one Redis keep apart by prefix, as presence does with
SOCKETIO_CHANNEL.
"""
from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from forum.extensions import db

log = logging.getLogger("forum.jobs")

GATE_SLACK_SECONDS = 60
FAILURE_TTL_SECONDS = 7 * 24 * 3600
INLINE = "plenary.inline_jobs"  # session.info: keys already scheduled to run after this commit


def _path(func: Callable) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def _resolve(path: str) -> Callable:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def redis_url(app: Flask | None = None) -> str | None:
    return (app or current_app).config.get("JOBS_REDIS_URL") or None


def prefix(app: Flask | None = None) -> str:
    return (app or current_app).config["JOBS_KEY_PREFIX"]


def connection(app: Flask | None = None):
    import redis

    return redis.Redis.from_url(redis_url(app))


def queue(app: Flask | None = None):
    from rq import Queue

    app = app or current_app
    return Queue(prefix(app) + "queue", connection=connection(app), default_timeout=app.config["JOBS_TIMEOUT"])


def gate_key(key: str, app: Flask | None = None) -> str:
    return f"{prefix(app)}gate:{key}"


def enqueue(func: Callable, *args: Any, key: str | None = None, debounce_seconds: float = 0,
            outside_transaction: bool = False, long: bool = False) -> None:
    """Run `func(*args)` off the request (args: JSON-able values such as ids, never models).
    Called in a write's transaction: nothing is queued unless and until it commits. With
    `outside_transaction` (a socket's leave or disconnect, which write nothing) it is queued
    at once, by the same rules. A `long` job (seconds: a report) without Redis, in a process
    under gevent, runs in a greenlet of its own, so that the request that asked answers at
    once (see "Long jobs" below)."""
    from forum.services import events

    if key is not None and not outside_transaction:
        pending = db.session.info.setdefault(INLINE, set())
        if key in pending:
            return  # already asked for by this transaction
        pending.add(key)
    send = _sender(current_app._get_current_object(), _path(func), args, key, debounce_seconds, long)
    if outside_transaction:
        send()
    else:
        events.on_commit(send)


def _sender(app: Flask, path: str, args: tuple, key: str | None, debounce_seconds: float,
            long: bool = False) -> Callable[[], None]:
    """What queues the job: to Redis, or in this process (at once, in a greenlet of its own,
    or on the key's timer)."""
    if redis_url(app):
        return lambda: _submit(app, path, args, key, debounce_seconds)
    if long and _gevent_patched():
        import gevent

        return lambda: gevent.spawn(run_inline, app, path, args)
    if key is None or debounce_seconds <= 0:
        return lambda: run_inline(app, path, args)
    return lambda: _schedule_inline(app, path, args, key, debounce_seconds)


def _submit(app: Flask, path: str, args: tuple, key: str | None, debounce_seconds: float) -> None:
    """After commit: put the job in Redis (debounced by its gate)."""
    try:
        redis = connection(app)
        gate = None
        if key is not None:
            gate = gate_key(key, app)
            seconds = max(1, int(round(debounce_seconds)))
            if not redis.set(gate, "1", nx=True, ex=seconds + GATE_SLACK_SECONDS):
                return  # a run is scheduled and has not started: it will read this change
        jobs = queue(app)
        # Nothing reads a job's return value; a failed job is kept a week for a look (rq info).
        options = {"result_ttl": 0, "failure_ttl": FAILURE_TTL_SECONDS}
        if debounce_seconds > 0:
            jobs.enqueue_in(timedelta(seconds=debounce_seconds), perform, path, list(args), gate, **options)
        else:
            jobs.enqueue(perform, path, list(args), gate, **options)
    except Exception:
        # The write is committed; a lost job means an older map until the next change.
        log.exception("a job could not be queued: %s", path)


def run_inline(app: Flask, path: str, args: tuple) -> None:
    """Without Redis: run now, after the commit that asked for it, in an app context (and so
    a database session) of its own. A failure is logged: the write that asked is committed."""
    try:
        _run(app, path, list(args))
    except Exception:
        log.exception("a job failed: %s", path)


_scheduled: set[str] = set()  # without Redis: keys whose run waits on its timer in this process
_scheduled_lock = threading.Lock()


def _schedule_inline(app: Flask, path: str, args: tuple, key: str, debounce_seconds: float) -> None:
    """Without Redis: one run per key after `debounce_seconds`, on a timer; the changes that
    commit meanwhile are read by that run (the gate opens as it starts, as with Redis)."""
    with _scheduled_lock:
        if key in _scheduled:
            return
        _scheduled.add(key)

    def run() -> None:
        with _scheduled_lock:
            _scheduled.discard(key)
        run_inline(app, path, args)

    timer = threading.Timer(debounce_seconds, run)
    timer.daemon = True
    timer.start()


def perform(path: str, args: list, gate: str | None = None) -> None:
    """What the worker runs: open the gate (later changes schedule the next run), then the
    job, in an app context of its own."""
    app = current_app._get_current_object() if has_app_context() else _worker_app()
    if gate is not None:
        connection(app).delete(gate)
    _run(app, path, args)


def _run(app: Flask, path: str, args: list) -> None:
    func = _resolve(path)
    with app.app_context():
        try:
            func(*args)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise


@sa_event.listens_for(Session, "after_commit")
def _forget_keys_after_commit(session: Session) -> None:
    if session.get_nested_transaction() is None:
        session.info.pop(INLINE, None)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_keys_after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(INLINE, None)


_app: Flask | None = None


def _worker_app() -> Flask:
    """For a plain `rq worker` started without our CLI: one app for the process."""
    global _app
    if _app is None:
        from forum import create_app

        _app = create_app()
    return _app


def run_worker(app: Flask, *, burst: bool = False, with_scheduler: bool = True) -> bool:
    """Run an RQ worker on this app's queue, jobs inside its app context (see `flask worker`).
    A SimpleWorker: jobs run in the worker's own process, one at a time, with the app and
    its imports (numpy, scikit-learn) loaded once; run several workers for more at once."""
    from rq import SimpleWorker

    with app.app_context():
        worker = SimpleWorker([queue(app)], connection=connection(app))
        return worker.work(burst=burst, with_scheduler=with_scheduler)


# --- Long jobs inside a process that serves sockets ---------------------------------------------
#
# Without Redis a job runs in the web process, which under gevent serves every socket from one
# thread: a report built there would stop every live room for the seconds it takes. The report
# job therefore runs in a greenlet of its own (`enqueue(..., long=True)`: the request that
# asked answers at once), gives way between its parts (`give_way`: its SQL and each room's digest), and
# does its one long stretch of pure computation, printing the PDF or writing the Word file
# (no database, no Flask context), in a native thread of its own (`off_the_loop`), while the
# event loop keeps the GIL's turns. With Redis the job runs in `flask worker`, where both are
# plain calls.

_native_pool = None
NATIVE_SWITCH_INTERVAL = 0.0005  # seconds (Python's default: 0.005)


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover (gevent is a dependency)
        return False
    return monkey.is_module_patched("threading")


GIVE_WAY_SECONDS = 0.005  # a few turns of the event loop: a message's delivery takes several


def give_way() -> None:
    """Let the other greenlets of this process run for a moment (a no-op outside gevent)."""
    if _gevent_patched():
        import gevent

        gevent.sleep(GIVE_WAY_SECONDS)


def off_the_loop(func: Callable, *args: Any) -> Any:
    """`func(*args)`, in a native thread when this process runs under gevent (one at a time:
    WeasyPrint's fonts and Pillow are not shared between threads), here otherwise. `func` must
    not touch the database nor Flask's context."""
    global _native_pool
    if not _gevent_patched():
        return func(*args)
    from gevent.threadpool import ThreadPool

    if _native_pool is None:
        _native_pool = ThreadPool(1)
    # The event loop waits for the GIL up to the switch interval at each of its many wake-ups
    # (a delivery to 40 sockets is dozens): shorter turns while the thread computes.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(NATIVE_SWITCH_INTERVAL)
    try:
        return _native_pool.apply(func, args)
    finally:
        sys.setswitchinterval(interval)
