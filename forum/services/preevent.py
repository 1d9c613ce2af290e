"""Pre-event input (docs/pre-event.md): the organisers' questions, the participants' answers
(one per person and question, editable until the event starts), endorsements (one per person
and answer, never one's own), each room's board, and the digest its moderators read once the
room opens, from which they pin an answer into the room as a pinned moderator message.

Answers are plain text (no Markdown): a pinned answer is quoted in the room's Markdown with
its punctuation escaped, so it reads exactly as it was typed.

Every change a board's readers see (an answer given or changed, an endorsement given or
withdrawn, an answer pinned, a question removed) is recorded on the board's stream,
"preevent:<room id>" (events.preevent_stream), in the write's transaction and broadcast after
it commits. Its message carries ids and the count only, never the text: each open board
fetches the answer as its reader may see it (forum/web/preevent.py), and an answer changed or
removed since leaves no copy of its words in any stored message."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from forum import permissions
from forum.extensions import db
from forum.models import Event, Room, User
from forum.models.base import utcnow
from forum.models.preevent import PreEventAnswer, PreEventEndorsement, PreEventKind, PreEventQuestion
from forum.services import events, moderation
from forum.services import posts as post_service
from forum.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from forum.services.text import clean_text

LABEL_MAX = 300
ANSWER_MAX = 2000
QUESTIONS_MAX = 30  # per event: a short questionnaire, not a survey


# --- Questions (organisers) ----------------------------------------------------------------

def _require_manager(actor: User, event: Event) -> None:
    if not permissions.can_manage_preevent(actor, event):
        raise PermissionDenied(_l("Only the event's organisers set its pre-event questions."))


def add_question(actor: User, event: Event, *, kind: str, label: str, room: Room | None = None) -> PreEventQuestion:
    _require_manager(actor, event)
    try:
        kind = PreEventKind(kind)
    except ValueError:
        raise ValidationError(_l("Choose the kind of question."), field="kind") from None
    label = clean_text(label, field="label", max_length=LABEL_MAX, required=True)
    if room is not None and (room.event_id != event.id or room.is_plenary):
        raise ValidationError(_l("Choose one of this event's breakout rooms, or the whole event."), field="room_id")
    count = db.session.scalar(select(func.count(PreEventQuestion.id)).where(PreEventQuestion.event_id == event.id))
    if count >= QUESTIONS_MAX:
        raise ValidationError(_l("An event has at most %(num)d pre-event questions.", num=QUESTIONS_MAX),
                              field="label")
    question = PreEventQuestion(event=event, room=room, kind=kind, label=label, position=count + 1)
    db.session.add(question)
    db.session.flush()
    return question


def remove_question(actor: User, question: PreEventQuestion) -> None:
    _require_manager(actor, question.event)
    room = permissions.preevent_board_room(question)
    question_id = question.id
    db.session.delete(question)
    db.session.flush()
    events.record_data(events.preevent_stream(room), "preevent.removed", {"question_id": question_id})


def _record(kind: str, answer: PreEventAnswer, **more) -> None:
    """Tell the open boards (and the moderators' consoles) of the answer's board, once this
    transaction commits: which answer, and its count as it is now."""
    events.record_data(events.preevent_stream(permissions.preevent_board_room(answer.question)), kind, {
        "answer_id": answer.id, "question_id": answer.question_id,
        "endorsement_count": answer.endorsement_count, **more})


def question_of(event: Event, question_id: int) -> PreEventQuestion:
    if not permissions.valid_id(question_id):
        raise NotFound()
    question = db.session.get(PreEventQuestion, question_id)
    if question is None or question.event_id != event.id:
        raise NotFound()
    return question


def answer_of(viewer, event: Event, answer_id: int) -> PreEventAnswer:
    """An answer of this event whose board the viewer may read ("not found" otherwise)."""
    if not permissions.valid_id(answer_id):
        raise NotFound()
    answer = db.session.get(PreEventAnswer, answer_id)
    if answer is None or answer.question.event_id != event.id:
        raise NotFound()
    if not permissions.can_view_preevent_board(viewer, permissions.preevent_board_room(answer.question)):
        raise NotFound()
    return answer


def questions(event: Event) -> list[PreEventQuestion]:
    return list(db.session.scalars(select(PreEventQuestion).options(joinedload(PreEventQuestion.room))
                                   .where(PreEventQuestion.event_id == event.id)
                                   .order_by(PreEventQuestion.room_id.is_not(None), PreEventQuestion.room_id,
                                             PreEventQuestion.position, PreEventQuestion.id)))


def _board_filter(room: Room):
    if room.is_plenary:
        return (PreEventQuestion.event_id == room.event_id, PreEventQuestion.room_id.is_(None))
    return (PreEventQuestion.room_id == room.id,)


def board_questions(room: Room) -> list[PreEventQuestion]:
    return list(db.session.scalars(select(PreEventQuestion).where(*_board_filter(room))
                                   .order_by(PreEventQuestion.position, PreEventQuestion.id)))


# --- Answers and endorsements (participants) ----------------------------------------------

def _refuse_answer(question: PreEventQuestion) -> None:
    if not permissions.preevent_window_open(question.event):
        raise PermissionDenied(_l("Pre-event input closes when the event starts."))
    raise PermissionDenied(_l("Only participants registered for this room answer its pre-event questions."))


def answerable(user, event: Event) -> list[tuple[PreEventQuestion, PreEventAnswer | None]]:
    """The questions `user` may answer now, each with their answer so far."""
    mine = {a.question_id: a for a in db.session.scalars(
        select(PreEventAnswer).join(PreEventQuestion).where(
            PreEventQuestion.event_id == event.id, PreEventAnswer.author_id == getattr(user, "id", None)))}
    return [(q, mine.get(q.id)) for q in questions(event) if permissions.can_answer_preevent(user, q)]


def answer(actor: User, question: PreEventQuestion, body: str) -> PreEventAnswer:
    """Store or replace the actor's answer (one per person and question)."""
    if not permissions.can_answer_preevent(actor, question):
        _refuse_answer(question)
    body = clean_text(body, field="body", max_length=ANSWER_MAX, required=True, multiline=True)
    existing = db.session.scalar(select(PreEventAnswer).where(
        PreEventAnswer.question_id == question.id, PreEventAnswer.author_id == actor.id))
    if existing is not None:
        existing.body, existing.updated_at = body, utcnow()
        db.session.flush()
        _record("preevent.answered", existing)
        return existing
    created = PreEventAnswer(question=question, author=actor, body=body)
    db.session.add(created)
    db.session.flush()
    _record("preevent.answered", created)
    return created


def endorse(actor: User, answer: PreEventAnswer) -> None:
    if not permissions.can_endorse_preevent(actor, answer):
        if getattr(actor, "id", None) == answer.author_id:
            raise PermissionDenied(_l("You cannot endorse your own input."))
        _refuse_answer(answer.question)
    if _endorsement(actor, answer) is not None:
        raise Conflict(_l("You have endorsed this already."))
    db.session.add(PreEventEndorsement(answer_id=answer.id, user_id=actor.id))
    db.session.flush()
    db.session.execute(update(PreEventAnswer).where(PreEventAnswer.id == answer.id)
                       .values(endorsement_count=PreEventAnswer.endorsement_count + 1))
    db.session.refresh(answer, ["endorsement_count"])
    _record("preevent.endorsed", answer)


def withdraw_endorsement(actor: User, answer: PreEventAnswer) -> None:
    if not permissions.can_endorse_preevent(actor, answer):
        _refuse_answer(answer.question)
    found = _endorsement(actor, answer)
    if found is None:
        raise Conflict(_l("You have not endorsed this."))
    db.session.delete(found)
    db.session.flush()
    db.session.execute(update(PreEventAnswer).where(PreEventAnswer.id == answer.id)
                       .values(endorsement_count=PreEventAnswer.endorsement_count - 1))
    db.session.refresh(answer, ["endorsement_count"])
    _record("preevent.endorsed", answer)


def has_endorsed(viewer, answer: PreEventAnswer) -> bool:
    return getattr(viewer, "is_authenticated", False) and _endorsement(viewer, answer) is not None


def _endorsement(actor: User, answer: PreEventAnswer) -> PreEventEndorsement | None:
    return db.session.scalar(select(PreEventEndorsement).where(
        PreEventEndorsement.answer_id == answer.id, PreEventEndorsement.user_id == actor.id))


# --- The board -----------------------------------------------------------------------------

@dataclass
class BoardQuestion:
    question: PreEventQuestion
    answers: list[PreEventAnswer] = field(default_factory=list)


@dataclass
class Board:
    room: Room
    questions: list[BoardQuestion]
    endorsed_ids: set[int]


def _answers(room: Room) -> list[PreEventAnswer]:
    """The board's answers, most endorsed first (then oldest), authors loaded."""
    return list(db.session.scalars(
        select(PreEventAnswer).join(PreEventQuestion).options(joinedload(PreEventAnswer.author))
        .where(*_board_filter(room))
        .order_by(PreEventAnswer.endorsement_count.desc(), PreEventAnswer.created_at, PreEventAnswer.id)))


def board(viewer, room: Room) -> Board:
    if not permissions.can_view_preevent_board(viewer, room):
        raise NotFound()
    items = {q.id: BoardQuestion(q) for q in board_questions(room)}
    answers = _answers(room)
    for a in answers:
        items[a.question_id].answers.append(a)
    endorsed: set[int] = set()
    if answers and getattr(viewer, "is_authenticated", False):
        endorsed = set(db.session.scalars(select(PreEventEndorsement.answer_id).where(
            PreEventEndorsement.user_id == viewer.id,
            PreEventEndorsement.answer_id.in_([a.id for a in answers]))))
    return Board(room, list(items.values()), endorsed)


# --- The moderators' digest and pinning -----------------------------------------------------

@dataclass
class DigestGroup:
    organisation_type: str  # a code: shown through label("organisation_type", ...)
    answers: list[PreEventAnswer]
    endorsements: int


def digest(actor: User, room: Room) -> list[DigestGroup]:
    """The room's input by stakeholder group (organisation type), the group with the most
    endorsements first, each group's answers most endorsed first."""
    if not permissions.can_view_preevent_digest(actor, room):
        raise PermissionDenied(_l("The pre-event input is shown to the room's moderators once it opens."))
    groups: dict[str, list[PreEventAnswer]] = {}
    for a in _answers(room):
        groups.setdefault(a.author.organisation_type, []).append(a)
    out = [DigestGroup(kind, items, sum(a.endorsement_count for a in items)) for kind, items in groups.items()]
    out.sort(key=lambda g: (-g.endorsements, -len(g.answers), g.organisation_type))
    return out


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~@])")


