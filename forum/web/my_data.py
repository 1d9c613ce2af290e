"""A person's copy of their own data (docs/data-rights.md): asked for from the profile's
"Download my data" section (templates/account/_my_data.html); built by a job
(forum/services/personal_data.py) and then followed and downloaded on the report files' status
page and download (forum/web/exports.py), which authorise it for its owner only."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user, login_required

from forum.ratelimits import counts_as_write
from forum.services import personal_data as service
from forum.services import reports as report_service
from forum.web import checked

bp = Blueprint("my_data", __name__)


@bp.post("/account/data")
@login_required
@counts_as_write
def ask():
    """Ask for a copy: to its status page. Asked again while one is being made or recent: to
    that one's page, saying why no new one is made."""
    checked()
    try:
        copy = service.request_personal_data(current_user)
    except service.AlreadyAsked as refusal:
        flash(str(refusal.message), "info")
        copy = refusal.report
    return redirect(url_for("exports.report_status", report_id=copy.id), code=303)


@bp.app_template_global()
def personal_data_copies() -> list[dict]:
    """The profile's list: the person's latest copies, each with when its link expires."""
    if not current_user.is_authenticated:
        return []
    return [{"report": copy, "expires_at": report_service.expires_at(copy)} for copy in service.copies_of(current_user)]
