"""Closing one's own account from the profile (forum/services/account_closure.py; an admin
closes one on request from the users page, forum/web/admin.py), and the recent logins the
profile lists above it (templates/account/_close.html)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from forum.ratelimits import counts_as_write
from forum.services import account_closure, accounts
from forum.services.errors import ValidationError
from forum.web import apply_service_error
from forum.web.auth import render_profile
from forum.web.forms import CloseAccountForm

bp = Blueprint("account_closure", __name__, url_prefix="/account")


@bp.app_template_global()
def recent_logins() -> list:
    """The signed-in person's latest logins, for their profile (called only there)."""
    return accounts.recent_logins(current_user)


@bp.app_template_global()
def close_account_form(form: CloseAccountForm | None = None) -> CloseAccountForm:
    """The profile's closing form: as sent (with its errors) when refused, else empty."""
    return form or CloseAccountForm(formdata=None)


@bp.post("/close")
@login_required
@counts_as_write
def close():
    form = CloseAccountForm()
    if form.validate_on_submit():
        try:
            mode = account_closure.close_account(current_user, current_user._get_current_object(),
                                                 form.mode.data or "", password=form.password.data or "")
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            logout_user()
            session.clear()
            flash(_("Your account is closed and your contributions were erased.")
                  if mode is account_closure.ClosureMode.ERASE else
                  _("Your account is closed. Your contributions remain, shown as by a “Former participant”."),
                  "success")
            return redirect(url_for("main.home"))
    return render_profile(400, close_form=form)
