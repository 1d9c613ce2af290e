"""Who may do what. The one place that decides; templates may ask, services enforce.

Roles (docs/roles.md has the full table):
- platform admin: manages accounts and organisers; may do what any organiser may.
- organiser: owns a consultation or an event; everything in it, moderation included.
- co-moderator: steers the breakout rooms (or consultation topics) they are appointed to;
  a consultation's hosts linked to an account moderate all of it. Equal powers per scope.
- participant: reads and posts where admitted (in an event: the plenary and their room).
- observer: registered for an event to read it (every room), never to post.
- anonymous: reads public consultations and events' public pages.
`access_*` functions load and authorise in one step and answer "not found" both for what
does not exist and for what the user may not know exists (a draft, a hidden post), so that
ids cannot be probed. What the user may know exists but not open says so: a visitor is asked
to log in (a members-only consultation, an event's rooms), and someone signed in who opens
the wrong room of an event is told which one is theirs (`room_refusal`).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import g, has_app_context
from flask_login import AnonymousUserMixin
from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from forum.extensions import db
from forum.models import (
    Consultation,
    Event,
    EventMember,
    Host,
    Moderator,
    Mute,
    OpinionBoard,
    Post,
    PostStatus,
    ReportFile,
    Room,
    SearchDocument,
    Statement,
    Topic,
    User,
)
from forum.models.base import utcnow
from forum.models.consultations import ConsultationStatus, Visibility
from forum.models.events import EventStatus, MemberRole, RoomPhase
from forum.models.reports import PERSONAL_DATA_KIND
from forum.services.errors import LoginRequired, NotFound, RoomRefused

Actor = User | AnonymousUserMixin | None


def _remembered(key: tuple, compute):
    """Answers that need a query (a membership, a mute, topic moderators) are asked for every
    message of a page: remember them for the request, until the next write."""
    if not has_app_context():
        return compute()
    cache = g.setdefault("permission_answers", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _forget_answers(*args) -> None:
    if has_app_context():
        g.pop("permission_answers", None)


# Anything added, written or undone may change an answer: forget them all.
for _moment in ("transient_to_pending", "after_flush", "after_soft_rollback"):
    sa_event.listen(Session, _moment, _forget_answers)


def _signed_in(user: Actor) -> bool:
    return user is not None and bool(user.is_authenticated)


def _is_admin(user: Actor) -> bool:
    return _signed_in(user) and user.is_admin


def is_organiser_of(user: Actor, consultation: Consultation) -> bool:
    if not _signed_in(user):
        return False
    if user.is_admin:
        return True
    return consultation.owner_id == user.id


def is_host_of(user: Actor, consultation: Consultation) -> bool:
    return _signed_in(user) and consultation.is_host(user)


# --- Platform -----------------------------------------------------------------------

def can_manage_users(user: Actor) -> bool:
    return _is_admin(user)


# --- One's own account ------------------------------------------------------------

def can_manage_api_tokens(user: Actor, owner: User) -> bool:
    """Create, list and revoke API tokens: only for one's own open account (an admin closing
    an account ends its tokens through forum/services/account_closure.py, not this)."""
    if not _signed_in(user):
        return False
    if user.id != owner.id:
        return False
    return owner.closed_at is None
def can_close_account(user: Actor, account: User) -> bool:
    """Closing an account (forum/services/account_closure.py): its owner, or a platform admin
    on the person's request; once only (a closed account is closed for good)."""
    if not _signed_in(user) or account is None:
        return False
    if account.closed_at is not None:
        return False
    return user.id == account.id or _is_admin(user)


def can_create_consultation(user: Actor) -> bool:
    if not _signed_in(user):
        return False
    return user.is_organiser or user.is_admin


# --- Consultations ------------------------------------------------------------------

def can_view_consultation(user: Actor, consultation: Consultation) -> bool:
    if consultation.status is ConsultationStatus.DRAFT:
        return is_organiser_of(user, consultation) or is_host_of(user, consultation)
    if consultation.visibility is Visibility.MEMBERS:
        return _signed_in(user)
    return True


def can_edit_consultation(user: Actor, consultation: Consultation) -> bool:
    return is_organiser_of(user, consultation)


def can_post(user: Actor, consultation: Consultation) -> bool:
    if not _signed_in(user):
        return False
    if not can_view_consultation(user, consultation):
        return False
    return consultation.accepts_posts(utcnow())


# --- Consultation moderation ----------------------------------------------------------

def is_consultation_moderator(user: Actor, consultation: Consultation, topic: Topic | None = None) -> bool:
    """Organisers and linked hosts moderate all of a consultation; topic co-moderators their
    topic (with `topic=None`: any topic of it, e.g. to read the moderation log)."""
    if is_organiser_of(user, consultation) or is_host_of(user, consultation):
        return True
    if not _signed_in(user):
        return False
    topics = _remembered(("topics moderated", user.id, consultation.id), lambda: set(db.session.scalars(
        select(Moderator.topic_id).join(Topic, Topic.id == Moderator.topic_id).where(
            Moderator.user_id == user.id, Topic.consultation_id == consultation.id))))
    return bool(topics) if topic is None else topic.id in topics


# --- Events -------------------------------------------------------------------------

def is_event_organiser(user: Actor, event: Event) -> bool:
    if not _signed_in(user):
        return False
    return user.is_admin or event.owner_id == user.id


def membership(user: Actor, event: Event) -> EventMember | None:
    if not _signed_in(user):
        return None
    return _remembered(("membership", user.id, event.id), lambda: db.session.scalar(select(EventMember).where(
        EventMember.event_id == event.id, EventMember.user_id == user.id)))


