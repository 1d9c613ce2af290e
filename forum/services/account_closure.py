"""Closing an account (GDPR art. 17; docs/data-rights.md, "Close my account").

The person, from their profile, or a platform admin on their request, closes the account and
chooses what becomes of what they wrote (`ClosureMode`):

- KEEP: their contributions stay, under "Former participant" (`User.display_name`, translated
  when read, in pages, exports, reports and live pages alike); their name, handle,
  organisation, country, role title and the rest of their profile go, and posts made on behalf
  of their organisation no longer name it.
- ERASE: their text goes too, wherever it is (see `_erase`): posts and room messages keep their
  place in their threads as "removed at its author's request" (Post.deleted_at, as a deletion
  by its author), so that others' replies still make sense; their earlier versions, the key
  takeaways they drafted, edited or were credited for, their questions to the plenary,
  pre-event answers (and the room messages a moderator pinned them as), statements, named
  feedback answers' comments, reports of posts, and what they wrote as a moderator (reasons).

Either way, in the same transaction: sessions end (a new session token; open sockets are
closed once it commits), API tokens are revoked, login records, notifications, follows and
settings are deleted, the e-mail address becomes a placeholder under closed.invalid (the
address may register again; nothing is ever mailed there), the password becomes unusable;
the registrations of events that have ended, or that they attended, stay as anonymous counts
for the reports. The moderation log keeps the actions, not the person: its lines name a
"Former participant", and their stored details no longer hold the name or, when erasing, the
text (the log is otherwise append-only: this is the one rewrite, done in SQL on purpose).

What was derived from the account follows in the same transaction: the stored live messages
that carried the name or the text are replaced by "superseded" ones (and the posts still
within reach of catch-up are announced anew as they now read), the search index (its hooks),
report files built from the places the person took part in (rows deleted; the files, and the
public summaries of those consultations, removed once the closure commits: both are built
again when next asked for). Organisers' framing (consultations, topics, events, polls,
questions asked before an event, report covers) belongs to the organisation that ran them and
stays, shown as by a "Former participant".
"""
from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, and_, bindparam, delete, func, null, or_, select, update

from forum import permissions
from forum.extensions import db
from forum.mail import PLACEHOLDER_DOMAIN
from forum.models import (
    ApiToken,
    Event,
    EventMember,
    FeedbackAnswer,
    Flag,
    Follow,
    HandRaise,
    Host,
    LoginRecord,
    ModerationAction,
    Moderator,
    Mute,
    Notification,
    NotificationSetting,
    OpinionBoard,
    Post,
    PostRevision,
    PreEventAnswer,
    PreEventQuestion,
    Question,
    ReportFile,
    ReportStatus,
    Room,
    Statement,
    StatementStatus,
    Stream,
    StreamEvent,
    Takeaway,
    TakeawayRevision,
    Topic,
    User,
)
from forum.models.base import utcnow
from forum.models.consultations import Consultation, ConsultationStatus
from forum.models.events import EventStatus
from forum.models.feedback import FeedbackSubmission
from forum.models.opinion import StatementVote
from forum.services import accounts, audit, events, mentions, opinion, preevent, reports, rooms
from forum.services.errors import PermissionDenied, ValidationError
from forum.services.search_text import plain_text


class ClosureMode(str, enum.Enum):
    KEEP = "keep"    # contributions stay, under "Former participant"
    ERASE = "erase"  # their text goes too


# Not a hash any method makes: werkzeug's check_password_hash refuses every password for it.
UNUSABLE_PASSWORD = "!closed"
BATCH = 500
# Names and texts shorter than this are not looked for in stored messages (they would match
# far too much); what carries them is found by its ids instead.
NEEDLE_MIN = 3


