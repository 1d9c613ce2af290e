"""Data exports: one row per post as CSV, or the whole structured discussion as JSON.

Both are generators of text chunks (about CHUNK_CHARS characters each) so that a web view
can stream them and the command line can write them to a file, in memory that does not grow
with the number of posts: the posts are read with one plain column SELECT (no ORM objects),
BATCH rows at a time; only the authors (one entry per person) are kept for the whole
export. They call gettext (place titles, labels): iterate them inside an app context, and
in a view wrap them in `flask.stream_with_context`. docs/exports.md documents the columns
and the JSON document.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from forum.exports import feedback as feedback_export
from forum.exports import opinion as opinion_export
from forum.exports import preevent as preevent_export
from forum.exports.scope import Scope, author_label, organisation_label
from forum.extensions import db
from forum.models import Moderator, Post, Room, Topic, User
from forum.models.base import utcnow
from forum.rendering import html_to_text
from forum.services import rooms as room_service
from forum.services import stances

FORMAT = "plenary-discussion"
FORMAT_VERSION = 1
BATCH = 1000             # rows fetched from the database at a time
CHUNK_CHARS = 64 * 1024  # size of the text chunks handed to the caller

# The CSV header and the keys of a JSON post record, in order; stable English names for
# machines (docs/exports.md explains each).
COLUMNS = (
    "post_id", "thread_id", "parent_id", "place_kind", "place_id", "place_title",
    "author_ref", "author", "organisation", "on_behalf_of_organisation", "organisation_type",
    "organisation_type_label", "country", "created_at", "edited_at", "state", "pinned", "locked",
    "endorsements", "hidden_reason", "subject", "body_text", "body_markdown", "quoted_post_id",
    "stance",
)
# OWASP's rule against formula injection: a spreadsheet runs a text cell starting with one
# of these as a formula (or DDE command); a leading apostrophe makes it text again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

Progress = Callable[[int], None]

_POST_COLUMNS = (
    Post.id, Post.thread_id, Post.parent_id, Post.topic_id, Post.room_id, Post.author_id,
    Post.on_behalf_of_organisation, Post.organisation_name, Post.created_at, Post.edited_at,
    Post.deleted_at, Post.hidden_at, Post.hidden_reason, Post.pinned_at, Post.locked_at,
    Post.endorsement_count, Post.subject, Post.body, Post.body_html, Post.quoted_post_id, Post.stance,
)


# --- Records -------------------------------------------------------------------------

@dataclass
class _Author:
    ref: int
    user: User
    label: str
    type_label: str  # computed once: gettext on every row would cost as much as the rest
    posts: int = 0


@dataclass
class _Place:
    kind: str
    id: int
    title: str
    proposal: bool = False  # a topic whose responses take a stance


def count_posts(scope: Scope) -> int:
    """How many rows `csv_chunks` writes (for a progress bar)."""
    return db.session.scalar(select(func.count()).select_from(scope.posts().order_by(None).subquery()))


def _authors(scope: Scope) -> dict[int, _Author]:
    """The people who wrote the export's posts (deleted ones aside), numbered 1, 2, ... by
    their first post: the number links a person's posts without naming them."""
    live = scope.posts().where(Post.deleted_at.is_(None)).order_by(None)
    firsts = live.with_only_columns(Post.author_id, func.count().label("posts"),
                                    func.min(Post.created_at).label("first"), func.min(Post.id).label("first_id")
                                    ).group_by(Post.author_id).subquery()
    rows = db.session.execute(select(User, firsts.c.posts).join(firsts, firsts.c.author_id == User.id)
                              .order_by(firsts.c.first, firsts.c.first_id))
    return {user.id: _Author(ref, user, author_label(user), user.organisation_type_label, count)
            for ref, (user, count) in enumerate(rows, start=1)}


def _place_title(place: Topic | Room) -> str:
    if isinstance(place, Topic):
        return _("Topic %(number)d: %(title)s", number=place.position, title=place.title)
    return place.title


