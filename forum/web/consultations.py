from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from forum import permissions
from forum.i18n import label
from forum.services import consultations as service
from forum.services import events, stances
from forum.services import opinion as opinion_service
from forum.services import posts as post_service
from forum.services.errors import PermissionDenied, ValidationError
from forum.web import apply_service_error
from forum.web.forms import ActionForm, ConsultationForm, HostForm, PostForm, TopicForm
from forum.web.requests import query_int

bp = Blueprint("consultations", __name__, url_prefix="/consultations")


# --- Reading ------------------------------------------------------------------------

def query_stance():
    """The `stance` filter of a page's address (empty: none); another value is a 400."""
    raw = request.args.get("stance", "")
    try:
        return stances.parse(raw)
    except ValidationError:
        raise ValidationError(_("“%(name)s” in this address must be one of: %(choices)s.", name="stance",
                                choices=", ".join(stances.CODES)), field="stance") from None


def render_consultation(consultation, post_form: PostForm | None = None, status: int = 200):
    topic_id = query_int("topic")
    if topic_id is not None and topic_id not in {t.id for t in consultation.topics}:
        topic_id = None
    stance = query_stance()
    sort = request.args.get("sort") if request.args.get("sort") in post_service.SORTS else "newest"
    page = query_int("page", 1)
    # Read before the posts: anything after this number is replayed to the page's script.
    stream = events.consultation_stream(consultation)
    seq = events.latest_seq(stream)
    responses = post_service.list_responses(current_user, consultation, topic_id=topic_id, sort=sort, page=page,
                                            stance=stance)
    if post_form is None and permissions.can_post(current_user, consultation):
        post_form = PostForm(formdata=None, topic_id=topic_id)
    if post_form is not None:
        post_form.topic_id.choices = [SelectChoice(0, _("Choose a topic…"))] + [
            SelectChoice(t.id, _("Topic %(number)d: %(title)s", number=t.position, title=t.title),
                         render_kw={"data-proposal": "yes"} if t.is_proposal else {})
            for t in consultation.topics]
    stance_tables = stances.stance_tables(consultation)  # one query; none without a proposal
    stance_counts = {topic_id: table.counts for topic_id, table in stance_tables.items()}
    return render_template(
        "consultations/show.html", consultation=consultation, responses=responses,
        topic_id=topic_id, sort=sort, post_form=post_form,
        topic_counts=post_service.topic_counts(consultation), action_form=ActionForm(),
        stream=stream, seq=seq, opinion_board=opinion_service.board_of(consultation),
        stance=stance, stance_counts=stance_counts,
        stance_totals=stances.stance_totals(stance_counts),
        stance_tables=stance_tables,
        stance_count_text=stances.count_text, stance_count_forms=stances.count_forms,
    ), status


@bp.get("/<int:consultation_id>")
def show(consultation_id: int):
    consultation = permissions.access_consultation(current_user, consultation_id)
    return render_consultation(consultation)


# --- Organising ---------------------------------------------------------------------

