"""Every page and control of an event's room (`/events/<e>/rooms/...`): the plenary or a
breakout room, chat-style, with its moderators' tools; setting rooms up (organisers); choosing
one; its phase, hands, takeaways, settings, mutes, queue and polls.

The page is complete without JavaScript (forms post and come back here, or to a local `next`:
the room's queue, the event's control room); static/js/room.js makes it live over the room's
streams."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from forum import permissions
from forum.extensions import db
from forum.models import User
from forum.models.polls import ResultsShown
from forum.ratelimits import counts_as_write
from forum.services import event_setup, events, moderation, preevent, rooms
from forum.services import posts as post_service
from forum.services import questions as question_service
from forum.services.errors import Conflict, PermissionDenied, ServiceError, ValidationError
from forum.web import (
    apply_service_error,
    back_to,
    checked,
    editable_event,
    flash_refusal,
    post_url,
    refuse_back,
    room_in,
    room_url,
    whole_number,
)
from forum.web import polls as poll_pages
from forum.web.forms import (
    ActionForm,
    EventRoomForm,
    ModeratorForm,
    MuteForm,
    PollForm,
    QuestionForm,
    RoomMessageForm,
    RoomSettingsForm,
    TakeawayForm,
)
from forum.web.requests import query_int

SLOW_MODE_CHOICES = (0, 10, 30, 60, 120, 300, 600)  # seconds between one participant's messages
MUTE_CHOICES = (5, 10, 30, 60, 240, 1440)  # minutes
TRUE_VALUES, FALSE_VALUES = {"1", "true", "on", "yes"}, {"0", "false", "off", "no"}

bp = Blueprint("rooms", __name__, url_prefix="/events/<int:event_id>/rooms")


def _room(event_id: int, room_id: int):
    return permissions.access_room(current_user, room_id, event_id)


def _back_to_room(room, anchor: str | None = None):
    return redirect(back_to(room_url(room, _anchor=anchor)))


# --- The room's page ------------------------------------------------------------------

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
        backchannel=rooms.list_messages(current_user, room, backchannel=True, limit=100) if moderates else None,
    )
    for name in PANELS:
        context.update(_panel_context(room, name, moderates))
    context.update(_questions_context(room))  # the plenary's Q&A (its section, below)
    return render_template("rooms/show.html", **context), status


# Parts of the page that the script fetches again when a live event says they changed.
PANELS = ("report", "own-hand", "controls", "hands", "queue", "mutes", "share", "takeaways", "preevent")
MODERATOR_PANELS = {"controls", "hands", "queue", "mutes", "share", "preevent"}


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
    if name == "preevent":  # the room's pre-event input, once it opens, if any (docs/pre-event.md)
        shown = permissions.can_view_preevent_digest(current_user, room)
        return {**base, "preevent_digest": (preevent.digest(current_user, room) or None) if shown else None,
                "preevent_stream": events.preevent_stream(room)}  # room.js fetches the pane again when it changes
    return base


@bp.get("/<int:room_id>/panels/<name>")
def panel(event_id: int, room_id: int, name: str):
    room = _room(event_id, room_id)
    moderates = permissions.can_moderate_room(current_user, room)
    if name not in PANELS or (name in MODERATOR_PANELS and not moderates):
        abort(404)
    template = f"rooms/_panel_{name.replace('-', '_')}.html"
    return render_template(template, **_panel_context(room, name, moderates))


@bp.get("/<int:room_id>")
def show(event_id: int, room_id: int):
    room = _room(event_id, room_id)
    rooms.close_if_due(room)
    rooms.record_attendance(current_user, room)
    return render_room(room)


@bp.post("/<int:room_id>/messages")
@login_required
@counts_as_write
def create(event_id: int, room_id: int):
    room = _room(event_id, room_id)
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


@bp.get("/<int:room_id>/messages/earlier")
def earlier(event_id: int, room_id: int):
    """The page of messages before `before` (a message id), as list items for the page's
    "Load earlier" (static/js/room.js prepends them); without JavaScript the same link
    loads the room's page with ?before=."""
    room = _room(event_id, room_id)
    before = query_int("before")
    if before is None:
        raise ValidationError(_("Say which message to load the earlier ones of."), field="before")
    page = rooms.list_messages(current_user, room, before_id=before)
    ids = [m.id for m in page.messages]
    return render_template("rooms/_earlier.html", room=room, event=room.event, messages=page,
                           endorsed_ids=post_service.endorsed_by(current_user, ids))


