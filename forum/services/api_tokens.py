"""Personal access tokens for the JSON API (forum/api/): their owner creates one (shown once),
lists and revokes them; the API finds the person behind a token on every request.

A token is "pln_" and 43 random URL-safe characters (256 bits). Only its SHA-256 is stored: a
copy of the database gives nobody a working token, and a lookup by hash is one indexed read
(no slow hash is needed for a random secret of that size, unlike a password)."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from forum import permissions
from forum.extensions import db
from forum.models import ApiToken, TokenScope, User
from forum.models.base import utcnow
from forum.services.errors import NotFound, PermissionDenied, ValidationError
from forum.services.text import clean_text

TOKEN_PREFIX = "pln_"
# Offered in the profile; a token never lives longer than a year.
LIFETIMES_DAYS = (7, 30, 90, 365)
MAX_ACTIVE_TOKENS = 20
# last_used_at is written at most this often per token: a busy script must not turn every
# read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class NewToken:
    token: ApiToken
    secret: str  # shown to its owner once, never stored


def tokens_of(user: User) -> list[ApiToken]:
    """The person's tokens that still work, newest first."""
    now = utcnow()
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                               ApiToken.expires_at > now)
        .order_by(ApiToken.id.desc())))


def create_token(actor: User, *, name: str, scope: str, days: int) -> NewToken:
    if not permissions.can_manage_api_tokens(actor, actor):
        raise PermissionDenied()
    name = clean_text(name, field="name", max_length=80)
    if not name:
        raise ValidationError(_l("Give the token a name, so that you can tell it apart."), field="name")
    try:
        scope_value = TokenScope(scope)
    except ValueError:
        raise ValidationError(_l("Choose what the token may do."), field="scope") from None
    if days not in LIFETIMES_DAYS:
        raise ValidationError(_l("Choose how long the token works."), field="days")
    if len(tokens_of(actor)) >= MAX_ACTIVE_TOKENS:
        raise ValidationError(_l("You have %(count)d working tokens: revoke one before creating another.",
                                 count=MAX_ACTIVE_TOKENS), field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, name=name, scope=scope_value, token_hash=hash_token(secret),
                     prefix=secret[:len(TOKEN_PREFIX) + 6], expires_at=utcnow() + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    return NewToken(token, secret)


def revoke_token(actor: User, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id) if permissions.valid_id(token_id) else None
    if token is None or not permissions.can_manage_api_tokens(actor, token.user):
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    db.session.flush()
    return token


def authenticate(secret: str) -> ApiToken | None:
    """The working token with this secret (not revoked, not expired, its owner's account
    open), its last use noted; None for anything else."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    now = utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= now \
            or token.user.closed_at is not None:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token
