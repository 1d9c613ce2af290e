"""Feedback after an event (docs/feedback.md): the organisers' form, answering it once
(anonymously unless the person shows their name), and the results.

An anonymous answer is stored without any link to its author: "once" is kept by a
FeedbackSubmission row (event, person) that points at no answer (forum/models/feedback.py)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from forum import permissions
from forum.extensions import db
from forum.models import Event, Room, User
from forum.models.feedback import FeedbackAnswer, FeedbackForm, FeedbackSubmission
from forum.services.errors import Conflict, PermissionDenied, ValidationError
from forum.services.text import clean_text

RATINGS = (1, 2, 3, 4, 5)
RATING_LABELS = {
    1: _l("1 – Very poor"),
    2: _l("2 – Poor"),
    3: _l("3 – Fair"),
    4: _l("4 – Good"),
    5: _l("5 – Very good"),
}
MAX_QUESTIONS = 5
QUESTION_LENGTH = 300
COMMENT_LENGTH = 2000

# The default form's open questions, stored in the organiser's language when it is made.
DEFAULT_QUESTIONS = (
    _l("What worked well?"),
    _l("What should we change next time?"),
)


# --- The form -------------------------------------------------------------------------------

def stored_form(event: Event) -> FeedbackForm | None:
    return db.session.scalar(select(FeedbackForm).where(FeedbackForm.event_id == event.id))


def form_for(event: Event) -> FeedbackForm:
    """The event's form, or the default one (not stored: nothing is written by reading)."""
    form = stored_form(event)
    if form is None:
        form = FeedbackForm(event_id=event.id, rate_room=True, questions=[str(q) for q in DEFAULT_QUESTIONS])
    return form


def _stored(event: Event) -> FeedbackForm:
    form = stored_form(event)
    if form is None:
        form = form_for(event)
        db.session.add(form)
    return form


def save_form(actor: User, event: Event, *, questions: list[str], rate_room: bool) -> FeedbackForm:
    """The organisers' form: up to MAX_QUESTIONS open questions (blank lines left out) and
    whether to ask for a rating of the person's breakout room."""
    if not permissions.can_edit_feedback_form(actor, event):
        if permissions.is_event_organiser(actor, event):
            raise Conflict(_l("People have answered the feedback form: it can no longer be changed."))
        raise PermissionDenied()
    cleaned = []
    for raw in questions:
        if not isinstance(raw, str):
            raise ValidationError(_l("Write each question as text."), field="questions")
        text = clean_text(raw, field="questions", max_length=QUESTION_LENGTH)
        if text:
            cleaned.append(text)
    if len(cleaned) > MAX_QUESTIONS:
        raise ValidationError(_l("Ask at most %(num)d open questions.", num=MAX_QUESTIONS), field="questions")
    form = _stored(event)
    form.questions = cleaned
    form.rate_room = bool(rate_room)
    db.session.flush()
    return form


# --- Answering ------------------------------------------------------------------------------

def rated_room(actor: User, event: Event) -> Room | None:
    """The breakout room the person rates: their own (None: the plenary only)."""
    room = permissions.own_room(actor, event)
    return room if room is not None and not room.is_plenary else None


def _rating(value, field: str, *, required: bool) -> int | None:
    if value is None or value == "":
        if required:
            raise ValidationError(_l("Choose a rating from 1 to 5."), field=field)
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in RATINGS:
        raise ValidationError(_l("Choose a rating from 1 to 5."), field=field)
    return value