@bp.get("/<int:room_id>/messages/<int:post_id>")
def message(event_id: int, room_id: int, post_id: int):
    """One message as this reader sees it (the page's script asks when a broadcast can only
    show a placeholder: a hidden message, to its author and the moderators)."""
    room = _room(event_id, room_id)
    post = permissions.access_post(current_user, post_id, room_id=room.id)
    return render_template("rooms/_message.html", message=post, room=room,
                           endorsed_ids=post_service.endorsed_by(current_user, [post.id]))


@bp.post("/<int:room_id>/messages/<int:post_id>/endorsement")
@login_required
@counts_as_write
def endorsement(event_id: int, room_id: int, post_id: int):
    room = _room(event_id, room_id)
    post = permissions.access_post(current_user, post_id, room_id=room.id)
    if request.form.get("action") == "withdraw":
        post_service.withdraw_endorsement(current_user, post)
    else:
        post_service.endorse(current_user, post)
    return redirect(room_url(room, _anchor=f"post-{post.id}"))


@bp.post("/<int:room_id>/messages/<int:post_id>/delete")
@login_required
@counts_as_write
def delete(event_id: int, room_id: int, post_id: int):
    room = _room(event_id, room_id)
    post = permissions.access_post(current_user, post_id, room_id=room.id)
    post_service.delete_post(current_user, post)
    return redirect(room_url(room, _anchor=f"post-{post.id}"))


# --- Setting rooms up (organisers) ------------------------------------------------------

def _event_rooms(event, anchor: str = "rooms"):
    return redirect(url_for("events.edit", event_id=event.id, _anchor=anchor))


@bp.route("/new", methods=["GET", "POST"], defaults={"room_id": None})
@bp.route("/<int:room_id>/edit", methods=["GET", "POST"])
@login_required
def form(event_id: int, room_id: int | None):
    event = editable_event(event_id)
    room = room_in(event, room_id) if room_id is not None else None
    form = EventRoomForm(obj=room)
    if form.validate_on_submit():
        data = event_setup.RoomInput(title=form.title.data or "", description=form.description.data or "",
                                     capacity=form.capacity.data)
        try:
            if room is None:
                event_setup.add_room(current_user, event, data)
            else:
                event_setup.update_room(current_user, room, data)
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            flash(_("Room saved."), "success")
            return _event_rooms(event)
    status = 400 if request.method == "POST" else 200
    return render_template("events/room_form.html", form=form, event=event, room=room), status


@bp.post("/<int:room_id>/remove")
@login_required
def remove(event_id: int, room_id: int):
    event = editable_event(event_id)
    checked()
    event_setup.remove_room(current_user, room_in(event, room_id))
    flash(_("Room removed."), "success")
    return _event_rooms(event)


@bp.post("/<int:room_id>/moderators")
@login_required
def appoint_moderator(event_id: int, room_id: int):
    event = editable_event(event_id)
    room = room_in(event, room_id)
    form = ModeratorForm()
    if not form.validate_on_submit():
        flash(_("Give the email address of their account."), "error")
        return _event_rooms(event, f"room-{room.id}")
    try:
        event_setup.appoint_moderator(current_user, room, form.email.data or "")
    except ValidationError as error:
        refuse_back(error)
    else:
        flash(_("Co-moderator appointed."), "success")
    return _event_rooms(event, f"room-{room.id}")


@bp.post("/<int:room_id>/moderators/<int:moderator_id>/remove")
@login_required
def remove_moderator(event_id: int, room_id: int, moderator_id: int):
    event = editable_event(event_id)
    room = room_in(event, room_id)
    checked()
    event_setup.remove_moderator(current_user, event_setup.moderator_of(room, moderator_id))
    flash(_("Co-moderator removed."), "success")
    return _event_rooms(event, f"room-{room.id}")


# --- Choosing a room (participants) -------------------------------------------------------

