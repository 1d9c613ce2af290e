"""Consultations: the list a caller may see, and one consultation with its topics."""
from __future__ import annotations

import marshmallow as ma
from flask_login import current_user

from forum import permissions
from forum.api import Blueprint
from forum.api.common import CursorArgs, ErrorSchema, cursor_value, page_schema
from forum.services import consultations as service

bp = Blueprint("consultations", __name__, url_prefix="/consultations",
               description="Online consultations: a question, its brief, tags and numbered topics.")


class TopicSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    position = ma.fields.Integer(required=True, metadata={"description": "The topic's number, from 1."})
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    guiding_questions = ma.fields.List(ma.fields.String(), required=True)
    is_proposal = ma.fields.Boolean(required=True, metadata={
        "description": "A proposal: responses to it take a stance (agree, disagree, ...)."})


class ConsultationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    brief = ma.fields.String(required=True, metadata={"description": "Markdown, as the organiser wrote it."})
    brief_html = ma.fields.String(required=True, metadata={"description": "The brief as sanitised HTML."})
    status = ma.fields.Function(lambda c: c.status.value, required=True,
                                metadata={"enum": ["draft", "open", "closed"]})
    visibility = ma.fields.Function(lambda c: c.visibility.value, required=True,
                                    metadata={"enum": ["public", "members"]})
    opens_at = ma.fields.DateTime(required=True, allow_none=True)
    closes_at = ma.fields.DateTime(required=True, allow_none=True)
    tags = ma.fields.Function(lambda c: [t.name for t in c.tags], required=True,
                              metadata={"type": "array", "items": {"type": "string"}})
    topics = ma.fields.List(ma.fields.Nested(TopicSchema), required=True)


class ConsultationCardSchema(ConsultationSchema):
    responses = ma.fields.Integer(required=True)
    participants = ma.fields.Integer(required=True)


class ConsultationListArgs(CursorArgs):
    tag = ma.fields.String(load_default=None, validate=ma.validate.Length(max=41))
    phase = ma.fields.String(load_default=None, validate=ma.validate.OneOf(["open", "closed"]))


ConsultationPage = page_schema(ConsultationCardSchema, "ConsultationPage")


@bp.get("")
@bp.arguments(ConsultationListArgs, location="query", as_kwargs=True)
@bp.response(200, ConsultationPage)
def list_consultations(cursor, limit, tag, phase):
    """Consultations the caller may see, newest first."""
    number = max(1, cursor_value(cursor))  # this list's cursor is a page number
    cards, total = service.list_consultations(current_user, tag=tag, phase=phase, page=number, per_page=limit)
    return {"items": [_Card(card) for card in cards],
            "next_cursor": str(number + 1) if number * limit < total else None}


class _Card:
    """A consultation with its figures, read by ConsultationCardSchema."""

    def __init__(self, card):
        self._consultation = card.consultation
        self.responses, self.participants = card.responses, card.participants

    def __getattr__(self, name):
        return getattr(self._consultation, name)


@bp.get("/<int:consultation_id>")
@bp.response(200, ConsultationSchema)
@bp.alt_response(404, schema=ErrorSchema, description="No such consultation, or the caller may not see it.")
def get_consultation(consultation_id: int):
    """One consultation, its brief and its topics."""
    return permissions.access_consultation(current_user, consultation_id)