def remember_memberships(user: Actor, events) -> None:
    """Ask once for the user's memberships of these events (a page of notices asks each)."""
    ids = [event.id for event in events]
    if not _signed_in(user) or not ids or not has_app_context():
        return
    found = {member.event_id: member for member in db.session.scalars(select(EventMember).where(
        EventMember.user_id == user.id, EventMember.event_id.in_(ids)))}
    cache = g.setdefault("permission_answers", {})
    for event_id in ids:
        cache[("membership", user.id, event_id)] = found.get(event_id)


def is_event_moderator(user: Actor, event: Event) -> bool:
    """A co-moderator of any of the event's rooms."""
    return _signed_in(user) and any(room.is_moderator(user) for room in event.rooms)


def can_create_event(user: Actor) -> bool:
    return can_create_consultation(user)


def can_view_event(user: Actor, event: Event) -> bool:
    """The event's page: its description, agenda and rooms (not their discussions)."""
    if event.status is EventStatus.DRAFT:
        return is_event_organiser(user, event) or is_event_moderator(user, event)
    return True


def can_edit_event(user: Actor, event: Event) -> bool:
    return is_event_organiser(user, event)


def can_run_control_room(user: Actor, event: Event) -> bool:
    """The event's control room (every room's figures, live) and its stream: its organisers."""
    return is_event_organiser(user, event)


def can_register(user: Actor, event: Event) -> bool:
    if not _signed_in(user):
        return False
    if event.status is not EventStatus.PUBLISHED:
        return False
    return membership(user, event) is None


def can_accept_invitation(user: Actor, event: Event) -> bool:
    """The invitation link admits before publication too, never after the end."""
    if not _signed_in(user):
        return False
    if event.status is EventStatus.ENDED:
        return False
    return membership(user, event) is None


def room_takes_newcomers(room: Room) -> bool:
    """Whether people may be placed in (or choose) a breakout room now: before it starts or
    while it is open. A room wrapping up is about to close, and a closed one takes no posts:
    a newcomer placed there could not take part, so they wait in the plenary instead."""
    return room.phase in (RoomPhase.NOT_STARTED, RoomPhase.OPEN)


def can_choose_room(user: Actor, room: Room) -> bool:
    return may_choose_rooms(user, room) and room_takes_newcomers(room)


def may_choose_rooms(user: Actor, room: Room) -> bool:
    """Whether the person picks their own breakout room in `room`'s event (whatever that
    room's phase): a participant of a published self-select event."""
    from forum.models.events import AssignmentMode

    event = room.event
    if room.is_plenary or event.assignment_mode is not AssignmentMode.SELF_SELECT:
        return False
    if event.status is not EventStatus.PUBLISHED:
        return False
    member = membership(user, event)
    return member is not None and member.role is MemberRole.PARTICIPANT


def own_room(user: Actor, event: Event) -> Room | None:
    """The breakout room a person belongs in: the one they co-moderate, else the one they
    were placed in (None: only the plenary so far)."""
    if not _signed_in(user):
        return None
    moderated = next((room for room in event.breakout_rooms if room.is_moderator(user)), None)
    if moderated is not None:
        return moderated
    member = membership(user, event)
    return member.room if member is not None else None


def can_moderate_room(user: Actor, room: Room) -> bool:
    """The plenary is moderated by the organisers; a breakout room by its co-moderators too."""
    if is_event_organiser(user, room.event):
        return True
    return _signed_in(user) and room.is_moderator(user)


def can_view_room(user: Actor, room: Room) -> bool:
    if not can_view_event(user, room.event):
        return False
    if can_moderate_room(user, room):
        return True
    if room.is_plenary and is_event_moderator(user, room.event):
        return True
    member = membership(user, room.event)
    if member is None:
        return False
    if member.role is MemberRole.OBSERVER:
        return True
    return room.is_plenary or member.room_id == room.id


def room_closed(room: Room) -> bool:
    """Closed, or wrapping up past its countdown (closed for good at the next look)."""
    if room.phase is RoomPhase.CLOSED:
        return True
    return room.phase is RoomPhase.WRAP_UP and room.wrap_up_ends_at is not None and room.wrap_up_ends_at <= utcnow()


def is_muted(user: Actor, room: Room) -> bool:
    if not _signed_in(user):
        return False
    return _remembered(("muted", user.id, room.id), lambda: db.session.scalar(select(Mute.id).where(
        Mute.room_id == room.id, Mute.user_id == user.id, Mute.until > utcnow()).limit(1)) is not None)


def posting_roles(room: Room) -> frozenset[str]:
    """Who may post in the room as it is now: "moderator" (its moderators and the event's
    organisers) in any phase but closed; "participant" (its participants; in the plenary the
    event's co-moderators too) while it is open or wrapping up and not locked, unless muted.
    Observers never post. Live pages learn it with the room's state (`room.state`)."""
    if room.event.status is not EventStatus.PUBLISHED or room_closed(room):
        return frozenset()
    if room.phase in (RoomPhase.OPEN, RoomPhase.WRAP_UP) and not room.locked:
        return frozenset({"moderator", "participant"})
    return frozenset({"moderator"})


def speaks_as(user: Actor, room: Room) -> str | None:
    """In which of `posting_roles` the user speaks in the room: "moderator" (its moderators,
    the organisers), "participant" (its participants; in the plenary the event's co-moderators,
    who report back there), or None (visitors, observers, people of other rooms)."""
    if not _signed_in(user) or not can_view_room(user, room):
        return None
    if can_moderate_room(user, room):
        return "moderator"
    if room.is_plenary and is_event_moderator(user, room.event):
        return "participant"
    member = membership(user, room.event)
    return "participant" if member is not None and member.role is MemberRole.PARTICIPANT else None


def can_post_in_room(user: Actor, room: Room) -> bool:
    role = speaks_as(user, room)
    if role is None or role not in posting_roles(room):
        return False
    return role == "moderator" or not is_muted(user, room)


