"""Notifications: the page, reading them (one, all), the bell's count, the settings section of
the profile, and following (consultations, Topics, threads). docs/notifications.md."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum import permissions
from forum.models import Post
from forum.models.notifications import DIGEST_FREQUENCY_LABELS, NOTIFICATION_KIND_LABELS, DigestFrequency
from forum.ratelimits import counts_as_write
from forum.services import consultations as consultation_service
from forum.services import notifications as service
from forum.web import back_to, checked
from forum.web.forms import ActionForm
from forum.web.requests import query_int

bp = Blueprint("notifications", __name__)


def init_app(app) -> None:
    """What every page's header and the follow buttons ask (only when a page shows them)."""
    app.jinja_env.globals.update(
        unread_notifications=lambda: service.unread_count(current_user),
        follow_state=lambda *targets: service.following(current_user, *targets),
        notification_settings=_settings_rows,
        digest_choices=[(f, DIGEST_FREQUENCY_LABELS[f]) for f in DigestFrequency],
        thread_of=thread_of,
    )


def _settings_rows() -> list[tuple[str, str, bool]]:
    """(code, label, on) per kind, for the profile's settings section."""
    chosen = service.settings_of(current_user)
    return [(kind.value, str(NOTIFICATION_KIND_LABELS[kind]), on) for kind, on in chosen.items()]


# --- The page and reading -----------------------------------------------------------------

@bp.get("/notifications")
@login_required
def index():
    listing = service.list_notifications(current_user, query_int("page", 1))
    return render_template("notifications/index.html", listing=listing, action_form=ActionForm())


@bp.get("/notifications/unread")
@login_required
def unread():
    """The bell's count, for a page that was offline a while (its socket reconnected)."""
    response = jsonify({"count": service.unread_count(current_user)})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/notifications/<int:notification_id>")
@login_required
def open_(notification_id: int):
    """Following a notice reads it and goes to what it is about (or back to the list when
    the reader may no longer see that)."""
    notice = service.notification_of(current_user, notification_id)
    service.mark_read(current_user, notice)
    described = service.describe(notice)
    if not described.visible or not described.url:
        flash(described.text, "info")
        return redirect(url_for("notifications.index"))
    return redirect(described.url)


# Reading is not writing (no text, nothing anyone else sees): not on the writing allowance.
@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    checked()
    service.mark_read(current_user, service.notification_of(current_user, notification_id))
    return redirect(back_to(url_for("notifications.index")))


@bp.post("/notifications/read-all")
@login_required
def read_all():
    checked()
    service.mark_all_read(current_user)
    flash(_("Every notification is marked read."), "success")
    return redirect(back_to(url_for("notifications.index")))


# --- Settings -----------------------------------------------------------------------------

@bp.post("/notifications/settings")
@login_required
@counts_as_write
def settings():
    checked()
    service.save_settings(current_user, current_user, enabled=set(request.form.getlist("kinds")),
                          email_immediate=request.form.get("email_immediate") == "y",
                          digest_frequency=request.form.get("digest_frequency", ""))
    flash(_("Your notification settings have been saved."), "success")
    return redirect(url_for("auth.profile", _anchor="notifications"))


# --- Following ----------------------------------------------------------------------------

@bp.get("/notifications/following")
@login_required
def following():
    return render_template("notifications/following.html", follows=service.follows_of(current_user),
                           action_form=ActionForm())


def _set_following(target, default_url: str):
    checked()
    choice = request.form.get("follow")
    if choice not in {"yes", "no"}:
        abort(400)
    if choice == "yes":
        service.follow(current_user, target)
        flash(_("You follow it now: you will be notified of what happens in it."), "success")
    else:
        service.unfollow(current_user, target)
        flash(_("You no longer follow it."), "info")
    return redirect(back_to(default_url))


@bp.post("/consultations/<int:consultation_id>/follow")
@login_required
@counts_as_write
def follow_consultation(consultation_id: int):
    consultation = permissions.access_consultation(current_user, consultation_id)
    return _set_following(consultation, url_for("consultations.show", consultation_id=consultation.id))


@bp.post("/consultations/<int:consultation_id>/topics/<int:topic_id>/follow")
@login_required
@counts_as_write
def follow_topic(consultation_id: int, topic_id: int):
    consultation = permissions.access_consultation(current_user, consultation_id)
    topic = consultation_service.topic_of(consultation, topic_id)
    return _set_following(topic, url_for("consultations.show", consultation_id=consultation.id,
                                         _anchor=f"topic-{topic.id}"))


@bp.post("/consultations/<int:consultation_id>/posts/<int:post_id>/follow")
@login_required
@counts_as_write
def follow_thread(consultation_id: int, post_id: int):
    post = permissions.access_post(current_user, post_id, consultation_id)
    thread = post if post.parent_id is None else permissions.access_post(current_user, post.thread_id,
                                                                         consultation_id)
    return _set_following(thread, url_for("posts.show", consultation_id=consultation_id, post_id=thread.id))


def thread_of(post: Post) -> Post:
    """The response a post's thread starts with (itself for a response)."""
    from forum.extensions import db

    return post if post.parent_id is None else db.session.get(Post, post.thread_id)
