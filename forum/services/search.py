"""Search: what a reader may find among consultations, topics, posts and room messages, and
events, matching their words, filtered, sorted and a page at a time (docs/search.md).

The engine is the database's: FTS5 on SQLite, full-text search on PostgreSQL. Who finds what
is forum.permissions.findable_documents, in the same query that counts, so nothing a reader
may not read is ever shown or counted. Words are highlighted by forum.services.search_text,
the same way on both engines.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import cast, column, func, literal_column, select, table
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import joinedload, selectinload

from forum import permissions
from forum.extensions import db
from forum.models import Consultation, Event, Post, Room, SearchDocument, Topic, User
from forum.models.search import FTS_TABLE
from forum.services.errors import ValidationError
from forum.services.queries import by_id
from forum.services.search_text import (
    CONFIGURATIONS,
    MAX_QUERY_LENGTH,
    MAX_QUERY_WORDS,
    Query,
    fts5_match,
    highlight,
    parse_query,
    query_words_count,
    snippet,
)
from forum.services.text import clean_text

SORTS = ("relevance", "newest", "endorsed")
# What a reader may restrict results to; "post": responses and replies, "message": a room's.
KINDS = ("consultation", "topic", "post", "message", "event")
PER_PAGE = 20
MAX_AUTHOR_CHOICES = 50
# bm25's weights of FTS5's columns (title, body), as PostgreSQL weighs A and B.
TITLE_WEIGHT, BODY_WEIGHT = 4.0, 1.0
# SQLite's FTS5 table (rowid: the document's id), as far as queries name it.
_FTS = table(FTS_TABLE, column("rowid"))


@dataclass(frozen=True)
class Filters:
    consultation_id: int | None = None
    topic_id: int | None = None
    event_id: int | None = None
    room_id: int | None = None
    kind: str | None = None
    organisation_type: str | None = None
    country: str | None = None
    author_id: int | None = None
    since: datetime | None = None   # created at or after
    until: datetime | None = None   # created before
    endorsed: bool = False

    def __bool__(self) -> bool:
        return any(value not in (None, False) for value in self.__dict__.values())


NO_FILTERS = Filters()


@dataclass
class Hit:
    kind: str            # consultation, topic, post, message or event
    title: Markup        # highlighted
    snippet: Markup      # highlighted, in context
    created_at: datetime
    endorsements: int
    author: User | None = None
    consultation: Consultation | None = None
    topic: Topic | None = None
    post: Post | None = None
    event: Event | None = None
    room: Room | None = None


@dataclass
class SearchPage:
    query: Query
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    pages: int = 1
    searched: bool = False  # False: no words and no filter, nothing asked


def read_query(text: str | None) -> Query:
    """A reader's words, checked: a clear 400 for what cannot be searched."""
    text = clean_text(text, field="q", max_length=MAX_QUERY_LENGTH)
    query = parse_query(text)
    if query_words_count(query) > MAX_QUERY_WORDS:
        raise ValidationError(_l("Search for at most %(n)d words at a time.", n=MAX_QUERY_WORDS), field="q")
    return query


def _any_of(queries):
    combined = queries[0]
    for other in queries[1:]:
        combined = combined.op("||")(other)
    return combined


def _ts_query(text: str):
    """PostgreSQL: `text` in every language's configuration, any of them matching."""
    return _any_of([func.websearch_to_tsquery(cast(literal_column(f"'{config}'"), REGCONFIG), text)
                    for config in CONFIGURATIONS])


def _where(viewer, filters: Filters) -> list:
    document = SearchDocument
    where = [permissions.findable_documents(viewer)]
    for place, value in ((document.consultation_id, filters.consultation_id), (document.topic_id, filters.topic_id),
                         (document.event_id, filters.event_id), (document.room_id, filters.room_id),
                         (document.author_id, filters.author_id)):
        if value is not None:
            where.append(place == value)
    if filters.kind in ("consultation", "topic", "event"):
        where.append(document.kind == filters.kind)
    elif filters.kind == "post":
        where += [document.kind == "post", document.room_id.is_(None)]
    elif filters.kind == "message":
        where += [document.kind == "post", document.room_id.is_not(None)]
    people = []
    if filters.organisation_type is not None:
        people.append(User.organisation_type == filters.organisation_type)
    if filters.country is not None:
        people.append(User.country == filters.country)
    if people:
        where.append(document.author_id.in_(select(User.id).where(*people)))
    if filters.since is not None:
        where.append(document.created_at >= filters.since)
    if filters.until is not None:
        where.append(document.created_at < filters.until)
    if filters.endorsed:
        where.append(Post.endorsement_count > 0)
    return where


def _matching(viewer, query: Query, filters: Filters, *columns):
    """SELECT `columns` FROM the index's rows the viewer may find that match, with a
    relevance column `rank` (higher is better) when there are words."""
    document = SearchDocument
    statement = select(*columns).select_from(document).outerjoin(Post, Post.id == document.post_id)
    rank = None
    if query:
        if db.session.get_bind().dialect.name == "postgresql":
            ts_query = _ts_query(query.text)
            statement = statement.where(document.vector.op("@@")(ts_query))
            if any(excluded for _, excluded in query.groups):
                # And one of the words to find: a language that drops a word as a stop word
                # ("are" in English) must not turn "are -rents" into "anything but rents".
                some_word = _any_of([_ts_query(word) for word in query.positive_words])
                statement = statement.where(document.vector.op("@@")(some_word))
            rank = func.ts_rank_cd(document.vector, ts_query)
        else:
            # The matches first, on their own (MATERIALIZED): otherwise SQLite may walk a
            # filter's index and ask FTS5 about each row, which is slow (bench/search.py).
            matches = select(_FTS.c.rowid.label("id"), func.bm25(literal_column(FTS_TABLE), TITLE_WEIGHT,
                                                                  BODY_WEIGHT).label("rank")) \
                .where(literal_column(FTS_TABLE).op("MATCH")(fts5_match(query))) \
                .cte("matches").prefix_with("MATERIALIZED")
            statement = statement.join(matches, matches.c.id == document.id)
            rank = -matches.c.rank
    return statement.where(*_where(viewer, filters)), rank


