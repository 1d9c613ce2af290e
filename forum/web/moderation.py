"""Moderators' pages and buttons: actions on posts and rooms, the queues and the moderation log.

Every action is a plain form POST that comes back (POST-redirect-GET) to a safe `next` or to
the post's own page; reasons are asked on small pages of their own, so all of it works
without JavaScript. The rules are in forum/services/moderation.py."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from forum import permissions
from forum.extensions import db
from forum.i18n import label
from forum.models import Event, Post, Room, Topic, User
from forum.ratelimits import counts_as_write
from forum.services import audit, rooms
from forum.services import moderation as service
from forum.services.errors import Conflict, ValidationError
from forum.web import apply_service_error, back_to, flash_refusal, post_url, room_url
from forum.web.forms import (
    ActionForm,
    FlagPostForm,
    HidePostForm,
    MovePostForm,
    RejectPostForm,
)
from forum.web.requests import query_int

bp = Blueprint("moderation", __name__)



# --- Where to go back to ---------------------------------------------------------------------

def _done(post: Post, message: str):
    flash(message, "success")
    return redirect(back_to(post_url(post)))


def _conflict(error: Conflict, default: str):
    """Someone else was faster (or nothing was left to do): say so, change nothing."""
    flash_refusal(error, "info")
    return redirect(back_to(default))


def _load(post_id: int) -> Post:
    return permissions.access_post(current_user, post_id)


def _require_moderator(post: Post) -> None:
    if not permissions.can_moderate_post(current_user, post):
        abort(403)


# --- Buttons: one POST each ---------------------------------------------------------------

def _button(post_id: int, action, message: str):
    post = _load(post_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        action(current_user, post)
    except Conflict as error:
        return _conflict(error, post_url(post))
    return _done(post, message)


@bp.post("/posts/<int:post_id>/restore")
@login_required
def restore(post_id: int):
    return _button(post_id, service.restore_post, _("The post is visible again."))


@bp.post("/posts/<int:post_id>/pin")
@login_required
def pin(post_id: int):
    return _button(post_id, service.pin_post, _("The post is pinned."))


@bp.post("/posts/<int:post_id>/unpin")
@login_required
def unpin(post_id: int):
    return _button(post_id, service.unpin_post, _("The post is no longer pinned."))


@bp.post("/posts/<int:post_id>/lock")
@login_required
def lock(post_id: int):
    return _button(post_id, service.lock_thread, _("The thread is locked: only moderators can reply."))


@bp.post("/posts/<int:post_id>/unlock")
@login_required
def unlock(post_id: int):
    return _button(post_id, service.unlock_thread, _("The thread is open for replies again."))


@bp.post("/posts/<int:post_id>/approve")
@login_required
def approve(post_id: int):
    return _button(post_id, service.approve_post, _("The message is published."))


@bp.post("/posts/<int:post_id>/dismiss-flags")
@login_required
def dismiss_flags(post_id: int):
    return _button(post_id, service.dismiss_flags, _("The reports are dismissed."))


# --- Forms that ask for a reason -------------------------------------------------------------

def _reason_page(post: Post, form, action, *, template_args: dict, message: str):
    if form.validate_on_submit():
        try:
            action(current_user, post, form.reason.data or "")
        except ValidationError as error:
            apply_service_error(form, error)
        except Conflict as error:
            return _conflict(error, post_url(post))
        else:
            return _done(post, message)
    elif request.method == "GET":
        form.next.data = back_to("")
    status = 400 if request.method == "POST" else 200
    return render_template("moderation/reason.html", form=form, post=post, back=back_to(post_url(post)),
                           **template_args), status


@bp.route("/posts/<int:post_id>/hide", methods=["GET", "POST"])
@login_required
def hide(post_id: int):
    post = _load(post_id)
    _require_moderator(post)
    return _reason_page(post, HidePostForm(), service.hide_post, message=_("The post is hidden."), template_args=dict(
        title=_("Hide this post"), intro=_("Others will see that a moderator hid it. Its author and the "
                                           "moderators can still read it, with your reason."),
        submit=_("Hide"), danger=True))


@bp.route("/posts/<int:post_id>/reject", methods=["GET", "POST"])
@login_required
def reject(post_id: int):
    post = _load(post_id)
    _require_moderator(post)
    return _reason_page(post, RejectPostForm(), service.reject_post, message=_("The message is rejected."),
                        template_args=dict(title=_("Reject this message"),
                                           intro=_("It will not be published. Its author will see your reason."),
                                           submit=_("Reject"), danger=True))


@bp.route("/posts/<int:post_id>/flag", methods=["GET", "POST"])
@login_required
@counts_as_write
def flag(post_id: int):
    post = _load(post_id)
    if service.has_flagged(current_user, post):
        flash(_("You have already reported this post; its moderators have your report."), "info")
        return redirect(back_to(post_url(post)))
    if not permissions.can_flag(current_user, post):
        abort(403)
    return _reason_page(post, FlagPostForm(), service.flag_post,
                        message=_("Thank you: the moderators have your report."), template_args=dict(
                            title=_("Report this post"),
                            intro=_("Tell the moderators what is wrong with it. "
                                    "Its author will not know who reported it."),
                            submit=_("Send the report"), danger=False))


# --- Moving ------------------------------------------------------------------------------

def _destinations(post: Post) -> list[Topic | Room]:
    """Where the actor may move this thread: the other topics or rooms they moderate."""
    if post.room_id is None:
        consultation = post.consultation
        return [t for t in consultation.topics if t.id != post.topic_id
                and permissions.is_consultation_moderator(current_user, consultation, t)]
    return [r for r in post.room.event.rooms if r.id != post.room_id and permissions.can_moderate_room(current_user, r)]


def _destination_label(place: Topic | Room) -> str:
    if isinstance(place, Topic):
        return _("Topic %(number)d: %(title)s", number=place.position, title=place.title)
    return place.title


@bp.route("/posts/<int:post_id>/move", methods=["GET", "POST"])
@login_required
def move(post_id: int):
    post = _load(post_id)
    _require_moderator(post)
    places = _destinations(post)
    form = MovePostForm()
    form.destination.choices = [SelectChoice(0, _("Choose…"))] + [
        SelectChoice(p.id, _destination_label(p)) for p in places]
    if form.validate_on_submit():
        chosen = next((p for p in places if p.id == form.destination.data), None)
        # Back in the room the thread leaves, the reader's place is the message that follows it.
        source = room_url(post.room) if post.room_id is not None else None
        neighbour = rooms.neighbour_message_id(post) if source else None
        try:
            if chosen is None:
                raise ValidationError(_("Choose one of the places offered."), field="destination")
            kind = "topic" if post.room_id is None else "room"
            service.move_post(current_user, post, **{kind: chosen})
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            flash(_("The thread has been moved."), "success")
            back = urlsplit(back_to(post_url(post)))
            if source and back.path == urlsplit(source).path:
                back = back._replace(fragment=f"post-{neighbour}" if neighbour else "messages-heading")
            return redirect(back.geturl())
    elif request.method == "GET":
        form.next.data = back_to("")
    status = 400 if request.method == "POST" else 200
    return render_template("moderation/move.html", form=form, post=post, places=places,
                           back=back_to(post_url(post))), status


# --- Queues ----------------------------------------------------------------------------------

@bp.get("/consultations/<int:consultation_id>/queue")
@login_required
def consultation_queue(consultation_id: int):
    consultation = permissions.access_consultation(current_user, consultation_id)
    queue = service.consultation_queue(current_user, consultation)
    return render_template(
        "moderation/queue.html", room=None, consultation=consultation, queue=queue, action_form=ActionForm(),
        here=request.path, post_url=post_url, title=consultation.title,
        back=url_for("consultations.show", consultation_id=consultation.id))


# --- The moderation log --------------------------------------------------------------------

@bp.get("/events/<int:event_id>/log")
@login_required
def event_log(event_id: int):
    event = permissions.access_event(current_user, event_id)
    return _log_page(event, title=event.title, places={("room", r.id): r.title for r in event.rooms},
                     rooms=list(event.rooms))


@bp.get("/consultations/<int:consultation_id>/log")
@login_required
def consultation_log(consultation_id: int):
    consultation = permissions.access_consultation(current_user, consultation_id)
    return _log_page(consultation, title=consultation.title,
                     places={("topic", t.id): _destination_label(t) for t in consultation.topics})


def _log_filters(rooms: list[Room] | None, people: list[User]) -> tuple[dict, list[str]]:
    """The log's filters from the query string (a GET form): {"room": id, "moderator": id,
    "action": name}, keeping only what names a choice the form offers; and the errors."""
    chosen, errors = {}, []
    checks = {"moderator": ({u.id for u in people}, _("Choose a person from the list."))}
    if rooms is not None:  # an event's log (a consultation's has no rooms: no such filter)
        checks["room"] = ({r.id for r in rooms}, _("Choose a room from the list."))
    for name, (allowed, message) in checks.items():
        try:
            number = query_int(name)
        except ValidationError:
            number = 0  # not a choice the form offers: the same message as any other
        if number is None:
            continue
        if number not in allowed:
            errors.append(message)
        else:
            chosen[name] = number
    action = request.args.get("action", "").strip()
    if action:
        if action in audit.ACTION_LABELS:
            chosen["action"] = action
        else:
            errors.append(_("Choose an action from the list."))
    return chosen, errors


def _log_page(scope, *, title: str, places: dict, rooms: list[Room] | None = None):
    before = query_int("before")  # only links make it: a bad one is a bad address, not a choice
    people = audit.actors(current_user, scope)
    filters, errors = _log_filters(rooms, people)
    entries, older = [], None
    if not errors:
        entries = audit.entries(current_user, scope, before=before, limit=audit.LOG_PAGE_SIZE + 1,
                                room_id=filters.get("room"), actor_id=filters.get("moderator"),
                                action=filters.get("action"))
        older = entries[audit.LOG_PAGE_SIZE - 1].id if len(entries) > audit.LOG_PAGE_SIZE else None
        entries = entries[:audit.LOG_PAGE_SIZE]
    # The entries' posts in one query (the identity map then serves `entry.post`).
    post_ids = {e.post_id for e in entries if e.post_id}
    if post_ids:
        db.session.scalars(db.select(Post).where(Post.id.in_(post_ids))).all()
    page = render_template(
        "moderation/log.html", scope=scope, is_event=isinstance(scope, Event), title=title, entries=entries,
        older=older, newest=before is not None, post_url=post_url,
        describe=lambda entry: describe(entry, places), action_names=list(audit.ACTION_LABELS),
        rooms=rooms, people=people, filters=filters,
        errors=errors, page_url=lambda **extra: url_for(request.endpoint, **request.view_args, **filters, **extra))
    return page, 400 if errors else 200


def describe(entry, places: dict) -> str:
    """The details of a log line in words (unknown ones as they are stored)."""
    d = entry.details or {}
    if entry.action == "room.slow_mode":
        seconds = d.get("seconds", 0)
        return ngettext("one message every %(num)d second", "one message every %(num)d seconds", seconds) \
            if seconds else _("off")
    if entry.action == "room.premoderation":
        return _("on") if d.get("on") else _("off")
    if entry.action == "user.muted" and "minutes" in d:
        return ngettext("for %(num)d minute", "for %(num)d minutes", d["minutes"])
    if entry.action == "post.moved" and "from" in d:
        scope = d.get("scope", "topic")
        return _("from %(source)s to %(destination)s", source=places.get((scope, d["from"]), d["from"]),
                 destination=places.get((scope, d["to"]), d["to"]))
    if entry.action == "flag.dismissed" and "flags" in d:
        return ngettext("%(num)d report", "%(num)d reports", d["flags"])
    if entry.action == "post.hidden":
        return ngettext("%(num)d report resolved", "%(num)d reports resolved", d["flags_resolved"]) \
            if d.get("flags_resolved") else ""
    if entry.action == "room.phase" and "to" in d:
        return _describe_phase(d)
    if entry.action == "member.moved":
        if d.get("automatic"):
            return ngettext("%(num)d person placed by the balanced assignment",
                            "%(num)d people placed by the balanced assignment", d.get("count", 0))
        nowhere = _("not placed")
        return _("from %(source)s to %(destination)s",
                 source=places.get(("room", d.get("from_room_id")), nowhere),
                 destination=places.get(("room", d.get("to_room_id")), nowhere))
    if entry.action == "event.recall":
        return d.get("message", "")
    if entry.action.startswith("poll."):
        return d.get("question", "")
    if entry.action in ("takeaway.promoted", "floor.given", "event.broadcast"):
        return ""  # the post or person concerned says it all
    return ", ".join(f"{key}: {value}" for key, value in d.items())


def _describe_phase(d: dict) -> str:
    text = _("%(before)s → %(after)s", before=label("room_phase", d.get("from")), after=label("room_phase", d["to"]))
    if d.get("minutes"):
        text += " " + ngettext("(countdown of %(num)d minute)", "(countdown of %(num)d minutes)", d["minutes"])
    if d.get("automatic"):
        text += " " + _("(automatically, at the end of the countdown)")
    if d.get("ended"):
        text += " " + _("(the event ended)")
    return text
