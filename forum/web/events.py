"""Events: the list, the public page, organising (details, rooms, co-moderators, people),
joining, and the moderators' controls of a room (its page is forum/web/rooms.py, where
these forms send people back)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from forum import ics, permissions
from forum.extensions import db
from forum.i18n import format_when, label
from forum.models import Event
from forum.models.events import AssignmentMode, EventStatus
from forum.ratelimits import counts_as_write
from forum.services import control_room
from forum.services import event_setup as service
from forum.services import events as live_events
from forum.services import rooms as room_service
from forum.services.accounts import timezone_names
from forum.services.errors import Conflict, PermissionDenied, ValidationError
from forum.web import (
    apply_service_error,
    back_to,
    checked,
    editable_event,
    refuse_back,
    room_in,
    room_url,
    whole_number,
)
from forum.web.auth import TIMEZONE_CHOICES
from forum.web.forms import ActionForm, BroadcastForm, EventForm, ModeratorForm, RecallForm

bp = Blueprint("events", __name__, url_prefix="/events")


# --- Reading ------------------------------------------------------------------------

@bp.get("/")
def index():
    groups: dict[str, list] = {"live": [], "upcoming": [], "past": []}
    for event in service.list_events(current_user):
        groups[service.when(event)].append(event)
    groups["past"].reverse()  # most recent first
    return render_template("events/index.html", groups=groups)


@bp.get("/<int:event_id>")
def show(event_id: int):
    event = permissions.access_event(current_user, event_id)
    for room in event.breakout_rooms:
        room_service.close_if_due(room)
    # The report-back (takeaways, the names of those credited) is the plenary's: shown to
    # whoever may read the plenary, not to every visitor of this public page.
    cards = room_service.report_back(event) if permissions.can_view_room(current_user, event.plenary) else []
    return render_template(
        "events/show.html", event=event, member=permissions.membership(current_user, event),
        own_room=permissions.own_room(current_user, event), cards=cards,
        occupancy=service.participation(event), action_form=ActionForm(), open_rooms=service.open_rooms(event),
        event_times=[_in_zone(event.starts_at, event.timezone), _in_zone(event.ends_at, event.timezone)])


@bp.get("/<int:event_id>/event.ics")
def calendar_file(event_id: int):
    """"Add to calendar": the event as an iCalendar file, for whoever may see its page."""
    event = permissions.access_event(current_user, event_id)
    response = make_response(ics.calendar(event))
    response.headers["Content-Type"] = ics.CONTENT_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="{ics.filename(event)}"'
    return response


def _in_zone(value: datetime, zone: str) -> str:
    """A time as the organiser planned it, in the event's own time zone."""
    return format_when(value, "medium", zone=zone)


# --- Organising ---------------------------------------------------------------------

def _fill_choices(form: EventForm) -> None:
    form.timezone.choices = [SelectChoice(tz, tz.replace("_", " ")) for tz in TIMEZONE_CHOICES]
    form.assignment_mode.choices = [SelectChoice(mode.value, label("assignment_mode", mode)) for mode in AssignmentMode]


def _to_utc(value: datetime | None, zone: str, field: str) -> datetime | None:
    """A datetime-local value is in the event's time zone."""
    if value is None:
        return None
    if zone not in timezone_names():
        raise ValidationError(_("Choose a time zone from the list."), field="timezone")
    try:
        return value.replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)
    except OverflowError:
        raise ValidationError(_("Choose a date between the years 1900 and 9000."), field=field) from None