def close_account(actor: User, user: User, mode: str, *, password: str) -> ClosureMode:
    """Close `user`'s account, keeping or erasing their contributions (`mode`, a ClosureMode
    value). `actor` is the person, or an admin acting on their request; either confirms with
    their own password. All or nothing: a refusal changes nothing. Returns the mode."""
    if not permissions.can_close_account(actor, user):
        raise PermissionDenied()
    try:
        chosen = ClosureMode(mode)
    except ValueError:
        raise ValidationError(_l("Choose whether the contributions are kept or erased."), field="mode") from None
    if not isinstance(password, str) or not actor.check_password(password):
        raise ValidationError(_l("This password is not correct."), field="password")
    erase = chosen is ClosureMode.ERASE
    now = utcnow()
    trace = _Trace.of(user)
    if erase:
        _erase(user, trace, now)
    else:
        db.session.execute(update(Post).where(Post.author_id == user.id)
                           .values(organisation_name="", on_behalf_of_organisation=False)
                           .execution_options(synchronize_session=False))
    _forget(user, now)
    _anonymise(user, erase=erase, now=now)
    db.session.flush()
    if not erase:
        _credit_pins_anew(trace)
    _scrub_streams(user, trace, erase)
    _announce(trace, erase)
    _scrub_log(user, trace, erase)
    _drop_reports(user, trace)
    audit.log(actor, "account.closed", target_user=user, mode=chosen.value, by_admin=actor.id != user.id)
    accounts.end_sessions(user)  # a new session token; open sockets closed after the commit
    db.session.flush()
    # Rows changed in SQL above: what this session holds of them is read again.
    db.session.expire_all()
    return chosen


# --- What the account touched ---------------------------------------------------------------

@dataclass
class _Trace:
    """Gathered before anything changes: what the account wrote and where it took part."""
    user_id: int
    needles: list[str] = field(default_factory=list)  # its name and address, as stored
    post_ids: list[int] = field(default_factory=list)  # its posts and room messages
    root_ids: set[int] = field(default_factory=set)  # the threads it started
    replies: set[int] = field(default_factory=set)  # others' posts replying to its posts
    quoting: set[int] = field(default_factory=set)  # others' posts quoting its posts
    pinned: set[int] = field(default_factory=set)  # room messages quoting its pre-event answers
    question_ids: set[int] = field(default_factory=set)
    flag_ids: set[int] = field(default_factory=set)
    consultation_ids: set[int] = field(default_factory=set)
    event_ids: set[int] = field(default_factory=set)
    room_ids: set[int] = field(default_factory=set)  # every room of those events
    takeaway_rooms: set[int] = field(default_factory=set)  # rooms whose takeaways it wrote

    @classmethod
    def of(cls, user: User) -> _Trace:
        uid = user.id
        trace = cls(uid, needles=[n for n in (user.name_as_typed, user.email) if len(n or "") >= NEEDLE_MIN])
        rows = db.session.execute(select(Post.id, Post.parent_id, Post.consultation_id, Post.room_id)
                                  .where(Post.author_id == uid).order_by(Post.id)).all()
        trace.post_ids = [row.id for row in rows]
        trace.root_ids = {row.id for row in rows if row.parent_id is None and row.consultation_id is not None}
        trace.consultation_ids = {row.consultation_id for row in rows if row.consultation_id is not None}
        rooms_used = {row.room_id for row in rows if row.room_id is not None}
        for ids in _batches(trace.post_ids):
            batch = set(ids)
            for post_id, quoted_id in db.session.execute(
                    select(Post.id, Post.quoted_post_id).where(
                        Post.author_id != uid, or_(Post.parent_id.in_(ids), Post.quoted_post_id.in_(ids)))):
                (trace.quoting if quoted_id in batch else trace.replies).add(post_id)
        trace.replies -= trace.quoting
        trace.pinned = set(db.session.scalars(select(PreEventAnswer.pinned_post_id).where(
            PreEventAnswer.author_id == uid, PreEventAnswer.pinned_post_id.is_not(None))))
        questions = db.session.execute(select(Question.id, Question.room_id).where(Question.author_id == uid)).all()
        trace.question_ids = {q.id for q in questions}
        rooms_used |= {q.room_id for q in questions}
        trace.flag_ids = set(db.session.scalars(select(Flag.id).where(Flag.user_id == uid)))
        for model, column in ((HandRaise, HandRaise.user_id), (Mute, Mute.user_id), (Mute, Mute.created_by_id),
                              (Moderator, Moderator.user_id)):
            rooms_used |= set(db.session.scalars(select(model.room_id).where(column == uid,
                                                                             model.room_id.is_not(None))))
        takeaways = _takeaways_of(uid)
        trace.takeaway_rooms = set(db.session.scalars(select(Takeaway.room_id).where(takeaways)))
        rooms_used |= trace.takeaway_rooms
        events_used = set(db.session.scalars(select(Room.event_id).where(Room.id.in_(rooms_used)))) if rooms_used \
            else set()
        events_used |= set(db.session.scalars(select(EventMember.event_id).where(EventMember.user_id == uid)))
        events_used |= set(db.session.scalars(select(Event.id).where(Event.owner_id == uid)))
        events_used |= set(db.session.scalars(select(PreEventQuestion.event_id).join(
            PreEventAnswer, PreEventAnswer.question_id == PreEventQuestion.id).where(PreEventAnswer.author_id == uid)))
        events_used |= set(db.session.scalars(select(FeedbackAnswer.event_id).where(FeedbackAnswer.author_id == uid)))
        events_used |= set(db.session.scalars(select(FeedbackSubmission.event_id).where(
            FeedbackSubmission.user_id == uid)))
        trace.event_ids = events_used
        trace.room_ids = set(db.session.scalars(select(Room.id).where(Room.event_id.in_(events_used)))) \
            if events_used else set()
        consultations = trace.consultation_ids
        consultations |= set(db.session.scalars(select(OpinionBoard.consultation_id).join(
            Statement, Statement.board_id == OpinionBoard.id).where(Statement.author_id == uid)))
        consultations |= set(db.session.scalars(select(OpinionBoard.consultation_id).join(
            StatementVote, StatementVote.board_id == OpinionBoard.id).where(StatementVote.user_id == uid)))
        consultations |= set(db.session.scalars(select(Consultation.id).where(Consultation.owner_id == uid)))
        consultations |= set(db.session.scalars(select(Host.consultation_id).where(Host.user_id == uid)))
        consultations |= set(db.session.scalars(select(Topic.consultation_id).join(
            Moderator, Moderator.topic_id == Topic.id).where(Moderator.user_id == uid)))
        return trace

    def streams(self) -> list[str]:
        """Every stream where something of the account may have been said."""
        keys = [events.consultation_stream(c) for c in self.consultation_ids]
        for room_id in self.room_ids:
            keys += [events.room_stream(room_id), events.moderators_stream(room_id), events.preevent_stream(room_id)]
        keys += [f"event:{event_id}:control" for event_id in self.event_ids]
        for key in list(keys):
            keys += events.poll_streams_of(key)
        return sorted(set(keys))


