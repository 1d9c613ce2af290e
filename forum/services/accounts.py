"""Accounts: registration, sign-in, profile, password reset and platform roles."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import available_timezones

from babel import Locale
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from forum import jobs, mail, permissions
from forum.extensions import db
from forum.models import LoginRecord, User
from forum.models.base import utcnow
from forum.models.users import EU_COUNTRIES, ORGANISATION_TYPES, find_user_by_email, normalise_email
from forum.services import events, mentions
from forum.services.errors import NotFound, PermissionDenied, ValidationError
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


# What a login record keeps of the browser's User-Agent (the column's length).
USER_AGENT_MAX = 300
ADDRESS_MAX = 45  # an IPv6 address in its longest written form
RECENT_LOGINS = 10


def authenticate(email: str, password: str, *, ip_address: str = "", user_agent: str = "") -> User | None:
    """The account of this address and password, or None. A successful login is recorded
    (when, from which address and browser: shown to the person as their recent logins, and
    purged after PRIVACY_IP_RETENTION_DAYS / PRIVACY_LOGIN_RETENTION_DAYS by `flask privacy
    purge`). A closed account never logs in."""
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_NO_ACCOUNT_HASH, password)
        return None
    if not user.check_password(password) or user.closed_at is not None:
        return None
    now = utcnow()
    user.last_login_at = now
    db.session.add(LoginRecord(user_id=user.id, at=now, ip_address=_printable(ip_address)[:ADDRESS_MAX],
                               user_agent=_printable(user_agent)[:USER_AGENT_MAX]))
    return user


def _printable(text: str | None) -> str:
    # Headers are the client's to write: no control characters (nor NUL, which PostgreSQL refuses).
    return "".join(c for c in (text or "") if c.isprintable()).strip()


def recent_logins(user: User, limit: int = RECENT_LOGINS) -> list[LoginRecord]:
    """The account's latest successful logins, newest first (the profile shows them)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(db.session.scalars(select(LoginRecord).where(LoginRecord.user_id == user.id)
                                   .order_by(LoginRecord.at.desc(), LoginRecord.id.desc()).limit(limit)))


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
    the form cannot be used to find out who is registered. The mail goes from a job, after
    the request's commit (`send_password_reset`)."""
    user = find_user_by_email(email)
    if user is None:
        return
    jobs.enqueue(send_password_reset, user.id)


def send_password_reset(user_id: int) -> None:
    """Job: the reset mail, in the person's language, with a link valid two hours."""
    user = db.session.get(User, user_id)
    if user is None:
        return
    link = mail.external_url("auth.reset_password", token=make_reset_token(user))
    mail.send(mail.compose(user, "password_reset", _l("Reset your Plenary password"), link=link))


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


# --- E-mail verification ------------------------------------------------------------
#
# A signed link (salted, expiring after EMAIL_VERIFY_MAX_AGE) bound to the address it was
# sent to: once the account's address changes (which resets the verification, see
# forum/models/users.py), earlier links stop working. Nothing waits for it but e-mail
# notifications: an unverified address receives none.

def _verify_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="email-verify")


def _address_digest(email: str) -> str:
    # The address itself stays out of the link (links end up in logs and browser histories).
    return hashlib.sha256(normalise_email(email).encode("utf-8")).hexdigest()[:24]


def make_verification_token(user: User) -> str:
    return _verify_serializer().dumps({"uid": user.id, "em": _address_digest(user.email)})


def request_verification(user: User) -> None:
    """Mail a verification link (after the commit, from a job); nothing for a verified address."""
    if user.email_verified_at is None:
        jobs.enqueue(send_verification, user.id)


def send_verification(user_id: int) -> None:
    """Job: the verification mail, in the person's language."""
    user = db.session.get(User, user_id)
    if user is None or user.email_verified_at is not None:
        return
    link = mail.external_url("auth.verify_email", token=make_verification_token(user))
    days = max(1, current_app.config["EMAIL_VERIFY_MAX_AGE"] // 86400)
    mail.send(mail.compose(user, "verify_email", _l("Confirm your email address for Plenary"), link=link, days=days))


def user_for_verification_token(token: str) -> User:
    """The account a verification link is for, or a refusal: expired (400), not a link of
    ours (404), or for an address the account no longer has (400)."""
    try:
        data = _verify_serializer().loads(token, max_age=current_app.config["EMAIL_VERIFY_MAX_AGE"])
    except SignatureExpired:
        raise ValidationError(_l("This confirmation link has expired. Log in to ask for a new one.")) from None
    except BadSignature:
        raise NotFound(_l("This confirmation link is not valid.")) from None
    uid = data.get("uid") if isinstance(data, dict) else None
    user = db.session.get(User, uid) if isinstance(uid, int) and 0 < uid < 2**31 else None
    if user is None:
        raise NotFound(_l("This confirmation link is not valid."))
    if data.get("em") != _address_digest(user.email):
        raise ValidationError(_l("This confirmation link was sent to an address your account no longer uses."))
    return user


def verify_email(token: str) -> User:
    """Confirm the address the link was sent to (again: nothing changes)."""
    user = user_for_verification_token(token)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        db.session.flush()
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
