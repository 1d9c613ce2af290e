"""Feedback after an event (docs/feedback.md): the participants' form, the organisers'
editor of it and their results page. Forms without JavaScript; the service decides."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum import permissions
from forum.ratelimits import counts_as_write
from forum.services import feedback as service
from forum.services.errors import Conflict, PermissionDenied, ValidationError
from forum.web import checked, whole_number

bp = Blueprint("feedback", __name__, url_prefix="/events")


def _event(event_id: int):
    return permissions.access_event(current_user, event_id)


def _rating(name: str):
    """A rating from the form: "" when none was chosen, an int, or "bad" (refused by the service)."""
    raw = request.form.get(name, "")
    if raw.strip() == "":
        return ""
    value = whole_number(raw)
    return value if value is not None else "bad"


def _answer_page(event, *, errors=None, values=None, refused=None, status=200):
    form = service.form_for(event)
    return render_template(
        "feedback/answer.html", event=event, form=form, errors=errors or {}, values=values or {},
        room=service.rated_room(current_user, event) if form.rate_room else None,
        can_answer=permissions.can_answer_feedback(current_user, event),
        answered=permissions.has_answered_feedback(current_user, event),
        is_open=permissions.feedback_open(event), member=permissions.membership(current_user, event),
        ratings=service.RATINGS, rating_labels=service.RATING_LABELS, refused=refused), status


@bp.route("/<int:event_id>/feedback", methods=["GET", "POST"])
@login_required
@counts_as_write
def answer(event_id: int):
    """The form (GET) and the answer (POST)."""
    event = _event(event_id)
    if request.method == "GET":
        return _answer_page(event)
    checked()
    form = service.form_for(event)
    comments = [request.form.get(f"comment-{i}", "") for i in range(len(form.questions))]
    values = {"overall": request.form.get("overall", ""), "room_rating": request.form.get("room_rating", ""),
              "comments": comments, "show_name": bool(request.form.get("show_name"))}
    try:
        service.answer(current_user, event, overall=_rating("overall"), room_rating=_rating("room_rating"),
                       comments=comments, show_name=values["show_name"])
    except ValidationError as error:
        return _answer_page(event, errors={error.field or "form": str(error.message)}, values=values, status=400)
    except Conflict as error:  # answered already (another tab, the back button): said kindly, on the form's page
        return _answer_page(event, refused=str(error.message), status=409)
    flash(_("Thank you for your feedback."), "success")
    return redirect(url_for("events.show", event_id=event.id))


@bp.route("/<int:event_id>/feedback/form", methods=["GET", "POST"])
@login_required
@counts_as_write
def edit_form(event_id: int):
    event = _event(event_id)
    if not permissions.can_see_feedback_results(current_user, event):
        raise PermissionDenied()
    error = None
    if request.method == "POST":
        checked()
        if request.form.get("questions") is None:
            abort(400)
        try:
            service.save_form(current_user, event, questions=request.form["questions"].split("\n"),
                              rate_room=bool(request.form.get("rate_room")))
        except ValidationError as refused:
            error = str(refused.message)
        else:
            flash(_("The feedback form is saved."), "success")
            return redirect(url_for("feedback.edit_form", event_id=event.id))
    form = service.form_for(event)
    return render_template(
        "feedback/edit.html", event=event, form=form, error=error,
        questions=request.form.get("questions") if error else "\n".join(form.questions),
        editable=permissions.can_edit_feedback_form(current_user, event),
        max_questions=service.MAX_QUESTIONS), 400 if error else 200


@bp.get("/<int:event_id>/feedback/results")
@login_required
def results(event_id: int):
    event = _event(event_id)
    return render_template("feedback/results.html", event=event,
                           results=service.results(current_user, event), ratings=service.RATINGS,
                           rating_labels=service.RATING_LABELS,
                           # In the reader's language: "50 %" in Italian, "50%" in English; "4,5" and "4.5".
                           percent=lambda share: format_percent(share, "#,##0%"),
                           mean=lambda value: format_decimal(value, "#,##0.0"))
