"""Plenary: moderated discussion for online consultations and live events."""
from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from forum.config import load_config
from forum.extensions import babel, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: type | dict | str | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    if isinstance(config, dict):
        app.config.from_object(load_config("testing" if config.get("TESTING") else None))
        app.config.update(config)
    else:
        app.config.from_object(config if isinstance(config, type) else load_config(config))

    logging.getLogger("forum").setLevel(logging.INFO)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    _init_extensions(app)

    from forum import web
    web.init_app(app)

    from forum import api
    api.init_app(app)

    from forum import realtime
    realtime.init_app(app)

    from forum import cli
    cli.init_app(app)

    # The search index follows every write through session hooks, whatever makes the write.
    from forum.services import search_index  # noqa: F401

    if app.config["TRUSTED_PROXIES"]:
        # Outermost, so that Socket.IO's requests see the client's address too.
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    return app


def _init_extensions(app: Flask) -> None:
    from forum.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)
    # Not imported at the top: `forum.mail` is the module that sends (forum/mail.py).
    from forum.extensions import mail as flask_mail
    flask_mail.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    from forum.models import User

    @login_manager.user_loader
    def load_user(user_id: str):
        uid, _, token = user_id.partition(":")
        if not uid.isdigit() or not token:
            return None
        user = db.session.get(User, int(uid))
        if user is None or user.session_token != token or user.closed_at is not None:
            return None
        return user


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL for concurrent readers, a busy timeout instead of 'database is locked', and
    foreign keys enforced as on PostgreSQL."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
    # pysqlite only opens a transaction before the first write, so a SAVEPOINT issued
    # earlier would run outside any transaction and its RELEASE would commit at once.
    # SQLAlchemy's documented remedy: let the driver leave transactions alone and emit
    # BEGIN ourselves (below), so savepoints nest inside the request's transaction.
    dbapi_connection.isolation_level = None


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")