def answer(actor: User, event: Event, *, overall, room_rating=None, comments: list[str] | None = None,
           show_name: bool = False) -> FeedbackAnswer:
    """The person's answer, once. Anonymous unless `show_name`: then, and only then, the
    answer names its author."""
    if not permissions.can_answer_feedback(actor, event):
        if permissions.has_answered_feedback(actor, event):
            raise Conflict(_l("You have already answered this feedback form. Thank you!"))
        raise PermissionDenied(_l("Only the event's registered participants answer its feedback form, "
                                  "once the event is over."))
    form = _stored(event)
    overall = _rating(overall, "overall", required=True)
    room = rated_room(actor, event) if form.rate_room else None
    room_rating = _rating(room_rating, "room_rating", required=False) if room is not None else None
    comments = list(comments or [])
    if len(comments) > len(form.questions):
        raise ValidationError(_l("There are more answers than questions."), field="comments")
    texts = []
    for raw in comments:
        if not isinstance(raw, str):
            raise ValidationError(_l("Write each answer as text."), field="comments")
        texts.append(clean_text(raw, field="comments", max_length=COMMENT_LENGTH, multiline=True))
    texts += [""] * (len(form.questions) - len(texts))
    try:
        with db.session.begin_nested():
            db.session.add(FeedbackSubmission(event_id=event.id, user_id=actor.id))
    except IntegrityError:  # answered at the same moment in another tab
        raise Conflict(_l("You have already answered this feedback form. Thank you!")) from None
    row = FeedbackAnswer(event_id=event.id, overall=overall, room_id=room.id if room is not None else None,
                         room_rating=room_rating, comments=texts, author_id=actor.id if show_name else None)
    db.session.add(row)
    db.session.flush()
    return row


# --- Results --------------------------------------------------------------------------------

@dataclass
class Distribution:
    """How many answers gave each rating (1 to 5), their count and mean."""
    counts: dict[int, int]

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    @property
    def mean(self) -> float | None:
        return sum(r * n for r, n in self.counts.items()) / self.count if self.count else None

    def share(self, rating: int) -> float:
        return self.counts.get(rating, 0) / self.count if self.count else 0.0


@dataclass
class RoomResult:
    title: str
    ratings: Distribution


@dataclass
class Comment:
    text: str
    author: str | None  # only when its author chose to show their name


@dataclass
class QuestionResult:
    question: str
    comments: list[Comment] = field(default_factory=list)


@dataclass
class Results:
    answers: int
    overall: Distribution
    rooms: list[RoomResult]
    questions: list[QuestionResult]
    rate_room: bool

    @property
    def rating_labels(self) -> dict:
        return RATING_LABELS


def _distribution(counter) -> Distribution:
    return Distribution({rating: int(counter.get(rating, 0)) for rating in RATINGS})


def build_results(event: Event) -> Results:
    """The figures, counted in SQL; each question's comments in alphabetical order, which
    tells nothing of the order they came in (answers have random ids, for the same reason)."""
    form = form_for(event)
    overall = dict(db.session.execute(select(FeedbackAnswer.overall, func.count()).where(
        FeedbackAnswer.event_id == event.id).group_by(FeedbackAnswer.overall)).all())
    per_room: dict[int, Counter] = {}
    for room_id, rating, n in db.session.execute(
            select(FeedbackAnswer.room_id, FeedbackAnswer.room_rating, func.count())
            .where(FeedbackAnswer.event_id == event.id, FeedbackAnswer.room_rating.is_not(None))
            .group_by(FeedbackAnswer.room_id, FeedbackAnswer.room_rating)):
        per_room.setdefault(room_id, Counter())[rating] += n
    rooms = [RoomResult(room.title, _distribution(per_room.get(room.id, Counter())))
             for room in event.breakout_rooms]
    questions = [QuestionResult(q) for q in form.questions]
    authors: dict[int, str] = {}
    rows = db.session.execute(select(FeedbackAnswer.comments, FeedbackAnswer.author_id).where(
        FeedbackAnswer.event_id == event.id).order_by(FeedbackAnswer.id)).all()
    named = {author_id for _c, author_id in rows if author_id is not None}
    if named:
        authors = {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(named)))}
    for comments, author_id in rows:
        for i, text in enumerate(comments or []):
            if i < len(questions) and text:
                questions[i].comments.append(Comment(text, authors.get(author_id)))
    for question in questions:
        question.comments.sort(key=lambda c: (c.text.casefold(), c.text, c.author or ""))
    total = sum(overall.values())
    return Results(total, _distribution(overall), rooms, questions, form.rate_room)


def results(actor: User, event: Event) -> Results:
    if not permissions.can_see_feedback_results(actor, event):
        raise PermissionDenied()
    return build_results(event)
