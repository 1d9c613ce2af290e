"""A consultation's statements board: vote one statement at a time, submit statements, read
the opinion map; the organisers' settings and the moderators' queue. Every form works
without JavaScript (POST, then redirect back to the board); static/js/opinion.js votes in
the background (X-Plenary-Async: the answer is the next statement's fragment) and fetches
the map again on "opinion.map" events."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum import permissions
from forum.models import OpinionBoard
from forum.ratelimits import counts_as_write
from forum.services import events
from forum.services import opinion as service
from forum.services.errors import Conflict, ValidationError
from forum.web import flash_refusal
from forum.web.forms import ActionForm, BoardForm, ModerateStatementForm, StatementForm

bp = Blueprint("opinion", __name__, url_prefix="/consultations/<int:consultation_id>/board")


def board_url(board: OpinionBoard, anchor: str | None = None) -> str:
    return url_for("opinion.show", consultation_id=board.consultation_id, _anchor=anchor)


def _async() -> bool:
    return bool(request.headers.get("X-Plenary-Async"))


def _page_data(board: OpinionBoard) -> dict:
    # Read before the map: any "opinion.map" after this number is replayed to the page's script.
    stream = events.consultation_stream(board.consultation_id)
    seq = events.latest_seq(stream)
    statements = service.published(board)
    order = service.voting_order(current_user, board, statements) \
        if permissions.can_submit_statement(current_user, board) else []
    return {
        "board": board, "consultation": board.consultation, "statements": statements,
        "current": order[0] if order else None, "remaining": len(order),
        "my_votes": service.votes_of(current_user, board),
        "view": service.map_view(current_user, board, statements),
        "voters": service.voters(board),
        "own": service.own_statements(current_user, board),
        "queue": service.pending(current_user, board)
        if permissions.can_moderate_statements(current_user, board) else [],
        "action_form": ActionForm(), "moderate_form": ModerateStatementForm(formdata=None),
        "stream": stream, "seq": seq,
        "min_votes": service.MIN_VOTES, "composition": service.composition,
    }


def _render(board: OpinionBoard, *, statement_form: StatementForm | None = None,
            board_form: BoardForm | None = None, seed_form: StatementForm | None = None, status: int = 200):
    data = _page_data(board)
    if statement_form is None and permissions.can_submit_statement(current_user, board):
        statement_form = StatementForm(formdata=None, prefix="statement")
    if permissions.can_manage_board(current_user, board.consultation):
        board_form = board_form or BoardForm(formdata=None, obj=board)
        seed_form = seed_form or StatementForm(formdata=None, prefix="seed")
    return render_template("opinion/show.html", statement_form=statement_form, board_form=board_form,
                           seed_form=seed_form, **data), status


@bp.get("")
def show(consultation_id: int):
    consultation = permissions.access_consultation(current_user, consultation_id)
    board = service.board_of(consultation)
    if board is None and permissions.can_manage_board(current_user, consultation):
        # No board yet: its organisers get the form that creates it.
        return render_template("opinion/setup.html", consultation=consultation,
                               board_form=BoardForm(formdata=None, premoderated=True))
    board = permissions.access_board(current_user, consultation_id)
    return _render(board)


@bp.get("/map")
def map_fragment(consultation_id: int):
    """The map, its groups and its statements (the page's script fetches this once per
    "opinion.map" event); `?format=json` gives the stored map itself."""
    board = permissions.access_board(current_user, consultation_id)
    if request.args.get("format") == "json":
        view = service.map_view(current_user, board)
        return jsonify({"map": view.map, "version": board.map_version, "me": view.me})
    return render_template("opinion/_map.html", **_page_data(board))


@bp.get("/next")
def next_fragment(consultation_id: int):
    board = permissions.access_board(current_user, consultation_id)
    return render_template("opinion/_vote.html", **_page_data(board))


# --- Organisers ----------------------------------------------------------------------------

@bp.post("/settings")
@login_required
def settings(consultation_id: int):
    consultation = permissions.access_consultation(current_user, consultation_id)
    if not permissions.can_manage_board(current_user, consultation):
        abort(403)
    form = BoardForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        board = service.save_board(current_user, consultation, prompt=form.prompt.data or "",
                                   premoderated=bool(form.premoderated.data))
    except ValidationError as error:
        form.prompt.errors = [str(error.message)]
        board = service.board_of(consultation)
        if board is None:
            return render_template("opinion/setup.html", consultation=consultation, board_form=form), 400
        return _render(board, board_form=form, status=400)
    flash(_("The board's settings are saved."), "success")
    return redirect(board_url(board, "board-settings"))


@bp.post("/status")
@login_required
def change_status(consultation_id: int):
    board = permissions.access_board(current_user, consultation_id)
    if not permissions.can_manage_board(current_user, board.consultation):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    service.set_board_status(current_user, board, request.form.get("status", ""))
    flash(_("The board is now: %(status)s.", status=_status_name(board)), "success")
    return redirect(board_url(board))


def _status_name(board: OpinionBoard) -> str:
    from forum.i18n import label

    return label("board_status", board.status)


@bp.post("/seed")
@login_required
def seed(consultation_id: int):
    board = permissions.access_board(current_user, consultation_id)
    if not permissions.can_manage_board(current_user, board.consultation):
        abort(403)
    form = StatementForm(prefix="seed")
    if not form.validate_on_submit():
        abort(400)
    try:
        service.add_seed_statement(current_user, board, form.text.data or "")
    except ValidationError as error:
        form.text.errors = [str(error.message)]
        return _render(board, seed_form=form, status=400)
    flash(_("The statement is on the board."), "success")
    return redirect(board_url(board, "board-seed"))


# --- Participants --------------------------------------------------------------------------

@bp.post("/statements")
@login_required
@counts_as_write
def submit(consultation_id: int):
    board = permissions.access_board(current_user, consultation_id)
    form = StatementForm(prefix="statement")
    if not form.validate_on_submit():
        abort(400)
    try:
        statement = service.submit_statement(current_user, board, form.text.data or "")
    except ValidationError as error:
        form.text.errors = [str(error.message)]
        return _render(board, statement_form=form, status=400)
    if statement.status.value == "pending":
        flash(_("Thank you: your statement will be shown once a moderator has approved it."), "success")
    else:
        flash(_("Thank you: your statement is on the board."), "success")
    return redirect(board_url(board, "submit"))


@bp.post("/statements/<int:statement_id>/vote")
@login_required
@counts_as_write
def vote(consultation_id: int, statement_id: int):
    board = permissions.access_board(current_user, consultation_id)
    statement = permissions.access_statement(current_user, board, statement_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    service.vote(current_user, statement, request.form.get("value", ""))
    if _async():
        # The next statement, rendered for this reader (the commit point commits after this).
        return render_template("opinion/_vote.html", **_page_data(board))
    return redirect(board_url(board, "vote"))


# --- Moderators ----------------------------------------------------------------------------

@bp.post("/statements/<int:statement_id>/moderate")
@login_required
def moderate(consultation_id: int, statement_id: int):
    board = permissions.access_board(current_user, consultation_id)
    statement = permissions.access_statement(current_user, board, statement_id)
    if not permissions.can_moderate_statement(current_user, statement):
        abort(403)
    form = ModerateStatementForm()
    if not form.validate_on_submit():
        abort(400)
    action = form.action.data
    try:
        if action == "approve":
            service.approve_statement(current_user, statement)
            flash(_("The statement is published."), "success")
        elif action == "reject":
            service.reject_statement(current_user, statement, form.reason.data or "")
            flash(_("The statement was rejected."), "success")
        elif action == "hide":
            service.hide_statement(current_user, statement, form.reason.data or "")
            flash(_("The statement is hidden."), "success")
        else:
            abort(400)
    except Conflict as error:  # another moderator was faster: say so on the board
        flash_refusal(error, "info")
    # A missing reason (ValidationError) is the 400 page, with what was typed.
    return redirect(board_url(board, "moderation"))
