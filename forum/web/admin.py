from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from forum import permissions
from forum.extensions import db
from forum.models import User
from forum.ratelimits import counts_as_write
from forum.services import account_closure, accounts
from forum.services.errors import PermissionDenied, ValidationError
from forum.web import apply_service_error
from forum.web.forms import CloseAccountForm, RolesForm
from forum.web.requests import query_int

bp = Blueprint("admin", __name__, url_prefix="/admin")
PER_PAGE = 50


@bp.before_request
@login_required
def require_admin():
    if not permissions.can_manage_users(current_user):
        raise PermissionDenied()


@bp.get("/users")
def users():
    q = (request.args.get("q") or "").replace("\x00", "").strip()
    page = query_int("page", 1)
    query = select(User)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(User.email).like(like), func.lower(User.display_name).like(like),
                                func.lower(User.organisation).like(like)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = min(page, max(1, -(-total // PER_PAGE)))
    rows = db.session.scalars(
        query.order_by(User.display_name, User.id).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return render_template("admin/users.html", users=rows, q=q, page=page,
                           pages=max(1, -(-total // PER_PAGE)), total=total, form=RolesForm(formdata=None))


@bp.post("/users/<int:user_id>/roles")
def roles(user_id: int):
    user = db.session.get(User, user_id) if permissions.valid_id(user_id) else None
    if user is None:
        abort(404)
    form = RolesForm()
    if not form.validate_on_submit():
        abort(400)
    accounts.set_roles(current_user, user, organiser=form.is_organiser.data, admin=form.is_admin.data)
    flash(_("Roles of %(name)s saved.", name=user.display_name), "success")
    return redirect(url_for("admin.users", q=request.args.get("q", "")))


@bp.route("/users/<int:user_id>/close", methods=["GET", "POST"])
@counts_as_write
def close_account(user_id: int):
    """Close an account on its owner's request (a letter, a call): the admin chooses what
    becomes of the contributions, as the person would, and confirms with their own password.
    Written to the log ("account.closed")."""
    user = db.session.get(User, user_id) if permissions.valid_id(user_id) else None
    if user is None:
        abort(404)
    if user.id == current_user.id:  # one's own: from one's profile, as everyone
        return redirect(url_for("auth.profile", _anchor="close-account"))
    if not permissions.can_close_account(current_user, user):
        abort(404 if user.closed_at is not None else 403)
    form = CloseAccountForm()
    if form.validate_on_submit():
        name = user.display_name
        try:
            mode = account_closure.close_account(current_user, user, form.mode.data or "",
                                                 password=form.password.data or "")
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            flash(_("The account of %(name)s is closed; its contributions were erased.", name=name)
                  if mode is account_closure.ClosureMode.ERASE else
                  _("The account of %(name)s is closed; its contributions remain, shown as by a “Former participant”.",
                    name=name), "success")
            return redirect(url_for("admin.users"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/close_account.html", person=user, cform=form), status
