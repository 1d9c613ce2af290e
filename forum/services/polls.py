"""Polls and surveys: set up by those who run a place (a consultation, optionally one of its
topics, or an event's room), answered by those who may post there, counted by
`forum.services.tally`. One ballot per voter; the voter's country and organisation type are
kept as they were when they voted, so breakdowns do not move when a profile changes.

Every change records its live events in its own transaction (`poll_events`): the place's
readers learn that a poll opened, closed or changed; those allowed to see the results, that
they changed. A vote counts nothing in its transaction: it asks for the results to be
published by a job after its commit (`poll_events.request_results`, debounced per poll)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from forum import permissions
from forum.extensions import db
from forum.models import Consultation, Room, Topic, User
from forum.models.base import utcnow
from forum.models.polls import Poll, PollKind, PollOption, PollStatus, PollVote, ResultsShown
from forum.services import audit, notifications, tally
from forum.services.errors import NotFound, PermissionDenied, ValidationError
from forum.services.poll_events import record_poll_change, record_poll_results, request_results
from forum.services.text import clean_text

MIN_OPTIONS = 2
MAX_OPTIONS = 20
MAX_POINTS = 100
SCALE_LIMITS = (-10, 10)  # a scale's ends lie within these
MAX_SCALE_STEPS = 10      # at most 11 values (0 to 10)
BREAKDOWNS = ("country", "organisation_type")


@dataclass
class OptionInput:
    label: str
    description: str = ""


@dataclass
class PollInput:
    """What an organiser sets. Settings that do not apply to the kind are ignored."""
    kind: str
    question: str
    description: str = ""
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    max_choices: int | None = None       # multiple
    scale_min: int = 1                   # score
    scale_max: int = 5
    scale_labels: dict[str, str] = field(default_factory=dict)
    points: int | None = None            # dots
    votes_changeable: bool = True
    anonymous: bool = False
    results_shown: str = ResultsShown.AFTER_VOTE.value
    topic_id: int | None = None          # a consultation's poll about one of its topics


def _options(options) -> list[OptionInput]:
    """OptionInput, (label, description) pairs or plain labels."""
    made = []
    for option in options:
        if isinstance(option, OptionInput):
            made.append(option)
        elif isinstance(option, str):
            made.append(OptionInput(option))
        else:
            made.append(OptionInput(*option))
    return made


def _fields(fields: PollInput | dict[str, Any]) -> PollInput:
    return fields if isinstance(fields, PollInput) else PollInput(**fields)


# --- Setting up ---------------------------------------------------------------------

# Refusals the pages also show before offering a form (a poll's edit and delete pages).
ONLY_DRAFTS_EDITED = _l("Only a draft poll can be edited: this one has been opened.")
ONLY_DRAFTS_DELETED = _l("Only a draft poll can be deleted: once opened, a poll stays for the record "
                         "(close it instead).")


def create_poll(actor: User, place: Consultation | Room, fields: PollInput | dict[str, Any],
                options, *, topic: Topic | None = None) -> Poll:
    """A draft poll in a consultation (optionally about one of its topics) or a room."""
    if not permissions.can_run_polls(actor, place):
        raise PermissionDenied()
    fields = _fields(fields)
    poll = Poll(created_by=actor, status=PollStatus.DRAFT)
    if isinstance(place, Room):
        poll.room = place
        poll.position = 0
    else:
        poll.consultation = place
    try:
        _apply(poll, fields, _options(options), topic)
    except ValidationError:
        _detach(poll)
        raise
    if poll.consultation is not None:
        poll.position = (db.session.scalar(select(func.max(Poll.position)).where(
            Poll.consultation_id == poll.consultation.id)) or 0) + 1
    db.session.add(poll)
    db.session.flush()
    return poll


def _detach(poll: Poll) -> None:
    """A refused poll must not be saved with the session (it joined it through its place)."""
    if poll in db.session:
        db.session.expunge(poll)
    for option in list(poll.options):
        if option in db.session:
            db.session.expunge(option)


def update_poll(actor: User, poll: Poll, fields: PollInput | dict[str, Any], options,
                *, topic: Topic | None = None) -> None:
    """Change a draft: its question, settings and options (nobody has voted yet)."""
    _require_manage(actor, poll)
    if poll.status is not PollStatus.DRAFT:
        raise ValidationError(ONLY_DRAFTS_EDITED)
    _apply(poll, _fields(fields), _options(options), topic)
    db.session.flush()
    # No live event: a draft is its organisers' alone, and the place's stream is everyone's.


def delete_poll(actor: User, poll: Poll) -> None:
    """Throw away a draft. An opened poll is never deleted (close it): its ballots, results and
    log lines stay for the record."""
    _require_manage(actor, poll)
    if poll.status is not PollStatus.DRAFT:
        raise ValidationError(ONLY_DRAFTS_DELETED)
    _log(actor, "poll.deleted", poll)
    db.session.delete(poll)
    db.session.flush()
    # No live event: nobody but its organisers ever saw the draft.


def _require_manage(actor: User, poll: Poll) -> None:
    if not permissions.can_manage_poll(actor, poll):
        raise PermissionDenied()


def _apply(poll: Poll, data: PollInput, options: list[OptionInput], topic: Topic | None) -> None:
    """Validate everything first, then write: a refused form changes nothing."""
    from forum.rendering import render_markdown

    try:
        kind = PollKind(data.kind)
    except ValueError:
        raise ValidationError(_l("Choose a kind of poll."), field="kind") from None
    question = clean_text(data.question, field="question", max_length=300, required=True)
    description = clean_text(data.description, field="description", max_length=4000, multiline=True)
    try:
        results_shown = ResultsShown(data.results_shown)
    except ValueError:
        raise ValidationError(_l("Choose when the results are shown."), field="results_shown") from None
    if topic is None and data.topic_id:
        topic = _topic_of(poll, data.topic_id)
    if topic is not None and (poll.consultation is None or topic.consultation_id != poll.consultation.id):
        raise ValidationError(_l("Choose one of this consultation's topics."), field="topic_id")
    cleaned = _clean_options(options)
    max_choices, scale, labels, points = None, (1, 5), {}, None
    if kind is PollKind.MULTIPLE and data.max_choices is not None:
        if not 1 <= data.max_choices <= len(cleaned):
            raise ValidationError(_l("The most options one may choose is a number from 1 to %(max)d (the number "
                                     "of options).", max=len(cleaned)), field="max_choices")
        max_choices = data.max_choices
    if kind is PollKind.SCORE:
        scale, labels = _scale(data)
    if kind is PollKind.DOTS:
        if data.points is None or not 1 <= data.points <= MAX_POINTS:
            raise ValidationError(_l("Give each voter from 1 to %(max)d points to spread.", max=MAX_POINTS),
                                  field="points")
        points = data.points
    _check_times(data.opens_at, data.closes_at)

    poll.kind, poll.question, poll.description = kind, question, description
    poll.description_html = render_markdown(description) if description else ""
    poll.results_shown = results_shown
    poll.topic = topic
    poll.max_choices, (poll.scale_min, poll.scale_max), poll.scale_labels, poll.points = \
        max_choices, scale, labels, points
    poll.opens_at, poll.closes_at = data.opens_at, data.closes_at
    poll.votes_changeable, poll.anonymous = bool(data.votes_changeable), bool(data.anonymous)
    # Rows are kept by position (the pair is unique): the first ones are rewritten in place.
    for position, (label, description_text) in enumerate(cleaned, start=1):
        if position <= len(poll.options):
            option = poll.options[position - 1]
            option.label, option.description = label, description_text
        else:
            poll.options.append(PollOption(position=position, label=label, description=description_text))
    del poll.options[len(cleaned):]


def _topic_of(poll: Poll, topic_id: int) -> Topic:
    topic = db.session.get(Topic, topic_id) if permissions.valid_id(topic_id) else None
    if topic is None or poll.consultation is None or topic.consultation_id != poll.consultation.id:
        raise ValidationError(_l("Choose one of this consultation's topics."), field="topic_id")
    return topic


def _clean_options(options: list[OptionInput]) -> list[tuple[str, str]]:
    cleaned = []
    for option in options:
        label = clean_text(option.label, field="options", max_length=200)
        description = clean_text(option.description, field="options", max_length=500)
        if not label and description:
            raise ValidationError(_l("Every option needs a label before its description."), field="options")
        if label:
            cleaned.append((label, description))
    if not MIN_OPTIONS <= len(cleaned) <= MAX_OPTIONS:
        raise ValidationError(_l("Give from %(min)d to %(max)d options.", min=MIN_OPTIONS, max=MAX_OPTIONS),
                              field="options")
    seen = set()
    for label, _ in cleaned:
        if label.casefold() in seen:
            raise ValidationError(_l("Two options have the same label: “%(label)s”.", label=label),
                                  field="options")
        seen.add(label.casefold())
    return cleaned


def _scale(data: PollInput) -> tuple[tuple[int, int], dict[str, str]]:
    low, high = data.scale_min, data.scale_max
    if low is None or high is None or not SCALE_LIMITS[0] <= low < high <= SCALE_LIMITS[1] \
            or high - low > MAX_SCALE_STEPS:
        raise ValidationError(_l("A scale goes from a lower to a higher whole number, at most %(steps)d steps "
                                 "apart, between %(low)d and %(high)d (for example 1 to 5).",
                                 steps=MAX_SCALE_STEPS, low=SCALE_LIMITS[0], high=SCALE_LIMITS[1]),
                              field="scale_max")
    labels = {}
    for key, text in (data.scale_labels or {}).items():
        text = clean_text(text, field="scale_labels", max_length=60)
        if not text:
            continue
        try:
            value = int(key)
        except (TypeError, ValueError):
            value = None
        if value is None or not low <= value <= high:
            raise ValidationError(_l("Words can only be given to values of the scale (%(low)d to %(high)d).",
                                     low=low, high=high), field="scale_labels")
        labels[str(value)] = text
    return (low, high), labels


def _check_times(opens_at: datetime | None, closes_at: datetime | None) -> None:
    now = utcnow()
    for name, value in (("opens_at", opens_at), ("closes_at", closes_at)):
        if value is None:
            continue
        if not 1900 <= value.year <= 9000:
            raise ValidationError(_l("Choose a date between the years 1900 and 9000."), field=name)
        if value <= now:
            raise ValidationError(_l("Choose a time in the future."), field=name)
    if opens_at and closes_at and closes_at <= opens_at:
        raise ValidationError(_l("The closing time must be after the opening time."), field="closes_at")


# --- Running ------------------------------------------------------------------------

def open_poll(actor: User, poll: Poll) -> None:
    """A draft starts taking votes (from opens_at, if that is later)."""
    _require_manage(actor, poll)
    if poll.status is not PollStatus.DRAFT:
        raise ValidationError(_l("This poll has already been opened."))
    if poll.closes_at is not None and poll.closes_at <= utcnow():
        raise ValidationError(_l("The closing time has passed: edit the poll to move it to the future first."))
    poll.status = PollStatus.OPEN
    _log(actor, "poll.opened", poll)
    db.session.flush()
    record_poll_change(poll, "poll.opened")
    notifications.poll_opened(actor, poll)


def close_poll(actor: User, poll: Poll) -> None:
    """An open poll stops taking votes; results shown "after close" show now."""
    _require_manage(actor, poll)
    _lock(poll, exclusive=True)  # waits for the votes in flight; none is stored after this commits
    if poll.status is not PollStatus.OPEN:
        raise ValidationError(_l("Only an open poll can be closed."))
    now = utcnow()
    poll.status = PollStatus.CLOSED
    # Closed by its time already: that is when it closed.
    poll.closed_at = poll.closes_at if poll.closes_at is not None and poll.closes_at <= now else now
    _log(actor, "poll.closed", poll)
    db.session.flush()
    record_poll_change(poll, "poll.closed")
    record_poll_results(poll)


def publish_breakdown(actor: User, poll: Poll) -> None:
    """Everyone who may see the results sees them by country and organisation type too."""
    _require_manage(actor, poll)
    if poll.status is PollStatus.DRAFT:
        raise ValidationError(_l("Open the poll before publishing its breakdown."))
    if poll.breakdown_published:
        raise ValidationError(_l("The breakdown is already published."))
    poll.breakdown_published = True
    _log(actor, "poll.breakdown_published", poll)
    db.session.flush()
    record_poll_change(poll, "poll.updated")
    record_poll_results(poll)


def _log(actor: User, action: str, poll: Poll) -> None:
    if poll.room is not None:
        audit.log(actor, action, room=poll.room, poll_id=poll.id, question=poll.question)
    else:
        audit.log(actor, action, consultation=poll.consultation, poll_id=poll.id, question=poll.question)


# --- Voting -------------------------------------------------------------------------

def own_vote(user, poll: Poll) -> PollVote | None:
    if user is None or not user.is_authenticated:
        return None
    return db.session.scalar(select(PollVote).where(PollVote.poll_id == poll.id, PollVote.user_id == user.id))


def cast_vote(actor: User, poll: Poll, raw_choice: Any) -> PollVote:
    """Store the actor's ballot, or change it (where the poll lets voters change their mind).
    `raw_choice` has the shape of PollVote.choice; the tally checks and normalises it. The same
    ballot sent again (a retry) is taken as it stands, even where votes cannot change.
    The results are published after commit, by a job (poll_events.request_results)."""
    _lock(poll, exclusive=False)  # a close waits for this vote, or this vote sees the close
    if not permissions.can_vote(actor, poll):
        raise PermissionDenied(_refusal(actor, poll))
    choice = tally.check_ballot(tally.spec_of(poll), raw_choice)
    vote = own_vote(actor, poll)
    if vote is None:
        vote = PollVote(poll_id=poll.id, user_id=actor.id)
        try:
            with db.session.begin_nested():
                _fill(vote, actor, choice)
                db.session.add(vote)
                db.session.flush()
        except IntegrityError:
            # The same person's other ballot (another tab, a retry) arrived first.
            vote = own_vote(actor, poll)
            if vote is None:
                raise PermissionDenied(
                    _l("You have already voted, and votes in this poll cannot be changed.")) from None
            return _change(actor, poll, vote, choice)
    else:
        return _change(actor, poll, vote, choice)
    db.session.flush()
    request_results(poll)
    return vote


def _change(actor: User, poll: Poll, vote: PollVote, choice: Any) -> PollVote:
    if vote.choice == choice:
        return vote  # the same ballot again: nothing changes, nothing to count
    if not poll.votes_changeable:
        raise PermissionDenied(_l("You have already voted, and votes in this poll cannot be changed."))
    _fill(vote, actor, choice)
    vote.updated_at = utcnow()
    db.session.flush()
    request_results(poll)
    return vote


def _lock(poll: Poll, *, exclusive: bool) -> None:
    """Read the poll anew with its row locked until commit (PostgreSQL; SQLite writes one
    transaction at a time, and a transaction that read before another's commit cannot write
    after it): a vote takes it shared (votes do not wait for each other), a close exclusive,
    so a vote either commits before the close takes the lock or finds the poll closed."""
    locked = db.session.scalar(select(Poll).where(Poll.id == poll.id).with_for_update(read=not exclusive)
                               .execution_options(populate_existing=True))
    if locked is None:
        raise NotFound()  # deleted meanwhile (a draft)


def _fill(vote: PollVote, actor: User, choice: Any) -> None:
    vote.choice = choice
    vote.country = actor.country or ""
    vote.organisation_type = actor.organisation_type or ""


def _refusal(actor, poll: Poll):
    now = utcnow()
    if poll.status is PollStatus.DRAFT:
        return _l("This poll is not open yet.")
    if poll.phase(now) is PollStatus.CLOSED:
        return _l("This poll is closed.")
    if not poll.takes_votes(now):
        return _l("This poll opens later.")
    return _l("Only those who may take part here can vote in this poll.")


# --- Counting -----------------------------------------------------------------------

def ballots(poll: Poll) -> list[tally.Ballot]:
    rows = db.session.execute(select(PollVote.choice, PollVote.country, PollVote.organisation_type)
                              .where(PollVote.poll_id == poll.id).order_by(PollVote.id))
    return [tally.Ballot(row.choice, row.country or "", row.organisation_type or "") for row in rows]


def poll_results(poll: Poll, counted: list[tally.Ballot] | None = None) -> dict:
    """The poll's results as the tally sums them (the shapes are in tally's docstring)."""
    return tally.results(tally.spec_of(poll), ballots(poll) if counted is None else counted)


def poll_breakdowns(poll: Poll, counted: list[tally.Ballot] | None = None) -> dict[str, dict]:
    """{"country": breakdown, "organisation_type": breakdown}, small groups suppressed."""
    counted = ballots(poll) if counted is None else counted
    spec = tally.spec_of(poll)
    return {by: tally.breakdown(spec, counted, by) for by in BREAKDOWNS}


# --- Reading a vote form --------------------------------------------------------------

# The vote form's fields (templates/polls/_vote_form.html): "choice" for single and multiple
# choice; one field per option for the others, named by this prefix and the option's id.
FIELD_PREFIX = {PollKind.SCORE: "score", PollKind.RANKED: "rank", PollKind.DOTS: "points"}


def ballot_from_form(poll: Poll, form) -> tuple[Any, dict]:
    """A vote form's fields (a form POST, or the same fields over the socket) as the raw
    ballot tally.check_ballot reads, and the values as sent, to show them again after a
    refusal. Shape only: cast_vote checks the ballot."""
    if poll.kind in (PollKind.SINGLE, PollKind.MULTIPLE):
        values = [value for value in form.getlist("choice") if value != ""]
        return values, {"choice": set(values)}
    prefix = FIELD_PREFIX[poll.kind]
    chosen = {f"{prefix}-{option.id}": form.get(f"{prefix}-{option.id}", "").strip() for option in poll.options}
    return {str(option.id): chosen[f"{prefix}-{option.id}"] for option in poll.options}, chosen


# --- Listing ------------------------------------------------------------------------

def polls_of(user, place: Consultation | Room) -> list[Poll]:
    """The place's polls this reader may see: a consultation's in their order, a room's
    newest first; drafts for those who run them only."""
    if isinstance(place, Room):
        query = select(Poll).where(Poll.room_id == place.id).order_by(Poll.created_at.desc(), Poll.id.desc())
    else:
        query = select(Poll).where(Poll.consultation_id == place.id).order_by(Poll.position, Poll.id)
    if not permissions.can_run_polls(user, place):
        query = query.where(Poll.status != PollStatus.DRAFT)
    found = list(db.session.scalars(query))
    permissions.remember_votes(user, found)
    return found
