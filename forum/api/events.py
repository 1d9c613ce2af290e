"""Events: the list a caller may see, one event with its agenda and rooms, and its
report-back (each closed breakout room's key takeaways, as the plenary shows them)."""
from __future__ import annotations

import marshmallow as ma
from flask_login import current_user

from forum import permissions
from forum.api import Blueprint
from forum.api.common import CursorArgs, cursor_value, page_schema, refusals
from forum.api.rooms import PHASES
from forum.services import event_setup
from forum.services import rooms as room_service

bp = Blueprint("events", __name__, url_prefix="/events",
               description="Live events: a plenary and breakout rooms, their agenda, phases and report-back.")


class EventCardSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    starts_at = ma.fields.DateTime(required=True)
    ends_at = ma.fields.DateTime(required=True)
    timezone = ma.fields.String(required=True, metadata={
        "description": "The time zone the organiser plans in (times are given in UTC)."})
    status = ma.fields.Function(lambda e: e.status.value, required=True,
                                metadata={"enum": ["draft", "published", "ended"]})
    when = ma.fields.Function(lambda e: event_setup.when(e), required=True,
                              metadata={"enum": ["upcoming", "live", "past"]})


class RoomSummarySchema(ma.Schema):
    """A room as the event's page lists it (to everyone who may see the event)."""
    id = ma.fields.Integer(required=True)
    position = ma.fields.Integer(required=True, metadata={"description": "0: the plenary; 1, 2, ...: breakout rooms."})
    is_plenary = ma.fields.Boolean(required=True)
    title = ma.fields.String(required=True, metadata={"description": "The room's topic."})
    description = ma.fields.String(required=True)
    phase = ma.fields.String(required=True, metadata={"enum": PHASES})
    capacity = ma.fields.Integer(required=True, allow_none=True)
    participants = ma.fields.Integer(required=True, metadata={"description": "Participants placed in it."})
    moderator_names = ma.fields.List(ma.fields.String(), required=True)
    readable = ma.fields.Boolean(required=True, metadata={
        "description": "Whether the caller may read its discussion (GET /rooms/{id})."})


class ViewerSchema(ma.Schema):
    registered_as = ma.fields.String(required=True, allow_none=True,
                                     metadata={"enum": ["participant", "observer", None]})
    own_room_id = ma.fields.Integer(required=True, allow_none=True, metadata={
        "description": "The breakout room the caller belongs in (placed there, or its co-moderator)."})
    organiser = ma.fields.Boolean(required=True)


class EventSchema(EventCardSchema):
    description = ma.fields.String(required=True, metadata={"description": "Markdown."})
    description_html = ma.fields.String(required=True)
    agenda = ma.fields.String(required=True, metadata={"description": "Markdown."})
    agenda_html = ma.fields.String(required=True)
    speakers = ma.fields.List(ma.fields.String(), required=True)
    assignment_mode = ma.fields.Function(lambda e: e.assignment_mode.value, required=True,
                                         metadata={"enum": ["self_select", "manual", "balanced"]})
    rooms = ma.fields.List(ma.fields.Nested(RoomSummarySchema), required=True,
                           metadata={"description": "The plenary first, then the breakout rooms in order."})
    viewer = ma.fields.Nested(ViewerSchema, required=True)


class ReportTakeawaySchema(ma.Schema):
    body_html = ma.fields.String(required=True)
    credited = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "The participant whose message it came from, while that message stands."})


class ReportCardSchema(ma.Schema):
    room_id = ma.fields.Integer(required=True)
    position = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    moderators = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "Their names."})
    takeaways = ma.fields.List(ma.fields.Nested(ReportTakeawaySchema), required=True)


class ReportBackSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ReportCardSchema), required=True,
                           metadata={"description": "A card per closed breakout room, in room order."})


EventPage = page_schema(EventCardSchema, "EventPage")


@bp.get("")
@bp.arguments(CursorArgs, location="query", as_kwargs=True)
@bp.response(200, EventPage)
@refusals(400, 401)
def list_events(cursor, limit):
    """Events the caller may see (published and ended ones; drafts for their organisers and
    co-moderators), by start time."""
    offset = cursor_value(cursor)  # this list's cursor is how many came before
    found = event_setup.list_events(current_user, offset=offset, limit=limit + 1)
    return {"items": found[:limit], "next_cursor": str(offset + limit) if len(found) > limit else None}


@bp.get("/<int:event_id>")
@bp.response(200, EventSchema)
@refusals(401, 404)
def get_event(event_id: int):
    """One event: its description, agenda, speakers and rooms (each room's topic, phase,
    moderators and whether the caller may read it), as its page shows them."""
    event = permissions.access_event(current_user, event_id)
    for room in event.breakout_rooms:
        room_service.close_if_due(room)
    participation = event_setup.participation(event).rooms
    figures = {f.room.id: f.total for f in participation if f.room is not None}
    everyone = sum(f.total for f in participation)  # the plenary's: placed or not
    member = permissions.membership(current_user, event)
    own_room = permissions.own_room(current_user, event)
    rooms = [{"id": r.id, "position": r.position, "is_plenary": r.is_plenary, "title": r.title,
              "description": r.description, "phase": r.phase.value, "capacity": r.capacity,
              "participants": everyone if r.is_plenary else figures.get(r.id, 0),
              "moderator_names": [m.user.display_name for m in r.moderators],
              "readable": permissions.can_view_room(current_user, r)} for r in event.rooms]
    return _Event(event, rooms=rooms, speakers=event.speaker_list, viewer={
        "registered_as": member.role.value if member else None,
        "own_room_id": own_room.id if own_room else None,
        "organiser": permissions.is_event_organiser(current_user, event)})


class _Event:
    """An event with what the caller sees of it, read by EventSchema."""

    def __init__(self, event, **extra):
        self._event = event
        self.__dict__.update(extra)

    def __getattr__(self, name):
        return getattr(self._event, name)


@bp.get("/<int:event_id>/takeaways")
@bp.response(200, ReportBackSchema)
@refusals(401, 403, 404)
def report_back(event_id: int):
    """The report-back: each closed breakout room's key takeaways, as the plenary shows them
    (to whoever may read the plenary)."""
    event = permissions.access_event(current_user, event_id)
    permissions.access_room(current_user, event.plenary.id, event.id)  # the plenary's readers only
    for room in event.breakout_rooms:
        room_service.close_if_due(room)
    return {"items": room_service.report_back(event)}
