"""Exports: the export page of a thread, topic, room, consultation or event, the downloads
(Markdown, PDF, CSV, JSON, HTML), and a public consultation's shareable summary page."""
from __future__ import annotations

import re
import unicodedata

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    make_response,
    render_template,
    request,
    stream_with_context,
)
from flask_babel import force_locale, get_locale
from flask_login import current_user, login_required

from forum.exports import data, opinion, polls, report
from forum.exports.scope import KINDS, resolve
from forum.extensions import db
from forum.models import User
from forum.services.errors import ServiceError

bp = Blueprint("exports", __name__)

FORMATS = {
    "md": "text/markdown; charset=utf-8",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "votes.csv": "text/csv; charset=utf-8",  # the polls' votes, one row per vote (exports/polls.py)
    # A consultation board's statements with their vote counts (exports/opinion.py).
    "statements.csv": "text/csv; charset=utf-8",
}


SLUG_MAX = 60  # characters of the title in a file name: room for the rest within most limits


def slug(title: str, max_length: int = SLUG_MAX) -> str:
    """The title in lower-case ASCII words joined by hyphens, cut after the last whole word
    that fits ("Accueil des réfugiés à Zürich" -> "accueil-des-refugies-a-zurich"); a first
    word longer than the limit is cut, and a title with no letters gives "export"."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", " ", ascii_title.lower()).split()
    kept = ""
    for word in words:
        longer = f"{kept}-{word}" if kept else word
        if len(longer) > max_length:
            break
        kept = longer
    return kept or (words[0][:max_length] if words else "export")


def _filename(scope, extension: str) -> str:
    """A plain ASCII file name from the scope's title, e.g. "plenary-consultation-12-housing.csv"."""
    return f"plenary-{scope.kind}-{scope.id}-{slug(scope.title)}.{extension}"


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
                           has_board=opinion.board_of(scope) is not None)


@bp.get("/exports/<kind>/<int:object_id>.<fmt>")
@login_required
def download(kind: str, object_id: int, fmt: str):
    if kind not in KINDS or fmt not in FORMATS:
        abort(404)
    scope = resolve(current_user, kind, object_id)
    filename = _filename(scope, fmt)
    if fmt == "statements.csv" and opinion.board_of(scope) is None:
        abort(404)  # only a consultation with a statements board has them
    if fmt in ("csv", "json", "votes.csv", "statements.csv"):
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
    built = report.build_report(scope, timezone=current_user.timezone)
    if fmt == "md":
        body = report.render_markdown(built)
    elif fmt == "pdf":
        body = report.render_pdf(built)
    else:
        # A file like the others: the standalone document (stylesheet embedded, opens offline),
        # the same as `flask export --format html`; the shareable page is the summary below.
        body = str(report.render_html(built, standalone=True))
    return _attachment(body, FORMATS[fmt], filename)


def _page(built, scope):
    return render_template("exports/page.html", report_html=report.render_html(built, standalone=False), scope=scope)


@bp.get("/consultations/<int:consultation_id>/summary")
def summary(consultation_id: int):
    """A public consultation's summary, for anyone who may read the consultation: what every
    reader sees (hidden posts left out), named as people chose."""
    scope = resolve(current_user, "consultation", consultation_id, public=True)
    zone = current_user.timezone if current_user.is_authenticated else "UTC"
    response = make_response(_page(report.build_report(scope, timezone=zone), scope))
    # Organisers see members-only and draft consultations here too: never in a shared cache.
    consultation = scope.consultation
    if consultation.visibility.value != "public" or consultation.status.value == "draft":
        response.headers["Cache-Control"] = "private, no-store"
    return response
