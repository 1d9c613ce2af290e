"""Short critical sections that keep the process to themselves (PostgreSQL under gevent).

A write takes its streams' numbers as late as possible, just before it commits
(forum.services.events), and holds the stream's row lock from then until the commit; every
other write to the stream waits for it. Under gevent, psycopg waits for each answer of the
database cooperatively: between two statements of that last part the process runs whatever
else is ready first, which during a broadcast is thousands of socket writes. Measured at
2,000 readers × 10 posts/s, the lock was held for 220 ms (p50) that way, for 25 ms when the
statements waited without switching (bench/README.md), and writes queued behind each other.

`hold(session)` makes the statements of the session's transaction wait for the database
without switching to other greenlets, until it commits or rolls back. The process stops for
each round trip of that part (a fraction of a millisecond on a local database) instead of
leaving a stream locked while it does other work.

Only for what cannot wait on another greenlet of this process: a statement held here that
waited for a lock owned by a transaction of a greenlet that cannot run would stop the
process. Events' numbering qualifies: once a stream's numbers are taken, the transaction
reads (PostgreSQL readers never wait), inserts the stream's events and updates earlier ones
of the same stream (rows that only the holder of the stream's lock writes), and commits.
`lock_timeout` turns a mistake there into an error rather than a stopped process.

Nothing changes with SQLite (its driver never switches), without gevent (psycopg's waiting
is blocking already), or without psycopg's C extension.
"""
from __future__ import annotations

import functools

from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

HELD = "plenary.held_connection"
LOCK_TIMEOUT = "5s"


def _blocking_wait():
    """psycopg's blocking wait, if psycopg is in use and waits cooperatively (gevent); else None."""
    try:
        from psycopg import waiting
    except ImportError:
        return None
    blocking = getattr(waiting, "wait_c", None)
    return None if blocking is None or waiting.wait is blocking else blocking


def hold(session: Session) -> None:
    """Until the session's transaction ends, its statements keep the process (see above)."""
    blocking = _blocking_wait()
    if blocking is None or session.get_bind().dialect.name != "postgresql" or HELD in session.info:
        return
    connection = session.connection().connection.dbapi_connection
    if not hasattr(connection, "pgconn"):
        return
    # The instance's `wait` (psycopg.Connection.wait: how every statement waits) for now.
    connection.wait = functools.partial(_wait, blocking, connection)
    session.info[HELD] = connection
    session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))


def _wait(blocking, connection, gen, interval=0.1, timeout=None):
    return blocking(gen, connection.pgconn.socket, interval=interval, timeout=timeout)


def _release(session: Session) -> None:
    connection = session.info.pop(HELD, None)
    if connection is not None:
        connection.__dict__.pop("wait", None)  # the class's cooperative wait again


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is None:
        _release(session)


@sa_event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        _release(session)


@sa_event.listens_for(Pool, "checkin")
def _checked_in(dbapi_connection, connection_record) -> None:
    # A connection never goes back to the pool held, whatever ended its transaction.
    getattr(dbapi_connection, "__dict__", {}).pop("wait", None)
