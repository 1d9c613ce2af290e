from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from wtforms.fields.choices import SelectChoice

from forum import ratelimits
from forum.extensions import csrf, limiter
from forum.i18n import label
from forum.ratelimits import account_key, clear_failed_logins, configured, counts_as_write, email_key
from forum.services import accounts, notification_mail
from forum.services.errors import ValidationError
from forum.web import apply_service_error, back_to, checked, safe_next
from forum.web.forms import (
    ActionForm,
    ChangePasswordForm,
    EditProfileForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)

bp = Blueprint("auth", __name__)

# The zones offered in the profile form: regional names, not legacy aliases such as "EST".
TIMEZONE_CHOICES = sorted(tz for tz in accounts.timezone_names()
                          if tz == "UTC" or tz.startswith(("Europe/", "Africa/", "Asia/", "America/", "Atlantic/",
                                                           "Australia/", "Pacific/", "Indian/")))


def _fill_profile_choices(form: ProfileForm) -> None:
    choose = SelectChoice("", _("Choose…"))
    form.organisation_type.choices = [choose] + [
        SelectChoice(code, label("organisation_type", code)) for code in accounts.organisation_type_codes()]
    # EU member states first, then the rest of the world, each alphabetical in the reader's language.
    def countries(codes, group):
        return sorted((SelectChoice(code, label("country", code), optgroup=group) for code in codes),
                      key=lambda choice: choice.label)
    form.country.choices = ([choose] + countries(accounts.EU_COUNTRIES, _("European Union"))
                            + countries([c for c in accounts.country_codes() if c not in accounts.EU_COUNTRIES],
                                        _("Other countries")))
    form.preferred_language.choices = [SelectChoice(code, name)
                                       for code, name in current_app.config["LANGUAGES"].items()]
    form.timezone.choices = [SelectChoice(tz, tz.replace("_", " ")) for tz in TIMEZONE_CHOICES]


def _profile_from(form: ProfileForm) -> accounts.Profile:
    handle = (form.handle.data or "") if isinstance(form, EditProfileForm) else None
    return accounts.Profile(
        display_name=form.display_name.data or "", organisation=form.organisation.data or "",
        organisation_type=form.organisation_type.data or "", country=form.country.data or "",
        role_title=form.role_title.data or "", preferred_language=form.preferred_language.data or "",
        timezone=form.timezone.data or "", named_in_reports=bool(form.named_in_reports.data),
        handle=handle,
    )


