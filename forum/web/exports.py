"""Exports: the export page of a thread, topic, room, consultation or event; the data
downloads (CSV, JSON), streamed from the request; the reports (PDF, DOCX, Markdown, HTML),
asked for here and built by a job (forum/services/reports.py), with their status page and
download (which serve a person's copy of their data too, asked for in forum/web/my_data.py);
and a public consultation's shareable summary page."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from forum import permissions
from forum.exports import data, opinion, polls
from forum.exports.scope import KINDS, SLUG_MAX, filename_for, resolve, slug  # noqa: F401 (slug: tests)
from forum.extensions import db
from forum.models import User
from forum.models.reports import PERSONAL_DATA_KIND
from forum.ratelimits import counts_as_write
from forum.services import report_cover as cover_service
from forum.services import reports as report_service
from forum.services.errors import ServiceError, ValidationError
from forum.web import apply_service_error
from forum.web.forms import ReportCoverForm

bp = Blueprint("exports", __name__)

# The data files, streamed from the request (see `download`); the reports' formats are
# report_service.REPORT_FORMATS, built by a job.
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "votes.csv": "text/csv; charset=utf-8",  # the polls' votes, one row per vote (exports/polls.py)
    # A consultation board's statements with their vote counts (exports/opinion.py).
    "statements.csv": "text/csv; charset=utf-8",
}


def _filename(scope, extension: str) -> str:
    return filename_for(scope, extension)


def _attachment(body, mimetype: str, filename: str) -> Response:
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/exports/<kind>/<int:object_id>")
@login_required
def choose(kind: str, object_id: int):
    """The export page: what the export covers and a link per format."""
    if kind not in KINDS:
        abort(404)
    scope = resolve(current_user, kind, object_id)
    return render_template("exports/choose.html", scope=scope, formats=FORMATS,
                           report_formats=report_service.REPORT_FORMATS,
                           reports=report_service.reports_of(current_user, scope),
                           format_names=report_service.FORMAT_NAMES,
                           has_board=opinion.board_of(scope) is not None)


@bp.post("/exports/<kind>/<int:object_id>/reports")
@login_required
@counts_as_write
def ask_for_report(kind: str, object_id: int):
    """Ask for a report file: a job builds it; its status page follows it."""
    report = report_service.request_report(current_user, kind, object_id, request.form.get("format", ""),
                                           language=str(get_locale()), timezone=current_user.timezone)
    return redirect(url_for("exports.report_status", report_id=report.id), code=303)


def _report_owner(kind: str, object_id: int):
    """The event or consultation whose report texts the current user may write, else 404."""
    thing = (permissions.access_event if kind == "event" else permissions.access_consultation)(current_user, object_id)
    if not permissions.can_write_report(current_user, thing):
        abort(404)
    return thing


@bp.route("/exports/<any(event, consultation):kind>/<int:object_id>/cover", methods=["GET", "POST"])
@login_required
@counts_as_write
def cover(kind: str, object_id: int):
    """The executive summary, next steps and logo of the event's or consultation's reports;
    an empty form (or `?draft=1`) starts from the draft (report_cover.draft)."""
    thing = _report_owner(kind, object_id)
    saved = cover_service.cover_of(thing)
    form = ReportCoverForm()
    drafted = request.method == "GET" and (saved is None or bool(request.args.get("draft")))
    if drafted:
        form.summary.data, form.next_steps.data = cover_service.draft(thing)
    elif request.method == "GET":
        form.summary.data, form.next_steps.data = saved.summary, saved.next_steps
    if form.validate_on_submit():
        upload = form.logo.data
        try:
            cover_service.save(current_user, thing, summary=form.summary.data or "",
                               next_steps=form.next_steps.data or "", logo=upload.read() if upload else None,
                               remove_logo=form.remove_logo.data)
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            flash(_("The summary and next steps are saved: the next report you ask for has them."), "success")
            return redirect(url_for("exports.choose", kind=kind, object_id=object_id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("exports/cover.html", form=form, kind=kind, thing=thing, saved=saved,
                           drafted=drafted), status


@bp.get("/exports/<any(event, consultation):kind>/<int:object_id>/cover/logo")
@login_required
def cover_logo(kind: str, object_id: int):
    """The stored logo, for the organisers who may change it (the form shows it)."""
    saved = cover_service.cover_of(_report_owner(kind, object_id))
    if saved is None or not saved.logo:
        abort(404)
    response = Response(saved.logo, content_type=saved.logo_type)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _back(report) -> tuple[str, str]:
    """Where a report's pages lead back to: its export page, or for a copy of personal data
    the profile."""
    if report.kind == PERSONAL_DATA_KIND:
        return url_for("auth.profile", _anchor="my-data"), _("Back to your profile")
    return url_for("exports.choose", kind=report.kind, object_id=report.object_id), _("Back to the export page")


def _visible_report(report_id: int):
    """The current user's report (404 as report_service.visible_report), or a 410 page that
    says it is no longer kept, with the way back."""
    try:
        return report_service.visible_report(current_user, report_id)
    except report_service.Expired as gone:
        abort(make_response(render_template("errors/error.html", status=410, message=str(gone.message),
                                            links=[_back(gone.report)]), 410))


@bp.get("/reports/<int:report_id>")
@login_required
def report_status(report_id: int):
    """A report's state: waiting, being built (refreshing itself without JavaScript; live with
    it, static/js/report.js), failed with why, or ready with its download link."""
    report = _visible_report(report_id)
    response = make_response(render_template(
        "exports/report_status.html", report=report, format_names=report_service.FORMAT_NAMES,
        notice=report_service.status_notice(report), keep_days=report_service.keep_days(report),
        expires_at=report_service.expires_at(report), back=_back(report),
        personal=report.kind == PERSONAL_DATA_KIND))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/reports/<int:report_id>/download")
@login_required
def report_download(report_id: int):
    """The stored file, for its requester while they may still export what it covers (a copy
    of personal data: its owner) and until it expires."""
    report = _visible_report(report_id)
    path = report_service.path_of(report)
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, mimetype=report_service.MEDIA_TYPES[report.format], max_age=0)
    # The name is plain ASCII (scope.filename_for), quoted as the streamed downloads' are.
    response.headers["Content-Disposition"] = f'attachment; filename="{report.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/exports/<kind>/<int:object_id>.<fmt>")
@login_required
def download(kind: str, object_id: int, fmt: str):
    if kind not in KINDS or fmt not in FORMATS and fmt not in report_service.REPORT_FORMATS:
        abort(404)
    scope = resolve(current_user, kind, object_id)
    if fmt in report_service.REPORT_FORMATS:
        # Reports are never built in a request (the process that serves the live rooms): the
        # export page asks for one, and a job builds it.
        return redirect(url_for("exports.choose", kind=kind, object_id=object_id), code=303)
    filename = _filename(scope, fmt)
    if fmt == "statements.csv" and opinion.board_of(scope) is None:
        abort(404)  # only a consultation with a statements board has them
    report_service.log_data_export(current_user, scope, fmt)
    bom = request.args.get("bom") in ("1", "yes", "on")
    user_id, language = current_user.id, str(get_locale())

    def chunks():
        # The body is written after this request's database session has closed (and
        # with it the reader's account object): the stream loads the reader and the
        # scope again in a session of its own, in the language the request chose. The
        # check above has already answered any 404.
        g.pop("permission_answers", None)  # objects of the closed session
        with force_locale(language):
            try:
                scope = resolve(db.session.get(User, user_id), kind, object_id)
            except ServiceError:  # removed or no longer allowed since the headers went out
                current_app.logger.warning("export %s %s stopped: no longer available", kind, object_id)
                return
            if fmt == "votes.csv":
                yield from polls.vote_csv_chunks(scope, bom=bom)
                return
            if fmt == "statements.csv":
                yield from opinion.statements_csv_chunks(scope, bom=bom)
                return
            yield from data.csv_chunks(scope, bom=bom) if fmt == "csv" else data.json_chunks(scope)
    return _attachment(stream_with_context(chunks()), FORMATS[fmt], filename)


@bp.get("/consultations/<int:consultation_id>/summary")
def summary(consultation_id: int):
    """A public consultation's summary, for anyone who may read the consultation: what every
    reader sees (hidden posts left out), named as people chose; built by a job
    (report_service.public_summary), the page waiting for the first one."""
    zone = current_user.timezone if current_user.is_authenticated else "UTC"
    scope, body = report_service.public_summary(current_user, consultation_id, language=str(get_locale()),
                                                timezone=zone)
    response = make_response(render_template("exports/page.html", report_html=Markup(body) if body else None,
                                             scope=scope))
    # Organisers see members-only and draft consultations here too: never in a shared cache.
    consultation = scope.consultation
    if body is None or consultation.visibility.value != "public" or consultation.status.value == "draft":
        response.headers["Cache-Control"] = "private, no-store"
    return response
