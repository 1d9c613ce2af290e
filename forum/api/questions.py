"""The plenary's Q&A (docs/questions.md): its questions as the plenary's page lists them to
the caller, asking one (anonymously if you wish) and upvoting others'."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_login import current_user

from forum import permissions
from forum.api import Blueprint
from forum.api.common import PersonSchema, refusals
from forum.api.rooms import access
from forum.ratelimits import counts_as_write
from forum.services import questions as service
from forum.services.errors import NotFound

bp = Blueprint("questions", __name__, url_prefix="/rooms",
               description="The plenary's questions to its speakers: asking and upvoting.")


class QuestionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    body = ma.fields.String(required=True, metadata={"description": "Plain text."})
    status = ma.fields.String(required=True, metadata={"enum": ["pending", "published", "answered"]})
    anonymous = ma.fields.Boolean(required=True)
    author = ma.fields.Nested(PersonSchema, required=True, allow_none=True, metadata={
        "description": "null for an anonymous question, but to its author and the plenary's moderators."})
    votes = ma.fields.Integer(required=True)
    voted = ma.fields.Boolean(required=True, metadata={"description": "The caller upvoted it."})
    can_vote = ma.fields.Boolean(required=True)
    created_at = ma.fields.DateTime(required=True)
    answered_at = ma.fields.DateTime(required=True, allow_none=True)


class QuestionListSchema(ma.Schema):
    order = ma.fields.String(required=True, metadata={"enum": list(service.ORDERS)})
    open = ma.fields.List(ma.fields.Nested(QuestionSchema), required=True, metadata={
        "description": "Published, in the order asked for."})
    answered = ma.fields.List(ma.fields.Nested(QuestionSchema), required=True, metadata={
        "description": "The latest answered first."})
    pending = ma.fields.List(ma.fields.Nested(QuestionSchema), required=True, metadata={
        "description": "Waiting for approval: the caller's own (all of them for the moderators), oldest first."})


class QuestionListArgs(ma.Schema):
    order = ma.fields.String(load_default="votes", validate=ma.validate.OneOf(service.ORDERS))


class QuestionInput(ma.Schema):
    body = ma.fields.String(required=True, validate=ma.validate.Length(max=10_000))
    anonymous = ma.fields.Boolean(load_default=False, metadata={
        "description": "Your name is shown to the plenary's moderators only."})


def question_view(question, voted: set[int]) -> dict:
    named = permissions.can_see_question_author(current_user, question)
    return {"id": question.id, "body": question.body, "status": question.status.value,
            "anonymous": question.anonymous, "author": question.author if named else None,
            "votes": question.vote_count, "voted": question.id in voted,
            "can_vote": permissions.can_vote_question(current_user, question),
            "created_at": question.created_at, "answered_at": question.answered_at}


def _plenary(room_id: int):
    room = access(room_id)
    if not room.is_plenary:
        raise NotFound()  # only the plenary takes questions (as its page)
    return room


def _one(question) -> dict:
    return question_view(question, service.voted_by(current_user, [question.id]))


@bp.route("/<int:room_id>/questions")
class Questions(MethodView):
    decorators = [counts_as_write]

    @bp.arguments(QuestionListArgs, location="query", as_kwargs=True)
    @bp.response(200, QuestionListSchema)
    @refusals(400, 401, 403, 404)
    def get(self, room_id: int, order: str):
        """The plenary's questions the caller may see, by votes or most recent first."""
        listing = service.list_questions(current_user, _plenary(room_id), order)
        return {"order": listing.order, **{part: [question_view(q, listing.voted_ids) for q in getattr(listing, part)]
                                           for part in ("open", "answered", "pending")}}

    @bp.arguments(QuestionInput)
    @bp.response(201, QuestionSchema)
    @refusals(400, 401, 403, 404, 429)
    def post(self, data, room_id: int):
        """Ask the plenary's speakers a question (while the plenary is open or wrapping up); it
        waits for approval where the plenary's questions are pre-moderated."""
        room = _plenary(room_id)
        question = service.ask(current_user, room, data["body"], anonymous=data["anonymous"])
        return question_view(question, set())


@bp.route("/<int:room_id>/questions/<int:question_id>/vote")
class QuestionVote(MethodView):
    decorators = [counts_as_write]

    @bp.response(200, QuestionSchema)
    @refusals(401, 403, 404, 409, 429)
    def put(self, room_id: int, question_id: int):
        """Upvote a question (not your own; once: again changes nothing)."""
        room = _plenary(room_id)
        question = permissions.access_question(current_user, question_id, room)
        service.vote(current_user, question)
        return _one(question)

    @bp.response(200, QuestionSchema)
    @refusals(401, 403, 404, 409, 429)
    def delete(self, room_id: int, question_id: int):
        """Withdraw your upvote."""
        room = _plenary(room_id)
        question = permissions.access_question(current_user, question_id, room)
        service.withdraw_vote(current_user, question)
        return _one(question)