@bp.post("/<int:room_id>/choose")
@login_required
@counts_as_write
def choose(event_id: int, room_id: int):
    event = permissions.access_event(current_user, event_id)
    room = room_in(event, room_id)
    checked()
    try:
        event_setup.choose_room(current_user, room)
    except (ValidationError, Conflict) as error:
        refuse_back(error)
        return redirect(url_for("events.show", event_id=event.id, _anchor="rooms"))
    flash(_("You are in %(room)s.", room=room.title), "success")
    return redirect(room_url(room))


# --- The room's controls (its moderators; forms on the room page and the control room) ----

@bp.post("/<int:room_id>/phase")
@login_required
def set_phase(event_id: int, room_id: int):
    room = _room(event_id, room_id)
    checked()
    # Anything but a small whole number is refused by the service with its own message.
    minutes = whole_number(request.form.get("wrap_up_minutes", ""))
    try:
        rooms.set_phase(current_user, room, request.form.get("phase", ""), minutes)
    except ValidationError as error:
        refuse_back(error)
    return _back_to_room(room)


@bp.post("/<int:room_id>/hand")
@login_required
@counts_as_write
def hand(event_id: int, room_id: int):
    room = _room(event_id, room_id)
    checked()
    if request.form.get("action") == "lower":
        rooms.lower_hand(current_user, room)
    elif request.form.get("action") == "raise":
        rooms.raise_hand(current_user, room)
    else:
        abort(400)
    return _back_to_room(room)


@bp.post("/<int:room_id>/floor/<int:hand_id>")
@login_required
def give_floor(event_id: int, room_id: int, hand_id: int):
    room = _room(event_id, room_id)
    checked()
    rooms.give_floor(current_user, room, hand_id)
    return _back_to_room(room)


@bp.post("/<int:room_id>/invite")
@login_required
def invite(event_id: int, room_id: int):
    """Invite a participant of the room to speak (the console's speaking share): a notice on
    their open pages; the moderator comes back to the share."""
    room = _room(event_id, room_id)
    checked()
    user = _target_user(request.form.get("user_id", type=int))
    rooms.invite_to_speak(current_user, room, user)
    flash(_("%(name)s is invited to speak.", name=user.display_name), "success")
    return _back_to_room(room, "share")


@bp.post("/<int:room_id>/takeaways")
@login_required
def add_takeaway(event_id: int, room_id: int):
    room = _room(event_id, room_id)
    form = TakeawayForm()
    checked(form)
    source = None
    if form.source_post_id.data:
        source = permissions.access_post(current_user, form.source_post_id.data, room_id=room.id)
    try:
        rooms.add_takeaway(current_user, room, form.body.data or "", source_post=source)
    except ValidationError as error:
        refuse_back(error)
    return _back_to_room(room, "takeaways")


@bp.route("/<int:room_id>/takeaways/<int:takeaway_id>/edit", methods=["GET", "POST"])
@login_required
def edit_takeaway(event_id: int, room_id: int, takeaway_id: int):
    room = _room(event_id, room_id)
    if not permissions.can_edit_takeaways(current_user, room):
        raise PermissionDenied()
    takeaway = rooms.takeaway_of(room, takeaway_id)
    form = TakeawayForm(obj=takeaway)
    if form.validate_on_submit():
        try:
            rooms.edit_takeaway(current_user, takeaway, form.body.data or "")
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            return _back_to_room(room, "takeaways")
    status = 400 if request.method == "POST" else 200
    return render_template("events/takeaway_form.html", form=form, room=room, takeaway=takeaway), status


@bp.post("/<int:room_id>/takeaways/<int:takeaway_id>/delete")
@login_required
def delete_takeaway(event_id: int, room_id: int, takeaway_id: int):
    room = _room(event_id, room_id)
    if not permissions.can_edit_takeaways(current_user, room):
        raise PermissionDenied()
    checked()
    rooms.delete_takeaway(current_user, rooms.takeaway_of(room, takeaway_id))
    return _back_to_room(room, "takeaways")


@bp.get("/<int:room_id>/takeaways/<int:takeaway_id>/history")
@login_required
def takeaway_history(event_id: int, room_id: int, takeaway_id: int):
    room = _room(event_id, room_id)
    if not permissions.can_moderate_room(current_user, room):
        raise PermissionDenied()
    takeaway = rooms.takeaway_of(room, takeaway_id)
    return render_template("events/takeaway_history.html", room=room, takeaway=takeaway,
                           revisions=rooms.takeaway_history(current_user, takeaway))


