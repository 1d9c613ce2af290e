"""Small query helpers the services share."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from forum.extensions import db


def by_id(model, ids, *options) -> dict:
    """{id: row} of `model` for these ids (None and repeats ignored), in one query."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).options(*options).where(model.id.in_(ids)))}


def dialect_insert(target):
    """INSERT for the session's database, with its ON CONFLICT clauses at hand."""
    return (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)(target)
