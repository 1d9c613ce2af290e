"""The search index kept in step with every write, in the same transaction, by session hooks:
no service needs to remember it (docs/search.md).

Before a flush the hook notes the consultations, topics, posts and events whose indexed words
or place change (created, edited, moved to another topic or room, deleted); after it, when
their ids are known and what the flush deleted is known too, it replaces their rows of
`search_document` on the flush's connection (and SQLite's FTS5 words, PostgreSQL's tsvector
in the same INSERT). Whether a row may be
found (published, hidden, members-only, draft, who is in which room) is not the index's
business: forum.permissions.findable_documents joins the real rows when searching, so a
change of visibility needs no reindexing. `rebuild` (`flask search reindex`, migration 0010)
writes every row again with the same code.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, cast, delete, func, insert, inspect, literal_column, select, text, tuple_
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Session

from forum.models import Consultation, Event, Post, Room, SearchDocument, Topic, User
from forum.models.search import FTS_TABLE
from forum.services.search_text import configuration, index_terms, plain_text

log = logging.getLogger("forum.search")

# The attributes whose change rewrites an object's row (relationships too: a thread moved
# with `post.topic = topic` has its topic_id set only during the flush).
WATCHED: dict[type, tuple[str, ...]] = {
    Consultation: ("title", "brief_html", "owner_id", "owner"),
    Topic: ("title", "description", "guiding_questions", "consultation_id", "consultation"),
    Post: ("subject", "body_html", "deleted_at", "topic_id", "topic", "room_id", "room",
           "consultation_id", "consultation", "author_id", "author", "created_at"),
    Event: ("title", "description_html", "agenda_html", "owner_id", "owner"),
}
KIND = {Consultation: "consultation", Topic: "topic", Post: "post", Event: "event"}
PENDING = "search_index_pending"


@dataclass
class Document:
    kind: str
    object_id: int
    title: str
    body: str
    created_at: object
    author_id: int | None = None
    consultation_id: int | None = None
    topic_id: int | None = None
    event_id: int | None = None
    room_id: int | None = None
    post_id: int | None = None
    language: str = "simple"


# --- What a row says ------------------------------------------------------------------

def consultation_document(c: Consultation, language: str) -> Document:
    return Document("consultation", c.id, c.title, plain_text(c.brief_html), c.created_at, author_id=c.owner_id,
                    consultation_id=c.id, language=language)


def topic_document(t: Topic, created_at, language: str) -> Document:
    body = " ".join([t.description or "", *(t.guiding_questions or [])]).strip()
    return Document("topic", t.id, t.title, body, created_at, consultation_id=t.consultation_id, topic_id=t.id,
                    language=language)


def post_document(p: Post, event_id: int | None, language: str) -> Document:
    return Document("post", p.id, p.subject or "", plain_text(p.body_html), p.created_at, author_id=p.author_id,
                    consultation_id=p.consultation_id, topic_id=p.topic_id, room_id=p.room_id, event_id=event_id,
                    post_id=p.id, language=language)


def event_document(e: Event, language: str) -> Document:
    body = " ".join([plain_text(e.description_html), plain_text(e.agenda_html)]).strip()
    return Document("event", e.id, e.title, body, e.created_at, author_id=e.owner_id, event_id=e.id,
                    language=language)


# --- Writing rows -----------------------------------------------------------------------

def _vector(config, title, body):
    """PostgreSQL's words of a row: the title weighs more than the text (ts_rank_cd)."""
    config = cast(config, REGCONFIG)
    return func.setweight(func.to_tsvector(config, title), literal_column("'A'")).op("||")(
        func.setweight(func.to_tsvector(config, body), literal_column("'B'")))


def replace_documents(connection, documents: list[Document], removed: Iterable[tuple[str, int]] = ()) -> None:
    """Write `documents` (replacing any earlier row of the same object) and remove the rows of
    `removed` (kind, object id) pairs, on `connection`, in its transaction."""
    keys = list({*removed, *((d.kind, d.object_id) for d in documents)})
    table = SearchDocument.__table__
    for start in range(0, len(keys), 500):
        connection.execute(delete(table).where(tuple_(table.c.kind, table.c.object_id).in_(keys[start:start + 500])))
    if not documents:
        return
    rows = [{"kind": d.kind, "object_id": d.object_id, "consultation_id": d.consultation_id, "topic_id": d.topic_id,
             "event_id": d.event_id, "room_id": d.room_id, "post_id": d.post_id, "author_id": d.author_id,
             "created_at": d.created_at, "language": d.language, "title": d.title, "body": d.body}
            for d in documents]
    if connection.dialect.name == "postgresql":
        for row in rows:
            row.update(v_config=row["language"], v_title=row["title"], v_body=row["body"])
        statement = insert(table).values(vector=_vector(bindparam("v_config"), bindparam("v_title"),
                                                        bindparam("v_body")))
        connection.execute(statement, rows)
        return
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = connection.execute(statement, rows).scalars().all()
    connection.execute(text(f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (:id, :title, :body)"), [
        {"id": doc_id, "title": index_terms(d.title, d.language), "body": index_terms(d.body, d.language)}
        for doc_id, d in zip(ids, documents, strict=True)])