def can_reopen_room(user: Actor, room: Room) -> bool:
    """Only organisers take a closed room back to open (its moderators have closed it)."""
    return is_event_organiser(user, room.event) and room.event.status is EventStatus.PUBLISHED


def can_use_backchannel(user: Actor, room: Room) -> bool:
    return can_moderate_room(user, room)


def can_post_in_backchannel(user: Actor, room: Room) -> bool:
    """Writing in the moderators' channel: a moderator of the room, while it takes messages."""
    return can_use_backchannel(user, room) and can_post_in_room(user, room)


def can_edit_takeaways(user: Actor, room: Room) -> bool:
    """Adding, editing and removing a breakout room's key takeaways. Its moderators draft them
    until the room closes; its report-back card shows them from then on, so the organisers
    may still correct them. Nothing changes once the event has ended (it is a record then).
    The plenary has no takeaways: it is where they are reported."""
    if room.is_plenary or room.event.status is EventStatus.ENDED:
        return False
    if not can_moderate_room(user, room):
        return False
    return not room_closed(room) or is_event_organiser(user, room.event)


def can_raise_hand(user: Actor, room: Room) -> bool:
    if can_moderate_room(user, room):
        return False  # moderators hold the floor already
    return can_post_in_room(user, room)


def can_view_moderation_log(user: Actor, scope: Event | Consultation) -> bool:
    if isinstance(scope, Event):
        return is_event_organiser(user, scope) or is_event_moderator(user, scope)
    return is_consultation_moderator(user, scope)


# --- Pre-event input (docs/pre-event.md) ---------------------------------------------
# Before the event, registered participants answer the organisers' questions (event-wide,
# or about their own breakout room's topic) and endorse each other's answers. A question's
# board is its room's (an event-wide question's board is the plenary's) and has that room's
# readers (can_view_room). Once a room opens, its moderators read a digest of its board and
# pin answers into the room.

def preevent_window_open(event: Event) -> bool:
    """Answers and endorsements are taken from publication until the event starts."""
    return event.status is EventStatus.PUBLISHED and utcnow() < event.starts_at


def can_manage_preevent(user: Actor, event: Event) -> bool:
    """Adding and removing the questions: the organisers, until the event has ended."""
    return is_event_organiser(user, event) and event.status is not EventStatus.ENDED


def preevent_board_room(question) -> Room:
    return question.room if question.room_id is not None else question.event.plenary


def can_view_preevent_board(user: Actor, room: Room) -> bool:
    return can_view_room(user, room)


def _preevent_participant(user: Actor, room: Room) -> bool:
    """A registered participant who reads the board (observers and moderators do not answer)."""
    member = membership(user, room.event)
    if member is None or member.role is not MemberRole.PARTICIPANT:
        return False
    return can_view_room(user, room) and (room.is_plenary or member.room_id == room.id)


def can_answer_preevent(user: Actor, question) -> bool:
    if not preevent_window_open(question.event):
        return False
    return _preevent_participant(user, preevent_board_room(question))


def can_endorse_preevent(user: Actor, answer) -> bool:
    """Endorsing someone else's answer on one's own board, before the event starts."""
    if _signed_in(user) and answer.author_id == user.id:
        return False
    return can_answer_preevent(user, answer.question)


def can_view_preevent_digest(user: Actor, room: Room) -> bool:
    """A room's pre-event input in its moderators' console, once the room has opened."""
    return room.phase is not RoomPhase.NOT_STARTED and can_moderate_room(user, room)


def can_pin_preevent(user: Actor, room: Room) -> bool:
    """Pinning an answer into the room: its moderators, while the room takes their messages."""
    return can_view_preevent_digest(user, room) and can_post_in_room(user, room)


# --- Plenary questions ------------------------------------------------------------
# Participants ask the plenary's speakers and upvote others' questions (docs/questions.md):
# who may post in the plenary while it is open or wrapping up; its moderators (the
# organisers) approve, dismiss and mark them answered.

def can_ask_question(user: Actor, room: Room) -> bool:
    if not room.is_plenary:
        return False
    if room.phase not in (RoomPhase.OPEN, RoomPhase.WRAP_UP):
        return False
    return can_post_in_room(user, room)


def can_vote_question(user: Actor, question) -> bool:
    """One vote each on a published question, never on one's own (Slido counts the author's
    interest as given); withdrawing follows the same rule."""
    from forum.models.questions import QuestionStatus

    if not _signed_in(user):
        return False
    if question.status is not QuestionStatus.PUBLISHED:
        return False
    if question.author_id == user.id:
        return False
    return can_ask_question(user, question.room)


def can_moderate_questions(user: Actor, room: Room) -> bool:
    """Approve, dismiss, mark answered, reopen, and set pre-moderation: the plenary's
    moderators (the organisers), while the event is running (an ended event is a record)."""
    if not room.is_plenary or room.event.status is not EventStatus.PUBLISHED:
        return False
    return can_moderate_room(user, room)


def question_reader(user: Actor, room: Room) -> dict:
    """What a reader of the plenary may do with its questions, for its page's script, which
    builds the questions that arrive live (docs/questions.md): `vote` (can_vote_question's
    rule but for the question: the script adds its two per-question conditions, a published
    question not the reader's own, from the question's message: `status` and `author_id`,
    which an anonymous question does not carry), `moderate` (can_moderate_questions) and `me`."""
    return {"me": user.id if _signed_in(user) else None, "vote": can_ask_question(user, room),
            "moderate": can_moderate_questions(user, room)}


def can_read_question(user: Actor, question) -> bool:
    """Published and answered questions: every reader of the plenary. A pending one: its
    author and the moderators; a dismissed one: the moderators."""
    from forum.models.questions import QuestionStatus

    if not can_view_room(user, question.room):
        return False
    if question.is_visible_to_all:
        return True
    if can_moderate_room(user, question.room):
        return True
    return question.status is QuestionStatus.PENDING and _signed_in(user) and question.author_id == user.id


