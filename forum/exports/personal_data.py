"""A person's copy of their own data (GDPR articles 15 and 20): what the ZIP file holds.

`write_archive(user, path)` writes one JSON file per part (FILES) and `index.html`, a page
that summarises them in the person's language and time zone (forum/exports/personal_index.py)
with links into the JSON files. Every row of every table linked to the person by a foreign
key to `user.id` is in one of the files, or left out for the reason given in EXCLUDED: COVERAGE
and EXCLUDED together name every such column (tests/test_personal_data_coverage.py fails when a
new one is in neither).

The rows are read with plain column SELECTs, one per part of a file (no ORM objects, no query
per row), the places they are in joined in the same query; the posts, the one part that grows
without bound, are streamed BATCH rows at a time into the archive with their earlier versions
(a second stream in the same order). Times are ISO 8601 in UTC. docs/data-rights.md describes
the files.
"""
from __future__ import annotations

import json
import time
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import aliased

from forum.extensions import db
from forum.models import (
    ApiToken,
    Consultation,
    Endorsement,
    Event,
    EventMember,
    FeedbackAnswer,
    FeedbackForm,
    FeedbackSubmission,
    Flag,
    Follow,
    HandRaise,
    Host,
    LoginRecord,
    ModerationAction,
    Moderator,
    Mute,
    Notification,
    OpinionBoard,
    Poll,
    PollOption,
    PollVote,
    Post,
    PostRevision,
    PreEventAnswer,
    PreEventEndorsement,
    PreEventQuestion,
    Question,
    QuestionVote,
    ReportCover,
    ReportFile,
    Room,
    Statement,
    StatementVote,
    Takeaway,
    TakeawayRevision,
    Topic,
    User,
)
from forum.models.posts import PostStatus

FORMAT = "plenary-personal-data"
FORMAT_VERSION = 1
BATCH = 1000  # posts read from the database at a time

FILES = ("profile.json", "posts.json", "endorsements.json", "votes.json", "events.json", "organising.json",
         "notifications.json", "moderation.json", "login_records.json", "api_tokens.json", "reports.json")

# Every column holding a user id, and the file its rows are in.
COVERAGE: dict[tuple[str, str], str] = {
    ("user", "id"): "profile.json",
    ("post", "author_id"): "posts.json",
    # Only a post's author edits it (permissions.post_actions): its versions are the author's.
    ("post_revision", "editor_id"): "posts.json",
    ("endorsement", "user_id"): "endorsements.json",
    ("poll_vote", "user_id"): "votes.json",
    ("statement", "author_id"): "votes.json",
    ("statement_vote", "user_id"): "votes.json",
    ("question", "author_id"): "votes.json",
    ("question_vote", "user_id"): "votes.json",
    ("preevent_answer", "author_id"): "votes.json",
    ("preevent_endorsement", "user_id"): "votes.json",
    ("feedback_answer", "author_id"): "votes.json",  # named answers only: anonymous ones hold no author
    ("feedback_submission", "user_id"): "votes.json",
    ("event_member", "user_id"): "events.json",
    ("moderator", "user_id"): "events.json",
    ("hand_raise", "user_id"): "events.json",
    ("takeaway", "credited_user_id"): "events.json",
    ("takeaway", "created_by_id"): "events.json",
    ("takeaway_revision", "editor_id"): "events.json",
    ("consultation", "owner_id"): "organising.json",
    ("host", "user_id"): "organising.json",
    ("event", "owner_id"): "organising.json",
    ("poll", "created_by_id"): "organising.json",
    ("opinion_board", "created_by_id"): "organising.json",
    ("report_cover", "updated_by_id"): "organising.json",
    ("notification", "user_id"): "notifications.json",
    ("follow", "user_id"): "notifications.json",
    ("notification_setting", "user_id"): "notifications.json",
    ("moderation_action", "actor_id"): "moderation.json",
    ("moderation_action", "target_user_id"): "moderation.json",
    ("flag", "user_id"): "moderation.json",
    ("flag", "resolved_by_id"): "moderation.json",
    ("mute", "user_id"): "moderation.json",
    ("mute", "created_by_id"): "moderation.json",
    ("hand_raise", "floor_given_by_id"): "moderation.json",
    ("post", "hidden_by_id"): "moderation.json",
    ("statement", "moderated_by_id"): "moderation.json",
    ("login_record", "user_id"): "login_records.json",
    ("api_token", "user_id"): "api_tokens.json",
    ("report_file", "user_id"): "reports.json",
}

# Columns holding a user id whose rows are left out, and why.
EXCLUDED: dict[tuple[str, str], str] = {
    ("search_document", "author_id"): "the search index: a copy of the words of the person's posts "
                                      "(in posts.json) and of the titles of what they own (organising.json)",
    ("notification", "actor_id"): "another person's notice, naming who caused it; what the person did to "
                                  "cause it (a reply, an endorsement, a moderator's action) is in its own file",
}


