"""Polls: their page (the question, a voting form that needs no JavaScript, the results and
breakdowns for those allowed), the organisers' form, and their open / close / publish buttons.

Polls are set up from their place: a consultation (`/consultations/<id>/polls/new`, with
`?topic=` for one of its topics) or an event's room (`/events/<id>/rooms/<id>/polls/new`).
The ids and data- attributes the live layer relies on are listed in docs/polls.md."""
from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from forum import permissions
from forum.i18n import label
from forum.models.polls import PollKind, PollStatus, ResultsShown
from forum.ratelimits import counts_as_write
from forum.services import polls as service
from forum.services.errors import PermissionDenied, ValidationError
from forum.web import apply_service_error, flash_refusal, room_url
from forum.web.consultations import _to_local, _to_utc
from forum.web.forms import ActionForm, PollForm
from forum.web.requests import query_int

bp = Blueprint("polls", __name__)


# --- Reading ------------------------------------------------------------------------

def polls_url(room=None, consultation=None) -> str:
    """The polls of a room's or a consultation's page."""
    if room is not None:
        return room_url(room, _anchor="polls")
    return url_for("consultations.show", consultation_id=consultation.id, _anchor="polls")


def place_url(poll) -> str:
    return polls_url(poll.room, poll.consultation)


def poll_url(poll, **kwargs) -> str:
    return url_for("polls.show", poll_id=poll.id, **kwargs)


def result_context(poll) -> dict:
    """What templates/polls/_results.html needs: results (and breakdowns) for this reader."""
    if not permissions.can_see_results(current_user, poll):
        return {"results": None, "breakdowns": None}
    counted = service.ballots(poll)
    breakdowns = service.poll_breakdowns(poll, counted) if permissions.can_see_breakdown(current_user, poll) \
        else None
    return {"results": service.poll_results(poll, counted), "breakdowns": breakdowns}


def _chosen_from_vote(poll, vote) -> dict:
    """A stored ballot as the form's values (field name -> value or set of values)."""
    if vote is None:
        return {}
    choice = vote.choice
    if poll.kind in (PollKind.SINGLE, PollKind.MULTIPLE):
        return {"choice": {str(i) for i in choice}}
    if poll.kind is PollKind.RANKED:
        return {f"rank-{i}": str(rank) for rank, i in enumerate(choice, start=1)}
    prefix = "score" if poll.kind is PollKind.SCORE else "points"
    return {f"{prefix}-{i}": str(value) for i, value in choice.items()}


def render_poll(poll, chosen: dict | None = None, errors: dict | None = None, status: int = 200):
    vote = service.own_vote(current_user, poll)
    return render_template(
        "polls/show.html", poll=poll, vote=vote, chosen=_chosen_from_vote(poll, vote) if chosen is None else chosen,
        errors=errors or {}, action_form=ActionForm(), place_url=place_url(poll),
        may_vote=permissions.can_vote(current_user, poll) and (vote is None or poll.votes_changeable),
        ordinal=ordinal, **result_context(poll), **figures(),
    ), status


def figures() -> dict:
    """Number formatters for the results, in the reader's language."""
    return {"percent": lambda share: format_percent(share or 0, "#,##0%"),
            "decimal": lambda value: "–" if value is None else format_decimal(value, "#,##0.0#"),
            "whole": lambda value: format_decimal(value or 0, "#,##0")}


@bp.get("/polls/<int:poll_id>")
def show(poll_id: int):
    poll = permissions.access_poll(current_user, poll_id)
    return render_poll(poll)


@bp.get("/polls/<int:poll_id>/results")
def results(poll_id: int):
    """The results partial alone (what the live layer puts in place of the page's)."""
    poll = permissions.access_poll(current_user, poll_id)
    if not permissions.can_see_results(current_user, poll):
        raise PermissionDenied(_("The results of this poll are not shown to you yet."))
    return render_template("polls/_results.html", poll=poll, **result_context(poll), **figures())


# --- Voting -------------------------------------------------------------------------

def ordinal(rank: int) -> str:
    """"1st", "2nd"... as the rank selects say them."""
    words = {1: _("1st"), 2: _("2nd"), 3: _("3rd")}
    return words.get(rank) or _("%(num)dth", num=rank)