def _places(scope: Scope) -> dict[tuple[str, int], _Place]:
    places = {}
    for section in scope.sections:
        kind = "topic" if isinstance(section, Topic) else "room"
        places[kind, section.id] = _Place(kind, section.id, _place_title(section),
                                          kind == "topic" and section.is_proposal)
    return places


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _record(row, authors: dict[int, _Author], places: dict[tuple[str, int], _Place],
            moderators_view: bool) -> dict[str, Any]:
    """One post as a flat record (keys: COLUMNS). A deleted post keeps its place, times and
    endorsements, not its author or text (as on the site)."""
    place = places.get(("room", row.room_id) if row.room_id is not None else ("topic", row.topic_id))
    if place is None:  # moved out of the export's sections while it was written
        place = _missing_place(row, places)
    deleted = row.deleted_at is not None
    author = None if deleted else authors.get(row.author_id) or _late_author(row.author_id, authors)
    user = author.user if author else None
    state = "deleted" if deleted else "hidden" if row.hidden_at is not None else "published"
    return {
        "post_id": row.id,
        "thread_id": row.thread_id,
        "parent_id": row.parent_id,
        "place_kind": place.kind,
        "place_id": place.id,
        "place_title": place.title,
        "author_ref": author.ref if author else None,
        "author": author.label if author else "",
        "organisation": organisation_label(user, row) if user else "",
        "on_behalf_of_organisation": bool(row.on_behalf_of_organisation) and not deleted,
        "organisation_type": user.organisation_type if user else "",
        "organisation_type_label": author.type_label if author else "",
        "country": user.country if user else "",
        "created_at": _iso(row.created_at),
        "edited_at": _iso(row.edited_at),
        "state": state,
        "pinned": row.pinned_at is not None,
        "locked": row.locked_at is not None,
        "endorsements": row.endorsement_count,
        "hidden_reason": row.hidden_reason if state == "hidden" and moderators_view else "",
        "subject": row.subject,
        "body_text": html_to_text(row.body_html),
        "body_markdown": row.body,
        # A quote is a reference (never part of the text): the quoted post's own row says
        # what may be read of it now.
        "quoted_post_id": row.quoted_post_id,
        # A response's stance on a proposal (a code, docs/stances.md); none once the topic is
        # no proposal any more (it stays stored, as on the site).
        "stance": row.stance.value if row.stance is not None and row.parent_id is None and place.proposal else "",
    }


def _missing_place(row, places: dict[tuple[str, int], _Place]) -> _Place:
    place = db.session.get(Room, row.room_id) if row.room_id is not None else db.session.get(Topic, row.topic_id)
    kind = "room" if row.room_id is not None else "topic"
    places[kind, place.id] = _Place(kind, place.id, _place_title(place), kind == "topic" and place.is_proposal)
    return places[kind, place.id]


def _late_author(user_id: int, authors: dict[int, _Author]) -> _Author:
    """Someone whose first post arrived after the authors were read."""
    user = db.session.get(User, user_id)
    authors[user_id] = _Author(len(authors) + 1, user, author_label(user), user.organisation_type_label, 1)
    return authors[user_id]


def post_records(scope: Scope, *, progress: Progress | None = None,
                 authors: dict[int, _Author] | None = None) -> Iterator[dict[str, Any]]:
    """The export's posts as flat records, oldest first, read BATCH rows at a time.
    `progress(n)` is called after each batch of n posts."""
    authors = _authors(scope) if authors is None else authors
    places = _places(scope)
    query = scope.posts().with_only_columns(*_POST_COLUMNS).execution_options(yield_per=BATCH)
    for batch in db.session.execute(query).partitions():
        for row in batch:
            yield _record(row, authors, places, scope.moderators_view)
        if progress is not None:
            progress(len(batch))


def _chunks(pieces: Iterable[str]) -> Iterator[str]:
    """Join small pieces of text into chunks of about CHUNK_CHARS characters."""
    buffer: list[str] = []
    size = 0
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size >= CHUNK_CHARS:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


# --- CSV -----------------------------------------------------------------------------

def _csv_cell(value: Any) -> Any:
    """Text safe to open in a spreadsheet; numbers are left alone (they are not text, and
    a negative number is no formula)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    # Some spreadsheets skip leading spaces, and read full-width signs as the ASCII ones.
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Line:
    """A file-like target for csv.writer that hands back what was written."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text = text


