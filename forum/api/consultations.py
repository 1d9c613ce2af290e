"""Consultations: the list a caller may see, and one consultation with its topics."""
from __future__ import annotations

import marshmallow as ma
from flask_login import current_user

from forum import permissions
from forum.api import Blueprint
from forum.api.common import CursorArgs, ErrorSchema, cursor_value, page_schema
from forum.models.consultations import ConsultationStatus, Visibility
from forum.services import consultations as service

bp = Blueprint("consultations", __name__, url_prefix="/consultations",
               description="Online consultations: a question, its brief, tags and numbered topics.")


class TopicSchema(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"example": 12})
    position = ma.fields.Integer(required=True, metadata={"description": "The topic's number, from 1.", "example": 1})
    title = ma.fields.String(required=True, metadata={"example": "Access to language courses"})
    description = ma.fields.String(required=True, metadata={"example": "What works, and what stops people?"})
    guiding_questions = ma.fields.List(ma.fields.String(), required=True, metadata={
        "example": ["Which courses reached the people they were meant for?"]})
    is_proposal = ma.fields.Boolean(required=True, metadata={
        "description": "A proposal: responses to it take a stance (agree, disagree, ...).", "example": False})


class ConsultationSchema(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"example": 3})
    title = ma.fields.String(required=True, metadata={
        "example": "What should EU-funded employment support for migrants do differently?"})
    brief = ma.fields.String(required=True, metadata={
        "description": "Markdown, as the organiser wrote it.", "example": "## Context\n\nCohesion policy funds..."})
    brief_html = ma.fields.String(required=True, metadata={
        "description": "The brief as sanitised HTML, as the page shows it.",
        "example": "<h2>Context</h2>\n<p>Cohesion policy funds...</p>"})
    status = ma.fields.Enum(ConsultationStatus, by_value=True, required=True, metadata={
        "type": "string", "example": "open",
        "description": "draft (its organisers only), open (taking responses) or closed (readable)."})
    visibility = ma.fields.Enum(Visibility, by_value=True, required=True, metadata={
        "type": "string", "example": "public",
        "description": "public (anyone, visitors too) or members (signed-in people only)."})
    opens_at = ma.fields.DateTime(required=True, allow_none=True, metadata={
        "description": "When it opens by itself (UTC), if set."})
    closes_at = ma.fields.DateTime(required=True, allow_none=True, metadata={
        "description": "When it closes by itself (UTC), if set."})
    tags = ma.fields.Function(lambda c: [t.name for t in c.tags], required=True, metadata={
        "type": "array", "items": {"type": "string"}, "example": ["employment", "esf-plus"]})
    topics = ma.fields.List(ma.fields.Nested(TopicSchema), required=True, metadata={
        "description": "In their order (position)."})


class ConsultationCardSchema(ConsultationSchema):
    responses = ma.fields.Integer(required=True, metadata={
        "description": "Responses to its topics (replies not counted), as its card on the home page shows.",
        "example": 42})
    participants = ma.fields.Integer(required=True, metadata={
        "description": "People who responded or replied, as its card shows.", "example": 17})


class ConsultationListArgs(CursorArgs):
    tag = ma.fields.String(load_default=None, validate=ma.validate.Length(max=41), metadata={
        "description": "Only consultations with this tag (as the page's filter: employment, #employment)."})
    phase = ma.fields.String(load_default=None, validate=ma.validate.OneOf(["open", "closed"]), metadata={
        "description": "Only open (taking responses) or only closed consultations."})


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
