"""Plenary Q&A (docs/questions.md): participants ask the plenary's speakers and upvote the
questions they want answered (one vote each, withdrawable); the plenary's moderators approve
them when the room's questions are pre-moderated, dismiss them, and mark them answered.

Live: a published question's changes go on the plenary's room stream ("question.asked",
"question.updated", "question.removed"), a pending one's on its moderators' stream only. A
message carries what every reader of the plenary may see of the question (`_data`), in no
language: the page builds the item from its own template, in its reader's language and with
its reader's buttons (static/js/questions.js); a vote's message carries the figures only."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from forum import permissions
from forum.extensions import db
from forum.models import Room, User
from forum.models.base import utcnow
from forum.models.questions import VISIBLE_TO_ALL, Question, QuestionStatus, QuestionVote
from forum.services import audit, events
from forum.services.errors import Conflict, PermissionDenied, ValidationError
from forum.services.text import clean_text

ORDERS = ("votes", "recent")
REASON_MAX = 500


def _body_max() -> int:
    return current_app.config["QUESTION_BODY_MAX"]


def _refuse(actor: User, room: Room) -> None:
    if not room.is_plenary:
        raise PermissionDenied(_l("Questions are asked in the plenary."))
    if permissions.room_closed(room):
        raise PermissionDenied(_l("The plenary is closed: questions are no longer taken."))
    raise PermissionDenied()


# --- Asking and voting --------------------------------------------------------------

def ask(actor: User, room: Room, body: str, *, anonymous: bool = False) -> Question:
    if not permissions.can_ask_question(actor, room):
        _refuse(actor, room)
    text = clean_text(body, field="body", max_length=_body_max(), required=True, multiline=True)
    moderated = room.questions_premoderated and not permissions.can_moderate_questions(actor, room)
    question = Question(room_id=room.id, author_id=actor.id, body=text, anonymous=bool(anonymous),
                        status=QuestionStatus.PENDING if moderated else QuestionStatus.PUBLISHED)
    db.session.add(question)
    db.session.flush()
    _record(question, "question.asked")
    return question


def vote(actor: User, question: Question) -> bool:
    """Upvote; voting twice is the same as once (two tabs, a double click, a race: the unique
    (question, voter) pair decides). Returns whether a vote was added."""
    if not permissions.can_vote_question(actor, question):
        _refuse_vote(actor, question)
    try:
        with db.session.begin_nested():
            db.session.add(QuestionVote(question_id=question.id, user_id=actor.id))
    except IntegrityError:
        return False
    _count(question, +1)
    return True


def withdraw_vote(actor: User, question: Question) -> bool:
    if not permissions.can_vote_question(actor, question):
        _refuse_vote(actor, question)
    removed = db.session.execute(QuestionVote.__table__.delete().where(
        QuestionVote.question_id == question.id, QuestionVote.user_id == actor.id)).rowcount
    if removed:
        _count(question, -removed)
    return bool(removed)


def _refuse_vote(actor: User, question: Question) -> None:
    if actor is not None and actor.is_authenticated and question.author_id == actor.id:
        raise PermissionDenied(_l("You cannot vote for your own question."))
    if question.status is QuestionStatus.ANSWERED:
        raise Conflict(_l("This question has been answered: votes are closed."))
    _refuse(actor, question.room)


def _count(question: Question, change: int) -> None:
    # One statement, so that concurrent votes each add theirs (never read, add, write).
    db.session.execute(update(Question).where(Question.id == question.id)
                       .values(vote_count=Question.vote_count + change))
    db.session.refresh(question, ["vote_count"])
    _record(question, "question.updated", figures_only=True)


# --- Moderating ---------------------------------------------------------------------

def _require_moderator(actor: User, room: Room) -> None:
    if not permissions.can_moderate_questions(actor, room):
        raise PermissionDenied()


def _move(actor: User, question: Question, expected: tuple[QuestionStatus, ...], to: QuestionStatus) -> None:
    """Change a question's status, refusing it if another moderator changed it first: one
    conditional UPDATE, so that of two moderators acting at once the second is refused
    (before anything is logged or announced), whichever status it read."""
    _require_moderator(actor, question.room)
    changed = db.session.execute(
        update(Question).where(Question.id == question.id, Question.status.in_(expected)).values(status=to)
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        raise Conflict()
    db.session.refresh(question)


def approve(actor: User, question: Question) -> None:
    _move(actor, question, (QuestionStatus.PENDING,), QuestionStatus.PUBLISHED)
    db.session.flush()
    audit.log(actor, "question.approved", room=question.room, question_id=question.id)
    _record(question, "question.asked")
    events.record_data(events.moderators_stream(question.room_id), "question.removed",
                       {"question": _data(question, figures_only=True)})


def dismiss(actor: User, question: Question, reason: str = "") -> None:
    reason = clean_text(reason, field="reason", max_length=REASON_MAX)
    was = question.status
    _move(actor, question, (QuestionStatus.PENDING, QuestionStatus.PUBLISHED, QuestionStatus.ANSWERED),
          QuestionStatus.DISMISSED)
    question.dismissed_reason = reason
    db.session.flush()
    # An anonymous question's author is its plenary moderators' alone; the event's log is read
    # by every co-moderator.
    audit.log(actor, "question.dismissed", room=question.room, reason=reason, question_id=question.id,
              target_user=None if question.anonymous else question.author)
    stream = (events.moderators_stream(question.room_id) if was is QuestionStatus.PENDING
              else events.room_stream(question.room_id))
    # Its text leaves the messages that catch-up may still send, on both streams.
    events.erase_data_messages((events.room_stream(question.room_id), events.moderators_stream(question.room_id)),
                               "question.", lambda data: _carries_text_of(data, question.id))
    events.record_data(stream, "question.removed", {"question": _data(question, figures_only=True)})


def mark_answered(actor: User, question: Question) -> None:
    _move(actor, question, (QuestionStatus.PUBLISHED,), QuestionStatus.ANSWERED)
    question.answered_at = utcnow()
    db.session.flush()
    audit.log(actor, "question.answered", room=question.room, question_id=question.id)
    _record(question, "question.updated")


def reopen(actor: User, question: Question) -> None:
    _move(actor, question, (QuestionStatus.ANSWERED,), QuestionStatus.PUBLISHED)
    question.answered_at = None
    db.session.flush()
    audit.log(actor, "question.reopened", room=question.room, question_id=question.id)
    _record(question, "question.updated")


def set_premoderation(actor: User, room: Room, value: bool) -> bool:
    """Whether participants' questions wait for approval; returns whether it changed. Questions
    already asked keep their state."""
    _require_moderator(actor, room)
    if room.questions_premoderated == value:
        return False
    room.questions_premoderated = value
    db.session.flush()
    audit.log(actor, "room.questions_premoderation", room=room, premoderated=value)
    events.record_data(events.room_stream(room), "question.settings", {"premoderated": value})
    return True


# --- Live events --------------------------------------------------------------------

def _data(question: Question, figures_only: bool = False) -> dict:
    """What a live message says of a question, for every reader of its stream, in no language:
    its figures (`id`, `status`, `votes`: all a vote's or a removal's message carries), then
    when it was asked, its text (plain text: pages insert it as text, never as HTML) and,
    unless it is anonymous, its author (`author_id`, `author`: their display name). An
    anonymous question's message names no author at all, not even to the moderators (their
    page shows the author on reload)."""
    data = {"id": question.id, "status": question.status.value, "votes": question.vote_count}
    if figures_only:
        return data
    data["created_at"] = question.created_at.isoformat(timespec="microseconds")
    data["body"] = question.body
    if not question.anonymous:
        data["author_id"] = question.author_id
        # A closed account's: the page says "Former participant" in its reader's language.
        data["author"] = ({"name": "", "former": True} if question.author.closed_at is not None
                          else {"name": question.author.display_name})
    return data


def _carries_text_of(data: dict | None, question_id: int) -> bool:
    question = (data or {}).get("question") or {}
    return question.get("id") == question_id and "body" in question


def _record(question: Question, kind: str, figures_only: bool = False) -> None:
    stream = (events.room_stream(question.room_id) if question.is_visible_to_all
              else events.moderators_stream(question.room_id))
    events.record_data(stream, kind, {"question": _data(question, figures_only)})


# --- Reading ------------------------------------------------------------------------

@dataclass
class QuestionList:
    order: str
    open: list[Question] = field(default_factory=list)       # published, in the chosen order
    answered: list[Question] = field(default_factory=list)   # latest answered first
    pending: list[Question] = field(default_factory=list)    # moderators: all; others: their own
    voted_ids: set[int] = field(default_factory=set)         # the viewer's votes among them
    moderates: bool = False


def list_questions(viewer, room: Room, order: str = "votes") -> QuestionList:
    """The plenary's questions as `viewer` may see them, in two queries (the questions with
    their authors, the viewer's votes)."""
    if order not in ORDERS:
        raise ValidationError(_l("Sort the questions by votes or by time."), field="order")
    moderates = permissions.can_moderate_room(viewer, room)
    signed_in = viewer is not None and viewer.is_authenticated
    shown = VISIBLE_TO_ALL
    query = select(Question).options(joinedload(Question.author)).where(Question.room_id == room.id)
    if moderates:
        query = query.where(Question.status != QuestionStatus.DISMISSED)
    elif signed_in:
        query = query.where((Question.status.in_(shown)) | (
            (Question.status == QuestionStatus.PENDING) & (Question.author_id == viewer.id)))
    else:
        query = query.where(Question.status.in_(shown))
    by_votes = order == "votes"
    query = query.order_by(*((Question.vote_count.desc(),) if by_votes else ()),
                           Question.created_at.desc(), Question.id.desc())
    listing = QuestionList(order=order, moderates=moderates)
    for question in db.session.scalars(query):
        {QuestionStatus.PUBLISHED: listing.open, QuestionStatus.ANSWERED: listing.answered,
         QuestionStatus.PENDING: listing.pending}[question.status].append(question)
    listing.pending.reverse()  # oldest first: the order they came in
    listing.answered.sort(key=lambda q: q.answered_at, reverse=True)  # the latest answered first
    listing.voted_ids = voted_by(viewer, [q.id for q in listing.open + listing.answered])
    return listing


def voted_by(viewer, question_ids: list[int]) -> set[int]:
    """Which of these questions the viewer has upvoted."""
    if not (viewer is not None and viewer.is_authenticated) or not question_ids:
        return set()
    return set(db.session.scalars(select(QuestionVote.question_id).where(
        QuestionVote.user_id == viewer.id, QuestionVote.question_id.in_(question_ids))))