def _takeaways_of(uid: int):
    """The takeaways someone wrote: drafted, edited (any version) or credited with."""
    edited = select(TakeawayRevision.takeaway_id).where(TakeawayRevision.editor_id == uid)
    return or_(Takeaway.created_by_id == uid, Takeaway.credited_user_id == uid, Takeaway.id.in_(edited))


def _batches(ids: Iterable[int], size: int = BATCH) -> Iterator[list[int]]:
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


# --- Erasing the text ---------------------------------------------------------------------------

def _erase(user: User, trace: _Trace, now: datetime) -> None:
    uid = user.id
    # Posts and room messages (and the room messages quoting their pre-event answers): their
    # place stays, their words go, earlier versions too. Through the ORM, so that the search
    # index's hooks take them out of the index.
    for ids in _batches([*trace.post_ids, *trace.pinned]):
        for post in db.session.scalars(select(Post).where(Post.id.in_(ids))):
            post.deleted_at = post.deleted_at or now
            post.subject = post.body = post.body_html = ""
            post.stance = None
            post.organisation_name, post.on_behalf_of_organisation = "", False
            post.hidden_reason = post.rejected_reason = ""
            post.client_key = None
        db.session.execute(delete(PostRevision).where(PostRevision.post_id.in_(ids)))
        # Others' notices about these posts (a reply, a mention, a quote): about nothing now.
        db.session.execute(delete(Notification).where(Notification.post_id.in_(ids)))
    # Key takeaways they drafted, edited or were credited with (a takeaway credited to them
    # is their message's words).
    takeaway_ids = list(db.session.scalars(select(Takeaway.id).where(_takeaways_of(uid))))
    for ids in _batches(takeaway_ids):
        db.session.execute(delete(TakeawayRevision).where(TakeawayRevision.takeaway_id.in_(ids)))
        db.session.execute(update(Takeaway).where(Takeaway.id.in_(ids))
                           .values(body="", body_html="", deleted_at=func.coalesce(Takeaway.deleted_at, now))
                           .execution_options(synchronize_session=False))
    # Questions to the plenary: gone from its list, live too.
    for question in db.session.scalars(select(Question).where(Question.author_id == uid)):
        stream = (events.room_stream(question.room_id) if question.is_visible_to_all
                  else events.moderators_stream(question.room_id))
        events.record_data(stream, "question.removed",
                           {"question": {"id": question.id, "status": "dismissed", "votes": 0}})
        db.session.delete(question)
    db.session.execute(delete(PreEventAnswer).where(PreEventAnswer.author_id == uid))
    # Statements: hidden (their votes leave the map, which is computed again) and emptied.
    boards = set(db.session.scalars(select(Statement.board_id).where(
        Statement.author_id == uid, Statement.status == StatementStatus.PUBLISHED)))
    db.session.execute(update(Statement).where(Statement.author_id == uid)
                       .values(text="", rejected_reason="", status=StatementStatus.HIDDEN)
                       .execution_options(synchronize_session=False))
    for board_id in boards:
        db.session.execute(update(OpinionBoard).where(OpinionBoard.id == board_id)
                           .values(matrix_version=OpinionBoard.matrix_version + 1)
                           .execution_options(synchronize_session=False))
        opinion.request_recompute(db.session.get(OpinionBoard, board_id))
    # Feedback they gave under their name: its ratings stay, anonymous; its comments go.
    for answer in db.session.scalars(select(FeedbackAnswer).where(FeedbackAnswer.author_id == uid)):
        answer.comments = ["" for _comment in answer.comments or []]
        answer.author_id = None
    db.session.execute(delete(Flag).where(Flag.user_id == uid))
    # What they wrote as a moderator: the reasons given to others.
    db.session.execute(update(Post).where(Post.hidden_by_id == uid).values(hidden_reason="")
                       .execution_options(synchronize_session=False))
    rejected = select(ModerationAction.post_id).where(ModerationAction.actor_id == uid,
                                                       ModerationAction.action == "post.rejected")
    db.session.execute(update(Post).where(Post.id.in_(rejected)).values(rejected_reason="")
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Statement).where(Statement.moderated_by_id == uid).values(rejected_reason="")
                       .execution_options(synchronize_session=False))
    dismissed = [details.get("question_id") for details in db.session.scalars(
        select(ModerationAction.details).where(ModerationAction.actor_id == uid,
                                               ModerationAction.action == "question.dismissed"))
                 if isinstance(details, dict)]
    for ids in _batches([i for i in dismissed if isinstance(i, int)]):
        db.session.execute(update(Question).where(Question.id.in_(ids)).values(dismissed_reason="")
                           .execution_options(synchronize_session=False))
    db.session.execute(update(Mute).where(Mute.created_by_id == uid).values(reason="")
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Notification).where(Notification.actor_id == uid).values(reason="")
                       .execution_options(synchronize_session=False))