@bp.post("/polls/<int:poll_id>/vote")
@login_required
@counts_as_write
def vote(poll_id: int):
    poll = permissions.access_poll(current_user, poll_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    raw, chosen = service.ballot_from_form(poll, request.form)
    try:
        service.cast_vote(current_user, poll, raw)
    except ValidationError as error:
        return render_poll(poll, chosen, {error.field or "choice": str(error.message)}, status=400)
    flash(_("Your vote has been saved."), "success")
    return redirect(poll_url(poll, _anchor="poll-results" if permissions.can_see_results(current_user, poll)
                             else "vote"))


# --- Organising ---------------------------------------------------------------------

SEPARATOR = re.compile(r"\s+[—–-]\s+|\s*[—–]\s*")


def parse_options(text: str) -> list[service.OptionInput]:
    """"Label — description" lines (an em or en dash, or a hyphen with spaces around it)."""
    options = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = SEPARATOR.split(line.strip(), maxsplit=1)
        options.append(service.OptionInput(parts[0], parts[1] if len(parts) > 1 else ""))
    return options


def options_text(poll) -> str:
    return "\n".join(f"{o.label} — {o.description}" if o.description else o.label for o in poll.options)


def parse_scale_labels(text: str) -> dict[str, str]:
    labels = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        match = re.fullmatch(r"\s*(-?[0-9]{1,3})\s*[=:]\s*(.*)", line)
        if match is None:
            raise ValidationError(_("Write each line as a value, “=” and its words: “1 = Not at all”."),
                                  field="scale_labels")
        labels[str(int(match.group(1)))] = match.group(2)
    return labels


def _poll_input(form: PollForm) -> service.PollInput:
    return service.PollInput(
        kind=form.kind.data or "", question=form.question.data or "", description=form.description.data or "",
        opens_at=_to_utc(form.opens_at.data, "opens_at"), closes_at=_to_utc(form.closes_at.data, "closes_at"),
        max_choices=form.max_choices.data, scale_min=form.scale_min.data, scale_max=form.scale_max.data,
        scale_labels=parse_scale_labels(form.scale_labels.data), points=form.points.data,
        votes_changeable=bool(form.votes_changeable.data), anonymous=bool(form.anonymous.data),
        results_shown=form.results_shown.data or "", topic_id=form.topic_id.data or None,
    )


def fill_choices(form: PollForm, consultation=None) -> None:
    form.kind.choices = [SelectChoice(k.value, label("poll_kind", k)) for k in PollKind]
    form.results_shown.choices = [SelectChoice(r.value, label("results_shown", r)) for r in ResultsShown]
    if consultation is not None:
        form.topic_id.choices = [SelectChoice(0, _("The whole consultation"))] + [
            SelectChoice(t.id, _("Topic %(number)d: %(title)s", number=t.position, title=t.title))
            for t in consultation.topics]


def form_page(form: PollForm, *, poll=None, consultation=None, room=None, action: str, status: int):
    place_title = room.title if room is not None else consultation.title
    back = place_url(poll) if poll is not None else polls_url(room, consultation)
    return render_template("polls/form.html", form=form, poll=poll, consultation=consultation, room=room,
                           action=action, place_title=place_title, back=back), status


def save(form: PollForm, poll=None, place=None):
    """Create or update from a submitted form; returns the poll, or None (errors on the form)."""
    if not form.validate_on_submit():
        return None
    try:
        data = _poll_input(form)
        options = parse_options(form.options.data)
        if poll is None:
            return service.create_poll(current_user, place, data, options)
        service.update_poll(current_user, poll, data, options)
        return poll
    except ValidationError as error:
        apply_service_error(form, error)
        return None


@bp.route("/consultations/<int:consultation_id>/polls/new", methods=["GET", "POST"])
@login_required
def new_in_consultation(consultation_id: int):
    consultation = permissions.access_consultation(current_user, consultation_id)
    if not permissions.can_run_polls(current_user, consultation):
        raise PermissionDenied()
    form = PollForm()
    fill_choices(form, consultation)
    if request.method == "GET":
        topic_id = query_int("topic")
        form.topic_id.data = topic_id if topic_id in {t.id for t in consultation.topics} else 0
        form.results_shown.data = ResultsShown.AFTER_VOTE.value
    poll = save(form, place=consultation)
    if poll is not None:
        flash(_("Poll saved as a draft. Open it when you are ready."), "success")
        return redirect(poll_url(poll))
    return form_page(form, consultation=consultation, status=400 if request.method == "POST" else 200,
                      action=url_for("polls.new_in_consultation", consultation_id=consultation.id))


@bp.route("/polls/<int:poll_id>/edit", methods=["GET", "POST"])
@login_required
def edit(poll_id: int):
    poll = permissions.access_poll(current_user, poll_id)
    if not permissions.can_manage_poll(current_user, poll):
        raise PermissionDenied()
    if poll.status is not PollStatus.DRAFT:
        flash(str(service.ONLY_DRAFTS_EDITED), "error")
        return redirect(poll_url(poll))
    form = PollForm(obj=poll)
    fill_choices(form, poll.consultation)
    if request.method == "GET":
        form.kind.data = poll.kind.value
        form.results_shown.data = poll.results_shown.value
        form.topic_id.data = poll.topic_id or 0
        form.options.data = options_text(poll)
        form.scale_labels.data = "\n".join(f"{k} = {v}" for k, v in sorted(
            poll.scale_labels.items(), key=lambda item: int(item[0])))
        form.opens_at.data, form.closes_at.data = _to_local(poll.opens_at), _to_local(poll.closes_at)
        form.points.data = poll.points or 10
    if save(form, poll=poll) is not None:
        flash(_("Changes saved."), "success")
        return redirect(poll_url(poll))
    return form_page(form, poll=poll, consultation=poll.consultation, room=poll.room,
                      status=400 if request.method == "POST" else 200,
                      action=url_for("polls.edit", poll_id=poll.id))


@bp.post("/polls/<int:poll_id>/<any(open, close, breakdown):action>")
@login_required
def manage(poll_id: int, action: str):
    """The organisers' buttons: open, close, publish the breakdown."""
    poll = permissions.access_poll(current_user, poll_id)
    if not permissions.can_manage_poll(current_user, poll):
        raise PermissionDenied()
    if not ActionForm().validate_on_submit():
        abort(400)
    change = {"open": service.open_poll, "close": service.close_poll, "breakdown": service.publish_breakdown}
    messages = {"open": _("The poll is open."), "close": _("The poll is closed."),
                "breakdown": _("The breakdown is published to everyone who sees the results.")}
    try:
        change[action](current_user, poll)
    except ValidationError as error:
        flash_refusal(error)
    else:
        flash(messages[action], "success")
    return redirect(poll_url(poll))


@bp.route("/polls/<int:poll_id>/delete", methods=["GET", "POST"])
@login_required
def delete(poll_id: int):
    """A draft thrown away, after a confirmation page (GET); an opened poll stays for the record."""
    poll = permissions.access_poll(current_user, poll_id)
    if not permissions.can_manage_poll(current_user, poll):
        raise PermissionDenied()
    if poll.status is not PollStatus.DRAFT:
        flash(str(service.ONLY_DRAFTS_DELETED), "error")
        return redirect(poll_url(poll))
    form = ActionForm()
    if form.validate_on_submit():
        back = place_url(poll)
        service.delete_poll(current_user, poll)
        flash(_("The draft poll has been deleted."), "success")
        return redirect(back)
    if request.method == "POST":
        abort(400)
    return render_template("polls/delete.html", poll=poll, form=form, place_url=place_url(poll))


@bp.app_template_global()
def place_polls(place) -> list:
    """The polls of a consultation or room that this reader may see (their cards' list)."""
    return service.polls_of(current_user, place)


@bp.app_template_global()
def topic_polls(polls: list, topic_id: int | None) -> list:
    """A consultation's polls when its page shows one topic: that topic's and the whole
    consultation's (from the list already read: no query)."""
    if topic_id is None:
        return polls
    return [poll for poll in polls if poll.topic_id in (None, topic_id)]
