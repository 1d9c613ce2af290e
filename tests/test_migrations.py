"""migrations/: from an empty database to head and back, on SQLite and PostgreSQL; the
migrated schema must be exactly what the models describe."""
from __future__ import annotations

import logging.config

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from forum import create_app
from forum.extensions import db
from forum.models.search import is_engine_table, schema_filters

# migrations/env.py tries db.get_engine() first, deprecated in Flask-SQLAlchemy 3.1 (it then
# falls back to db.engine only on TypeError/AttributeError). Reported; ignored here only.
pytestmark = pytest.mark.filterwarnings(
    "ignore:'get_engine' is deprecated and will be removed in Flask-SQLAlchemy 3.2:DeprecationWarning")


@pytest.fixture(params=[
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
])
def empty_database_url(request, tmp_path, fresh_postgres_database):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
    else:
        with fresh_postgres_database("plenary_migrations") as url:
            yield url


@pytest.fixture
def migration_app(empty_database_url, monkeypatch):
    # migrations/env.py calls logging.config.fileConfig(alembic.ini), which would disable
    # every logger already created in this test process (the app's included).
    monkeypatch.setattr(logging.config, "fileConfig", lambda *args, **kwargs: None)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def tables() -> set[str]:
    """The database's tables, but those SQLite's FTS5 makes for the search index."""
    return {name for name in inspect(db.engine).get_table_names() if not is_engine_table(name)}


def schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, **schema_filters(connection.dialect.name)})
        return compare_metadata(context, db.metadata)


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_upgrade_from_empty_matches_the_models_and_downgrade_removes_everything(migration_app):
    heads = ScriptDirectory.from_config(migration_app.extensions["migrate"].migrate.get_config()).get_heads()
    assert len(heads) == 1, f"the migrations have several heads: {heads}"
    assert tables() == set()

    flask_migrate.upgrade()

    assert current_revision() == heads[0]
    assert tables() == set(db.metadata.tables) | {"alembic_version"}
    assert schema_differences() == []

    flask_migrate.downgrade(revision="base")

    assert tables() <= {"alembic_version"}
    assert current_revision() is None

    # And up again: the downgrade left nothing behind that gets in the way.
    flask_migrate.upgrade()
    assert schema_differences() == []


def test_the_comparison_notices_a_schema_that_differs(migration_app):
    """The check above can fail: a model change without a migration shows up."""
    flask_migrate.upgrade()
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DROP INDEX ix_post_thread")
    differences = schema_differences()
    assert [d[0] for d in differences] == ["add_index"]
    assert differences[0][1].name == "ix_post_thread"


def test_downgrading_the_events_migration_keeps_nothing_that_would_become_public(migration_app):
    """The earlier schema shows every post it holds: hidden, waiting and rejected consultation
    posts (and the replies below them) must go, published ones and their threads stay (on
    SQLite too, where rebuilding `post` under rows that refer to it needs foreign keys off
    during the migration: migrations/env.py)."""
    from sqlalchemy import text

    from forum.models import Post, PostStatus
    from forum.models.base import utcnow
    from forum.services import accounts, consultations

    flask_migrate.upgrade()
    profile = accounts.Profile(display_name="Owner", organisation="Org", organisation_type="ngo", country="BE",
                               role_title="", preferred_language="en", timezone="Europe/Brussels")
    owner = accounts.register("owner@example.org", "a long enough password 1", profile)
    owner.is_organiser = True
    consultation = consultations.create_consultation(owner, consultations.ConsultationInput(title="Housing"))
    topic = consultations.add_topic(owner, consultation, consultations.TopicInput(title="Rents"))

    def post(body, parent=None, **fields):
        made = Post(consultation=consultation, topic=topic, author=owner, parent=parent, body=body,
                    body_html=body, **fields)
        db.session.add(made)
        db.session.flush()
        made.thread_id = parent.thread_id if parent else made.id
        return made

    hidden = post("hidden", hidden_at=utcnow())
    post("reply to hidden", parent=post("reply to hidden", parent=hidden))
    post("pending", status=PostStatus.PENDING)
    post("rejected", status=PostStatus.REJECTED)
    post("reply to published", parent=post("published"))
    db.session.commit()

    flask_migrate.downgrade(revision="0002")

    with db.engine.connect() as connection:
        bodies = set(connection.execute(text("SELECT body FROM post")).scalars())
    assert bodies == {"published", "reply to published"}
    flask_migrate.upgrade()  # and back up, threads and all
    with db.engine.connect() as connection:
        assert set(connection.execute(text("SELECT body FROM post")).scalars()) == bodies