def _event_input(form: EventForm) -> service.EventInput:
    zone = form.timezone.data or ""
    return service.EventInput(
        title=form.title.data or "", description=form.description.data or "", agenda=form.agenda.data or "",
        speakers=form.speakers.data or "", timezone=zone, assignment_mode=form.assignment_mode.data or "",
        starts_at=_to_utc(form.starts_at.data, zone, "starts_at"), ends_at=_to_utc(form.ends_at.data, zone, "ends_at"))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    if not permissions.can_create_event(current_user):
        raise PermissionDenied(_("Only organisers can create events. Ask a platform admin."))
    form = EventForm()
    _fill_choices(form)
    if request.method == "GET":
        form.timezone.data = current_user.timezone
        form.assignment_mode.data = AssignmentMode.BALANCED.value
    if form.validate_on_submit():
        try:
            event = service.create_event(current_user, _event_input(form))
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            flash(_("Event created as a draft. Add its breakout rooms and co-moderators, then publish it."), "success")
            return redirect(url_for("events.edit", event_id=event.id))
    status = 400 if request.method == "POST" else 200
    return render_template("events/form.html", form=form, event=None), status


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id: int):
    event = editable_event(event_id)
    form = EventForm(obj=event)
    _fill_choices(form)
    if request.method == "GET":
        zone = ZoneInfo(event.timezone)
        form.assignment_mode.data = event.assignment_mode.value
        form.starts_at.data = event.starts_at.astimezone(zone).replace(tzinfo=None)
        form.ends_at.data = event.ends_at.astimezone(zone).replace(tzinfo=None)
    if form.validate_on_submit():
        try:
            service.update_event(current_user, event, _event_input(form))
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("events.edit", event_id=event.id))
    status = 400 if request.method == "POST" else 200
    return render_template("events/form.html", form=form, event=event, action_form=ActionForm(),
                           moderator_form=ModeratorForm(formdata=None)), status


@bp.post("/<int:event_id>/status")
@login_required
def change_status(event_id: int):
    event = editable_event(event_id)
    checked()
    if request.form.get("status") == EventStatus.PUBLISHED.value:
        service.publish_event(current_user, event)
        flash(_("The event is published: people can register."), "success")
    elif request.form.get("status") == EventStatus.ENDED.value:
        service.end_event(current_user, event)
        flash(_("The event has ended: every room is closed and stays readable."), "success")
    else:
        abort(400)
    return redirect(url_for("events.edit", event_id=event.id))


@bp.post("/<int:event_id>/invite")
@login_required
def regenerate_invite(event_id: int):
    event = editable_event(event_id)
    checked()
    service.regenerate_invite(current_user, event)
    flash(_("A new invitation link was made; the previous one no longer works."), "success")
    return redirect(url_for("events.edit", event_id=event.id, _anchor="invitation"))


# --- People -------------------------------------------------------------------------

@bp.get("/<int:event_id>/people")
@login_required
def people(event_id: int):
    event = editable_event(event_id)
    return render_template("events/people.html", event=event, members=service.members(current_user, event),
                           figures=service.participation(event), open_rooms=service.open_rooms(event),
                           action_form=ActionForm())


@bp.post("/<int:event_id>/people/<int:member_id>/move")
@bp.post("/<int:event_id>/people/move")  # the person chosen in the form (the control room)
@login_required
def move_member(event_id: int, member_id: int | None = None):
    event = editable_event(event_id)
    checked()
    if member_id is None:
        member_id = whole_number(request.form.get("member_id", ""))
        if member_id is None:
            raise ValidationError(_("Choose one of this event's people."), field="member_id")
    member = service.member_of(event, member_id)
    room_id = request.form.get("room_id", "").strip()
    room = None  # empty: back to unassigned
    if room_id:
        number = whole_number(room_id)
        if number is None:
            raise ValidationError(_("Choose one of this event's breakout rooms."), field="room_id")
        room = room_in(event, number)
    try:
        service.assign_member(current_user, member, room)
    except (ValidationError, Conflict) as error:
        refuse_back(error)
    else:
        flash(_("%(name)s moved.", name=member.user.display_name), "success")
    return redirect(back_to(url_for("events.people", event_id=event.id)))