def search(viewer, query: Query, filters: Filters = NO_FILTERS, *, sort: str = "relevance", page: int = 1,
           per_page: int = PER_PAGE) -> SearchPage:
    result = SearchPage(query, page=page)
    if not query and not filters:
        return result
    result.searched = True
    if sort not in SORTS:
        raise ValidationError(_l("Choose a sort order from the list."), field="sort")
    document = SearchDocument
    endorsements = func.coalesce(Post.endorsement_count, 0)
    # The count comes with the page (a window over the same matches), so the matches are
    # found and checked once, not once for the count and again for the page.
    statement, rank = _matching(viewer, query, filters, document, endorsements, func.count().over())
    newest = (document.created_at.desc(), document.id.desc())
    if sort == "relevance" and rank is not None:
        order = (rank.desc(), *newest)
    elif sort == "endorsed":
        order = (endorsements.desc(), *newest)
    else:
        order = newest
    statement = statement.order_by(*order).limit(per_page)
    rows = db.session.execute(statement.offset((page - 1) * per_page)).all()
    if rows:
        result.total = rows[0][2]
    else:  # nothing at all, or a page past the last: count, and show the last page
        count_statement, _ = _matching(viewer, query, filters, func.count())
        result.total = db.session.scalar(count_statement)
        if result.total:
            page = math.ceil(result.total / per_page)
            rows = db.session.execute(statement.offset((page - 1) * per_page)).all()
    result.pages = max(1, math.ceil(result.total / per_page))
    result.page = min(max(1, page), result.pages)
    result.hits = _hits(query, rows)
    return result


def _hits(query: Query, rows) -> list[Hit]:
    """The page's rows with what a result names (author, place), in a fixed number of queries."""
    documents = [row[0] for row in rows]
    posts = by_id(Post, [d.post_id for d in documents], joinedload(Post.author))
    consultations = by_id(Consultation, [d.consultation_id for d in documents])
    topics = by_id(Topic, [d.topic_id for d in documents])
    rooms = by_id(Room, [d.room_id for d in documents])
    events = by_id(Event, [d.event_id for d in documents])
    authors = by_id(User, [d.author_id for d in documents if d.post_id is None])
    hits = []
    for (document, endorsements, _total) in rows:
        post = posts.get(document.post_id)
        kind = "message" if document.kind == "post" and document.room_id is not None else document.kind
        hits.append(Hit(
            kind=kind, title=highlight(document.title, query, document.language),
            snippet=snippet(document.body, query, document.language), created_at=document.created_at,
            endorsements=endorsements, author=post.author if post is not None else authors.get(document.author_id),
            consultation=consultations.get(document.consultation_id), topic=topics.get(document.topic_id),
            post=post, event=events.get(document.event_id), room=rooms.get(document.room_id)))
    return hits


# --- The filters' choices: only what the reader may see ---------------------------------------

def consultation_choices(viewer) -> list[Consultation]:
    return list(db.session.scalars(select(Consultation).options(joinedload(Consultation.topics)).where(
        Consultation.id.in_(permissions.readable_consultations(viewer))).order_by(Consultation.title)).unique())


def room_choices(viewer) -> list[Event]:
    """Events whose page the reader may see, with `readable` set to the rooms they may read."""
    events = list(db.session.scalars(select(Event).options(selectinload(Event.rooms)).where(
        Event.id.in_(permissions.visible_events(viewer))).order_by(Event.starts_at.desc(), Event.id)))
    readable = set(db.session.scalars(permissions.readable_rooms(viewer))) if events else set()
    for event in events:
        event.readable_rooms = [room for room in event.rooms if room.id in readable]
    return events


def author_choices(viewer, query: Query, filters: Filters) -> list[User]:
    """The people whose words the reader finds with these words and filters (whoever the
    author filter names aside), most found first; at most MAX_AUTHOR_CHOICES."""
    if not query and not filters:
        return []
    wider = Filters(**{**filters.__dict__, "author_id": None})
    statement, _ = _matching(viewer, query, wider, SearchDocument.author_id, func.count().label("n"))
    found = statement.where(SearchDocument.author_id.is_not(None)).group_by(SearchDocument.author_id) \
        .order_by(func.count().desc()).limit(MAX_AUTHOR_CHOICES).subquery()
    people = db.session.execute(select(User).join(found, found.c.author_id == User.id)
                                .order_by(User.display_name, User.id)).scalars().all()
    if filters.author_id is not None and all(person.id != filters.author_id for person in people):
        chosen = db.session.scalar(select(User).where(User.id == filters.author_id, User.id.in_(
            _matching(viewer, Query(""), Filters(author_id=filters.author_id), SearchDocument.author_id)[0])))
        if chosen is not None:
            people.append(chosen)
    return people