# --- Values --------------------------------------------------------------------------------

def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC ("2026-05-01T09:30:00Z")."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _code(value: Any) -> Any:
    return getattr(value, "value", value)


def _rows(query: Select) -> list:
    return list(db.session.execute(query))


# --- Places --------------------------------------------------------------------------------
# A row's place (a consultation and topic, or an event and room), joined in the row's query.

def _placed(query: Select, *, consultation=None, topic=None, room=None, event=None) -> Select:
    """`query` with its place's titles joined (outer joins on the given id columns)."""
    if consultation is not None:
        c = aliased(Consultation)
        query = query.outerjoin(c, c.id == consultation).add_columns(
            consultation.label("place_consultation_id"), c.title.label("place_consultation_title"))
    if topic is not None:
        t = aliased(Topic)
        query = query.outerjoin(t, t.id == topic).add_columns(
            topic.label("place_topic_id"), t.position.label("place_topic_position"), t.title.label("place_topic_title"))
    if room is not None:
        r, e = aliased(Room), aliased(Event)
        query = query.outerjoin(r, r.id == room).outerjoin(e, e.id == r.event_id).add_columns(
            room.label("place_room_id"), r.title.label("place_room_title"), r.position.label("place_room_position"),
            e.id.label("place_event_id"), e.title.label("place_event_title"))
    elif event is not None:
        e = aliased(Event)
        query = query.outerjoin(e, e.id == event).add_columns(
            event.label("place_event_id"), e.title.label("place_event_title"))
    return query


def place_of(row) -> dict[str, Any] | None:
    """The place `_placed` joined, as a record: an event's room (or the event), or a
    consultation's topic (or the consultation)."""
    fields = row._mapping
    if fields.get("place_room_id") is not None:
        return {"kind": "room", "event_id": fields["place_event_id"], "event_title": fields["place_event_title"],
                "room_id": fields["place_room_id"], "room_title": fields["place_room_title"],
                "plenary": fields["place_room_position"] == 0}
    if fields.get("place_event_id") is not None:
        return {"kind": "event", "event_id": fields["place_event_id"], "event_title": fields["place_event_title"]}
    if fields.get("place_consultation_id") is not None:
        place = {"kind": "consultation", "consultation_id": fields["place_consultation_id"],
                 "consultation_title": fields["place_consultation_title"]}
        if fields.get("place_topic_id") is not None:
            place.update(kind="topic", topic_id=fields["place_topic_id"],
                         topic_number=fields["place_topic_position"], topic_title=fields["place_topic_title"])
        return place
    return None


# --- profile.json --------------------------------------------------------------------------

def profile(user: User) -> dict[str, Any]:
    """Every field of the account but its secrets (the password's hash, the session token)."""
    return {
        "id": user.id,
        "email": user.email,
        "email_verified": user.email_verified_at is not None,
        "email_verified_at": iso(user.email_verified_at),
        "display_name": user.display_name,
        "handle": user.handle,
        "organisation": user.organisation,
        "organisation_type": user.organisation_type,
        "country": user.country,
        "role_title": user.role_title,
        "preferred_language": user.preferred_language,
        "timezone": user.timezone,
        "named_in_reports": user.named_in_reports,
        "is_admin": user.is_admin,
        "is_organiser": user.is_organiser,
        "email_immediate": user.email_immediate,
        "digest_frequency": user.digest_frequency,
        "last_digest_at": iso(user.last_digest_at),
        "created_at": iso(user.created_at),
        "last_login_at": iso(user.last_login_at),
        "closed_at": iso(user.closed_at),
    }


# --- posts.json ----------------------------------------------------------------------------

_POST_COLUMNS = (
    Post.id, Post.backchannel, Post.announcement, Post.parent_id, Post.thread_id, Post.quoted_post_id,
    Post.subject, Post.body, Post.stance, Post.on_behalf_of_organisation, Post.organisation_name,
    Post.created_at, Post.edited_at, Post.deleted_at, Post.status, Post.hidden_at, Post.hidden_reason,
    Post.rejected_reason, Post.pinned_at, Post.locked_at, Post.endorsement_count, Post.reply_count,
)


def post_kind(row) -> str:
    if row.place_room_id is not None:
        if row.backchannel:
            return "moderators_channel_message"
        return "announcement" if row.announcement else "room_message"
    return "response" if row.parent_id is None else "reply"


def post_state(row) -> str:
    """What the post is now, as its author sees it: deleted, hidden, rejected, pending or published."""
    if row.deleted_at is not None:
        return "deleted"
    if row.hidden_at is not None:
        return "hidden"
    return _code(row.status)