# --- What goes either way ----------------------------------------------------------------------

def _forget(user: User, now: datetime) -> None:
    uid = user.id
    for model in (LoginRecord, Notification, Follow, NotificationSetting, HandRaise, Mute):
        db.session.execute(delete(model).where(model.user_id == uid))
    db.session.execute(update(ApiToken).where(ApiToken.user_id == uid)
                       .values(name="", revoked_at=func.coalesce(ApiToken.revoked_at, now))
                       .execution_options(synchronize_session=False))
    # A consultation's list of hosts names them (as the organiser typed it): their line goes.
    for host in db.session.scalars(select(Host).where(Host.user_id == uid)):
        host.consultation.hosts.remove(host)
    # Roles in what is still running go; those of what has ended stay, as a "Former participant".
    running_rooms = select(Room.id).join(Event, Event.id == Room.event_id).where(Event.status != EventStatus.ENDED)
    open_topics = select(Topic.id).join(Consultation, Consultation.id == Topic.consultation_id).where(
        Consultation.status != ConsultationStatus.CLOSED)
    db.session.execute(delete(Moderator).where(Moderator.user_id == uid, or_(
        Moderator.room_id.in_(running_rooms), Moderator.topic_id.in_(open_topics))))
    # Registrations: of an event that has ended, or that they came to, an anonymous count.
    ended = select(Event.id).where(Event.status == EventStatus.ENDED)
    db.session.execute(delete(EventMember).where(EventMember.user_id == uid, EventMember.attended_at.is_(None),
                                                 EventMember.event_id.not_in(ended)))


