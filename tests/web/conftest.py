"""Fixtures of the HTTP-layer tests (tests/web/).

Everything else (app per backend, rolled-back transaction, `client`, factories) comes from
tests/conftest.py and tests/factories.py.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.local import LocalProxy

from forum import create_app
from forum.extensions import db as _db
from forum.extensions import limiter
from forum.models import Post


@pytest.fixture(autouse=True)
def _login_user_crash_guard(monkeypatch):
    """Turn a crash of the whole test run into the failure of one test.

    Given the `current_user` proxy instead of a user, Flask-Login's `login_user` stores the
    proxy itself as the request's user; the next read of `current_user` resolves the proxy
    to itself without end and CPython dies of a C stack overflow: a segfault that ends the
    pytest process, not a RecursionError a test could catch. POST /profile/password did
    exactly that until afb6670. Should it come back, this guard raises instead (and the
    test of that route fails with a clear message); real users pass through untouched.
    """
    import forum.web.auth

    real_login_user = forum.web.auth.login_user

    def guarded_login_user(user, *args, **kwargs):
        if type(user) is LocalProxy:
            raise RuntimeError("login_user() was given the current_user proxy instead of a user: "
                               "Flask-Login would store the proxy and the next request step would "
                               "recurse until the process crashes")
        return real_login_user(user, *args, **kwargs)

    monkeypatch.setattr(forum.web.auth, "login_user", guarded_login_user)


@pytest.fixture
def post_count(db):
    """post_count() -> the number of posts stored (responses, replies, deleted ones too),
    as the database sees it now."""
    def _count() -> int:
        db.session.expire_all()
        return db.session.scalar(select(func.count(Post.id)))
    return _count


@pytest.fixture
def reload(db):
    """reload(obj) -> obj with its attributes read again from the database, to see what a
    request changed (requests run in their own session)."""
    def _reload(obj):
        db.session.expire_all()
        db.session.refresh(obj)
        return obj
    return _reload


@pytest.fixture
def rate_limited_app(app):
    """rate_limited_app(**config) -> a second Flask app, with rate limits on, on the test's database.

    Why a second app: Flask-Limiter decides at ``init_app`` whether it is enabled. With
    ``RATELIMIT_ENABLED = False`` (TestingConfig) ``Limiter.init_app`` returns before it
    registers its ``before_request``/``after_request`` hooks, so flipping
    ``app.config["RATELIMIT_ENABLED"]`` on the session's app later changes nothing, and
    without the ``after_request`` hook the decorators' refusals (registrations, reset
    requests) would have no ``Retry-After`` header. The limits counted by hand in
    forum/ratelimits.py (writes, failed log-ins) use the limiter's storage, which
    ``init_app`` only sets up when enabled. So this fixture builds a fresh app with
    ``forum.create_app({..., "RATELIMIT_ENABLED": True})``: its hooks are registered, its
    counters live in a new ``memory://`` storage (nothing left over from other tests), and
    the limits are whatever the test passes, e.g.
    ``rate_limited_app(RATELIMIT_POST_PER_ACCOUNT="2 per minute")`` (the routes read them
    from ``current_app.config`` at request time).

    Same database, same transaction: the new app is bound to the same URL, and
    ``db.session`` is the test's connection-bound scoped session (tests/conftest.py), so
    requests to the new app see the factories' data and everything is rolled back with
    the test. Its test client runs each request in its own app context, like ``client``.

    Cleanup: ``forum.extensions.limiter`` is one object shared by every app, and
    ``init_app`` set its ``enabled`` flag to True, which the route decorators consult for
    every app. The flag is put back afterwards, so the session's app is unlimited again,
    and the new app's (never connected) engine is disposed.
    """
    enabled_before = limiter.enabled
    made = []

    def _make(**config):
        limited = create_app({
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            **config,
        })
        limited.test_client_class = app.test_client_class
        made.append(limited)
        return limited

    try:
        yield _make
    finally:
        limiter.enabled = enabled_before
        for limited in made:
            with limited.app_context():
                _db.engine.dispose()