def _post_record(row, versions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": post_kind(row),
        "place": place_of(row),
        "thread_id": row.thread_id,
        "parent_id": row.parent_id,
        "quoted_post_id": row.quoted_post_id,
        "state": post_state(row),
        "status": _code(row.status),
        "created_at": iso(row.created_at),
        "edited_at": iso(row.edited_at),
        "deleted_at": iso(row.deleted_at),
        "hidden_at": iso(row.hidden_at),
        "hidden_reason": row.hidden_reason,
        "rejected_reason": row.rejected_reason if row.status is PostStatus.REJECTED else "",
        "subject": row.subject,
        "body_markdown": row.body,
        "stance": _code(row.stance),
        "on_behalf_of_organisation": row.on_behalf_of_organisation,
        "organisation_name": row.organisation_name,
        "pinned": row.pinned_at is not None,
        "locked": row.locked_at is not None,
        "endorsements": row.endorsement_count,
        "replies": row.reply_count,
        # Earlier versions, oldest first (the text above is the latest); deleting a post erases
        # them with its text.
        "earlier_versions": versions,
    }


def post_records(user: User) -> Iterator[dict[str, Any]]:
    """The person's posts, oldest first, with their earlier versions: two streams in post id
    order, merged."""
    posts = _placed(select(*_POST_COLUMNS).where(Post.author_id == user.id).order_by(Post.id),
                    consultation=Post.consultation_id, topic=Post.topic_id, room=Post.room_id)
    revisions = (select(PostRevision.post_id, PostRevision.subject, PostRevision.body, PostRevision.written_at,
                        PostRevision.replaced_at)
                 .join(Post, Post.id == PostRevision.post_id).where(Post.author_id == user.id)
                 .order_by(PostRevision.post_id, PostRevision.id))
    versions = iter(db.session.execute(revisions.execution_options(yield_per=BATCH)))
    pending = next(versions, None)
    for row in db.session.execute(posts.execution_options(yield_per=BATCH)):
        earlier = []
        while pending is not None and pending.post_id <= row.id:
            if pending.post_id == row.id:
                earlier.append({"subject": pending.subject, "body_markdown": pending.body,
                                "written_at": iso(pending.written_at), "replaced_at": iso(pending.replaced_at)})
            pending = next(versions, None)
        yield _post_record(row, earlier)


@dataclass
class PostSummary:
    """What index.html says of the posts (the posts themselves are streamed to posts.json)."""
    count: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_state: dict[str, int] = field(default_factory=dict)
    versions: int = 0
    latest: deque = field(default_factory=lambda: deque(maxlen=LATEST))


LATEST = 50  # rows of each long list shown in index.html (the JSON files hold them all)


def write_posts(user: User, out, head: dict[str, Any]) -> PostSummary:
    """posts.json, written to the binary stream `out` a post at a time after `head`'s keys."""
    summary = PostSummary()
    out.write((_json(head)[:-1] + ', "posts": [').encode())
    for record in post_records(user):
        out.write((",\n" if summary.count else "\n").encode() + _json(record).encode())
        summary.count += 1
        summary.by_kind[record["kind"]] = summary.by_kind.get(record["kind"], 0) + 1
        summary.by_state[record["state"]] = summary.by_state.get(record["state"], 0) + 1
        summary.versions += len(record["earlier_versions"])
        summary.latest.append(record)
    out.write(b"\n]}\n")
    return summary


# --- endorsements.json ---------------------------------------------------------------------

def endorsements(user: User) -> dict[str, Any]:
    """Posts the person endorsed (which post and where; its text is its author's)."""
    rows = _rows(_placed(select(Endorsement.post_id, Endorsement.created_at)
                         .join(Post, Post.id == Endorsement.post_id)
                         .where(Endorsement.user_id == user.id).order_by(Endorsement.created_at, Endorsement.id),
                         consultation=Post.consultation_id, topic=Post.topic_id, room=Post.room_id))
    return {"endorsements": [{"post_id": r.post_id, "place": place_of(r), "created_at": iso(r.created_at)}
                             for r in rows]}


# --- votes.json ----------------------------------------------------------------------------

STATEMENT_VALUES = {1: "agree", -1: "disagree", 0: "pass"}


def _choice(choice: Any, labels: dict[int, str]) -> list[dict[str, Any]]:
    """A ballot in words: the options chosen (ranked: best first), or each option's score or points."""
    def option(key) -> dict[str, Any]:
        option_id = int(key) if str(key).isdigit() else key
        return {"option_id": option_id, "option": labels.get(option_id, "")}

    if isinstance(choice, dict):
        return [{**option(key), "value": value} for key, value in choice.items()]
    if isinstance(choice, list):
        return [option(key) for key in choice]
    return []