def _anonymise(user: User, *, erase: bool, now: datetime) -> None:
    config = current_app.config
    user.email = f"closed-{user.id}-{secrets.token_hex(6)}@{PLACEHOLDER_DOMAIN}"
    user.name_as_typed = ""
    user.handle = f"~{user.id}"  # a character no handle may hold: no mention names it again
    user.organisation = user.role_title = user.country = ""
    user.preferred_language = config["BABEL_DEFAULT_LOCALE"]
    user.timezone = config["BABEL_DEFAULT_TIMEZONE"]
    user.email_verified_at = user.last_digest_at = user.last_login_at = None
    user.email_immediate = False
    user.digest_frequency = "never"
    user.is_admin = user.is_organiser = False
    user.password_hash = UNUSABLE_PASSWORD
    user.closed_at = now
    user.closed_erased = erase


def _credit_pins_anew(trace: _Trace) -> None:
    """Kept contributions: a pre-event answer pinned into a room is a moderator's message that
    names its author; it names a "Former participant" now (in the moderator's language)."""
    for answer in db.session.scalars(select(PreEventAnswer).where(
            PreEventAnswer.author_id == trace.user_id, PreEventAnswer.pinned_post_id.is_not(None))):
        post = db.session.get(Post, answer.pinned_post_id)
        if post is None or post.is_deleted:
            continue
        with force_locale(post.author.preferred_language):
            body = preevent.quote_body(answer)
        post.body, post.body_html = body, mentions.render_post(body)
        db.session.execute(delete(PostRevision).where(PostRevision.post_id == post.id))


# --- Live messages ----------------------------------------------------------------------------

def _marker(stream_key: str, seq: int) -> dict[str, Any]:
    # What catch-up sends for a message it no longer has: clients count its number and apply nothing.
    return {"stream": stream_key, "seq": seq, "type": "superseded"}


def _supersede(rows: list) -> None:
    if not rows:
        return
    table = StreamEvent.__table__
    db.session.execute(
        update(table).where(table.c.id == bindparam("row_id"))
        .values(data=null(), payload=bindparam("marker", type_=JSON)),
        [{"row_id": row.id, "marker": _marker(row.stream_key, row.seq)} for row in rows])


def _scrub_streams(user: User, trace: _Trace, erase: bool) -> None:
    """Every stored message about their posts (and the posts replying to or quoting them), and
    every other message on the streams of the places they took part in that names them, quotes
    them or carries their words, is replaced by "superseded"."""
    for ids in _batches([*trace.post_ids, *trace.replies, *trace.quoting, *trace.pinned]):
        _supersede(db.session.execute(select(StreamEvent.id, StreamEvent.stream_key, StreamEvent.seq)
                                      .where(StreamEvent.post_id.in_(ids))).all())
    needles = [_normalised(n) for n in trace.needles]
    if erase:
        needles += [_normalised(reason) for reason in _reasons_written(user.id)]
    needles = [n for n in needles if len(n) >= NEEDLE_MIN]
    for keys in _batches(trace.streams(), 100):
        last = 0
        while True:
            rows = db.session.execute(
                select(StreamEvent.id, StreamEvent.stream_key, StreamEvent.seq, StreamEvent.kind,
                       StreamEvent.data, StreamEvent.payload)
                .where(StreamEvent.stream_key.in_(keys), StreamEvent.post_id.is_(None), StreamEvent.id > last)
                .order_by(StreamEvent.id).limit(BATCH)).all()
            if not rows:
                break
            last = rows[-1].id
            _supersede([row for row in rows if _carries(row, trace, needles, erase)])


