"""Test fixtures: an app per database backend, a rolled-back transaction per test, a test
client whose requests each get their own app context, and the factories of tests/factories.py.

How the database is isolated
----------------------------
Once per session and backend the schema is created (``create_all``; tests/test_migrations.py
checks that the migrations produce the same schema). Each test then opens one connection,
begins a transaction on it and binds ``db.session`` to that connection with
``join_transaction_mode="create_savepoint"`` (SQLAlchemy 2.0's "joining a session into an
external transaction"): service code may call ``db.session.commit()``, ``rollback()`` or
``begin_nested()`` as in production, and everything is rolled back when the test ends.
On SQLite this relies on forum/__init__.py emitting BEGIN itself (with pysqlite's default
handling a SAVEPOINT's RELEASE would commit to the file and tests would leak into each other).

Requests made with the ``client`` fixture run in their own app context, so they get their
own ``db.session`` (bound to the same connection, so they see the test's data and the test
sees theirs) and their own ``g`` (Flask-Login caches the current user there). Objects the
test holds are not refreshed by a request: call ``db.session.refresh(obj)`` or
``db.session.expire_all()`` before asserting on what a request changed.

PostgreSQL
----------
The postgresql variants create a database named ``plenary_test_<pid>_<random>`` on the
server given by ``TEST_POSTGRES_URL`` (an admin connection URL, by default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) and drop it at the end. Without a
reachable server they are skipped, except under ``CI=true`` where they fail. Run
``pytest -m "not postgres"`` to leave them out.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import psycopg
import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession
from psycopg import sql
from sqlalchemy import event
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from forum import create_app
from forum.extensions import db as _db
from forum.services import events
from tests.catalogues import compile_catalogues
from tests.factories import login_fixture, make_consultation, make_event, make_post, make_user  # noqa: F401 (fixtures)
from tests.mail import _smtp_server, smtp  # noqa: F401 (fixtures)
from tests.poll_factory import make_poll  # noqa: F401 (fixture)

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


# --- Translations -------------------------------------------------------------------

@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogues():
    """The .mo files are not in git: compile any missing or older than its .po (as
    `make translations` does) before any app or server starts."""
    compile_catalogues()


# --- Known bugs ---------------------------------------------------------------------

# --- Speed --------------------------------------------------------------------------

@pytest.fixture(scope="session", autouse=True)
def _fast_accounts():
    """A cost paid on every account the factories create, and nothing the tests check:
    scrypt hashing (~150 ms a password). Checking passwords still works: the hash names its
    method."""
    import forum.models.users

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(forum.models.users, "generate_password_hash",
                   partial(generate_password_hash, method="pbkdf2:sha256:1"))
        yield


# --- PostgreSQL ---------------------------------------------------------------------

def postgres_admin_url():
    return make_url(os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))


def _postgres_admin_connection() -> psycopg.Connection:
    url = postgres_admin_url()
    try:
        return psycopg.connect(
            host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username,
            password=url.password, dbname=url.database or "postgres",
            autocommit=True, connect_timeout=5,
        )
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL not reachable at {url.host}:{url.port or 5432}: {exc}".strip()
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@contextmanager
def postgres_database(prefix: str = "plenary_test") -> Iterator[str]:
    """A new, empty PostgreSQL database; yields its SQLAlchemy URL and drops it afterwards.
    Skips (or fails under CI=true) when the server cannot be reached."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    with _postgres_admin_connection() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield postgres_admin_url().set(drivername="postgresql+psycopg", database=name) \
            .render_as_string(hide_password=False)
    finally:
        with _postgres_admin_connection() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def fresh_postgres_database():
    """The `postgres_database` context manager, for tests that need a database of their own."""
    return postgres_database


# --- Application --------------------------------------------------------------------

class RequestIsolatingClient(FlaskClient):
    """A test client whose every request (and every redirect it follows) runs in a fresh
    app context, as in production: its own db.session and its own `g`."""

    def open(self, *args, **kwargs):
        if self.preserve_context:  # `with client:` keeps the request context for inspection
            return super().open(*args, **kwargs)
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """The URL of this session's test database for one backend, schema not yet created."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'plenary-test.db'}"
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture(scope="session")
def _app(database_url):
    """One app per backend for the session (create_app takes ~60 ms); `app` below restores
    its config after every test."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    app.test_client_class = RequestIsolatingClient
    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def app(_app, tmp_path) -> Iterator:
    """The app for the backend under test, with an app context pushed and the database
    in a transaction that is rolled back after the test. Config changes made by the test
    are undone afterwards; report files (and the summaries' cache) go to the test's own
    directory, as its ids are those of other tests."""
    saved_config = dict(_app.config)
    _app.config["REPORTS_DIR"] = str(tmp_path / "reports")
    # Catch-up pages a process keeps (forum.services.events): the database is rolled back
    # after each test and SQLite reuses its ids, so the same stream and numbers come back.
    _app.extensions.pop(events.PAGES, None)
    with _app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        original_session = _db.session
        _db.session = _db._make_scoped_session({
            "class_": _ConnectionBoundSession,
            "bind": connection,
            "join_transaction_mode": "create_savepoint",
        })
        try:
            yield _app
        finally:
            _db.session.remove()
            _db.session = original_session
            if transaction.is_active:
                transaction.rollback()
            connection.close()
            _app.config.clear()
            _app.config.update(saved_config)


class _ConnectionBoundSession(FlaskSQLAlchemySession):
    """Flask-SQLAlchemy's Session picks the engine by bind key and so ignores `bind=`;
    this one uses the test's connection."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind if bind is not None else self.bind


@pytest.fixture
def db(app):
    """forum.extensions.db, its session bound to the test's transaction."""
    return _db


@pytest.fixture
def db_session(db):
    return db.session


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def backend(app) -> str:
    """'sqlite' or 'postgresql': the dialect of the database under test."""
    return _db.engine.dialect.name


@pytest.fixture
def count_queries(db):
    """Context manager collecting the SQL statements sent to the database inside it
    (transaction control such as SAVEPOINT is left out)::

        with count_queries() as statements:
            ...
        assert len(statements) == 3
    """
    @contextmanager
    def _count():
        statements: list[str] = []

        def _record(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN")):
                statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", _record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", _record)

    return _count