def votes(user: User) -> dict[str, Any]:
    """Ballots, statements and their votes, the plenary's questions and their votes, pre-event
    input and named feedback: what the person chose, asked or answered."""
    uid = user.id
    polls = _rows(_placed(select(PollVote.poll_id, PollVote.choice, PollVote.country, PollVote.organisation_type,
                                 PollVote.created_at, PollVote.updated_at, Poll.question, Poll.kind, Poll.anonymous)
                          .join(Poll, Poll.id == PollVote.poll_id).where(PollVote.user_id == uid)
                          .order_by(PollVote.created_at, PollVote.id),
                          consultation=Poll.consultation_id, topic=Poll.topic_id, room=Poll.room_id))
    options = dict(db.session.execute(
        select(PollOption.id, PollOption.label).join(PollVote, PollVote.poll_id == PollOption.poll_id)
        .where(PollVote.user_id == uid)).all())
    statements = _rows(_placed(
        select(Statement.id, Statement.board_id, Statement.text, Statement.status, Statement.seed,
               Statement.created_at, Statement.moderated_at, Statement.rejected_reason, Statement.agree_count,
               Statement.disagree_count, Statement.pass_count)
        .join(OpinionBoard, OpinionBoard.id == Statement.board_id).where(Statement.author_id == uid)
        .order_by(Statement.created_at, Statement.id), consultation=OpinionBoard.consultation_id))
    statement_votes = _rows(_placed(
        select(StatementVote.statement_id, StatementVote.value, StatementVote.created_at, StatementVote.updated_at,
               Statement.text).join(Statement, Statement.id == StatementVote.statement_id)
        .join(OpinionBoard, OpinionBoard.id == StatementVote.board_id).where(StatementVote.user_id == uid)
        .order_by(StatementVote.created_at, StatementVote.id), consultation=OpinionBoard.consultation_id))
    questions = _rows(_placed(
        select(Question.id, Question.body, Question.status, Question.anonymous, Question.vote_count,
               Question.created_at, Question.answered_at, Question.dismissed_reason)
        .where(Question.author_id == uid).order_by(Question.created_at, Question.id), room=Question.room_id))
    question_votes = _rows(_placed(
        select(QuestionVote.question_id, QuestionVote.created_at)
        .join(Question, Question.id == QuestionVote.question_id)
        .where(QuestionVote.user_id == uid).order_by(QuestionVote.created_at, QuestionVote.id),
        room=Question.room_id))
    answers = _rows(_placed(
        select(PreEventAnswer.id, PreEventAnswer.question_id, PreEventAnswer.body, PreEventAnswer.endorsement_count,
               PreEventAnswer.created_at, PreEventAnswer.updated_at, PreEventQuestion.label, PreEventQuestion.kind)
        .join(PreEventQuestion, PreEventQuestion.id == PreEventAnswer.question_id)
        .where(PreEventAnswer.author_id == uid).order_by(PreEventAnswer.created_at, PreEventAnswer.id),
        room=PreEventQuestion.room_id, event=PreEventQuestion.event_id))
    answer_endorsements = _rows(_placed(
        select(PreEventEndorsement.answer_id, PreEventEndorsement.created_at, PreEventQuestion.label)
        .join(PreEventAnswer, PreEventAnswer.id == PreEventEndorsement.answer_id)
        .join(PreEventQuestion, PreEventQuestion.id == PreEventAnswer.question_id)
        .where(PreEventEndorsement.user_id == uid).order_by(PreEventEndorsement.created_at, PreEventEndorsement.id),
        room=PreEventQuestion.room_id, event=PreEventQuestion.event_id))
    feedback = _rows(_placed(
        select(FeedbackAnswer.overall, FeedbackAnswer.room_id, FeedbackAnswer.room_rating, FeedbackAnswer.comments,
               FeedbackForm.questions, Room.title.label("rated_room_title"))
        .outerjoin(FeedbackForm, FeedbackForm.event_id == FeedbackAnswer.event_id)
        .outerjoin(Room, Room.id == FeedbackAnswer.room_id)
        .where(FeedbackAnswer.author_id == uid).order_by(FeedbackAnswer.event_id), event=FeedbackAnswer.event_id))
    answered = _rows(_placed(select(FeedbackSubmission.event_id).where(FeedbackSubmission.user_id == uid)
                             .order_by(FeedbackSubmission.event_id), event=FeedbackSubmission.event_id))
    return {
        "poll_votes": [{
            "poll_id": r.poll_id, "question": r.question, "poll_kind": _code(r.kind), "anonymous_poll": r.anonymous,
            "place": place_of(r), "choice": r.choice, "choice_in_words": _choice(r.choice, options),
            "country_when_voting": r.country, "organisation_type_when_voting": r.organisation_type,
            "created_at": iso(r.created_at), "updated_at": iso(r.updated_at)} for r in polls],
        "statements": [{
            "id": r.id, "board_id": r.board_id, "place": place_of(r), "text": r.text, "status": _code(r.status),
            "seed": r.seed, "created_at": iso(r.created_at), "moderated_at": iso(r.moderated_at),
            "rejected_reason": r.rejected_reason,
            "votes": {"agree": r.agree_count, "disagree": r.disagree_count, "pass": r.pass_count}} for r in statements],
        "statement_votes": [{
            "statement_id": r.statement_id, "statement": r.text, "place": place_of(r), "value": r.value,
            "vote": STATEMENT_VALUES.get(r.value, ""), "created_at": iso(r.created_at),
            "updated_at": iso(r.updated_at)} for r in statement_votes],
        "plenary_questions": [{
            "id": r.id, "place": place_of(r), "body": r.body, "status": _code(r.status), "anonymous": r.anonymous,
            "votes": r.vote_count, "created_at": iso(r.created_at), "answered_at": iso(r.answered_at),
            "dismissed_reason": r.dismissed_reason} for r in questions],
        "plenary_question_votes": [{"question_id": r.question_id, "place": place_of(r),
                                    "created_at": iso(r.created_at)} for r in question_votes],
        "pre_event_answers": [{
            "id": r.id, "question_id": r.question_id, "question": r.label, "question_kind": _code(r.kind),
            "place": place_of(r), "body": r.body, "endorsements": r.endorsement_count,
            "created_at": iso(r.created_at), "updated_at": iso(r.updated_at)} for r in answers],
        "pre_event_endorsements": [{"answer_id": r.answer_id, "question": r.label, "place": place_of(r),
                                    "created_at": iso(r.created_at)} for r in answer_endorsements],
        # Only the answers the person chose to give with their name: an anonymous answer holds
        # no link to whoever gave it (docs/feedback.md), so no one can find it for them.
        "named_feedback_answers": [{
            "place": place_of(r), "overall": r.overall, "room_id": r.room_id, "room_title": r.rated_room_title,
            "room_rating": r.room_rating,
            "comments": [{"question": question, "answer": answer}
                         for question, answer in zip(list(r.questions or []), list(r.comments or []), strict=False)]}
            for r in feedback],
        "feedback_forms_answered": [{"place": place_of(r)} for r in answered],
    }