def can_see_question_author(user: Actor, question) -> bool:
    """An anonymous question's author is named to the plenary's moderators and to themself."""
    if not question.anonymous:
        return True
    return can_moderate_questions(user, question.room) or (_signed_in(user) and question.author_id == user.id)


def access_question(user: Actor, question_id: int, room: Room):
    """A question of `room` the user may read; anything else is "not found"."""
    from forum.models.questions import Question

    if not valid_id(question_id):
        raise NotFound()
    question = db.session.get(Question, question_id)
    if question is None or question.room_id != room.id or not can_read_question(user, question):
        raise NotFound()
    return question


# --- Polls --------------------------------------------------------------------------
# A poll lives in a consultation (optionally one of its topics) or in an event's room. Those
# who run the place run its polls; who may post there may vote; results and breakdowns
# follow the poll's settings (docs/polls.md).

def _poll_place_visible(user: Actor, poll) -> bool:
    if poll.room_id is not None:
        return can_view_room(user, poll.room)
    return can_view_consultation(user, poll.consultation)


def has_voted(user: Actor, poll) -> bool:
    from forum.models.polls import PollVote

    if not _signed_in(user) or poll.id is None:
        return False
    return _remembered(("voted", user.id, poll.id), lambda: db.session.scalar(select(PollVote.id).where(
        PollVote.poll_id == poll.id, PollVote.user_id == user.id)) is not None)


def remember_votes(user: Actor, polls) -> None:
    """Ask once which of these polls the user has voted in (a list of cards asks each)."""
    from forum.models.polls import PollVote

    ids = [poll.id for poll in polls]
    if not _signed_in(user) or not ids or not has_app_context():
        return
    voted = set(db.session.scalars(select(PollVote.poll_id).where(
        PollVote.user_id == user.id, PollVote.poll_id.in_(ids))))
    cache = g.setdefault("permission_answers", {})
    for poll_id in ids:
        cache[("voted", user.id, poll_id)] = poll_id in voted


def can_run_polls(user: Actor, place: Consultation | Room) -> bool:
    """Create polls in a place and run them (edit while a draft, open, close, publish the
    breakdown, delete a draft): a consultation's organisers; in a room, the event's organisers
    and that room's co-moderators."""
    if isinstance(place, Room):
        return can_moderate_room(user, place)
    return can_edit_consultation(user, place)


def can_manage_poll(user: Actor, poll) -> bool:
    """Run this poll: whoever runs the polls of its place (`can_run_polls`)."""
    return can_run_polls(user, poll.room if poll.room_id is not None or poll.room is not None else poll.consultation)


def can_view_poll(user: Actor, poll) -> bool:
    from forum.models.polls import PollStatus

    if can_manage_poll(user, poll):
        return True
    if poll.status is PollStatus.DRAFT:
        return False
    return _poll_place_visible(user, poll)


def can_vote(user: Actor, poll) -> bool:
    """Who may post where the poll is, while it takes votes (changing a ballot: the service)."""
    if not _signed_in(user):
        return False
    if not poll.takes_votes(utcnow()):
        return False
    if poll.room_id is not None:
        return can_post_in_room(user, poll.room)
    return can_post(user, poll.consultation)


def can_see_results(user: Actor, poll) -> bool:
    from forum.models.polls import PollStatus, ResultsShown

    if can_manage_poll(user, poll):
        return True
    if not can_view_poll(user, poll):
        return False
    if poll.results_shown is ResultsShown.LIVE:
        return True
    if poll.phase(utcnow()) is PollStatus.CLOSED:
        return True
    return poll.results_shown is ResultsShown.AFTER_VOTE and has_voted(user, poll)


def can_see_breakdown(user: Actor, poll) -> bool:
    if can_manage_poll(user, poll):
        return True
    return poll.breakdown_published and can_see_results(user, poll)


# --- Exports ------------------------------------------------------------------------
# An export of a place is its moderators' view (hidden posts included, marked hidden): it goes
# to those who moderate all of that place. Everyone who may read a public consultation may
# read its public summary (what any reader sees, without hidden posts).

def can_export_consultation(user: Actor, consultation: Consultation) -> bool:
    return is_organiser_of(user, consultation) or is_host_of(user, consultation)


def can_export_topic(user: Actor, topic: Topic) -> bool:
    return is_consultation_moderator(user, topic.consultation, topic)


def can_export_event(user: Actor, event: Event) -> bool:
    return is_event_organiser(user, event)


def can_write_report(user: Actor, thing: Event | Consultation) -> bool:
    """The summary, next steps and logo of an event's or a consultation's reports: its
    organisers (they sign the report), at any time, after it ended too."""
    if isinstance(thing, Event):
        return is_event_organiser(user, thing)
    return is_organiser_of(user, thing)


def can_export_room(user: Actor, room: Room) -> bool:
    return can_moderate_room(user, room)


def can_view_summary(user: Actor, consultation: Consultation) -> bool:
    if consultation.visibility is not Visibility.PUBLIC or consultation.status is ConsultationStatus.DRAFT:
        return can_export_consultation(user, consultation)
    return True


# --- Personal data (docs/data-rights.md) ------------------------------------------------
# A person's copy of their own data (GDPR articles 15 and 20) is theirs alone: no admin or
# organiser may ask for it or download it on their behalf.

def can_request_personal_data(user: Actor) -> bool:
    return _signed_in(user) and user.closed_at is None


def can_download_personal_data(user: Actor, report: ReportFile) -> bool:
    return (_signed_in(user) and report.kind == PERSONAL_DATA_KIND and report.user_id == user.id
            and report.object_id == user.id)