def _flag_value(raw: str | None, field: str) -> bool:
    value = (raw or "").strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise ValidationError(_("This request could not be understood."), field=field)


@bp.post("/<int:room_id>/settings")
@login_required
def settings(event_id: int, room_id: int):
    """Lock, slow mode and pre-moderation; a field left out keeps its value. Everything is
    read before anything changes, so a bad value changes nothing."""
    room = _room(event_id, room_id)
    form = RoomSettingsForm()
    if not form.validate_on_submit():
        abort(400)
    changes = []
    if form.locked.raw_data:
        changes.append((moderation.set_room_lock, _flag_value(form.locked.data, "locked")))
    if form.slow_mode_seconds.raw_data:
        try:
            seconds = int(form.slow_mode_seconds.data)
        except ValueError:
            raise ValidationError(_("Choose a number of seconds."), field="slow_mode_seconds") from None
        changes.append((moderation.set_slow_mode, seconds))
    if form.premoderated.raw_data:
        changes.append((moderation.set_premoderation, _flag_value(form.premoderated.data, "premoderated")))
    if not changes:
        abort(400)
    changed = [change(current_user, room, value) for change, value in changes]
    flash(_("The room's settings are saved.") if any(changed) else _("Nothing was changed."), "success")
    return _back_to_room(room)


def _target_user(user_id: int | None) -> User:
    user = db.session.get(User, user_id) if permissions.valid_id(user_id) else None
    if user is None:
        raise ValidationError(_("This person is not registered for this event."), field="user_id")
    return user


@bp.post("/<int:room_id>/mute")
@login_required
def mute(event_id: int, room_id: int):
    room = _room(event_id, room_id)
    form = MuteForm()
    if not form.validate_on_submit():
        raise ValidationError(_("Choose for how many minutes (1 to 1440)."), field="minutes")
    user = _target_user(form.user_id.data)
    moderation.mute_user(current_user, room, user, form.minutes.data, reason=form.reason.data or "")
    flash(ngettext("%(name)s is muted in this room for %(num)d minute.",
                   "%(name)s is muted in this room for %(num)d minutes.", form.minutes.data,
                   name=user.display_name), "success")
    return _back_to_room(room)


@bp.post("/<int:room_id>/unmute")
@login_required
def unmute(event_id: int, room_id: int):
    room = _room(event_id, room_id)
    checked()
    user = _target_user(request.form.get("user_id", type=int))
    try:
        moderation.unmute_user(current_user, room, user)
    except Conflict as error:
        flash_refusal(error, "info")
        return _back_to_room(room)
    flash(_("%(name)s can post in this room again.", name=user.display_name), "success")
    return _back_to_room(room)


@bp.get("/<int:room_id>/queue")
@login_required
def queue(event_id: int, room_id: int):
    room = _room(event_id, room_id)
    return render_template(
        "moderation/queue.html", room=room, queue=moderation.queue(current_user, room),
        mutes=moderation.active_mutes(current_user, room),
        action_form=ActionForm(), mute_form=MuteForm(formdata=None),
        slow_mode_choices=SLOW_MODE_CHOICES, mute_choices=MUTE_CHOICES, here=request.path,
        post_url=post_url, back=room_url(room), title=room.title)


# --- Polls -----------------------------------------------------------------------------------

@bp.route("/<int:room_id>/polls/new", methods=["GET", "POST"])
@login_required
def new_poll(event_id: int, room_id: int):
    room = _room(event_id, room_id)
    if not permissions.can_run_polls(current_user, room):
        raise PermissionDenied()
    form = PollForm()
    poll_pages.fill_choices(form)
    if request.method == "GET":
        form.results_shown.data = ResultsShown.LIVE.value
    poll = poll_pages.save(form, place=room)
    if poll is not None:
        flash(_("Poll saved as a draft. Open it when you are ready."), "success")
        return redirect(poll_pages.poll_url(poll))
    return poll_pages.form_page(form, room=room, status=400 if request.method == "POST" else 200,
                                action=url_for("rooms.new_poll", event_id=room.event_id, room_id=room.id))