# --- events.json ---------------------------------------------------------------------------

def events(user: User) -> dict[str, Any]:
    """Registrations and placements, co-moderation, raised hands and key takeaways."""
    uid = user.id
    members = _rows(_placed(
        select(EventMember.event_id, EventMember.role, EventMember.registered_at, EventMember.attended_at,
               Event.starts_at, Event.ends_at, Event.status, Room.title.label("placed_room_title"),
               EventMember.room_id).join(Event, Event.id == EventMember.event_id)
        .outerjoin(Room, Room.id == EventMember.room_id)
        .where(EventMember.user_id == uid).order_by(EventMember.registered_at, EventMember.id),
        event=EventMember.event_id))
    moderators = _rows(_placed(select(Moderator.id).where(Moderator.user_id == uid).order_by(Moderator.id),
                               room=Moderator.room_id))
    topics = _rows(_placed(select(Moderator.id).join(Topic, Topic.id == Moderator.topic_id)
                           .where(Moderator.user_id == uid).order_by(Moderator.id),
                           consultation=Topic.consultation_id, topic=Moderator.topic_id))
    hands = _rows(_placed(select(HandRaise.raised_at, HandRaise.floor_given_at, HandRaise.lowered_at)
                          .where(HandRaise.user_id == uid).order_by(HandRaise.raised_at, HandRaise.id),
                          room=HandRaise.room_id))
    takeaway_columns = (Takeaway.id, Takeaway.position, Takeaway.body, Takeaway.source_post_id, Takeaway.created_at,
                        Takeaway.updated_at, Takeaway.deleted_at)
    credited = _rows(_placed(select(*takeaway_columns).where(Takeaway.credited_user_id == uid)
                             .order_by(Takeaway.created_at, Takeaway.id), room=Takeaway.room_id))
    written = _rows(_placed(select(*takeaway_columns).where(Takeaway.created_by_id == uid)
                            .order_by(Takeaway.created_at, Takeaway.id), room=Takeaway.room_id))
    revisions = _rows(_placed(select(TakeawayRevision.takeaway_id, TakeawayRevision.body, TakeawayRevision.replaced_at)
                              .join(Takeaway, Takeaway.id == TakeawayRevision.takeaway_id)
                              .where(TakeawayRevision.editor_id == uid)
                              .order_by(TakeawayRevision.replaced_at, TakeawayRevision.id), room=Takeaway.room_id))

    def takeaway(r) -> dict[str, Any]:
        return {"id": r.id, "place": place_of(r), "position": r.position, "body_markdown": r.body,
                "source_post_id": r.source_post_id, "created_at": iso(r.created_at),
                "updated_at": iso(r.updated_at), "deleted_at": iso(r.deleted_at)}

    return {
        "registrations": [{
            "place": place_of(r), "event_status": _code(r.status), "starts_at": iso(r.starts_at),
            "ends_at": iso(r.ends_at), "role": _code(r.role), "room_id": r.room_id, "room_title": r.placed_room_title,
            "registered_at": iso(r.registered_at), "attended": r.attended_at is not None,
            "attended_at": iso(r.attended_at)} for r in members],
        "co_moderation": [{"place": place_of(r)} for r in moderators + topics],
        "raised_hands": [{"place": place_of(r), "raised_at": iso(r.raised_at), "floor_given_at": iso(r.floor_given_at),
                          "lowered_at": iso(r.lowered_at)} for r in hands],
        "takeaways_crediting_you": [takeaway(r) for r in credited],
        "takeaways_written": [takeaway(r) for r in written],
        "takeaway_versions_replaced": [{"takeaway_id": r.takeaway_id, "place": place_of(r), "body_markdown": r.body,
                                        "replaced_at": iso(r.replaced_at)} for r in revisions],
    }