# --- Feedback after an event (docs/feedback.md) --------------------------------------------
# The form opens when the event is over: ended by its organisers, or published and past its
# end time (as the events list decides "past"). Its registered members answer, once; the
# organisers set the form up until the first answer and read the results.

def feedback_open(event: Event) -> bool:
    if event.status is EventStatus.ENDED:
        return True
    return event.status is EventStatus.PUBLISHED and event.ends_at <= utcnow()


def has_answered_feedback(user: Actor, event: Event) -> bool:
    from forum.models.feedback import FeedbackSubmission

    if not _signed_in(user):
        return False
    return _remembered(("feedback", user.id, event.id), lambda: db.session.get(
        FeedbackSubmission, (event.id, user.id)) is not None)


def can_answer_feedback(user: Actor, event: Event) -> bool:
    return (feedback_open(event) and membership(user, event) is not None
            and not has_answered_feedback(user, event))


def feedback_answered_at_all(event: Event) -> bool:
    from forum.models.feedback import FeedbackSubmission

    return db.session.scalar(select(exists().where(FeedbackSubmission.event_id == event.id))) or False


def can_edit_feedback_form(user: Actor, event: Event) -> bool:
    """Its organisers, until someone has answered (the answers follow the questions' order)."""
    return is_event_organiser(user, event) and not feedback_answered_at_all(event)


def can_see_feedback_results(user: Actor, event: Event) -> bool:
    return is_event_organiser(user, event)


# --- Posts --------------------------------------------------------------------------

def can_moderate_post(user: Actor, post: Post) -> bool:
    if post.room_id is not None:
        return can_moderate_room(user, post.room)
    return is_consultation_moderator(user, post.consultation, post.topic)


def can_read_post(user: Actor, post: Post) -> bool:
    """Whether the reader may see this post at all (a hidden one shows as a placeholder)."""
    if post.room_id is not None:
        if post.backchannel:
            return can_use_backchannel(user, post.room)
        if not can_view_room(user, post.room):
            return False
    elif not can_view_consultation(user, post.consultation):
        return False
    if post.is_published:
        return True
    return _is_author(user, post) or can_moderate_post(user, post)


def can_read_hidden_text(user: Actor, post: Post) -> bool:
    return _is_author(user, post) or can_moderate_post(user, post)


def _is_author(user: Actor, post: Post) -> bool:
    return _signed_in(user) and post.author_id == user.id


def can_post_in_place_of(user: Actor, post: Post) -> bool:
    """Whether the user may write where `post` is (its consultation, room or back-channel)."""
    if post.room_id is not None:
        if post.backchannel:
            return can_use_backchannel(user, post.room) and can_post_in_room(user, post.room)
        return can_post_in_room(user, post.room)
    return can_post(user, post.consultation)


def thread_locked(post: Post) -> bool:
    """Whether the thread `post` belongs to (its own, for a response) is closed to replies. A
    reply's response is usually its parent, already loaded: no query then."""
    if post.parent_id is None:
        root = post
    elif post.parent is not None and post.parent.id == post.thread_id:
        root = post.parent
    else:
        root = db.session.get(Post, post.thread_id)
    return root is not None and root.locked_at is not None


# --- What a reader may do with a post -----------------------------------------------------
# One rule (`post_actions`) over the facts that decide it: who the reader is where the post is
# (`Reader`) and the post's state. Pages rendered here ask it through the can_* functions
# below; a live message, which goes to every reader of a stream at once, carries its answer
# for every kind of reader (`actions_by_reader`), and the page picks its own reader's
# (`reader_index`): the browser holds no copy of the rule.

POST_ACTIONS = ("endorse", "reply", "log-in", "edit", "delete", "flag", "moderate")
# The kinds of reader a live page has, by what they may do where the post is.
READER_ROLES = ("visitor", "participant", "moderator", "organiser")


@dataclass(frozen=True)
class Reader:
    signed_in: bool
    writes: bool          # may post where the post is (a visitor: could, once logged in)
    moderates: bool       # moderates the post's place
    removes_any: bool     # the place's organiser: may delete anyone's post
    own: bool = False     # the post is theirs


def post_actions(reader: Reader, post: Post) -> frozenset[str]:
    """What `reader` may do with `post` (which they can read)."""
    shown = not post.is_deleted and not post.is_hidden and post.is_published
    actions = set()
    if reader.moderates:
        actions.add("moderate")
    if not post.is_deleted and reader.signed_in and (reader.own or reader.removes_any):
        actions.add("delete")
    if shown and reader.writes and (not thread_locked(post) or reader.moderates):
        actions.add("reply" if reader.signed_in else "log-in")
    if shown and reader.signed_in and not reader.own and not post.backchannel:
        actions.add("flag")
        if reader.writes:
            actions.add("endorse")
    if (reader.own and reader.writes and not post.is_deleted and not post.is_hidden
            and post.status is not PostStatus.REJECTED):
        actions.add("edit")
    return frozenset(actions)


def reader_of(user: Actor, post: Post) -> Reader:
    if not _signed_in(user):
        return Reader(False, False, False, False)
    if post.room_id is not None:
        removes_any = is_event_organiser(user, post.room.event)
    else:
        removes_any = is_organiser_of(user, post.consultation)
    return Reader(True, can_post_in_place_of(user, post), can_moderate_post(user, post), removes_any,
                  own=post.author_id == user.id)


def actions_by_reader(post: Post) -> list[int]:
    """`post_actions` for every kind of reader, as bit masks over POST_ACTIONS, at index
    `reader_index(role, writes, own)`."""
    masks = []
    for role in READER_ROLES:
        signed_in, moderates, removes_any = role != "visitor", role in ("moderator", "organiser"), role == "organiser"
        for writes in (False, True):
            for own in (False, True):
                actions = post_actions(Reader(signed_in, writes, moderates, removes_any, own and signed_in), post)
                masks.append(sum(1 << i for i, name in enumerate(POST_ACTIONS) if name in actions))
    return masks


