"""An event's room: the plenary or a breakout room, chat-style, with its moderators' tools.

The page is complete without JavaScript (forms post and come back here); static/js/room.js
makes it live over the room's streams."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forum import permissions
from forum.ratelimits import counts_as_write
from forum.services import events, moderation, rooms
from forum.services import posts as post_service
from forum.services.errors import ServiceError
from forum.web.forms import ActionForm, RoomMessageForm
from forum.web.requests import query_int

SLOW_MODE_CHOICES = (0, 10, 30, 60, 120, 300, 600)  # seconds between one participant's messages

bp = Blueprint("rooms", __name__, url_prefix="/events/<int:event_id>/rooms/<int:room_id>")


def room_url(room, **kwargs) -> str:
    return url_for("rooms.show", event_id=room.event_id, room_id=room.id, **kwargs)


def render_room(room, form: RoomMessageForm | None = None, backchannel_form: RoomMessageForm | None = None,
                status: int = 200):
    event = room.event
    moderates = permissions.can_moderate_room(current_user, room)
    # Read before the messages: anything after these numbers is replayed to the page's script.
    stream, mod_stream = events.room_stream(room), events.moderators_stream(room)
    seq = events.latest_seq(stream)
    mod_seq = events.latest_seq(mod_stream) if moderates else 0
    messages = rooms.list_messages(current_user, room, before_id=query_int("before"))
    reply_to, reply_to_id = None, query_int("reply_to")
    if reply_to_id is not None:
        try:
            reply_to = permissions.access_post(current_user, reply_to_id, room_id=room.id)
        except ServiceError:
            reply_to = None
    if form is None and permissions.can_post_in_room(current_user, room):
        form = RoomMessageForm(formdata=None, parent_id=reply_to.id if reply_to else None,
                               quote=bool(reply_to and request.args.get("quote")))
    if moderates and backchannel_form is None:
        backchannel_form = RoomMessageForm(formdata=None, prefix="mod")
    pinned = rooms.pinned_messages(current_user, room)
    context = dict(
        endorsed_ids=post_service.endorsed_by(current_user, [m.id for m in messages.messages + pinned]),
        moderates=moderates, member=permissions.membership(current_user, event),
        messages=messages, pinned=pinned, form=form, reply_to=reply_to,
        stream=stream, seq=seq, mod_stream=mod_stream, mod_seq=mod_seq,
        room_state=events.room_state(room), backchannel_form=backchannel_form,
        refusal=post_service.posting_refusal(current_user, room),
        backchannel=rooms.list_messages(current_user, room, backchannel=True) if moderates else None,
    )
    for name in PANELS:
        context.update(_panel_context(room, name, moderates))
    return render_template("rooms/show.html", **context), status


# Parts of the page that the script fetches again when a live event says they changed.
PANELS = ("report", "own-hand", "controls", "hands", "queue", "mutes", "share", "takeaways")
MODERATOR_PANELS = {"controls", "hands", "queue", "mutes", "share"}


def _panel_context(room, name: str, moderates: bool) -> dict:
    event = room.event
    base = dict(room=room, event=event, action_form=ActionForm(), moderates=moderates,
                slow_mode_choices=SLOW_MODE_CHOICES)
    if name == "report":
        return {**base, "report_back": rooms.report_back(event) if room.is_plenary else []}
    if name == "own-hand":
        return {**base, "own_hand": rooms.own_hand(current_user, room),
                "can_raise_hand": permissions.can_raise_hand(current_user, room)}
    if name == "takeaways":
        visible = moderates or permissions.room_closed(room)
        return {**base, "takeaways": rooms.takeaways(room) if visible else []}
    if not moderates:
        return base
    if name == "hands":
        return {**base, "hands": rooms.hand_queue(current_user, room)}
    if name == "queue":
        return {**base, "queue": moderation.queue(current_user, room)}
    if name == "mutes":
        return {**base, "mutes": moderation.active_mutes(current_user, room)}
    if name == "share":
        return {**base, "share": None if room.is_plenary else rooms.speaking_share(current_user, room)}
    return base


@bp.get("/panels/<name>")
def panel(event_id: int, room_id: int, name: str):
    room = permissions.access_room(current_user, room_id, event_id)
    moderates = permissions.can_moderate_room(current_user, room)
    if name not in PANELS or (name in MODERATOR_PANELS and not moderates):
        abort(404)
    template = f"rooms/_panel_{name.replace('-', '_')}.html"
    return render_template(template, **_panel_context(room, name, moderates))


@bp.get("")
def show(event_id: int, room_id: int):
    room = permissions.access_room(current_user, room_id, event_id)
    rooms.close_if_due(room)
    return render_room(room)


@bp.post("/messages")
@login_required
@counts_as_write
def create(event_id: int, room_id: int):
    room = permissions.access_room(current_user, room_id, event_id)
    rooms.close_if_due(room)
    backchannel = request.form.get("channel") == "moderators"
    form = RoomMessageForm(prefix="mod" if backchannel else "")
    if not form.validate_on_submit():
        return render_room(room, **{"backchannel_form" if backchannel else "form": form}, status=400)
    parent = None
    if form.parent_id.data:
        parent = permissions.access_post(current_user, form.parent_id.data, room_id=room.id)
    post = post_service.post_in_room(current_user, room, body=form.body.data or "", parent=parent,
                                     backchannel=backchannel, client_key=form.client_key.data or None,
                                     quote=bool(parent and form.quote.data))
    anchor = "backchannel" if backchannel else f"post-{post.id}"
    return redirect(room_url(room, _anchor=anchor))


@bp.get("/messages/<int:post_id>")
def message(event_id: int, room_id: int, post_id: int):
    """One message as this reader sees it (the page's script asks when a broadcast can only
    show a placeholder: a hidden message, to its author and the moderators)."""
    room = permissions.access_room(current_user, room_id, event_id)
    post = permissions.access_post(current_user, post_id, room_id=room.id)
    return render_template("rooms/_message.html", message=post, room=room,
                           endorsed_ids=post_service.endorsed_by(current_user, [post.id]))


@bp.post("/messages/<int:post_id>/endorsement")
@login_required
@counts_as_write
def endorsement(event_id: int, room_id: int, post_id: int):
    room = permissions.access_room(current_user, room_id, event_id)
    post = permissions.access_post(current_user, post_id, room_id=room.id)
    if request.form.get("action") == "withdraw":
        post_service.withdraw_endorsement(current_user, post)
    else:
        post_service.endorse(current_user, post)
    return redirect(room_url(room, _anchor=f"post-{post.id}"))


@bp.post("/messages/<int:post_id>/delete")
@login_required
@counts_as_write
def delete(event_id: int, room_id: int, post_id: int):
    room = permissions.access_room(current_user, room_id, event_id)
    post = permissions.access_post(current_user, post_id, room_id=room.id)
    post_service.delete_post(current_user, post)
    return redirect(room_url(room, _anchor=f"post-{post.id}"))