# --- organising.json -----------------------------------------------------------------------

def organising(user: User) -> dict[str, Any]:
    """What the person set up or signs: consultations, events, hosting, polls, boards, report covers."""
    uid = user.id
    consultations = _rows(select(Consultation.id, Consultation.title, Consultation.status, Consultation.visibility,
                                 Consultation.created_at).where(Consultation.owner_id == uid)
                          .order_by(Consultation.created_at, Consultation.id))
    hosting = _rows(_placed(select(Host.name, Host.role, Host.organisation).where(Host.user_id == uid)
                            .order_by(Host.id), consultation=Host.consultation_id))
    owned_events = _rows(select(Event.id, Event.title, Event.status, Event.starts_at, Event.ends_at, Event.created_at)
                         .where(Event.owner_id == uid).order_by(Event.created_at, Event.id))
    polls = _rows(_placed(select(Poll.id, Poll.question, Poll.kind, Poll.status, Poll.created_at)
                          .where(Poll.created_by_id == uid).order_by(Poll.created_at, Poll.id),
                          consultation=Poll.consultation_id, topic=Poll.topic_id, room=Poll.room_id))
    boards = _rows(_placed(select(OpinionBoard.id, OpinionBoard.prompt, OpinionBoard.status, OpinionBoard.created_at)
                           .where(OpinionBoard.created_by_id == uid).order_by(OpinionBoard.id),
                           consultation=OpinionBoard.consultation_id))
    covers = _rows(_placed(select(ReportCover.id, ReportCover.updated_at).where(ReportCover.updated_by_id == uid)
                           .order_by(ReportCover.id), consultation=ReportCover.consultation_id,
                           event=ReportCover.event_id))
    return {
        "consultations": [{"id": r.id, "title": r.title, "status": _code(r.status), "visibility": _code(r.visibility),
                           "created_at": iso(r.created_at)} for r in consultations],
        "hosting": [{"place": place_of(r), "name": r.name, "role": r.role, "organisation": r.organisation}
                    for r in hosting],
        "events": [{"id": r.id, "title": r.title, "status": _code(r.status), "starts_at": iso(r.starts_at),
                    "ends_at": iso(r.ends_at), "created_at": iso(r.created_at)} for r in owned_events],
        "polls_created": [{"id": r.id, "question": r.question, "poll_kind": _code(r.kind), "status": _code(r.status),
                           "place": place_of(r), "created_at": iso(r.created_at)} for r in polls],
        "statement_boards_created": [{"id": r.id, "prompt": r.prompt, "status": _code(r.status), "place": place_of(r),
                                      "created_at": iso(r.created_at)} for r in boards],
        "report_covers_last_edited": [{"id": r.id, "place": place_of(r), "updated_at": iso(r.updated_at)}
                                      for r in covers],
    }


# --- notifications.json --------------------------------------------------------------------