# --- Plenary questions ---------------------------------------------------------------------
# The plenary's Q&A (forum/services/questions.py, docs/questions.md): a section of the
# plenary's page (templates/rooms/_questions.html) that static/js/questions.js keeps live from
# the "question.*" messages (the list itself is fetched again rarely: docs/questions.md).
# Every form comes back to the page at #questions.

def _question_order(name: str = "order") -> str:
    order = request.args.get(name, "votes")
    if order not in question_service.ORDERS:
        abort(400)
    return order


def _questions_context(room) -> dict:
    """What the page's questions section shows (only the plenary has one)."""
    if not room.is_plenary:
        return {"questions": None}
    form = g.get("question_form")
    if form is None and permissions.can_ask_question(current_user, room):
        form = QuestionForm(formdata=None, prefix="question")
    return {"questions": question_service.list_questions(current_user, room, _question_order("questions")),
            "question_form": form}


def _plenary(event_id: int, room_id: int):
    room = _room(event_id, room_id)
    if not room.is_plenary:
        abort(404)
    return room


def _back_to_questions(room, order: str | None = None):
    order = order if order in question_service.ORDERS and order != "votes" else None
    return redirect(back_to(room_url(room, questions=order, _anchor="questions")))


# Not GET /questions: a path with one rule per method answers 405 instead of 404 to an id
# out of range (tests/web/test_bad_input.py).
@bp.get("/<int:room_id>/questions/list")
def questions(event_id: int, room_id: int):
    """The list of questions alone, as this reader sees it (for the page's script)."""
    room = _plenary(event_id, room_id)
    listing = question_service.list_questions(current_user, room, _question_order())
    return render_template("rooms/_questions_list.html", room=room, event=room.event, questions=listing,
                           action_form=ActionForm())


@bp.post("/<int:room_id>/questions")
@login_required
@counts_as_write
def ask_question(event_id: int, room_id: int):
    room = _plenary(event_id, room_id)
    form = QuestionForm(prefix="question")
    if form.validate_on_submit():
        try:
            question_service.ask(current_user, room, form.body.data or "", anonymous=form.anonymous.data)
        except ValidationError as error:
            if request.headers.get("X-Plenary-Async"):
                raise
            apply_service_error(form, error)
        else:
            return _back_to_questions(room, request.form.get("order"))
    elif "csrf_token" in form.errors:
        abort(400)
    # The page again, with what was typed and why it was refused.
    g.question_form = form
    return render_room(room, status=400)


def _question(event_id: int, room_id: int, question_id: int):
    room = _plenary(event_id, room_id)
    return room, permissions.access_question(current_user, question_id, room)


@bp.post("/<int:room_id>/questions/<int:question_id>/vote")
@login_required
@counts_as_write
def vote_question(event_id: int, room_id: int, question_id: int):
    room, question = _question(event_id, room_id, question_id)
    checked()
    action = request.form.get("action")
    if action == "vote":
        question_service.vote(current_user, question)
    elif action == "withdraw":
        question_service.withdraw_vote(current_user, question)
    else:
        abort(400)
    return _back_to_questions(room, request.form.get("order"))


@bp.post("/<int:room_id>/questions/<int:question_id>/moderate")
@login_required
def moderate_question(event_id: int, room_id: int, question_id: int):
    """Approve, dismiss (with an optional reason), mark answered or reopen: the plenary's
    moderators. Not counted as writes (running a Q&A takes many quick actions)."""
    room, question = _question(event_id, room_id, question_id)
    checked()
    action = request.form.get("action")
    try:
        if action == "approve":
            question_service.approve(current_user, question)
        elif action == "dismiss":
            question_service.dismiss(current_user, question, request.form.get("reason", ""))
        elif action == "answered":
            question_service.mark_answered(current_user, question)
        elif action == "reopen":
            question_service.reopen(current_user, question)
        else:
            abort(400)
    except Conflict as error:  # another moderator was first
        refuse_back(error, "info")
    return _back_to_questions(room, request.form.get("order"))


@bp.post("/<int:room_id>/questions/settings")
@login_required
def question_settings(event_id: int, room_id: int):
    room = _plenary(event_id, room_id)
    checked()
    changed = question_service.set_premoderation(
        current_user, room, _flag_value(request.form.get("premoderated"), "premoderated"))
    flash(_("The questions' settings are saved.") if changed else _("Nothing was changed."), "success")
    return _back_to_questions(room)
