from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum import permissions
from forum.ratelimits import counts_as_write
from forum.services import posts as service
from forum.services.errors import ValidationError
from forum.web import apply_service_error, post_url, same_site_referrer
from forum.web.consultations import render_consultation
from forum.web.forms import ActionForm, EditPostForm, PostForm, ReplyForm

bp = Blueprint("posts", __name__, url_prefix="/consultations/<int:consultation_id>")


@bp.post("/responses")
@login_required
@counts_as_write
def create(consultation_id: int):
    consultation = permissions.access_consultation(current_user, consultation_id)
    form = PostForm()
    if form.validate_on_submit():
        try:
            post = service.create_post(
                current_user, consultation, topic_id=form.topic_id.data, subject=form.subject.data or "",
                body=form.body.data or "", on_behalf_of_organisation=form.on_behalf_of_organisation.data,
                client_key=form.client_key.data or None, stance=form.stance.data or None)
        except ValidationError as error:
            apply_service_error(form, error)
            if error.field == "stance" and form.stance.data and not _is_proposal(consultation, form.topic_id.data):
                form.stance.data = None  # a radio group cannot be emptied by hand: empty it here
        else:
            flash(_("Your response has been published."), "success")
            return redirect(url_for("consultations.show", consultation_id=consultation.id,
                                    topic=post.topic_id, _anchor=f"post-{post.id}"))
    return render_consultation(consultation, post_form=form, status=400)


@bp.get("/posts/<int:post_id>")
def show(consultation_id: int, post_id: int):
    post = permissions.access_post(current_user, post_id, consultation_id)
    return render_template("posts/thread.html", post=post, consultation=post.consultation,
                           responses=service.thread(current_user, post), action_form=ActionForm())


@bp.route("/posts/<int:post_id>/reply", methods=["GET", "POST"])
@login_required
@counts_as_write
def reply(consultation_id: int, post_id: int):
    parent = permissions.access_post(current_user, post_id, consultation_id)
    service.require_reply(current_user, parent)
    form = ReplyForm()
    if request.method == "GET" and request.args.get("quote"):
        form.quote.data = True
    if form.validate_on_submit():
        try:
            post = service.create_post(current_user, parent.consultation, parent=parent, body=form.body.data or "",
                                       on_behalf_of_organisation=form.on_behalf_of_organisation.data,
                                       client_key=form.client_key.data or None, quote=form.quote.data,
                                       stance=request.form.get("stance") or None)  # refused: a reply takes none
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            flash(_("Your reply has been published."), "success")
            return redirect(post_url(post))
    status = 400 if request.method == "POST" else 200
    return render_template("posts/reply.html", form=form, parent=parent, consultation=parent.consultation), status


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
@counts_as_write
def edit(consultation_id: int, post_id: int):
    post = permissions.access_post(current_user, post_id, consultation_id)
    service.require_edit(current_user, post)
    form = EditPostForm(obj=post)
    takes_stance = post.is_response and post.topic.is_proposal
    if form.validate_on_submit():
        try:
            # The stance field is on the form only for a response to a proposal.
            stance = (form.stance.data or None) if takes_stance else request.form.get("stance") or None
            changed = service.edit_post(current_user, post, subject=form.subject.data or "", body=form.body.data or "",
                                        stance=stance)
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            flash(_("Your changes have been saved.") if changed else _("Nothing was changed."), "success")
            return redirect(post_url(post))
    status = 400 if request.method == "POST" else 200
    return render_template("posts/edit.html", form=form, post=post, consultation=post.consultation,
                           takes_stance=takes_stance), status


@bp.get("/posts/<int:post_id>/history")
def history(consultation_id: int, post_id: int):
    post = permissions.access_post(current_user, post_id, consultation_id)
    service.versions(current_user, post)  # 404 where the page offers no history
    return render_template("posts/history.html", post=post, consultation=post.consultation)


@bp.route("/posts/<int:post_id>/delete", methods=["GET", "POST"])
@login_required
@counts_as_write
def delete(consultation_id: int, post_id: int):
    post = permissions.access_post(current_user, post_id, consultation_id)
    if not permissions.can_delete_post(current_user, post):
        abort(403)
    form = ActionForm()
    if form.validate_on_submit():
        service.delete_post(current_user, post)
        flash(_("The post has been deleted."), "success")
        return redirect(post_url(post))
    return render_template("posts/delete.html", form=form, post=post, consultation=post.consultation)


@bp.post("/posts/<int:post_id>/endorsement")
@login_required
@counts_as_write
def endorsement(consultation_id: int, post_id: int):
    post = permissions.access_post(current_user, post_id, consultation_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if request.form.get("action") == "withdraw":
        service.withdraw_endorsement(current_user, post)
    else:
        service.endorse(current_user, post)
    return redirect(_back_to_post(post))


def _is_proposal(consultation, topic_id) -> bool:
    return any(t.id == topic_id and t.is_proposal for t in consultation.topics)


def _back_to_post(post) -> str:
    back = same_site_referrer()
    if back:
        return f"{back.split('#')[0]}#post-{post.id}"
    return post_url(post)