def notifications(user: User) -> dict[str, Any]:
    from forum.services.notifications import settings_of

    uid = user.id
    notices = _rows(select(Notification.id, Notification.kind, Notification.count, Notification.action,
                           Notification.reason, Notification.post_id, Notification.consultation_id,
                           Notification.topic_id, Notification.event_id, Notification.room_id, Notification.poll_id,
                           Notification.created_at, Notification.updated_at, Notification.read_at,
                           Notification.emailed_at)
                    .where(Notification.user_id == uid).order_by(Notification.created_at, Notification.id))
    follows = _rows(_placed(select(Follow.thread_id, Follow.active, Follow.created_at)
                            .where(Follow.user_id == uid).order_by(Follow.created_at, Follow.id),
                            consultation=Follow.consultation_id, topic=Follow.topic_id))
    # A followed thread's place is its response's: joined on its own.
    thread_places = {r.thread_id: place_of(r) for r in _rows(_placed(
        select(Follow.thread_id).join(Post, Post.id == Follow.thread_id).where(Follow.user_id == uid),
        consultation=Post.consultation_id, topic=Post.topic_id, room=Post.room_id))}
    return {
        "notifications": [{
            "id": r.id, "kind": _code(r.kind), "count": r.count, "action": r.action, "reason": r.reason,
            "about": {key: value for key, value in (
                ("post_id", r.post_id), ("consultation_id", r.consultation_id), ("topic_id", r.topic_id),
                ("event_id", r.event_id), ("room_id", r.room_id), ("poll_id", r.poll_id)) if value is not None},
            "created_at": iso(r.created_at), "updated_at": iso(r.updated_at), "read_at": iso(r.read_at),
            "emailed_at": iso(r.emailed_at)} for r in notices],
        "follows": [{
            "what": ("thread" if r.thread_id is not None else "topic" if r.place_topic_id is not None
                     else "consultation"),
            "thread_id": r.thread_id,
            "place": thread_places.get(r.thread_id) if r.thread_id is not None else place_of(r),
            "active": r.active, "created_at": iso(r.created_at)} for r in follows],
        "settings": {
            "kinds": {_code(kind): on for kind, on in settings_of(user).items()},
            "email_immediate": user.email_immediate,
            "digest_frequency": user.digest_frequency,
            "last_digest_at": iso(user.last_digest_at),
        },
    }


# --- moderation.json -----------------------------------------------------------------------

def _action(r, uid: int, *, about_you: bool) -> dict[str, Any]:
    record = {"id": r.id, "action": r.action, "by_you": r.actor_id == uid, "event_id": r.event_id,
              "consultation_id": r.consultation_id, "room_id": r.room_id, "post_id": r.post_id,
              "reason": r.reason, "details": r.details or {}, "created_at": iso(r.created_at)}
    if not about_you:  # a line the person wrote: whom it was about (by id) is theirs to know
        record["target_user_id"] = r.target_user_id
    return record


def moderation(user: User) -> dict[str, Any]:
    """The moderation log's lines about the person (on them or on their posts; who acted is
    not named, as on the site) and those they wrote as a moderator; reports they made or
    resolved, mutes, the floor given, posts hidden and statements moderated."""
    uid = user.id
    columns = (ModerationAction.id, ModerationAction.action, ModerationAction.actor_id, ModerationAction.event_id,
               ModerationAction.consultation_id, ModerationAction.room_id, ModerationAction.post_id,
               ModerationAction.target_user_id, ModerationAction.reason, ModerationAction.details,
               ModerationAction.created_at)
    own_posts = select(Post.id).where(Post.author_id == uid)
    about = _rows(select(*columns).where(or_(ModerationAction.target_user_id == uid,
                                             ModerationAction.post_id.in_(own_posts)))
                  .order_by(ModerationAction.created_at, ModerationAction.id))
    taken = _rows(select(*columns).where(ModerationAction.actor_id == uid)
                  .order_by(ModerationAction.created_at, ModerationAction.id))
    flags = _rows(select(Flag.post_id, Flag.reason, Flag.created_at, Flag.resolved_at)
                  .where(Flag.user_id == uid).order_by(Flag.created_at, Flag.id))
    resolved = _rows(select(Flag.post_id, Flag.created_at, Flag.resolved_at)
                     .where(Flag.resolved_by_id == uid).order_by(Flag.resolved_at, Flag.id))
    mute_columns = (Mute.until, Mute.reason, Mute.created_at, Mute.user_id)
    mutes = _rows(_placed(select(*mute_columns).where(Mute.user_id == uid).order_by(Mute.created_at, Mute.id),
                          room=Mute.room_id))
    mutes_given = _rows(_placed(select(*mute_columns).where(Mute.created_by_id == uid)
                                .order_by(Mute.created_at, Mute.id), room=Mute.room_id))
    floor = _rows(_placed(select(HandRaise.user_id, HandRaise.floor_given_at).where(HandRaise.floor_given_by_id == uid)
                          .order_by(HandRaise.floor_given_at, HandRaise.id), room=HandRaise.room_id))
    hidden = _rows(select(Post.id, Post.hidden_at, Post.hidden_reason).where(Post.hidden_by_id == uid)
                   .order_by(Post.hidden_at, Post.id))
    statements = _rows(select(Statement.id, Statement.status, Statement.moderated_at, Statement.rejected_reason)
                       .where(Statement.moderated_by_id == uid).order_by(Statement.moderated_at, Statement.id))
    return {
        "actions_about_you": [_action(r, uid, about_you=True) for r in about],
        "actions_you_took": [_action(r, uid, about_you=False) for r in taken],
        "reports_you_made": [{"post_id": r.post_id, "reason": r.reason, "created_at": iso(r.created_at),
                              "resolved_at": iso(r.resolved_at)} for r in flags],
        "reports_you_resolved": [{"post_id": r.post_id, "created_at": iso(r.created_at),
                                  "resolved_at": iso(r.resolved_at)} for r in resolved],
        "mutes_on_you": [{"place": place_of(r), "until": iso(r.until), "reason": r.reason,
                          "created_at": iso(r.created_at)} for r in mutes],
        "mutes_you_gave": [{"place": place_of(r), "user_id": r.user_id, "until": iso(r.until), "reason": r.reason,
                            "created_at": iso(r.created_at)} for r in mutes_given],
        "floor_you_gave": [{"place": place_of(r), "user_id": r.user_id, "floor_given_at": iso(r.floor_given_at)}
                           for r in floor],
        "posts_you_hid": [{"post_id": r.id, "hidden_at": iso(r.hidden_at), "reason": r.hidden_reason}
                          for r in hidden],
        "statements_you_moderated": [{"statement_id": r.id, "status": _code(r.status),
                                      "moderated_at": iso(r.moderated_at), "rejected_reason": r.rejected_reason}
                                     for r in statements],
    }


