"""The search index: one row per thing people search (a consultation, a topic, a post or room
message, an event), kept in step with the write that changes it (forum/services/search_index.py).

The index holds words, never decisions: who may find a row is decided at query time by joining
the real rows (forum.permissions.findable_documents), so a post hidden, a consultation made
members-only or a room's membership changed are right at once without touching the index.

Engines (docs/search.md): on PostgreSQL `vector` is a weighted `tsvector` (title A, text B)
computed with the document's language configuration, under a GIN index; on SQLite the
stemmed words go to an FTS5 table, `search_fts`, whose rowid is the document's id (created
with this table, see `create_engine_objects`; a trigger removes its row with the document).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.base import UTCDateTime

# The kinds of document, in the order a page lists their names.
KINDS = ("consultation", "topic", "post", "event")

# SQLite's full-text table and what FTS5 makes for it: not models, never compared with them.
FTS_TABLE = "search_fts"


def is_engine_table(name: str) -> bool:
    """Tables the database engine makes for the index (FTS5's virtual table and its shadows)."""
    return name == FTS_TABLE or name.startswith(FTS_TABLE + "_")


def schema_filters(dialect_name: str) -> dict:
    """Alembic's include_name and include_object for comparing the models with a database of
    `dialect_name`: without FTS5's tables, and without objects made only on another engine."""
    def include_name(name, type_, parent_names):
        return not (type_ == "table" and is_engine_table(name))

    def include_object(obj, name, type_, reflected, compare_to):
        only_on = getattr(obj, "info", {}).get("only_on")
        return only_on is None or only_on == dialect_name

    return {"include_name": include_name, "include_object": include_object}


class SearchDocument(db.Model):
    __tablename__ = "search_document"
    __table_args__ = (
        UniqueConstraint("kind", "object_id"),
        Index("ix_search_document_post_id", "post_id"),
        Index("ix_search_document_consultation_created", "consultation_id", "created_at"),
        Index("ix_search_document_event_id", "event_id"),
        Index("ix_search_document_author_id", "author_id"),
        Index("ix_search_document_created_at", "created_at"),
        # PostgreSQL's only (SQLite searches its FTS5 table): `info` tells schema comparisons.
        Index("ix_search_document_vector", "vector", postgresql_using="gin",
              info={"only_on": "postgresql"}).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # The id of the consultation, topic, post or event the row is about.
    object_id: Mapped[int]
    # Where it is, for the filters (a post's place follows it when its thread moves).
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    # The author of a post, the owner of a consultation or event.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The text search configuration the row was indexed with: a stemmer of
    # forum.services.search_text.LANGUAGES ("english", "italian") or "simple" (words as written).
    language: Mapped[str] = mapped_column(String(16), default="simple")
    # Plain text, as readers see it: shown around the matched words.
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    vector: Mapped[str | None] = mapped_column(TSVECTOR().with_variant(Text(), "sqlite"))


_FTS_DDL = (
    # Stemmed words only (forum.services.search_text.index_terms); diacritics folded as in queries.
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')",
    # A document deleted by a cascade (its post, consultation or event removed) leaves no words.
    f"CREATE TRIGGER {FTS_TABLE}_forget AFTER DELETE ON search_document "
    f"BEGIN DELETE FROM {FTS_TABLE} WHERE rowid = old.id; END",
)


def create_engine_objects(connection) -> None:
    """What the engine needs besides the table: SQLite's FTS5 table (PostgreSQL's GIN index is
    part of the model). Used by create_all and by migration 0010."""
    if connection.dialect.name == "sqlite":
        for statement in _FTS_DDL:
            connection.exec_driver_sql(statement)


def drop_engine_objects(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_forget")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")


@event.listens_for(SearchDocument.__table__, "after_create")
def _after_create(table, connection, **kw) -> None:
    create_engine_objects(connection)


@event.listens_for(SearchDocument.__table__, "before_drop")
def _before_drop(table, connection, **kw) -> None:
    drop_engine_objects(connection)