def _csv_lines(scope: Scope, bom: bool, progress: Progress | None) -> Iterator[str]:
    line = _Line()
    writer = csv.writer(line, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield ("\ufeff" if bom else "") + line.text
    for record in post_records(scope, progress=progress):
        writer.writerow([_csv_cell(record[column]) for column in COLUMNS])
        yield line.text


def csv_chunks(scope: Scope, *, bom: bool = False, progress: Progress | None = None) -> Iterator[str]:
    """The export as CSV text (RFC 4180, CRLF line ends, header row of COLUMNS), one row per
    post, in chunks. `bom` starts it with a byte order mark, which Excel needs to read UTF-8."""
    return _chunks(_csv_lines(scope, bom, progress))


# --- JSON ----------------------------------------------------------------------------

def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _person(user: User | None) -> str | None:
    return author_label(user) if user is not None else None


def _topic(topic: Topic, moderators: dict[int, list[str]], stance_tables: dict) -> dict[str, Any]:
    record = {
        "id": topic.id,
        "position": topic.position,
        "title": topic.title,
        "label": _place_title(topic),
        "description": topic.description,
        "guiding_questions": list(topic.guiding_questions or []),
        "moderators": moderators.get(topic.id, []),
        "is_proposal": topic.is_proposal,
    }
    table = stance_tables.get(topic.id)
    if table is not None:
        # Responses per stance, overall and per stakeholder group (docs/stances.md).
        record["stances"] = {"counts": table.counts, **{
            f"by_{kind}": [{"code": row.code, "counts": row.counts} for row in rows]
            for kind, rows in table.by.items()}}
    return record


def _topic_moderators(topics: list[Topic]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    rows = db.session.scalars(select(Moderator).where(Moderator.topic_id.in_([t.id for t in topics]))
                              .order_by(Moderator.id))
    for moderator in rows:
        found.setdefault(moderator.topic_id, []).append(author_label(moderator.user))
    return found


def _consultation(scope: Scope) -> dict[str, Any] | None:
    consultation = scope.consultation
    if consultation is None or scope.is_event:
        return None
    topics = [s for s in scope.sections if isinstance(s, Topic)]
    moderators = _topic_moderators(topics)
    tables = stances.stance_tables(consultation, [t.id for t in topics])
    return {
        "id": consultation.id,
        "title": consultation.title,
        "brief_markdown": consultation.brief,
        "status": consultation.phase(utcnow()).value,
        "visibility": consultation.visibility.value,
        "opens_at": _iso(consultation.opens_at),
        "closes_at": _iso(consultation.closes_at),
        "organiser": _person(consultation.owner),
        "hosts": [{"name": h.name, "role": h.role, "organisation": h.organisation} for h in consultation.hosts],
        "topics": [_topic(topic, moderators, tables) for topic in topics],
    }


def _room(room: Room) -> dict[str, Any]:
    return {
        "id": room.id,
        "position": room.position,
        "plenary": room.is_plenary,
        "title": room.title,
        "description": room.description,
        "phase": room.phase.value,
        "moderators": [author_label(m.user) for m in room.moderators],
        "takeaways": [{"position": t.position, "body_markdown": t.body, "body_text": html_to_text(t.body_html),
                       "credited": _person(t.credited)} for t in room_service.takeaways(room)],
    }


def _event(scope: Scope) -> dict[str, Any] | None:
    event = scope.event
    if event is None:
        return None
    return {
        "id": event.id,
        "title": event.title,
        "description_markdown": event.description,
        "status": event.status.value,
        "starts_at": _iso(event.starts_at),
        "ends_at": _iso(event.ends_at),
        "timezone": event.timezone,
        "organiser": _person(event.owner),
        "rooms": [_room(room) for room in scope.sections if isinstance(room, Room)],
    }


def _participant(author: _Author) -> dict[str, Any]:
    user = author.user
    return {
        "ref": author.ref,
        "label": author.label,
        "named": user.named_in_reports and user.closed_at is None,
        "organisation": organisation_label(user),
        "organisation_type": user.organisation_type,
        "organisation_type_label": author.type_label,
        "country": user.country,
        "posts": author.posts,
    }


def _json_pieces(scope: Scope, progress: Progress | None) -> Iterator[str]:
    authors = _authors(scope)
    head = {
        "export": {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "generated_at": _iso(utcnow()),
            "language": str(get_locale() or "en"),
            "scope": {"kind": scope.kind, "id": scope.id, "title": scope.title},
            "moderators_view": scope.moderators_view,
        },
        "consultation": _consultation(scope),
        "event": _event(scope),
        "participants": [_participant(a) for a in authors.values()],
        "polls": _polls().json_polls(scope),
        "opinion_map": opinion_export.map_json(scope),
        "plenary_questions": _questions().json_section(scope),
        "feedback": feedback_export.json_section(scope),
        "pre_event_input": preevent_export.json_section(scope),
    }
    yield "{\n" + "".join(f"{_json(key)}: {_json(value)},\n" for key, value in head.items()) + '"posts": ['
    separator = "\n"
    for record in post_records(scope, progress=progress, authors=authors):
        yield separator + _json(record)
        separator = ",\n"
    yield "\n]\n}\n"


def _polls():
    """forum.exports.polls, which builds on this module (so it is imported late)."""
    from forum.exports import polls

    return polls


def _questions():
    """forum.exports.questions, which builds on the report (so it is imported late)."""
    from forum.exports import questions

    return questions


def json_chunks(scope: Scope, *, progress: Progress | None = None) -> Iterator[str]:
    """The export as one JSON document (docs/exports.md), its posts written one by one, in
    chunks."""
    return _chunks(_json_pieces(scope, progress))