# --- login_records.json, api_tokens.json, reports.json ---------------------------------------

def login_records(user: User) -> dict[str, Any]:
    rows = _rows(select(LoginRecord.at, LoginRecord.ip_address, LoginRecord.user_agent)
                 .where(LoginRecord.user_id == user.id).order_by(LoginRecord.at, LoginRecord.id))
    return {"logins": [{"at": iso(r.at), "ip_address": r.ip_address, "user_agent": r.user_agent} for r in rows]}


def api_tokens(user: User) -> dict[str, Any]:
    """The tokens' names and dates; never their hashes (nor the tokens, which are not kept)."""
    rows = _rows(select(ApiToken.id, ApiToken.name, ApiToken.prefix, ApiToken.scope, ApiToken.created_at,
                        ApiToken.expires_at, ApiToken.last_used_at, ApiToken.revoked_at)
                 .where(ApiToken.user_id == user.id).order_by(ApiToken.created_at, ApiToken.id))
    return {"api_tokens": [{"id": r.id, "name": r.name, "prefix": r.prefix, "scope": _code(r.scope),
                            "created_at": iso(r.created_at), "expires_at": iso(r.expires_at),
                            "last_used_at": iso(r.last_used_at), "revoked_at": iso(r.revoked_at)} for r in rows]}


def reports(user: User) -> dict[str, Any]:
    """The report files and copies of data the person asked for: what, when, their state (the
    files themselves are not copied in)."""
    rows = _rows(select(ReportFile.id, ReportFile.kind, ReportFile.object_id, ReportFile.title, ReportFile.format,
                        ReportFile.language, ReportFile.timezone, ReportFile.status, ReportFile.filename,
                        ReportFile.size, ReportFile.created_at, ReportFile.finished_at)
                 .where(ReportFile.user_id == user.id).order_by(ReportFile.created_at, ReportFile.id))
    return {"report_files": [{"id": r.id, "kind": r.kind, "object_id": r.object_id, "title": r.title,
                              "format": r.format, "language": r.language, "timezone": r.timezone,
                              "status": _code(r.status), "filename": r.filename, "size": r.size,
                              "created_at": iso(r.created_at), "finished_at": iso(r.finished_at)} for r in rows]}


# --- The archive ---------------------------------------------------------------------------

PARTS: dict[str, Callable[[User], dict[str, Any]]] = {
    "profile.json": lambda user: {"profile": profile(user)},
    "endorsements.json": endorsements,
    "votes.json": votes,
    "events.json": events,
    "organising.json": organising,
    "notifications.json": notifications,
    "moderation.json": moderation,
    "login_records.json": login_records,
    "api_tokens.json": api_tokens,
    "reports.json": reports,
}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _head(name: str, user: User, generated_at: datetime) -> dict[str, Any]:
    return {"format": FORMAT, "version": FORMAT_VERSION, "file": name, "user_id": user.id,
            "generated_at": iso(generated_at)}


def write_archive(user: User, path: Path, *, timezone_name: str, generated_at: datetime,
                  step: Callable[[], None] | None = None) -> None:
    """The ZIP file at `path`: FILES and index.html (in the current locale; times in
    `timezone_name`). `step()` is called between parts (the job gives way there)."""
    from forum.exports import personal_index

    step = step or (lambda: None)
    parts: dict[str, dict[str, Any]] = {}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        entry = zipfile.ZipInfo("posts.json", date_time=time.localtime()[:6])
        entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16  # as writestr's
        with archive.open(entry, "w", force_zip64=True) as out:
            posts = write_posts(user, out, _head("posts.json", user, generated_at))
        step()
        for name, collect in PARTS.items():
            parts[name] = collect(user)
            body = {**_head(name, user, generated_at), **parts[name]}
            archive.writestr(name, json.dumps(body, ensure_ascii=False, indent=2) + "\n")
            step()
        archive.writestr("index.html", personal_index.render(user, parts, posts, timezone_name=timezone_name,
                                                             generated_at=generated_at))
