"""Pre-event input (docs/pre-event.md) under /events/<e>/pre-event: the organisers' questions,
the participants' answers, each room's board with its endorsements, and pinning an answer
into its room from the moderators' console (rooms/_panel_preevent.html). Plain forms: every
page works without JavaScript and comes back to where it was; with it, a board follows its
stream ("preevent:<room id>", static/js/preevent.js) and fetches each answer that changed
(`answer_item`), as its reader may see it."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from forum import permissions
from forum.i18n import label
from forum.models.preevent import PreEventKind
from forum.ratelimits import counts_as_write
from forum.services import events, preevent
from forum.services.errors import NotFound, ValidationError
from forum.web import apply_service_error, back_to, checked, room_in, room_url, whole_number
from forum.web.forms import ActionForm

bp = Blueprint("preevent", __name__, url_prefix="/events/<int:event_id>/pre-event")


class QuestionForm(FlaskForm):
    kind = SelectField(_l("Kind of question"), choices=[], validate_choice=False)
    label = StringField(_l("Question"), validators=[InputRequired(message=_l("Write the question first."))])
    room_id = SelectField(_l("For"), choices=[], validate_choice=False)


class AnswerForm(FlaskForm):
    body = TextAreaField(_l("Your answer"), validators=[InputRequired(message=_l("Write your answer first."))])


def _question_form(event, formdata=None) -> QuestionForm:
    form = QuestionForm(formdata=formdata)
    form.kind.choices = [(k.value, label("preevent_kind", k)) for k in PreEventKind]
    form.room_id.choices = [("", _("The whole event"))] + [(str(r.id), r.title) for r in event.breakout_rooms]
    return form


def _event(event_id: int):
    return permissions.access_event(current_user, event_id)


def render_index(event, *, question_form=None, answer_forms=None, status: int = 200):
    answerable = preevent.answerable(current_user, event)
    forms = dict(answer_forms or {})
    for question, mine in answerable:
        if question.id not in forms:
            forms[question.id] = AnswerForm(formdata=None, prefix=f"answer-{question.id}",
                                            body=mine.body if mine else "")
    manages = permissions.can_manage_preevent(current_user, event)
    if manages and question_form is None:
        question_form = _question_form(event)
    boards = [room for room in event.rooms if permissions.can_view_preevent_board(current_user, room)]
    return render_template(
        "preevent/index.html", event=event, answerable=answerable, answer_forms=forms, manages=manages,
        questions=preevent.questions(event) if manages else [], question_form=question_form,
        boards=boards, window_open=permissions.preevent_window_open(event), action_form=ActionForm(),
    ), status


@bp.get("")
@login_required
def index(event_id: int):
    return render_index(_event(event_id))


@bp.post("/questions")
@login_required
def add_question(event_id: int):
    event = _event(event_id)
    if not permissions.can_manage_preevent(current_user, event):
        abort(403)
    form = _question_form(event, formdata=request.form)
    if not form.validate_on_submit():
        return render_index(event, question_form=form, status=400)
    room = None
    if form.room_id.data:
        room_id = whole_number(form.room_id.data)
        if room_id is None:
            form.room_id.errors = [_("Choose one of this event's breakout rooms, or the whole event.")]
            return render_index(event, question_form=form, status=400)
        room = room_in(event, room_id)
    try:
        preevent.add_question(current_user, event, kind=form.kind.data or "", label=form.label.data or "", room=room)
    except ValidationError as error:
        apply_service_error(form, error)
        return render_index(event, question_form=form, status=400)
    flash(_("The question was added."), "success")
    return redirect(url_for("preevent.index", event_id=event.id, _anchor="questions"))


@bp.post("/questions/<int:question_id>/remove")
@login_required
def remove_question(event_id: int, question_id: int):
    event = _event(event_id)
    checked()
    preevent.remove_question(current_user, preevent.question_of(event, question_id))
    flash(_("The question was removed, with its answers."), "success")
    return redirect(url_for("preevent.index", event_id=event.id, _anchor="questions"))


@bp.post("/questions/<int:question_id>/answer")
@login_required
@counts_as_write
def answer(event_id: int, question_id: int):
    event = _event(event_id)
    question = preevent.question_of(event, question_id)
    form = AnswerForm(prefix=f"answer-{question.id}")
    if not form.validate_on_submit():
        return render_index(event, answer_forms={question.id: form}, status=400)
    try:
        preevent.answer(current_user, question, form.body.data or "")
    except ValidationError as error:
        apply_service_error(form, error)
        return render_index(event, answer_forms={question.id: form}, status=400)
    flash(_("Your answer was saved. You can change it until the event starts."), "success")
    return redirect(url_for("preevent.index", event_id=event.id, _anchor=f"question-{question.id}"))


@bp.get("/boards/<int:room_id>")
@login_required
def board(event_id: int, room_id: int):
    event = _event(event_id)
    room = room_in(event, room_id)
    if not permissions.can_view_preevent_board(current_user, room):
        raise permissions.room_refusal(current_user, room)
    stream = events.preevent_stream(room)
    seq = events.latest_seq(stream)  # before the board is read: whatever commits after, the page catches up on
    return render_template("preevent/board.html", event=event, board=preevent.board(current_user, room),
                           action_form=ActionForm(), window_open=permissions.preevent_window_open(event),
                           stream=stream, seq=seq)


@bp.get("/answers/<int:answer_id>")
@login_required
def answer_item(event_id: int, answer_id: int):
    """One answer of a board as this reader sees it (its count, their endorsement button), for
    the board's script when the board's stream says it changed; 404 once it is gone."""
    event = _event(event_id)
    item = preevent.answer_of(current_user, event, answer_id)
    return render_template("preevent/_answer.html", event=event, answer=item, action_form=ActionForm(),
                           endorsed=preevent.has_endorsed(current_user, item))


@bp.post("/answers/<int:answer_id>/endorsement")
@login_required
@counts_as_write
def endorsement(event_id: int, answer_id: int):
    event = _event(event_id)
    checked()
    item = preevent.answer_of(current_user, event, answer_id)
    action = request.form.get("action", "endorse")
    if action == "endorse":
        preevent.endorse(current_user, item)
    elif action == "withdraw":
        preevent.withdraw_endorsement(current_user, item)
    else:
        raise ValidationError(_("Say whether to endorse or to withdraw the endorsement."), field="action")
    room = permissions.preevent_board_room(item.question)
    return redirect(back_to(url_for("preevent.board", event_id=event.id, room_id=room.id,
                                    _anchor=f"answer-{item.id}")))


@bp.post("/answers/<int:answer_id>/pin")
@login_required
def pin(event_id: int, answer_id: int):
    """Pin an answer into its board's room (the room's moderators, from their console)."""
    event = _event(event_id)
    checked()
    try:
        item = preevent.answer_of(current_user, event, answer_id)
    except NotFound:
        abort(404)
    room = permissions.preevent_board_room(item.question)
    post = preevent.pin(current_user, room, item)
    return redirect(back_to(room_url(room, _anchor=f"post-{post.id}")))