def reader_index(role: str, writes: bool, own: bool) -> int:
    return (READER_ROLES.index(role) * 2 + writes) * 2 + own


def writes_in_consultation(user: Actor, consultation: Consultation) -> bool:
    """A consultation page's reader "writes" (READER_ROLES): may post there; a visitor, where
    logging in would let them."""
    return can_post(user, consultation) if _signed_in(user) else consultation.accepts_posts(utcnow())


def reader_role(user: Actor, *, moderates: bool, organiser: bool) -> str:
    """A live page's reader, as READER_ROLES name them."""
    if not _signed_in(user):
        return "visitor"
    return "organiser" if organiser else "moderator" if moderates else "participant"


def can_reply(user: Actor, post: Post) -> bool:
    return can_read_post(user, post) and "reply" in post_actions(reader_of(user, post), post)


def can_edit_post(user: Actor, post: Post) -> bool:
    return can_read_post(user, post) and "edit" in post_actions(reader_of(user, post), post)


def can_delete_post(user: Actor, post: Post) -> bool:
    """Authors may withdraw their own words at any time, even after closing (GDPR erasure);
    the organiser of the consultation or event and admins may remove any post."""
    return can_read_post(user, post) and "delete" in post_actions(reader_of(user, post), post)


def can_endorse(user: Actor, post: Post) -> bool:
    return can_read_post(user, post) and "endorse" in post_actions(reader_of(user, post), post)


def can_flag(user: Actor, post: Post) -> bool:
    return can_read_post(user, post) and "flag" in post_actions(reader_of(user, post), post)


# --- Search ---------------------------------------------------------------------------
# What a reader may find (forum/services/search.py, docs/search.md): the rules above, written
# once more as SQL over whole tables, because a search must not load every post to ask
# can_read_post of each. Each clause below mirrors the function it names, line for line;
# tests/services/test_search_permissions.py checks, for a matrix of readers and objects,
# that a search finds exactly what those functions allow. Nothing a reader may not read is
# found, not even counted: the clauses go into the query that counts.

def can_find_post(user: Actor, post: Post) -> bool:
    """Whether a search, or a notification about it, may show the reader this post: one they
    may read, with its words (a hidden post's only to its author and the moderators), not
    deleted."""
    if post.is_deleted or not can_read_post(user, post):
        return False
    return not post.is_hidden or can_read_hidden_text(user, post)


def _user_id(user: Actor) -> int | None:
    return user.id if _signed_in(user) else None


def consultations_moderated(user: Actor):
    """Ids of the consultations `user` moderates all of: is_organiser_of or is_host_of."""
    if _is_admin(user):
        return select(Consultation.id)
    if not _signed_in(user):
        return select(Consultation.id).where(false())
    return select(Consultation.id).where(or_(
        Consultation.owner_id == user.id,
        Consultation.id.in_(select(Host.consultation_id).where(Host.user_id == user.id))))


def topics_moderated(user: Actor):
    """Ids of the topics `user` co-moderates (is_consultation_moderator's topic rule)."""
    return select(Moderator.topic_id).where(Moderator.user_id == _user_id(user), Moderator.topic_id.is_not(None))


def readable_consultations(user: Actor):
    """Ids of the consultations `user` may view: can_view_consultation."""
    if _is_admin(user):
        return select(Consultation.id)
    published = Consultation.status != ConsultationStatus.DRAFT
    if not _signed_in(user):
        return select(Consultation.id).where(published, Consultation.visibility == Visibility.PUBLIC)
    return select(Consultation.id).where(or_(published, Consultation.id.in_(consultations_moderated(user))))


def _events_with_rooms_moderated_by(user: Actor):
    return select(Room.event_id).join(Moderator, Moderator.room_id == Room.id).where(
        Moderator.user_id == _user_id(user))


def visible_events(user: Actor):
    """Ids of the events whose page `user` may see: can_view_event."""
    if _is_admin(user):
        return select(Event.id)
    published = Event.status != EventStatus.DRAFT
    if not _signed_in(user):
        return select(Event.id).where(published)
    return select(Event.id).where(or_(published, Event.owner_id == user.id,
                                      Event.id.in_(_events_with_rooms_moderated_by(user))))


def rooms_moderated(user: Actor):
    """Ids of the rooms `user` moderates: can_moderate_room."""
    if _is_admin(user):
        return select(Room.id)
    if not _signed_in(user):
        return select(Room.id).where(false())
    return select(Room.id).where(or_(
        Room.event_id.in_(select(Event.id).where(Event.owner_id == user.id)),
        Room.id.in_(select(Moderator.room_id).where(Moderator.user_id == user.id))))


def readable_rooms(user: Actor):
    """Ids of the rooms whose discussion `user` may read: can_view_room."""
    if not _signed_in(user):
        return select(Room.id).where(false())
    member = exists().where(
        EventMember.event_id == Room.event_id, EventMember.user_id == user.id,
        or_(EventMember.role == MemberRole.OBSERVER, Room.position == 0, EventMember.room_id == Room.id))
    return select(Room.id).where(Room.event_id.in_(visible_events(user)), or_(
        Room.id.in_(rooms_moderated(user)),
        and_(Room.position == 0, Room.event_id.in_(_events_with_rooms_moderated_by(user))),
        member))


