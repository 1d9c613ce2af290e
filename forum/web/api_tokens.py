"""Personal access tokens for the JSON API, in the profile's "API tokens" section
(templates/account/_api_tokens.html): create one (its secret shown once, on the page that
answers the creation, never again), list them, revoke one. The rules are in
forum/services/api_tokens.py; the API itself in forum/api/ (docs/api.md)."""
from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required

from forum.models import ApiToken, TokenScope
from forum.ratelimits import counts_as_write
from forum.services import api_tokens as service
from forum.services.errors import NotFound, ValidationError
from forum.web import apply_service_error, checked
from forum.web.forms import ApiTokenForm

bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")

SCOPE_LABELS = {
    TokenScope.READ: _l("Read only"),
    TokenScope.WRITE: _l("Read and write"),
}
# Where people read how to use the API (its page is forum/api's).
API_DOCS_URL = "/api/v1/docs"


def _form(*, empty: bool = False) -> ApiTokenForm:
    """The creation form: as sent, or `empty` (a page that only shows it)."""
    # Prefixed: its fields' names and ids are unique on the profile page, among its other sections.
    form = ApiTokenForm(formdata=None, prefix="token") if empty else ApiTokenForm(prefix="token")
    form.scope.choices = [(scope.value, SCOPE_LABELS[scope]) for scope in TokenScope]
    form.days.choices = [(days, _lifetime(days)) for days in service.LIFETIMES_DAYS]
    return form


def _lifetime(days: int) -> str:
    if days % 365 == 0:
        return ngettext("%(num)d year", "%(num)d years", days // 365)
    return ngettext("%(num)d day", "%(num)d days", days)


@bp.app_template_global()
def api_token_section() -> dict:
    """What the profile's section shows: the person's working tokens and an empty form."""
    if not current_user.is_authenticated:
        return {"tokens": [], "form": None}
    return {"tokens": service.tokens_of(current_user), "form": _form(empty=True)}


@bp.app_template_global()
def api_token_scope(token: ApiToken) -> str:
    return str(SCOPE_LABELS[token.scope])


def _page(form: ApiTokenForm, status: int, new_token: service.NewToken | None = None):
    response = make_response(render_template(
        "account/api_tokens.html", token_form=form, new_token=new_token, docs_url=API_DOCS_URL), status)
    # A page that shows a secret is kept by no cache, the browser's included.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@login_required
def index():
    return _page(_form(empty=True), 200)


@bp.post("")
@login_required
@counts_as_write
def create():
    form = _form()
    if form.validate_on_submit():
        try:
            new_token = service.create_token(current_user, name=form.name.data or "", scope=form.scope.data or "",
                                             days=form.days.data or 0)
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            # The secret is on this page only: not in a flash message, the session or an address.
            return _page(_form(empty=True), 200, new_token)
    return _page(form, 400)


def _own_token(token_id: int) -> ApiToken:
    """One of the person's working tokens; anyone else's (or none) is not found."""
    token = next((t for t in service.tokens_of(current_user) if t.id == token_id), None)
    if token is None:
        raise NotFound()
    return token


@bp.route("/<int:token_id>/revoke", methods=["GET", "POST"])
@login_required
@counts_as_write
def revoke(token_id: int):
    """GET asks to confirm; its POST revokes (at once: the token stops working)."""
    if request.method == "POST":
        checked()
        token = service.revoke_token(current_user, token_id)
        flash(_("The token “%(name)s” is revoked: it no longer works.", name=token.name), "success")
        return redirect(url_for("auth.profile", _anchor="api-tokens"))
    return render_template("account/api_token_revoke.html", token=_own_token(token_id))