@bp.post("/<int:event_id>/people/balance")
@login_required
def balance(event_id: int):
    event = editable_event(event_id)
    checked()
    try:
        placed = service.run_balanced_assignment(current_user, event)
    except ValidationError as error:
        refuse_back(error)
    else:
        flash(ngettext("%(num)d person placed in a room.", "%(num)d people placed in rooms.", len(placed)), "success")
    return redirect(url_for("events.people", event_id=event.id))


# --- Joining ------------------------------------------------------------------------

def _after_joining(event, member):
    room = permissions.own_room(current_user, event)
    if room is not None:
        flash(_("You are registered. Your room is %(room)s.", room=room.title), "success")
    elif member.role.value == "participant" and event.breakout_rooms and not service.open_rooms(event):
        flash(_("You are registered. No breakout room takes newcomers now: you take part in the plenary."),
              "success")
    else:
        flash(_("You are registered."), "success")
    return redirect(url_for("events.show", event_id=event.id))


@bp.post("/<int:event_id>/register")
@login_required
@counts_as_write
def register(event_id: int):
    event = permissions.access_event(current_user, event_id)
    checked()
    member = service.register(current_user, event, request.form.get("role") or "participant")
    return _after_joining(event, member)


@bp.route("/<int:event_id>/join/<token>", methods=["GET", "POST"])
@login_required
@counts_as_write
def join(event_id: int, token: str):
    # An invitation admits to a draft too: load the event without the page's visibility rule.
    event = db.session.get(Event, event_id) if permissions.valid_id(event_id) else None
    if event is None or len(token) > 64:
        abort(404)
    if request.method == "POST":
        checked()
        member = service.accept_invitation(current_user, event, token)
        return _after_joining(event, member)
    # Check the link before showing anything about the event.
    service.check_invitation(event, token)
    return render_template("events/join.html", event=event, token=token, action_form=ActionForm(),
                           member=permissions.membership(current_user, event))


# --- Organisers' event-wide actions -----------------------------------------------------

@bp.route("/<int:event_id>/broadcast", methods=["GET", "POST"])
@login_required
def broadcast(event_id: int):
    event = editable_event(event_id)
    form = BroadcastForm()
    if form.validate_on_submit():
        try:
            sent = room_service.broadcast(current_user, event, form.body.data or "")
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            flash(ngettext("Your message was sent to %(num)d room.", "Your message was sent to %(num)d rooms.",
                           len(sent)), "success")
            return redirect(back_to(room_url(event.plenary)))
    status = 400 if request.method == "POST" else 200
    return render_template("events/broadcast.html", form=form, event=event), status


@bp.route("/<int:event_id>/recall", methods=["GET", "POST"])
@login_required
def recall(event_id: int):
    event = editable_event(event_id)
    form = RecallForm()
    if form.validate_on_submit():
        try:
            room_service.recall(current_user, event, form.message.data or "")
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            flash(_("Everyone was asked to come back to the plenary."), "success")
            return redirect(back_to(room_url(event.plenary)))
    status = 400 if request.method == "POST" else 200
    return render_template("events/recall.html", form=form, event=event), status


# --- The control room -----------------------------------------------------------------------

@bp.get("/<int:event_id>/control")
@login_required
def control(event_id: int):
    """Every room of the event with its figures, live (forum/services/control_room.py), and
    the organisers' event-wide controls."""
    event = permissions.access_event(current_user, event_id)
    if not permissions.can_run_control_room(current_user, event):
        raise PermissionDenied()
    for room in event.breakout_rooms:
        room_service.close_if_due(room)
    stream = control_room.control_stream(event)
    return render_template(
        "events/control.html", event=event, figures=control_room.figures(event),
        rooms={room.id: room for room in event.rooms}, members=service.members(current_user, event),
        stream=stream, seq=live_events.latest_seq(stream), action_form=ActionForm(),
        broadcast_form=BroadcastForm(formdata=None), recall_form=RecallForm(formdata=None),
        long_queue=control_room.LONG_QUEUE, recent_minutes=control_room.RECENT_MINUTES)