def searchable_posts(user: Actor):
    """The posts `user` may find, as a where-clause over `post`: can_find_post."""
    author = Post.author_id == user.id if _signed_in(user) else false()
    shown = and_(Post.status == PostStatus.PUBLISHED, Post.hidden_at.is_(None))
    moderated_room = Post.room_id.in_(rooms_moderated(user))
    in_room = and_(Post.room_id.is_not(None), or_(
        and_(Post.backchannel.is_(True), moderated_room),
        and_(Post.backchannel.is_(False), Post.room_id.in_(readable_rooms(user)),
             or_(shown, author, moderated_room))))
    in_consultation = and_(Post.consultation_id.is_not(None), Post.consultation_id.in_(readable_consultations(user)),
                           or_(shown, author, Post.consultation_id.in_(consultations_moderated(user)),
                               Post.topic_id.in_(topics_moderated(user))))
    return and_(Post.deleted_at.is_(None), or_(in_room, in_consultation))


def findable_documents(user: Actor):
    """The search index's rows `user` may find, as a where-clause over `search_document`
    LEFT JOIN `post` ON post.id = search_document.post_id: a consultation or topic of a
    consultation they may view, an event whose page they may see, a post `searchable_posts`."""
    document = SearchDocument
    return or_(
        and_(document.kind == "post", searchable_posts(user)),
        and_(document.kind.in_(("consultation", "topic")), document.consultation_id.in_(readable_consultations(user))),
        and_(document.kind == "event", document.event_id.in_(visible_events(user))),
    )

# --- People and mentions ---------------------------------------------------------------
# A person's page (/people/<handle>) and whom a composer suggests after "@" (docs/mentions.md).

def can_view_profile(user: Actor, person: User) -> bool:
    """A person's page: their name, organisation, country, role and handle, as every post
    card shows its author to its readers, and their contributions the viewer may read.
    Signed-in people only: a visitor reads the names on the posts they may read, but pages
    by id would list every account, those who write only in rooms included. A closed account
    has no page (its posts name a "Former participant")."""
    return _signed_in(user) and person is not None and person.closed_at is None


def can_read_place(user: Actor, place: Consultation | Room) -> bool:
    """Whether the user may read what is written in a consultation or a room."""
    if isinstance(place, Room):
        return can_view_room(user, place)
    return can_view_consultation(user, place)


def readers_of(place: Consultation | Room) -> ColumnElement[bool]:
    """The accounts that may read `place`, as one SQL condition over User: the same answer as
    `can_read_place(account, place)` for every account (tests/test_roles.py and
    tests/test_permissions.py check both). Whom a mention there may suggest: never a room's
    members to someone outside it, since only its readers may ask (`can_read_place`)."""
    organiser = User.is_admin.is_(True)
    if isinstance(place, Consultation):
        if place.status is not ConsultationStatus.DRAFT:
            return true()  # public, or members only: every account reads it
        hosts = [h.user_id for h in place.hosts if h.user_id is not None]
        return or_(organiser, User.id == place.owner_id, User.id.in_(hosts))
    room, event = place, place.event
    organiser = or_(organiser, User.id == event.owner_id)
    room_moderator = User.id.in_(select(Moderator.user_id).where(Moderator.room_id == room.id))
    event_moderator = User.id.in_(select(Moderator.user_id).join(Room, Room.id == Moderator.room_id)
                                  .where(Room.event_id == event.id))
    members = select(EventMember.user_id).where(EventMember.event_id == event.id)
    if not room.is_plenary:  # observers read every room, participants their own
        members = members.where(or_(EventMember.role == MemberRole.OBSERVER, EventMember.room_id == room.id))
    readers = [organiser, room_moderator, User.id.in_(members)]
    if room.is_plenary:
        readers.append(event_moderator)  # co-moderators of any room report back there
    if event.status is EventStatus.DRAFT:
        return and_(or_(organiser, event_moderator), or_(*readers))
    return or_(*readers)


# --- Statements board (opinion map) --------------------------------------------------
# A consultation's board is set up, opened and closed by its organisers; its statements are
# moderated by those who moderate all of the consultation (organisers and linked hosts); who
# may post in the consultation submits statements and votes while the board is open.

def can_manage_board(user: Actor, consultation: Consultation) -> bool:
    return can_edit_consultation(user, consultation)


def can_moderate_statements(user: Actor, board: OpinionBoard) -> bool:
    return is_organiser_of(user, board.consultation) or is_host_of(user, board.consultation)


def can_view_board(user: Actor, board: OpinionBoard) -> bool:
    """A draft board is its organisers' and moderators' only; an open or closed one is read
    by everyone who may read the consultation."""
    if not can_view_consultation(user, board.consultation):
        return False
    if board.status.value == "draft":
        return can_manage_board(user, board.consultation) or can_moderate_statements(user, board)
    return True


def can_submit_statement(user: Actor, board: OpinionBoard) -> bool:
    if board.status.value != "open":
        return False
    return can_post(user, board.consultation)


def can_vote_statement(user: Actor, statement: Statement) -> bool:
    if statement.status.value != "published":
        return False
    return can_submit_statement(user, statement.board)


def can_moderate_statement(user: Actor, statement: Statement) -> bool:
    return can_moderate_statements(user, statement.board)


def can_read_statement(user: Actor, statement: Statement) -> bool:
    """Published statements are the board's readers'; pending, rejected and hidden ones are
    their author's and the moderators' only."""
    if not can_view_board(user, statement.board):
        return False
    if statement.status.value == "published":
        return True
    return (_signed_in(user) and statement.author_id == user.id) or can_moderate_statement(user, statement)


# --- Notifications and follows (docs/notifications.md) ------------------------------------
# One follows what one may read: a consultation, one of its Topics, or a thread (a response of
# a consultation; a room's chat has no threads to follow). A notification shows what it is
# about, and links to it, only while its recipient may still read it: never a post deleted,
# hidden from them, waiting or rejected, nor a place they have lost (a consultation made
# members-only or draft, a room they were moved out of).

def can_follow(user: Actor, target: Consultation | Topic | Post) -> bool:
    if not _signed_in(user):
        return False
    if isinstance(target, Topic):
        return can_view_consultation(user, target.consultation)
    if isinstance(target, Post):
        return (target.room_id is None and target.parent_id is None and not target.is_deleted
                and can_read_post(user, target))
    return can_view_consultation(user, target)