def _to_utc(value: datetime | None, field: str) -> datetime | None:
    """A datetime-local value is in the organiser's time zone."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=ZoneInfo(str(get_timezone()))).astimezone(timezone.utc)
    except OverflowError:
        raise ValidationError(_("Choose a date between the years 1900 and 9000."), field=field) from None


def _to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(str(get_timezone()))).replace(tzinfo=None)


def _consultation_input(form: ConsultationForm) -> service.ConsultationInput:
    return service.ConsultationInput(
        title=form.title.data or "", brief=form.brief.data or "", tags=form.tags.data or "",
        visibility=form.visibility.data or "", opens_at=_to_utc(form.opens_at.data, "opens_at"),
        closes_at=_to_utc(form.closes_at.data, "closes_at"),
    )


def _editable(consultation_id: int):
    consultation = permissions.access_consultation(current_user, consultation_id)
    if not permissions.can_edit_consultation(current_user, consultation):
        raise PermissionDenied()
    return consultation


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    if not permissions.can_create_consultation(current_user):
        raise PermissionDenied(_("Only organisers can create consultations. Ask a platform admin."))
    form = ConsultationForm()
    if form.validate_on_submit():
        try:
            consultation = service.create_consultation(current_user, _consultation_input(form))
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            flash(_("Consultation created as a draft. Add its topics and hosts, then open it."), "success")
            return redirect(url_for("consultations.edit", consultation_id=consultation.id))
    status = 400 if request.method == "POST" else 200
    return render_template("consultations/form.html", form=form, consultation=None), status


@bp.route("/<int:consultation_id>/edit", methods=["GET", "POST"])
@login_required
def edit(consultation_id: int):
    consultation = _editable(consultation_id)
    form = ConsultationForm(obj=consultation)
    if request.method == "GET":
        form.tags.data = " ".join(f"#{t.name}" for t in consultation.tags)
        form.visibility.data = consultation.visibility.value
        form.opens_at.data = _to_local(consultation.opens_at)
        form.closes_at.data = _to_local(consultation.closes_at)
    if form.validate_on_submit():
        try:
            service.update_consultation(current_user, consultation, _consultation_input(form))
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("consultations.edit", consultation_id=consultation.id))
    status = 400 if request.method == "POST" else 200
    return render_template("consultations/form.html", form=form, consultation=consultation,
                           action_form=ActionForm()), status


@bp.post("/<int:consultation_id>/status")
@login_required
def change_status(consultation_id: int):
    consultation = _editable(consultation_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    service.set_status(current_user, consultation, request.form.get("status", ""))
    flash(_("Status of the consultation: %(status)s.", status=label("consultation_status", consultation.status)),
          "success")
    return redirect(url_for("consultations.edit", consultation_id=consultation.id))


# --- Topics and hosts ---------------------------------------------------------------

def _topic_input(form: TopicForm) -> service.TopicInput:
    return service.TopicInput(title=form.title.data or "", description=form.description.data or "",
                              guiding_questions=(form.guiding_questions.data or "").splitlines(),
                              is_proposal=bool(form.is_proposal.data))


def _host_input(form: HostForm) -> service.HostInput:
    return service.HostInput(name=form.name.data or "", role=form.role.data or "",
                             organisation=form.organisation.data or "", account_email=form.account_email.data or "")


@bp.route("/<int:consultation_id>/topics/new", methods=["GET", "POST"], defaults={"topic_id": None})
@bp.route("/<int:consultation_id>/topics/<int:topic_id>/edit", methods=["GET", "POST"])
@login_required
def topic_form(consultation_id: int, topic_id: int | None):
    consultation = _editable(consultation_id)
    topic = service.topic_of(consultation, topic_id) if topic_id is not None else None
    # Filled from the topic on GET only: a POST that leaves a field out leaves it empty (the
    # stored list of questions is no text for the form).
    form = TopicForm(obj=topic if request.method == "GET" else None)
    if request.method == "GET" and topic is not None:
        form.guiding_questions.data = "\n".join(topic.guiding_questions)
    if form.validate_on_submit():
        try:
            if topic is None:
                service.add_topic(current_user, consultation, _topic_input(form))
            else:
                service.update_topic(current_user, topic, _topic_input(form))
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            flash(_("Topic saved."), "success")
            return redirect(url_for("consultations.edit", consultation_id=consultation.id, _anchor="topics"))
    status = 400 if request.method == "POST" else 200
    return render_template("consultations/topic_form.html", form=form, consultation=consultation, topic=topic), status


@bp.route("/<int:consultation_id>/hosts/new", methods=["GET", "POST"], defaults={"host_id": None})
@bp.route("/<int:consultation_id>/hosts/<int:host_id>/edit", methods=["GET", "POST"])
@login_required
def host_form(consultation_id: int, host_id: int | None):
    consultation = _editable(consultation_id)
    host = service.host_of(consultation, host_id) if host_id is not None else None
    form = HostForm(obj=host)
    if request.method == "GET" and host is not None and host.user is not None:
        form.account_email.data = host.user.email
    if form.validate_on_submit():
        try:
            if host is None:
                service.add_host(current_user, consultation, _host_input(form))
            else:
                service.update_host(current_user, host, _host_input(form))
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            flash(_("Host saved."), "success")
            return redirect(url_for("consultations.edit", consultation_id=consultation.id, _anchor="hosts"))
    status = 400 if request.method == "POST" else 200
    return render_template("consultations/host_form.html", form=form, consultation=consultation, host=host), status


@bp.post("/<int:consultation_id>/<any(topics, hosts):kind>/<int:item_id>/<any(up, down, delete):action>")
@login_required
def arrange(consultation_id: int, kind: str, item_id: int, action: str):
    """Move a topic or host up or down, or remove it."""
    consultation = _editable(consultation_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if kind == "topics":
        item, move, delete = service.topic_of(consultation, item_id), service.move_topic, service.delete_topic
    else:
        item, move, delete = service.host_of(consultation, item_id), service.move_host, service.delete_host
    if action == "delete":
        delete(current_user, item)
        flash(_("Removed."), "success")
    else:
        move(current_user, item, -1 if action == "up" else 1)
    return redirect(url_for("consultations.edit", consultation_id=consultation.id, _anchor=kind))
