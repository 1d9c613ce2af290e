"""Polls: a room's polls, one poll with its options (and its results and breakdowns where the
caller may see them, as the poll's page shows them), and voting, by the same rules as the
poll's form and the socket's `vote`."""
from __future__ import annotations

import marshmallow as ma
from flask_login import current_user

from forum import permissions
from forum.api import Blueprint
from forum.api.common import refusals
from forum.api.rooms import access
from forum.models.base import utcnow
from forum.models.polls import PollKind
from forum.ratelimits import counts_as_write
from forum.services import polls as service
from forum.services import tally
from forum.services.errors import ValidationError

bp = Blueprint("polls", __name__, url_prefix="",
               description="Polls in an event's rooms (and consultations): options, results, voting.")

BALLOT = {
    "description": (
        "The ballot, by the poll's kind, with the options' ids: single: an id (or [id]); multiple: "
        "[id, ...] (at most max_choices); score: {\"id\": score, ...} on the poll's scale (options "
        "left out are not rated); ranked: [id, ...], best first (or {\"id\": rank, ...}); dots: "
        "{\"id\": points, ...}, at most the poll's points in all."),
    "oneOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}},
              {"type": "object", "additionalProperties": {"type": "integer"}}],
}


class OptionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    position = ma.fields.Integer(required=True)
    label = ma.fields.String(required=True)
    description = ma.fields.String(required=True)


class PollSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    room_id = ma.fields.Integer(required=True, allow_none=True)
    consultation_id = ma.fields.Integer(required=True, allow_none=True)
    topic_id = ma.fields.Integer(required=True, allow_none=True)
    kind = ma.fields.String(required=True, metadata={"enum": [k.value for k in PollKind]})
    question = ma.fields.String(required=True)
    description = ma.fields.String(required=True, metadata={"description": "Markdown."})
    description_html = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={
        "enum": ["draft", "open", "closed"], "description": "As readers see it now (closed at closes_at)."})
    takes_votes = ma.fields.Boolean(required=True)
    opens_at = ma.fields.DateTime(required=True, allow_none=True)
    closes_at = ma.fields.DateTime(required=True, allow_none=True)
    closed_at = ma.fields.DateTime(required=True, allow_none=True)
    max_choices = ma.fields.Integer(required=True, allow_none=True, metadata={
        "description": "multiple: at most this many."})
    scale_min = ma.fields.Integer(required=True)
    scale_max = ma.fields.Integer(required=True)
    scale_labels = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True, metadata={
        "description": "score: words for some values of the scale."})
    points = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "dots: the points to spread."})
    votes_changeable = ma.fields.Boolean(required=True)
    anonymous = ma.fields.Boolean(required=True)
    results_shown = ma.fields.String(required=True, metadata={"enum": ["live", "after_vote", "after_close"]})
    breakdown_published = ma.fields.Boolean(required=True)
    options = ma.fields.List(ma.fields.Nested(OptionSchema), required=True)
    own_vote = ma.fields.Raw(required=True, allow_none=True, metadata={
        **BALLOT, "description": "The caller's ballot, as stored (see the vote's choice)."})
    can_vote = ma.fields.Boolean(required=True, metadata={
        "description": "The caller may vote now (or change their vote)."})
    results = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(), required=True, allow_none=True,
                             metadata={"description": "null unless the caller may see the results now. By kind "
                                       "(docs/polls.md): kind, voters, and options [{id, votes, share}] "
                                       "(single, multiple), [{id, ratings, mean, distribution}] (score), "
                                       "[{id, points, share}] and points_given (dots); borda, rounds, winner, "
                                       "tied (ranked)."})
    breakdowns = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(), required=True, allow_none=True,
                                metadata={"description": "The results by country and by organisation type "
                                          "(groups of fewer than 5 voters suppressed); null unless shown "
                                          "to the caller."})


class PollList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PollSchema), required=True, metadata={"description": "Newest first."})


class VoteInput(ma.Schema):
    choice = ma.fields.Raw(required=True, allow_none=False, metadata=BALLOT)


def poll_view(poll) -> dict:
    """The poll as its page shows it to the caller."""
    now = utcnow()
    vote = service.own_vote(current_user, poll)
    results = breakdowns = None
    if permissions.can_see_results(current_user, poll):
        counted = service.ballots(poll)
        results = service.poll_results(poll, counted)
        if permissions.can_see_breakdown(current_user, poll):
            breakdowns = service.poll_breakdowns(poll, counted)
    return {
        "id": poll.id, "room_id": poll.room_id, "consultation_id": poll.consultation_id, "topic_id": poll.topic_id,
        "kind": poll.kind.value, "question": poll.question, "description": poll.description,
        "description_html": poll.description_html, "status": poll.phase(now).value,
        "takes_votes": poll.takes_votes(now), "opens_at": poll.opens_at, "closes_at": poll.closes_at,
        "closed_at": poll.closed_at, "max_choices": poll.max_choices, "scale_min": poll.scale_min,
        "scale_max": poll.scale_max, "scale_labels": poll.scale_labels or {}, "points": poll.points,
        "votes_changeable": poll.votes_changeable, "anonymous": poll.anonymous,
        "results_shown": poll.results_shown.value, "breakdown_published": poll.breakdown_published,
        "options": list(poll.options), "own_vote": vote.choice if vote is not None else None,
        "can_vote": permissions.can_vote(current_user, poll) and (vote is None or poll.votes_changeable),
        "results": results, "breakdowns": breakdowns,
    }


@bp.get("/rooms/<int:room_id>/polls")
@bp.response(200, PollList)
@refusals(401, 403, 404)
def room_polls(room_id: int):
    """The room's polls the caller may see (drafts for those who run them), newest first."""
    return {"items": [poll_view(poll) for poll in service.polls_of(current_user, access(room_id))]}


@bp.get("/polls/<int:poll_id>")
@bp.response(200, PollSchema)
@refusals(401, 404)
def get_poll(poll_id: int):
    """One poll: its options, the caller's ballot, and its results and breakdowns where the
    poll's settings show them to the caller (live, after voting, or after it closes)."""
    return poll_view(permissions.access_poll(current_user, poll_id))


@bp.post("/polls/<int:poll_id>/votes")
@counts_as_write
@bp.arguments(VoteInput)
@bp.response(201, PollSchema)
@refusals(400, 401, 403, 404, 429)
def vote(data, poll_id: int):
    """Vote (or change your vote, where the poll allows it; the same ballot again changes
    nothing). 403 when the poll is not open, or you have voted and votes cannot change."""
    poll = permissions.access_poll(current_user, poll_id)
    try:
        service.cast_vote(current_user, poll, data["choice"])
    except ValidationError as error:
        raise ValidationError(error.message, field=_ballot_field(error.field)) from None
    return poll_view(poll)


def _ballot_field(field: str | None) -> str:
    """The part of the ballot at fault: "choice", or "choice.<option id>" where the tally names
    one option's answer by its form field ("score-12", "rank-12", "points-12")."""
    prefix, _, option_id = (field or "").rpartition("-")
    if prefix in tally.OPTION_FIELDS.values() and option_id.isdigit():
        return f"choice.{option_id}"
    return "choice"