def _reasons_written(uid: int) -> list[str]:
    """What they wrote as a moderator that live messages repeat (a mute's reason, a recall)."""
    texts = list(db.session.scalars(select(ModerationAction.reason).where(
        ModerationAction.actor_id == uid, ModerationAction.reason != "")))
    for details in db.session.scalars(select(ModerationAction.details).where(
            ModerationAction.actor_id == uid, ModerationAction.action == "event.recall")):
        if isinstance(details, dict) and isinstance(details.get("message"), str):
            texts.append(details["message"])
    return texts


def _carries(row, trace: _Trace, needles: list[str], erase: bool) -> bool:
    for value in (row.data, row.payload):
        for key, item in _walk(value):
            if key in ("user_id", "author_id") and item == trace.user_id:
                return True
            if key == "question" and isinstance(item, dict) and item.get("id") in trace.question_ids:
                return True
            if erase and key == "flag_id" and item in trace.flag_ids:
                return True
            if isinstance(item, str) and needles and _contains(item, needles):
                return True
    if erase and row.kind in ("takeaway.changed", "report.card"):
        data = row.data if isinstance(row.data, dict) else (row.payload or {}).get("data") or {}
        return data.get("room_id") in trace.takeaway_rooms
    return False


def _walk(value, key: str | None = None) -> Iterator[tuple[str | None, Any]]:
    yield key, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)


_SPACES = re.compile(r"\s+")


def _normalised(text: str) -> str:
    return _SPACES.sub(" ", text or "").strip().casefold()


def _contains(text: str, needles: list[str]) -> bool:
    candidates = [_normalised(text)]
    if "<" in text or "&" in text:
        candidates.append(_normalised(plain_text(text)))
    return any(needle in candidate for candidate in candidates for needle in needles)


def _recent(post_ids: Iterable[int]) -> set[int]:
    """The posts whose latest live message is still within reach of catch-up on its stream
    (the last CATCH_UP_RELOAD_AFTER): their readers are sent them anew."""
    window = current_app.config["CATCH_UP_RELOAD_AFTER"]
    found: set[int] = set()
    for ids in _batches(post_ids):
        rows = db.session.execute(select(StreamEvent.post_id, StreamEvent.stream_key, func.max(StreamEvent.seq))
                                  .where(StreamEvent.post_id.in_(ids))
                                  .group_by(StreamEvent.post_id, StreamEvent.stream_key)).all()
        latest = dict(db.session.execute(select(Stream.key, Stream.last_seq).where(
            Stream.key.in_({row[1] for row in rows}))).all()) if rows else {}
        found |= {post_id for post_id, key, seq in rows if latest.get(key, 0) - seq < window}
    return found


def _announce(trace: _Trace, erase: bool) -> None:
    """Tell the live readers of what is still within catch-up's reach how it now reads: their
    posts removed or naming a "Former participant", replies and quotes of them, takeaways."""
    own = _recent(trace.post_ids)
    for ids in _batches(own):
        for post in db.session.scalars(select(Post).where(Post.id.in_(ids))):
            # A change of how a post reads records its quoting replies anew (events.record).
            events.record("post.deleted" if erase else "post.updated", post)
    others = _recent(trace.replies | trace.pinned)
    for ids in _batches(_recent(trace.quoting)):  # those quoting a post recorded above are, already
        others |= set(db.session.scalars(select(Post.id).where(Post.id.in_(ids), Post.quoted_post_id.not_in(own))))
    for ids in _batches(others):
        for post in db.session.scalars(select(Post).where(Post.id.in_(ids))):
            events.record("post.deleted" if post.is_deleted else "post.updated", post)
    if erase:
        for room in db.session.scalars(select(Room).where(Room.id.in_(trace.takeaway_rooms))):
            rooms.announce_takeaways(room)