def _languages(connection, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = connection.execute(select(User.id, User.preferred_language).where(User.id.in_(user_ids)))
    return {user_id: configuration(language) for user_id, language in rows.all()}


def documents_for(connection, objects: list) -> tuple[list[Document], list[tuple[str, int]]]:
    """The rows of these objects as they are now (a deleted post has none: it is removed)."""
    posts = [o for o in objects if isinstance(o, Post)]
    topics = [o for o in objects if isinstance(o, Topic)]
    consultations = [o for o in objects if isinstance(o, Consultation)]
    events = [o for o in objects if isinstance(o, Event)]
    room_ids = {p.room_id for p in posts if p.room_id is not None}
    event_of_room = dict(connection.execute(select(Room.id, Room.event_id).where(Room.id.in_(room_ids))).all()) \
        if room_ids else {}
    topic_consultations = {t.consultation_id for t in topics}
    consultation_rows = {row.id: row for row in connection.execute(
        select(Consultation.id, Consultation.owner_id, Consultation.created_at)
        .where(Consultation.id.in_(topic_consultations)))} if topic_consultations else {}
    languages = _languages(connection, {p.author_id for p in posts} | {c.owner_id for c in consultations}
                           | {e.owner_id for e in events} | {row.owner_id for row in consultation_rows.values()})
    documents: list[Document] = []
    removed: list[tuple[str, int]] = []
    for p in posts:
        if p.deleted_at is not None:
            removed.append(("post", p.id))
        else:
            documents.append(post_document(p, event_of_room.get(p.room_id), languages.get(p.author_id, "simple")))
    for c in consultations:
        documents.append(consultation_document(c, languages.get(c.owner_id, "simple")))
    for t in topics:
        owner = consultation_rows.get(t.consultation_id)
        documents.append(topic_document(t, owner.created_at if owner else None,
                                        languages.get(owner.owner_id, "simple") if owner else "simple"))
    for e in events:
        documents.append(event_document(e, languages.get(e.owner_id, "simple")))
    return documents, removed


# --- The hooks ------------------------------------------------------------------------------

def _changed(obj, names: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


@sa_event.listens_for(Session, "before_flush")
def _note_changes(session: Session, flush_context, instances) -> None:
    pending = session.info.setdefault(PENDING, {"write": [], "remove": []})
    for obj in session.new:
        if type(obj) in WATCHED:
            pending["write"].append(obj)
    for obj in session.dirty:
        if type(obj) in WATCHED and _changed(obj, WATCHED[type(obj)]):
            pending["write"].append(obj)
    for obj in session.deleted:
        if type(obj) in WATCHED and obj.id is not None:
            pending["remove"].append((KIND[type(obj)], obj.id))


@sa_event.listens_for(Session, "after_flush_postexec")
def _write_changes(session: Session, flush_context) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending or not (pending["write"] or pending["remove"]):
        return
    # Deleted in this flush: noted for deletion, or found deleted now (an orphan, such as a
    # topic taken out of its consultation's list, is deleted by the flush itself).
    removed = set(pending["remove"]) | {(KIND[type(o)], o.id) for o in pending["write"]
                                        if o.id is not None and (inspect(o).deleted or inspect(o).was_deleted)}
    objects = list({id(o): o for o in pending["write"]
                    if o.id is not None and (KIND[type(o)], o.id) not in removed}.values())
    connection = session.connection()
    documents, gone = documents_for(connection, objects)
    replace_documents(connection, documents, [*removed, *gone])


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction) -> None:
    session.info.pop(PENDING, None)


# --- Everything again ---------------------------------------------------------------------

BATCH = 1000


_rebuild_asked: list[bool] = []


def ask_rebuild() -> None:
    """A migration asks for the index to be written anew once the migrations have run
    (migrations/env.py calls `rebuild_if_asked`)."""
    _rebuild_asked.append(True)


def rebuild_if_asked(connection, at_head: bool) -> None:
    """After migrations: rebuild if one asked, when the schema is the models' (at the head);
    otherwise say how to do it later."""
    if not _rebuild_asked:
        return
    _rebuild_asked.clear()
    if not at_head:
        log.warning("The search index is empty: run `flask search reindex` once the database is up to date.")
        return
    # In a savepoint of the migrations' transaction, released by the commit: the migrations'
    # transaction commits it with the rest.
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        rebuild(session)
        session.commit()


def rebuild(session: Session, progress: Callable[[int], None] = lambda n: None, batch: int = BATCH) -> int:
    """Write every row of the index again, `batch` objects at a time, and remove rows whose
    object is gone or deleted; idempotent. Calls `progress(n)` after each batch of n objects;
    returns the number of rows written."""
    connection = session.connection()
    written = 0
    for model in (Consultation, Topic, Event, Post):
        last = 0
        while True:
            query = select(model).where(model.id > last).order_by(model.id).limit(batch)
            if model is Post:
                query = query.where(Post.deleted_at.is_(None))
            objects = session.scalars(query).all()
            if not objects:
                break
            documents, removed = documents_for(connection, objects)
            replace_documents(connection, documents, removed)
            written += len(documents)
            last = objects[-1].id
            progress(len(objects))
    table = SearchDocument.__table__
    connection.execute(delete(table).where(table.c.kind == "post", table.c.post_id.in_(
        select(Post.id).where(Post.deleted_at.is_not(None)))))
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"DELETE FROM {FTS_TABLE} WHERE rowid NOT IN (SELECT id FROM search_document)")
    return written


def objects_to_index(session: Session) -> int:
    """How many objects `rebuild` goes through (for its progress bar)."""
    return sum(session.scalar(select(func.count()).select_from(model).where(*where)) for model, where in (
        (Consultation, ()), (Topic, ()), (Event, ()), (Post, (Post.deleted_at.is_(None),))))