def _start_session(user, remember: bool) -> None:
    # A new session on login, so that a session id planted before login is worthless.
    language = session.get("language")
    session.clear()
    login_user(user, remember=remember)
    if language:
        session["language"] = language


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(configured("RATELIMIT_REGISTER_PER_ADDRESS"), methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    _fill_profile_choices(form)
    if request.method == "GET":
        form.preferred_language.data = str(get_locale() or "en")
        form.timezone.data = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    if form.validate_on_submit():
        try:
            user = accounts.register(form.email.data or "", form.password.data or "", _profile_from(form))
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            accounts.request_verification(user)
            _start_session(user, remember=False)
            flash(_("Welcome to Plenary, %(name)s.", name=user.display_name), "success")
            flash(_("We have sent a link to %(email)s: open it to confirm your email address.",
                    email=user.email), "info")
            return redirect(safe_next(request.args.get("next")))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        # Only wrong passwords count; what each limit refuses is explained in forum/ratelimits.py.
        email = form.email.data or ""
        ratelimits.login_refusal(email)
        user = accounts.authenticate(email, form.password.data or "", ip_address=request.remote_addr or "",
                                     user_agent=request.headers.get("User-Agent", ""))
        if user is not None:
            _start_session(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        ratelimits.record_failed_login(email)
        form.form_errors.append(_("The email address or password is not correct."))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    form = ActionForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            accounts.end_sessions(current_user)
        logout_user()
        session.clear()
        flash(_("You have logged out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(configured("RATELIMIT_RESET_PER_ADDRESS"), methods=["POST"])
@limiter.limit(configured("RATELIMIT_RESET_PER_ACCOUNT"), key_func=email_key, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data or "")
        flash(_("If an account uses this address, we have sent it a link to choose a new password."), "info")
        return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    try:
        accounts.user_for_reset_token(token)
    except ValidationError as error:
        flash(str(error.message), "error")
        return redirect(url_for("auth.forgot_password"))
    if form.validate_on_submit():
        try:
            user = accounts.reset_password(token, form.password.data or "")
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            clear_failed_logins(user.email)
            _start_session(user, remember=False)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/reset_password.html", form=form), status


@bp.route("/profile", methods=["GET", "POST"])
@login_required
@counts_as_write
def profile():
    form = EditProfileForm(obj=current_user)
    _fill_profile_choices(form)
    if form.validate_on_submit():
        try:
            accounts.update_profile(current_user, current_user, _profile_from(form))
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            session["language"] = current_user.preferred_language
            flash(_("Your profile has been saved."), "success")
            return redirect(url_for("auth.profile"))
    status = 400 if request.method == "POST" else 200
    return render_profile(status, form=form)


def render_profile(status: int = 200, *, form: EditProfileForm | None = None,
                   password_form: ChangePasswordForm | None = None, **context):
    """The profile page, with the forms given (as sent, with their errors) and the others empty:
    the account's partials post their own forms and show them again here when refused."""
    if form is None:
        form = EditProfileForm(obj=current_user, formdata=None)
        _fill_profile_choices(form)
    return render_template("auth/profile.html", form=form,
                           password_form=password_form or ChangePasswordForm(formdata=None), **context), status


@bp.route("/profile/password", methods=["POST"])
@login_required
@counts_as_write
def change_password():
    password_form = ChangePasswordForm()
    if password_form.validate_on_submit():
        try:
            accounts.change_password(current_user, password_form.current_password.data or "",
                                     password_form.password.data or "")
        except ValidationError as error:
            apply_service_error(password_form, error)
        else:
            # The session token changed: sign in again in this browser, others are logged out.
            _start_session(current_user._get_current_object(), remember=False)
            flash(_("Your password has been changed. Other devices have been logged out."), "success")
            return redirect(url_for("auth.profile"))
    return render_profile(400, password_form=password_form)


# --- E-mail verification and unsubscribing: links opened from a mail, signed in or not -------

@bp.route("/verify-email/<token>", methods=["GET", "POST"])
@counts_as_write
def verify_email(token: str):
    """GET shows one button (a mail scanner following the link confirms nothing); its POST
    confirms the address. Works signed out: the link itself is the proof."""
    user = accounts.user_for_verification_token(token)
    if request.method == "POST":
        checked()
        accounts.verify_email(token)
        flash(_("Your email address %(email)s is confirmed.", email=user.email), "success")
        return redirect(url_for("main.home") if current_user.is_authenticated else url_for("auth.login"))
    return render_template("auth/verify_email.html", email=user.email, form=ActionForm(),
                           verified=user.email_verified_at is not None)


@bp.post("/verify-email")
@limiter.limit(configured("RATELIMIT_VERIFY_RESEND_PER_ACCOUNT"), key_func=account_key)
@login_required
@counts_as_write
def resend_verification():
    checked()
    if current_user.email_verified_at is not None:
        flash(_("Your email address is already confirmed."), "info")
    else:
        accounts.request_verification(current_user)
        flash(_("We have sent a new link to %(email)s.", email=current_user.email), "success")
    return redirect(back_to(url_for("main.home")))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail programs POST "List-Unsubscribe=One-Click" with no token of ours
def unsubscribe(token: str):
    """GET: one button (link scanners only GET); POST, from that button or straight from a
    mail program's "Unsubscribe" (List-Unsubscribe-Post), unsubscribes without signing in."""
    if request.method == "POST":
        _user, scope = notification_mail.unsubscribe(token)
        return render_template("auth/unsubscribe.html", done=True, scope=scope,
                               message=notification_mail.SCOPE_DONE[scope])
    _user, scope = notification_mail.read_unsubscribe_token(token)
    return render_template("auth/unsubscribe.html", done=False, scope=scope,
                           message=notification_mail.SCOPE_QUESTIONS[scope])