# --- The moderation log and report files --------------------------------------------------------

def _scrub_log(user: User, trace: _Trace, erase: bool) -> None:
    """The log keeps the action, not the person: no stored detail names them (a thread's
    title, "started by" them) or, when erasing, repeats their words (their thread's subject,
    the reasons they gave)."""
    needles = [_normalised(n) for n in trace.needles]
    table = ModerationAction.__table__
    where = [table.c.actor_id == user.id, table.c.target_user_id == user.id]
    if trace.event_ids:
        where.append(table.c.event_id.in_(trace.event_ids))
    if trace.consultation_ids:
        where.append(table.c.consultation_id.in_(trace.consultation_ids))
    rows = db.session.execute(select(table.c.id, table.c.actor_id, table.c.reason, table.c.details,
                                     table.c.action).where(or_(*where))).all()
    changes = []
    for row in rows:
        details = row.details if isinstance(row.details, dict) else {}
        own_thread = (erase and row.action == "export.made" and details.get("kind") == "thread"
                      and details.get("object_id") in trace.root_ids)
        scrubbed = {key: ("" if isinstance(value, str) and (
            (own_thread and key == "title") or (needles and _contains(value, needles))
            or (erase and row.actor_id == user.id and key == "message")) else value)
            for key, value in details.items()}
        reason = "" if erase and row.actor_id == user.id else row.reason
        if scrubbed != details or reason != row.reason:
            changes.append({"row_id": row.id, "new_details": scrubbed, "new_reason": reason})
    if changes:
        # The one rewrite of the append-only log (forum.models.moderation refuses it through the
        # ORM): what it said of a person who has left, not what was done.
        db.session.execute(update(table).where(table.c.id == bindparam("row_id"))
                           .values(details=bindparam("new_details", type_=JSON), reason=bindparam("new_reason")),
                           changes)


def _drop_reports(user: User, trace: _Trace) -> None:
    """Report files built from the places they took part in (or asked for by them) may quote
    their words or name them: their rows go now, their files once the closure commits, with
    the public summaries of those consultations (built again when next read). A report still
    being built reads the database as it is when it reads, and keeps a title that no longer
    names them or their thread."""
    cids, eids, rids = trace.consultation_ids, trace.event_ids, trace.room_ids
    places = [ReportFile.user_id == user.id]
    if cids:
        places += [and_(ReportFile.kind == "consultation", ReportFile.object_id.in_(cids)),
                   and_(ReportFile.kind == "topic", ReportFile.object_id.in_(
                       select(Topic.id).where(Topic.consultation_id.in_(cids)))),
                   and_(ReportFile.kind == "thread", ReportFile.object_id.in_(
                       select(Post.id).where(Post.consultation_id.in_(cids))))]
    if eids:
        places += [and_(ReportFile.kind == "event", ReportFile.object_id.in_(eids)),
                   and_(ReportFile.kind == "room", ReportFile.object_id.in_(rids)),
                   and_(ReportFile.kind == "thread", ReportFile.object_id.in_(
                       select(Post.id).where(Post.room_id.in_(rids))))]
    stored: list[str] = []
    for report in db.session.scalars(select(ReportFile).where(or_(*places))):
        if report.pending and report.user_id != user.id:
            report.title = ""
            report.filename = f"plenary-{report.kind}-{report.object_id}.{report.format}"
            continue
        if report.status is ReportStatus.DONE and report.stored_name:
            stored.append(report.stored_name)
        db.session.delete(report)
    directory = reports.reports_dir()

    def remove_files() -> None:
        for name in stored:
            (directory / name).unlink(missing_ok=True)
        for consultation_id in cids:
            for path in _summaries(directory, consultation_id):
                path.unlink(missing_ok=True)

    events.on_commit(remove_files)


def _summaries(directory: Path, consultation_id: int) -> list[Path]:
    if not directory.is_dir():
        return []
    return list(directory.glob(f"summary-{consultation_id}-*"))