def can_open_notification(user: Actor, notification) -> bool:
    """Whether `notification` may show its target's words and link to it (its recipient,
    while they may read the target). Its target is the most precise thing it names: a post,
    else a poll, a Topic, a room, a consultation, an event."""
    from forum.models.polls import Poll

    if not _signed_in(user) or notification.user_id != user.id:
        return False
    targets = (
        (notification.post_id, Post, can_find_post),
        (notification.poll_id, Poll, can_view_poll),
        (notification.topic_id, Topic, lambda u, topic: can_view_consultation(u, topic.consultation)),
        (notification.room_id, Room, can_view_room),
        (notification.consultation_id, Consultation, can_view_consultation),
        (notification.event_id, Event, can_view_event),
    )
    for target_id, model, may_see in targets:
        if target_id is not None:
            target = db.session.get(model, target_id)
            return target is not None and may_see(user, target)
    return False


# --- Load and authorise -------------------------------------------------------------

# Ids are 32-bit integers in the database; anything else names nothing.
MAX_ID = 2**31 - 1


def valid_id(value: int) -> bool:
    return isinstance(value, int) and 0 < value <= MAX_ID


def _members_only(consultation: Consultation) -> bool:
    """Published (or closed) for signed-in people only: a visitor may log in to read it."""
    if consultation.status is ConsultationStatus.DRAFT:
        return False
    return consultation.visibility is Visibility.MEMBERS


def access_consultation(user: Actor, consultation_id: int) -> Consultation:
    """A consultation the user may read. A visitor opening a members-only one is asked to
    log in (LoginRequired); what does not exist or is a draft is "not found" for everyone."""
    if not valid_id(consultation_id):
        raise NotFound()
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise NotFound()
    if can_view_consultation(user, consultation):
        return consultation
    if not _signed_in(user) and _members_only(consultation):
        raise LoginRequired()
    raise NotFound()


def _readable_after_login(post: Post) -> bool:
    """Whether a visitor who may not read `post` might once signed in: a published message
    of a members-only consultation or of a room of an event whose page they may see."""
    if not post.is_published or post.backchannel:
        return False
    if post.room_id is not None:
        return can_view_event(None, post.room.event)
    return _members_only(post.consultation)


def access_post(user: Actor, post_id: int, consultation_id: int | None = None,
                room_id: int | None = None) -> Post:
    """A post the user may read; when the caller names a consultation or room, it must be there."""
    if not valid_id(post_id):
        raise NotFound()
    post = db.session.get(Post, post_id)
    if post is None:
        raise NotFound()
    if consultation_id is not None and post.consultation_id != consultation_id:
        raise NotFound()
    if room_id is not None and post.room_id != room_id:
        raise NotFound()
    if can_read_post(user, post):
        return post
    if not _signed_in(user) and _readable_after_login(post):
        raise LoginRequired()
    raise NotFound()


def access_event(user: Actor, event_id: int) -> Event:
    if not valid_id(event_id):
        raise NotFound()
    event = db.session.get(Event, event_id)
    if event is None or not can_view_event(user, event):
        raise NotFound()
    return event


def access_room(user: Actor, room_id: int, event_id: int | None = None) -> Room:
    """A room whose discussion the user may read.

    A missing room, or one of an event the user may not see (a draft), is "not found". The
    rooms of an event they may see are listed on its public page, so a refusal there says
    why (`room_refusal`): log in, register, or go to your own room."""
    if not valid_id(room_id):
        raise NotFound()
    room = db.session.get(Room, room_id)
    if room is None:
        raise NotFound()
    if event_id is not None and room.event_id != event_id:
        raise NotFound()
    if not can_view_event(user, room.event):
        raise NotFound()
    if not can_view_room(user, room):
        raise room_refusal(user, room)
    return room


def room_refusal(user: Actor, room: Room) -> LoginRequired | RoomRefused:
    """Why someone who may see a room's event may not read the room, and where to go instead."""
    event = room.event
    if not _signed_in(user):
        return LoginRequired()
    mine = own_room(user, event)
    if mine is not None:
        return RoomRefused(RoomRefused.OTHER_ROOM, event, mine)
    if membership(user, event) is not None:
        return RoomRefused(RoomRefused.NOT_PLACED, event, event.plenary)
    if can_register(user, event):
        return RoomRefused(RoomRefused.REGISTER, event)
    return RoomRefused(RoomRefused.MEMBERS_ONLY, event)


def access_board(user: Actor, consultation_id: int) -> OpinionBoard:
    """The statements board of a consultation the user may read ("not found" when there is
    none or it is a draft they may not see; a visitor of a members-only consultation is asked
    to log in)."""
    consultation = access_consultation(user, consultation_id)
    board = db.session.scalar(select(OpinionBoard).where(OpinionBoard.consultation_id == consultation.id))
    if board is None or not can_view_board(user, board):
        raise NotFound()
    return board


def access_statement(user: Actor, board: OpinionBoard, statement_id: int) -> Statement:
    """A statement of this board the user may read."""
    if not valid_id(statement_id):
        raise NotFound()
    statement = db.session.get(Statement, statement_id)
    if statement is None or statement.board_id != board.id or not can_read_statement(user, statement):
        raise NotFound()
    return statement


def access_poll(user: Actor, poll_id: int):
    """A poll the user may see: "not found" for a missing one and for one they may not see
    (a draft, or a place they cannot read) alike."""
    from forum.models.polls import Poll

    if not valid_id(poll_id):
        raise NotFound()
    poll = db.session.get(Poll, poll_id)
    if poll is None or not can_view_poll(user, poll):
        raise NotFound()
    return poll
