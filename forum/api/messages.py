"""A room's chat: its messages as the room's page shows them to the caller (a hidden one as a
placeholder, but to its author and the moderators; waiting and rejected ones to them only;
the moderators' back-channel to the moderators), posting, replying, agreeing, deleting one's
own, and the moderators' actions on a message (hide and restore, pin and unpin, approve and
reject a waiting one). Posting goes through the same service as the page and the socket, and
its live event reaches the room's stream once the request commits."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user

from forum import permissions
from forum.api import Blueprint
from forum.api.common import MAX_LIMIT, PersonSchema, QuoteSchema, cursor_value, quote_of, refusals
from forum.api.rooms import access
from forum.models import PostStatus
from forum.ratelimits import counts_as_write
from forum.services import moderation, rooms
from forum.services import posts as post_service
from forum.services.errors import NotFound, ValidationError

bp = Blueprint("messages", __name__, url_prefix="/rooms",
               description="A room's messages: reading (and polling for new ones), posting, agreeing, "
                           "and the moderators' actions on them.")

CHANNELS = ["room", "moderators"]
# What the API lets a reader do with a message (permissions.post_actions decides; the pages'
# other actions, such as reporting, are theirs).
ACTIONS = ("endorse", "reply", "delete", "moderate")


# --- Schemas ------------------------------------------------------------------------

class MessageSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    room_id = ma.fields.Integer(required=True)
    channel = ma.fields.String(required=True, metadata={"enum": CHANNELS})
    parent_id = ma.fields.Integer(required=True, allow_none=True, metadata={
        "description": "The message it replies to."})
    thread_id = ma.fields.Integer(required=True)
    author = ma.fields.Nested(PersonSchema, required=True, allow_none=True, metadata={
        "description": "null once the message is deleted."})
    author_role = ma.fields.String(required=True, allow_none=True, metadata={
        "enum": ["moderator", "organiser", None],
        "description": "The badge the page shows: a moderator of the room, or the event's organiser."})
    announcement = ma.fields.Boolean(required=True, metadata={"description": "An organiser's message to every room."})
    status = ma.fields.String(required=True, metadata={"enum": ["published", "pending", "rejected"]})
    deleted = ma.fields.Boolean(required=True)
    hidden = ma.fields.Boolean(required=True)
    hidden_reason = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "To its author and the moderators only."})
    rejected_reason = ma.fields.String(required=True, allow_none=True)
    pinned = ma.fields.Boolean(required=True)
    body = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "Markdown; null when deleted, or hidden from the caller."})
    body_html = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "As the page shows it (sanitised HTML); null when body is."})
    quote = ma.fields.Nested(QuoteSchema, required=True, allow_none=True, metadata={
        "description": "The message it quotes (the one it replies to), as it reads now."})
    endorsement_count = ma.fields.Integer(required=True)
    endorsed = ma.fields.Boolean(required=True, metadata={"description": "The caller agrees with it."})
    created_at = ma.fields.DateTime(required=True)
    edited_at = ma.fields.DateTime(required=True, allow_none=True)
    actions = ma.fields.List(ma.fields.String(metadata={"enum": list(ACTIONS)}), required=True, metadata={
        "description": "What the caller may do with it here."})


class MessagePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MessageSchema), required=True, metadata={"description": "Oldest first."})
    next_cursor = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "Pass as cursor for the next page; null once you have the newest (then poll with "
                       "after = the last message's id)."})


class MessageListArgs(ma.Schema):
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=40),
                              metadata={"description": "The previous page's next_cursor."})
    after = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=0, max=2**31 - 1), metadata={
        "description": "Only messages after this message id (the last one you have: to poll for new ones)."})
    newest = ma.fields.Boolean(load_default=False, metadata={
        "description": "The newest `limit` messages (as the room's page opens) instead of the oldest."})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_LIMIT))
    channel = ma.fields.String(load_default="room", validate=ma.validate.OneOf(CHANNELS), metadata={
        "description": "moderators: the moderators' back-channel (the room's moderators only)."})


class MessageInput(ma.Schema):
    body = ma.fields.String(required=True, validate=ma.validate.Length(max=100_000),
                            metadata={"description": "Markdown."})
    parent_id = ma.fields.Integer(strict=True, load_default=None, allow_none=True, metadata={
        "description": "Reply to this message of the room (or of the back-channel)."})
    quote = ma.fields.Boolean(load_default=False, metadata={"description": "A reply quotes the message it replies to."})
    client_key = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=64), metadata={
        "description": "Your own key for this message: sending it again (after a lost answer) stores it once."})
    channel = ma.fields.String(load_default="room", validate=ma.validate.OneOf(CHANNELS))


class ReasonInput(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(max=2000), metadata={
        "description": "Shown to the message's author."})


# --- A message as the caller sees it ---------------------------------------------------

def message_view(post, endorsed: set[int]) -> dict:
    """What the room page shows `current_user` of a message they may read."""
    deleted = post.is_deleted
    see_text = not deleted and (not post.is_hidden or permissions.can_read_hidden_text(current_user, post))
    room = post.room
    role = None
    if not deleted and not post.announcement:
        role = "moderator" if room.is_moderator(post.author) else "organiser" \
            if room.event.owner_id == post.author_id else None
    actions = permissions.post_actions(permissions.reader_of(current_user, post), post)
    return {
        "id": post.id, "room_id": post.room_id, "channel": "moderators" if post.backchannel else "room",
        "parent_id": post.parent_id, "thread_id": post.thread_id,
        "author": None if deleted else post.author, "author_role": role, "announcement": post.announcement,
        "status": post.status.value, "deleted": deleted, "hidden": post.is_hidden,
        "hidden_reason": post.hidden_reason if post.is_hidden and see_text else None,
        "rejected_reason": post.rejected_reason if post.status is PostStatus.REJECTED else None,
        "pinned": post.pinned_at is not None,
        "body": post.body if see_text else None, "body_html": post.body_html if see_text else None,
        "quote": quote_of(post.quoted_post) if see_text and post.quoted_post_id else None,
        "endorsement_count": post.endorsement_count, "endorsed": post.id in endorsed,
        "created_at": post.created_at, "edited_at": post.edited_at,
        "actions": [action for action in ACTIONS if action in actions],
    }


def _one(post) -> dict:
    return message_view(post, post_service.endorsed_by(current_user, [post.id]))


def _message(room, post_id: int):
    """A message of this room the caller may read (404 otherwise)."""
    return permissions.access_post(current_user, post_id, room_id=room.id)


# --- Reading and writing ---------------------------------------------------------------

@bp.route("/<int:room_id>/messages")
class RoomMessages(MethodView):
    decorators = [counts_as_write]

    @bp.arguments(MessageListArgs, location="query", as_kwargs=True)
    @bp.response(200, MessagePageSchema)
    @refusals(400, 401, 403, 404)
    def get(self, room_id: int, cursor, after, newest, limit, channel):
        """The room's messages the caller may read, oldest first: from the start, or after a
        message (`after`, or the `cursor` of the page before), or the newest ones (`newest`).
        To follow the room without its live stream, poll with `after` = the id of the last
        message you have. Changes to messages you already have (edits, hiding, deletion) are
        not in this list: read them again one by one, or follow the room's stream
        (docs/realtime.md)."""
        room = access(room_id)
        if cursor is not None and after is not None:
            raise ValidationError(_("Give either cursor or after, not both."), field="after")
        if newest and (cursor is not None or after is not None):
            raise ValidationError(_("The newest messages are read from the end: give no cursor or after."),
                                  field="newest")
        backchannel = channel == "moderators"
        if newest:
            page = rooms.list_messages(current_user, room, backchannel=backchannel, limit=limit)
            next_cursor = None
        else:
            start = cursor_value(cursor) if cursor is not None else after or 0
            page = rooms.list_messages(current_user, room, backchannel=backchannel, after_id=start, limit=limit)
            next_cursor = str(page.messages[-1].id) if page.has_more else None
        endorsed = post_service.endorsed_by(current_user, [m.id for m in page.messages])
        return {"items": [message_view(m, endorsed) for m in page.messages], "next_cursor": next_cursor}

    @bp.arguments(MessageInput)
    @bp.response(201, MessageSchema)
    @refusals(400, 401, 403, 404, 429)
    def post(self, data, room_id: int):
        """Post a message in the room, or in its moderators' back-channel (`channel`), or reply
        to one (`parent_id`), by the room's rules: its phase, lock, your mute, slow mode (429
        with Retry-After) and pre-moderation (the message then waits: status "pending")."""
        room = access(room_id)
        parent = None
        if data["parent_id"] is not None:
            try:
                parent = _message(room, data["parent_id"])
            except NotFound:
                raise ValidationError(_("Reply to a message of this room."), field="parent_id") from None
        post = post_service.post_in_room(
            current_user, room, body=data["body"], parent=parent, backchannel=data["channel"] == "moderators",
            client_key=data["client_key"], quote=bool(parent and data["quote"]))
        return _one(post)


@bp.route("/<int:room_id>/messages/<int:post_id>")
class RoomMessage(MethodView):
    decorators = [counts_as_write]

    @bp.response(200, MessageSchema)
    @refusals(401, 403, 404)
    def get(self, room_id: int, post_id: int):
        """One message of the room, as the caller sees it now."""
        return _one(_message(access(room_id), post_id))

    @bp.response(200, MessageSchema)
    @refusals(401, 403, 404, 429)
    def delete(self, room_id: int, post_id: int):
        """Delete your own message (its words go; its place stays); an organiser may delete any."""
        post = _message(access(room_id), post_id)
        post_service.delete_post(current_user, post)
        return _one(post)


@bp.route("/<int:room_id>/messages/<int:post_id>/endorsement")
class Endorsement(MethodView):
    decorators = [counts_as_write]

    @bp.response(200, MessageSchema)
    @refusals(401, 403, 404, 429)
    def put(self, room_id: int, post_id: int):
        """Agree with a message (once: agreeing again changes nothing)."""
        post = _message(access(room_id), post_id)
        post_service.endorse(current_user, post)
        return _one(post)

    @bp.response(200, MessageSchema)
    @refusals(401, 403, 404, 429)
    def delete(self, room_id: int, post_id: int):
        """Withdraw your agreement."""
        post = _message(access(room_id), post_id)
        post_service.withdraw_endorsement(current_user, post)
        return _one(post)


# --- Moderating a message (the room's moderators) -----------------------------------------

@bp.route("/<int:room_id>/messages/<int:post_id>/hidden")
class Hidden(MethodView):

    @bp.arguments(ReasonInput)
    @bp.response(200, MessageSchema)
    @refusals(400, 401, 403, 404, 409)
    def put(self, data, room_id: int, post_id: int):
        """Hide a message, with a reason its author is told: others see a placeholder."""
        post = _message(access(room_id), post_id)
        moderation.hide_post(current_user, post, data["reason"])
        return _one(post)

    @bp.response(200, MessageSchema)
    @refusals(401, 403, 404, 409)
    def delete(self, room_id: int, post_id: int):
        """Show a hidden message again."""
        post = _message(access(room_id), post_id)
        moderation.restore_post(current_user, post)
        return _one(post)


@bp.route("/<int:room_id>/messages/<int:post_id>/pinned")
class Pinned(MethodView):

    @bp.response(200, MessageSchema)
    @refusals(401, 403, 404, 409)
    def put(self, room_id: int, post_id: int):
        """Pin a message at the top of the room."""
        post = _message(access(room_id), post_id)
        moderation.pin_post(current_user, post)
        return _one(post)

    @bp.response(200, MessageSchema)
    @refusals(401, 403, 404, 409)
    def delete(self, room_id: int, post_id: int):
        """Unpin a message."""
        post = _message(access(room_id), post_id)
        moderation.unpin_post(current_user, post)
        return _one(post)


@bp.post("/<int:room_id>/messages/<int:post_id>/approval")
@bp.response(200, MessageSchema)
@refusals(401, 403, 404, 409)
def approve(room_id: int, post_id: int):
    """Publish a message waiting for approval (a pre-moderated room)."""
    post = _message(access(room_id), post_id)
    moderation.approve_post(current_user, post)
    return _one(post)


@bp.post("/<int:room_id>/messages/<int:post_id>/rejection")
@bp.arguments(ReasonInput)
@bp.response(200, MessageSchema)
@refusals(400, 401, 403, 404, 409)
def reject(data, room_id: int, post_id: int):
    """Refuse a waiting message, with a reason its author sees."""
    post = _message(access(room_id), post_id)
    moderation.reject_post(current_user, post, data["reason"])
    return _one(post)
