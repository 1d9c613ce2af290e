"""Accounts: registration, sign-in, profile, password reset and platform roles."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import available_timezones

from babel import Locale
from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from forum import permissions
from forum.extensions import db
from forum.mail import send_mail
from forum.models import User
from forum.models.base import utcnow
from forum.models.users import EU_COUNTRIES, ORGANISATION_TYPES, find_user_by_email, normalise_email
from forum.services import events, mentions
from forum.services.errors import PermissionDenied, ValidationError
from forum.services.text import clean_text

PASSWORD_MIN = 10
PASSWORD_MAX = 256


@dataclass
class Profile:
    display_name: str
    organisation: str
    organisation_type: str
    country: str
    role_title: str = ""
    preferred_language: str = "en"
    timezone: str = "Europe/Brussels"
    named_in_reports: bool = True
    # The name after @ (forum.services.mentions); None keeps it (registration makes one).
    handle: str | None = None


def organisation_type_codes() -> list[str]:
    configured = current_app.config.get("ORGANISATION_TYPES") or []
    return [code for code in configured if code in ORGANISATION_TYPES] or list(ORGANISATION_TYPES)


def _check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise ValidationError(
            _l("Choose a password of at least %(min)d characters.", min=PASSWORD_MIN), field="password")
    if len(password) > PASSWORD_MAX:
        raise ValidationError(_l("This password is too long."), field="password")
    if "\x00" in password:
        raise ValidationError(
            _l("This text contains invalid characters (for example a NUL byte or bytes that are not valid UTF-8)."),
            field="password")


def _apply_profile(user: User, profile: Profile) -> None:
    user.display_name = clean_text(profile.display_name, field="display_name", max_length=80, required=True)
    user.named_in_reports = bool(profile.named_in_reports)
    user.organisation = clean_text(profile.organisation, field="organisation", max_length=160)
    user.role_title = clean_text(profile.role_title, field="role_title", max_length=120)
    if profile.organisation_type not in organisation_type_codes():
        raise ValidationError(_l("Choose an organisation type from the list."), field="organisation_type")
    user.organisation_type = profile.organisation_type
    if profile.country not in country_codes():
        raise ValidationError(_l("Choose a country from the list."), field="country")
    user.country = profile.country
    if profile.preferred_language not in current_app.config["LANGUAGES"]:
        raise ValidationError(_l("Choose a language from the list."), field="preferred_language")
    user.preferred_language = profile.preferred_language
    if profile.timezone not in timezone_names():
        raise ValidationError(_l("Choose a time zone from the list."), field="timezone")
    user.timezone = profile.timezone


def register(email: str, password: str, profile: Profile) -> User:
    try:
        email = normalise_email(validate_email(email, check_deliverability=False).normalized)
    except EmailNotValidError:
        raise ValidationError(_l("Enter a valid email address."), field="email") from None
    if find_user_by_email(email) is not None:
        raise ValidationError(_l("An account with this email address already exists."), field="email")
    _check_password(password)
    user = User(email=email)
    user.set_password(password)
    _apply_profile(user, profile)
    user.handle = mentions.unique_handle(user.display_name)
    db.session.add(user)
    db.session.flush()
    return user


# Checked against when no account matches, so that a failed log-in takes as long whether or
# not the address is registered.
_NO_ACCOUNT_HASH = generate_password_hash("no account has this password")


def authenticate(email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_NO_ACCOUNT_HASH, password)
        return None
    if not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    return user


def update_profile(actor: User, user: User, profile: Profile) -> None:
    if actor.id != user.id and not permissions.can_manage_users(actor):
        raise PermissionDenied()
    _apply_profile(user, profile)
    if profile.handle is not None:
        mentions.change_handle(user, profile.handle)
    db.session.flush()


def set_language(user: User, language: str) -> None:
    if language not in current_app.config["LANGUAGES"]:
        raise ValidationError(_l("Choose a language from the list."), field="language")
    user.preferred_language = language
    db.session.flush()


def end_sessions(user: User) -> None:
    """Log the account out everywhere: every browser session and every open socket (sockets
    check the session token on each message)."""
    user.rotate_session_token()
    db.session.flush()
    events.disconnect_user_after_commit(user.id)


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not user.check_password(current_password):
        raise ValidationError(_l("Your current password is not correct."), field="current_password")
    _check_password(new_password)
    user.set_password(new_password)
    end_sessions(user)


# --- Password reset -----------------------------------------------------------------

def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def make_reset_token(user: User) -> str:
    # Binding the token to the current password hash makes it single-use: once the
    # password changes, every earlier link stops working.
    return _reset_serializer().dumps({"uid": user.id, "pw": user.password_hash[-16:]})


def request_password_reset(email: str) -> None:
    """Send a reset link if the address has an account. Says nothing either way, so that
    the form cannot be used to find out who is registered."""
    user = find_user_by_email(email)
    if user is None:
        return
    link = url_for("auth.reset_password", token=make_reset_token(user), _external=True)
    with force_locale(user.preferred_language):
        send_mail(
            user.email,
            _("Reset your Plenary password"),
            _("Hello %(name)s,\n\nTo choose a new password, open this link within two hours:\n%(link)s\n\n"
              "If you did not ask for this, you can ignore this message.", name=user.display_name, link=link),
        )


def user_for_reset_token(token: str) -> User:
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired:
        raise ValidationError(_l("This reset link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise ValidationError(_l("This reset link is not valid. Ask for a new one.")) from None
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or user.password_hash[-16:] != data.get("pw"):
        raise ValidationError(_l("This reset link has already been used. Ask for a new one."))
    return user


def reset_password(token: str, new_password: str) -> User:
    user = user_for_reset_token(token)
    _check_password(new_password)
    user.set_password(new_password)
    end_sessions(user)
    return user


# --- Platform roles -----------------------------------------------------------------

def set_roles(actor: User | None, user: User, *, organiser: bool | None = None,
              admin: bool | None = None) -> None:
    """Change platform roles. `actor=None` is the command line, which is trusted."""
    if actor is not None and not permissions.can_manage_users(actor):
        raise PermissionDenied()
    if admin is not None:
        if actor is not None and actor.id == user.id and not admin:
            raise ValidationError(_l("You cannot remove your own admin role."))
        if user.is_admin and not admin:
            # Streams an admin may follow (every event's control room, ...) were authorised
            # as they joined: their sockets go, and join again as what they now are.
            events.disconnect_user_after_commit(user.id)
        user.is_admin = admin
    if organiser is not None:
        user.is_organiser = organiser
    db.session.flush()


@lru_cache(maxsize=1)
def timezone_names() -> frozenset[str]:
    # available_timezones() reads the time zone database from disk on every call.
    return frozenset(available_timezones())


@lru_cache(maxsize=1)
def country_codes() -> tuple[str, ...]:
    """EU member states first, then every other territory with an ISO alpha-2 code."""
    others = sorted(code for code in Locale("en").territories
                    if len(code) == 2 and code.isalpha() and code not in EU_COUNTRIES
                    and code not in {"ZZ", "EU", "EZ", "UN", "QO"})
    return EU_COUNTRIES + tuple(others)
