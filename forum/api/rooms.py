"""An event's room (the plenary or a breakout room): its state and figures, and the controls
its moderators have on the room's console: phase, lock, slow mode, pre-moderation, mutes and
key takeaways. Its messages are forum/api/messages.py; its polls forum/api/polls.py."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user

from forum import permissions
from forum.api import Blueprint
from forum.api.common import PersonSchema, refusals
from forum.extensions import db
from forum.models import User
from forum.models.events import RoomPhase
from forum.presence import presence
from forum.services import events, moderation, rooms
from forum.services import posts as post_service
from forum.services.errors import NotFound, PermissionDenied, ValidationError

bp = Blueprint("rooms", __name__, url_prefix="/rooms",
               description="An event's rooms: their state, and their moderators' controls.")

PHASES = [phase.value for phase in RoomPhase]


def access(room_id: int):
    """The room, if the caller may read it: 401 for a visitor, 403 for someone signed in who
    belongs elsewhere (the message says where), 404 for what does not exist or is a draft's.
    A wrap-up whose countdown has run out closes the room first, as its page does."""
    room = permissions.access_room(current_user, room_id)
    rooms.close_if_due(room)
    return room


def require_moderator(room) -> None:
    """For the controls whose target (a person, a message) is looked up before the service
    runs: a caller who may not moderate the room learns nothing about the target."""
    if not permissions.can_moderate_room(current_user, room):
        raise PermissionDenied()


# --- Schemas ------------------------------------------------------------------------

class RoomCountsSchema(ma.Schema):
    participants = ma.fields.Integer(required=True, metadata={
        "description": "Participants placed in the room (the plenary: every participant of the event)."})
    messages = ma.fields.Integer(required=True, metadata={"description": "Published messages, deleted ones left out."})
    present = ma.fields.Integer(required=True, metadata={"description": "Signed-in people on the room's page now."})


class RoomViewerSchema(ma.Schema):
    moderates = ma.fields.Boolean(required=True)
    can_post = ma.fields.Boolean(required=True)
    posting_refusal = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "Why the caller may not post now (null when they may)."})
    can_raise_hand = ma.fields.Boolean(required=True)


class RoomSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    event_id = ma.fields.Integer(required=True)
    position = ma.fields.Integer(required=True, metadata={"description": "0: the plenary; 1, 2, ...: breakout rooms."})
    is_plenary = ma.fields.Boolean(required=True)
    title = ma.fields.String(required=True, metadata={"description": "The room's topic."})
    description = ma.fields.String(required=True)
    capacity = ma.fields.Integer(required=True, allow_none=True)
    phase = ma.fields.String(required=True, metadata={"enum": PHASES})
    wrap_up_ends_at = ma.fields.DateTime(required=True, allow_none=True, metadata={
        "description": "In wrap-up: when the room closes by itself."})
    locked = ma.fields.Boolean(required=True, metadata={"description": "Only its moderators may post."})
    slow_mode_seconds = ma.fields.Integer(required=True, metadata={
        "description": "Seconds between one participant's messages (0: off)."})
    premoderated = ma.fields.Boolean(required=True, metadata={
        "description": "Participants' messages wait for a moderator's approval."})
    moderators = ma.fields.List(ma.fields.Nested(PersonSchema), required=True)
    counts = ma.fields.Nested(RoomCountsSchema, required=True)
    viewer = ma.fields.Nested(RoomViewerSchema, required=True)


def room_view(room) -> dict:
    counts = rooms.room_counts(room)
    stream = events.room_stream(room)
    return {
        "id": room.id, "event_id": room.event_id, "position": room.position, "is_plenary": room.is_plenary,
        "title": room.title, "description": room.description, "capacity": room.capacity,
        "phase": room.phase.value, "wrap_up_ends_at": room.wrap_up_ends_at, "locked": room.locked,
        "slow_mode_seconds": room.slow_mode_seconds, "premoderated": room.premoderated,
        "moderators": [m.user for m in room.moderators],
        "counts": {"participants": counts.participants, "messages": counts.messages,
                   "present": presence.people_counts([stream]).get(stream, 0)},
        "viewer": {"moderates": permissions.can_moderate_room(current_user, room),
                   "can_post": permissions.can_post_in_room(current_user, room),
                   "posting_refusal": _text(post_service.posting_refusal(current_user, room)),
                   "can_raise_hand": permissions.can_raise_hand(current_user, room)},
    }


def _text(message) -> str | None:
    return None if message is None else str(message)


class PhaseInput(ma.Schema):
    phase = ma.fields.String(required=True, validate=ma.validate.Length(max=20), metadata={"enum": PHASES})
    wrap_up_minutes = ma.fields.Integer(strict=True, load_default=None, allow_none=True, metadata={
        "description": "For wrap-up: the countdown, 1 to 60 minutes."})


class SettingsInput(ma.Schema):
    """Each left out keeps its value."""
    locked = ma.fields.Boolean(load_default=None)
    slow_mode_seconds = ma.fields.Integer(strict=True, load_default=None, metadata={
        "description": "0 (off) to 3600."})
    premoderated = ma.fields.Boolean(load_default=None)


class MuteSchema(ma.Schema):
    user = ma.fields.Nested(PersonSchema, required=True)
    until = ma.fields.DateTime(required=True)
    reason = ma.fields.String(required=True)


class MuteList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MuteSchema), required=True,
                           metadata={"description": "Soonest to end first."})


class MuteInput(ma.Schema):
    user_id = ma.fields.Integer(required=True, strict=True)
    minutes = ma.fields.Integer(required=True, strict=True, metadata={"description": "1 to 1440."})
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class TakeawaySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    position = ma.fields.Integer(required=True)
    body = ma.fields.String(required=True, metadata={"description": "Markdown."})
    body_html = ma.fields.String(required=True)
    credited = ma.fields.Function(lambda t: t.credited.display_name if t.credited else None, required=True,
                                  allow_none=True, metadata={"type": "string", "description":
                                  "The participant whose message it came from, while that message stands."})
    source_post_id = ma.fields.Integer(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class TakeawayList(ma.Schema):
    reported = ma.fields.Boolean(required=True, metadata={
        "description": "The room is closed: its takeaways are its report-back to the plenary. Until then "
                       "only its moderators read them (items is empty for others)."})
    items = ma.fields.List(ma.fields.Nested(TakeawaySchema), required=True)


class TakeawayInput(ma.Schema):
    body = ma.fields.String(load_default="", validate=ma.validate.Length(max=20000), metadata={
        "description": "Markdown; may be empty when promoting a message (its text is taken)."})
    source_post_id = ma.fields.Integer(strict=True, load_default=None, allow_none=True, metadata={
        "description": "A message of the room to promote, crediting its author."})


class TakeawayEdit(ma.Schema):
    body = ma.fields.String(required=True, validate=ma.validate.Length(max=20000))


# --- The room -------------------------------------------------------------------------

@bp.get("/<int:room_id>")
@bp.response(200, RoomSchema)
@refusals(401, 403, 404)
def get_room(room_id: int):
    """A room: its topic, phase (and wrap-up countdown), lock, slow mode, pre-moderation,
    moderators, figures, and what the caller may do there."""
    return room_view(access(room_id))


@bp.put("/<int:room_id>/phase")
@bp.arguments(PhaseInput)
@bp.response(200, RoomSchema)
@refusals(400, 401, 403, 404)
def set_phase(data, room_id: int):
    """Move the room to another phase (its moderators): not started -> open -> wrap-up (with a
    countdown) -> closed; an organiser reopens a closed room."""
    room = access(room_id)
    rooms.set_phase(current_user, room, data["phase"], data["wrap_up_minutes"])
    return room_view(room)


@bp.patch("/<int:room_id>/settings")
@bp.arguments(SettingsInput)
@bp.response(200, RoomSchema)
@refusals(400, 401, 403, 404)
def change_settings(data, room_id: int):
    """Lock the room, set its slow mode, turn pre-moderation on or off (its moderators)."""
    room = access(room_id)
    changes = [(change, data[name]) for name, change in (
        ("slow_mode_seconds", moderation.set_slow_mode), ("locked", moderation.set_room_lock),
        ("premoderated", moderation.set_premoderation)) if data[name] is not None]
    if not changes:
        raise ValidationError(_("Give at least one setting to change: locked, slow_mode_seconds or premoderated."))
    for change, value in changes:
        change(current_user, room, value)
    return room_view(room)


# --- Mutes ------------------------------------------------------------------------------

def _person(user_id: int) -> User:
    user = db.session.get(User, user_id) if permissions.valid_id(user_id) else None
    if user is None:
        raise ValidationError(_("This person is not registered for this event."), field="user_id")
    return user


@bp.route("/<int:room_id>/mutes")
class Mutes(MethodView):

    @bp.response(200, MuteList)
    @refusals(401, 403, 404)
    def get(self, room_id: int):
        """Who is muted in the room now, and until when (its moderators)."""
        return {"items": moderation.active_mutes(current_user, access(room_id))}

    @bp.arguments(MuteInput)
    @bp.response(201, MuteSchema)
    @refusals(400, 401, 403, 404)
    def post(self, data, room_id: int):
        """Keep a participant from posting in the room for some minutes (muting someone muted
        replaces the time left)."""
        room = access(room_id)
        require_moderator(room)
        return moderation.mute_user(current_user, room, _person(data["user_id"]), data["minutes"],
                                    reason=data["reason"])


@bp.delete("/<int:room_id>/mutes/<int:user_id>")
@bp.response(204)
@refusals(400, 401, 403, 404, 409)
def unmute(room_id: int, user_id: int):
    """Let a muted participant post again (409 if they are not muted)."""
    room = access(room_id)
    require_moderator(room)
    moderation.unmute_user(current_user, room, _person(user_id))


# --- Key takeaways ----------------------------------------------------------------------

@bp.route("/<int:room_id>/takeaways")
class Takeaways(MethodView):

    @bp.response(200, TakeawayList)
    @refusals(401, 403, 404)
    def get(self, room_id: int):
        """The room's key takeaways: to its moderators while they draft them, to every reader
        of the room once it is closed (its report-back)."""
        room = access(room_id)
        reported = permissions.room_closed(room)
        shown = reported or permissions.can_moderate_room(current_user, room)
        return {"reported": reported, "items": rooms.takeaways(room) if shown else []}

    @bp.arguments(TakeawayInput)
    @bp.response(201, TakeawaySchema)
    @refusals(400, 401, 403, 404)
    def post(self, data, room_id: int):
        """Draft a takeaway (its moderators; the organisers after it closed), or promote one of
        the room's messages (`source_post_id`), crediting its author."""
        room = access(room_id)
        source = None
        if data["source_post_id"] is not None:
            try:
                source = permissions.access_post(current_user, data["source_post_id"], room_id=room.id)
            except NotFound:
                raise ValidationError(_("Choose a message of this room."), field="source_post_id") from None
        return rooms.add_takeaway(current_user, room, data["body"], source_post=source)


def _takeaway(room, takeaway_id: int):
    if not permissions.can_edit_takeaways(current_user, room):
        raise PermissionDenied()
    return rooms.takeaway_of(room, takeaway_id)


@bp.route("/<int:room_id>/takeaways/<int:takeaway_id>")
class OneTakeaway(MethodView):

    @bp.arguments(TakeawayEdit)
    @bp.response(200, TakeawaySchema)
    @refusals(400, 401, 403, 404)
    def patch(self, data, room_id: int, takeaway_id: int):
        """Change a takeaway's text (the earlier one is kept in its history)."""
        takeaway = _takeaway(access(room_id), takeaway_id)
        rooms.edit_takeaway(current_user, takeaway, data["body"])
        return takeaway

    @bp.response(204)
    @refusals(401, 403, 404)
    def delete(self, room_id: int, takeaway_id: int):
        """Remove a takeaway."""
        rooms.delete_takeaway(current_user, _takeaway(access(room_id), takeaway_id))
