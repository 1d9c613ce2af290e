from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, redirect, render_template, request, session
from flask_babel import format_date
from flask_login import current_user

from forum.services import accounts
from forum.services import consultations as consultation_service
from forum.services.errors import ValidationError
from forum.web import safe_next
from forum.web.requests import query_int

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    tag = request.args.get("tag") or None
    phase = request.args.get("phase") if request.args.get("phase") in {"open", "closed"} else None
    page = query_int("page", 1)
    per_page = 20
    cards, total = consultation_service.list_consultations(
        current_user, tag=tag, phase=phase, page=page, per_page=per_page)
    return render_template(
        "main/home.html", cards=cards, total=total, page=page,
        pages=max(1, -(-total // per_page)), tag=tag, phase=phase,
        tags=consultation_service.used_tags(current_user),
    )


@bp.post("/language")
def set_language():
    language = request.form.get("language", "")
    if language not in current_app.config["LANGUAGES"]:
        abort(400)
    session["language"] = language
    if current_user.is_authenticated:
        try:
            accounts.set_language(current_user, language)
        except ValidationError:
            abort(400)
    return redirect(safe_next(request.form.get("next")))


@bp.get("/privacy")
def privacy():
    """The privacy notice: what is stored, why, on what basis, for how long (the periods as this
    site is configured), and how to use one's rights in the app (docs/data-rights.md)."""
    config = current_app.config
    return render_template(
        "main/privacy.html", ip_days=config["PRIVACY_IP_RETENTION_DAYS"],
        login_days=config["PRIVACY_LOGIN_RETENTION_DAYS"], report_days=config["REPORTS_KEEP_DAYS"],
        # The personal data download's (forum/services, "Download my data"): 7 days unless set.
        download_days=config.get("PERSONAL_DATA_KEEP_DAYS", 7))


# When the accessibility statement was last reviewed against the site (templates/main/accessibility.html).
ACCESSIBILITY_REVIEWED = date(2026, 11, 30)


@bp.get("/accessibility")
def accessibility():
    """The accessibility statement, after the model of the EU's Web Accessibility Directive."""
    return render_template("main/accessibility.html", reviewed=format_date(ACCESSIBILITY_REVIEWED, "long"),
                           contact=current_app.config["ACCESSIBILITY_CONTACT"])