def _escaped(text: str) -> str:
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def quote_body(answer: PreEventAnswer) -> str:
    """The room message a pinned answer becomes: the answer quoted as typed, then who wrote it
    and to which question (in the pinning moderator's language, as any message they write)."""
    author = answer.author
    who = author.display_name + (f", {author.organisation}" if author.organisation else "")
    quoted = "\n".join("> " + _escaped(line) if line else ">" for line in answer.body.split("\n"))
    credit = _("— %(who)s (%(group)s), pre-event input to “%(question)s”",
               who=who, group=author.organisation_type_label, question=answer.question.label)
    return f"{quoted}\n\n{_escaped(credit)}"


def pin(actor: User, room: Room, answer: PreEventAnswer):
    """Post the answer into `room` (its board's room) as the actor's message and pin it."""
    if permissions.preevent_board_room(answer.question).id != room.id:
        raise NotFound()
    if not permissions.can_pin_preevent(actor, room):
        raise PermissionDenied(_l("Pre-event input is pinned by the room's moderators while the room is open."))
    if answer.pinned_post_id is not None:
        raise Conflict(_l("This input is pinned in the room already."))
    post = post_service.post_in_room(actor, room, body=quote_body(answer))
    moderation.pin_post(actor, post)
    answer.pinned_post_id = post.id
    db.session.flush()
    _record("preevent.pinned", answer, post_id=post.id)
    return post