def test_the_quotes_migration_turns_copied_quotes_into_references(migration_app):
    """Replies that start with a copied quote of their parent ("Ann wrote:" or "Ann ha
    scritto:" and ">" lines) lose the copy, in their earlier versions too, and quote their
    parent by reference; anything else is left as written."""
    from types import SimpleNamespace

    from sqlalchemy import text

    from forum.models import Post, PostRevision
    from forum.models.base import utcnow
    from forum.services import accounts, consultations

    flask_migrate.upgrade()

    def person(email, name):
        return accounts.register(email, "a long enough password 1", accounts.Profile(
            display_name=name, organisation="Org", organisation_type="ngo", country="BE", role_title="",
            preferred_language="en", timezone="Europe/Brussels"))

    owner, ann = person("owner@example.org", "Owner"), person("ann@example.org", "Ann")
    owner.is_organiser = True
    consultation = consultations.create_consultation(owner, consultations.ConsultationInput(title="Housing"))
    topic = consultations.add_topic(owner, consultation, consultations.TopicInput(title="Rents"))

    def post(author, body, parent=None):
        made = Post(consultation=consultation, topic=topic, author=author, parent=parent, body=body, body_html=body)
        db.session.add(made)
        db.session.flush()
        made.thread_id = parent.thread_id if parent else made.id
        return made

    source = post(ann, "Rents are too high.\n\n- and rising")
    english = post(owner, "Ann wrote:\n> Rents are too high.\n>\n> - and rising\n\nI **agree**.", parent=source)
    italian = post(owner, "Ann ha scritto:\n> Rents are too high.\n\nSono d'accordo.", parent=source)
    only_quote = post(owner, "Ann wrote:\n> Rents are too high.\n\n", parent=source)
    other_name = post(owner, "Bob wrote:\n> Rents are too high.\n\nBob said it first.", parent=source)
    response = post(ann, "Owner wrote:\n> Rents\n\nA response of its own.")
    db.session.add(PostRevision(post=english, body="Ann wrote:\n> Rents are too high.\n\nFirst version.",
                                written_at=utcnow(), editor_id=owner.id))
    db.session.flush()
    source_id = source.id
    english, italian, only_quote, other_name, response = (
        SimpleNamespace(id=p.id, body=p.body) for p in (english, italian, only_quote, other_name, response))
    ids = [english.id, italian.id, only_quote.id, other_name.id, response.id]
    db.session.commit()
    db.session.close()  # nothing may hold the table while the migration alters it (PostgreSQL)

    flask_migrate.downgrade(revision="0004")
    flask_migrate.upgrade()

    with db.engine.connect() as connection:
        rows = {row.id: row for row in connection.execute(
            text("SELECT id, body, body_html, quoted_post_id FROM post WHERE id IN (%s)" % ",".join(map(str, ids))))}
        versions = connection.execute(text("SELECT body FROM post_revision")).scalars().all()
    assert (rows[english.id].body, rows[english.id].quoted_post_id) == ("I **agree**.", source_id)
    assert rows[english.id].body_html == "<p>I <strong>agree</strong>.</p>\n"
    assert (rows[italian.id].body, rows[italian.id].quoted_post_id) == ("Sono d'accordo.", source_id)
    assert (rows[only_quote.id].body, rows[only_quote.id].body_html, rows[only_quote.id].quoted_post_id) == (
        "", "", source_id)
    assert (rows[other_name.id].body, rows[other_name.id].quoted_post_id) == (other_name.body, None)
    assert (rows[response.id].body, rows[response.id].quoted_post_id) == (response.body, None)
    assert versions == ["First version."]


def test_the_search_index_migration_indexes_what_is_already_there(migration_app):
    """0010 fills the index with the code that keeps it in step afterwards: a post written
    before the migration is found in its author's language, a deleted one is not indexed."""
    from sqlalchemy import text

    from forum.services.search import search
    from forum.services.search_text import parse_query

    flask_migrate.upgrade(revision="0009")
    now = "2026-01-01 10:00:00+00:00"
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO \"user\" (id, email, password_hash, display_name, organisation, organisation_type, country,"
            " role_title, preferred_language, timezone, named_in_reports, is_admin, is_organiser, session_token,"
            " handle,"
            " created_at, email_immediate, digest_frequency) VALUES (1, 'a@example.org', 'x', 'Ann', '', 'ngo',"
            " 'IT', '', 'it', 'Europe/Rome', true, false, true, 'token', 'ann', :now, true, 'daily')"), {"now": now})
        connection.execute(text(
            "INSERT INTO consultation (id, title, brief, brief_html, status, visibility, owner_id, created_at,"
            " updated_at) VALUES (1, 'Scuole', '', '', 'open', 'public', 1, :now, :now)"), {"now": now})
        connection.execute(text("INSERT INTO topic (id, consultation_id, position, title, description,"
                                " guiding_questions, is_proposal) VALUES (1, 1, 1, 'Topic', '', '[]', false)"))
        for post_id, body, deleted in ((1, "I bambini aspettano.", None), (2, "I bambini cancellati.", now)):
            connection.execute(text(
                "INSERT INTO post (id, consultation_id, topic_id, backchannel, announcement, thread_id, author_id,"
                " subject, body, body_html, on_behalf_of_organisation, organisation_name, created_at, deleted_at,"
                " endorsement_count, reply_count, status, hidden_reason, rejected_reason)"
                " VALUES (:id, 1, 1, false, false, :id, 1, '', :body, :html, false, '', :now, :deleted, 0, 0,"
                " 'published', '', '')"),
                {"id": post_id, "body": body, "html": f"<p>{body}</p>", "now": now, "deleted": deleted})

    flask_migrate.upgrade()

    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT kind, object_id, language FROM search_document ORDER BY kind")).all()
    assert [tuple(r) for r in rows] == [("consultation", 1, "italian"), ("post", 1, "italian"),
                                         ("topic", 1, "italian")]
    hits = search(None, parse_query("bambino")).hits
    assert [hit.post.id for hit in hits] == [1]
    db.session.remove()
