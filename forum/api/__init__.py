"""The JSON API under /api/v1, described by an OpenAPI 3 document generated from the code
(flask-smorest: marshmallow schemas for arguments and answers, apispec for the document).

Each module here is a blueprint of one area (consultations, events, ...). Its views parse
arguments with schemas (shape only), call the same `forum.services` and `forum.permissions` as
the pages and sockets, and answer with schemas; the commit point of forum/web commits after a
view returns and emits what the services queued, as for a page. Writes count in the same
writing allowance (`counts_as_write`).

Who calls: a browser session (its cookie; writes carry the pages' CSRF token in an
X-CSRFToken header) or a personal access token (`Authorization: Bearer pln_...`,
forum/services/api_tokens.py; no CSRF: no cookie is involved). A request with an
Authorization header is that token's, whatever cookie it also carries. A read-only token
may only GET.

Errors are JSON, `{"error": {"code", "message", "fields"}}` (forum/api/errors.py), answered by
the app's error handlers for any path under /api/."""
from __future__ import annotations

from flask import Flask, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser

from forum.api.common import ErrorSchema
from forum.extensions import csrf
from forum.models import TokenScope
from forum.services import api_tokens
from forum.services.errors import PermissionDenied, ServiceError

PREFIX = "/api/v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class InvalidToken(ServiceError):
    status_code = 401
    default_message = _l("This access token is not valid: it may be mistyped, expired or revoked.")


class ArgumentsParser(FlaskParser):
    """Arguments of the wrong shape are a 400 "invalid" with their fields, as the services'
    ValidationError (rather than webargs' 422): one status for "correct what you sent"."""

    DEFAULT_VALIDATION_STATUS = 400


class Api(SmorestApi):
    ERROR_SCHEMA = ErrorSchema  # what the document says every error looks like
    def _register_error_handlers(self):
        """None of flask-smorest's: the app's handlers answer JSON under /api/ (forum/web)."""

    def register_blueprint(self, blp, **options):
        """The document's tag is the area's name ("consultations"), not its Flask blueprint's
        ("api_consultations", which must differ from the pages' blueprint of that name)."""
        super().register_blueprint(blp, **options)
        self.spec._tags[-1]["name"] = blp.tag


class Blueprint(SmorestBlueprint):
    """An API area: its URLs under /api/v1, its callers authenticated before its views run,
    and no CSRF check of the pages' kind (`authenticate` does it for cookie sessions)."""

    ARGUMENTS_PARSER = ArgumentsParser()

    def __init__(self, tag: str, import_name: str, **kwargs):
        self.tag = tag
        super().__init__(f"api_{tag}", import_name, url_prefix=PREFIX + kwargs.pop("url_prefix", ""), **kwargs)
        self.before_request(authenticate)
        csrf.exempt(self)

    def route(self, rule, *, parameters=None, tags=None, **options):
        return super().route(rule, parameters=parameters, tags=tags or [self.tag], **options)


def is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def authenticate() -> None:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        token = api_tokens.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise InvalidToken()
        # Flask-Login's current_user for this request: the token's owner, not the cookie's.
        g._login_user = token.user
        g.api_token = token
        if request.method not in SAFE_METHODS and token.scope is not TokenScope.WRITE:
            raise PermissionDenied(_l("This access token may only read. Create one that may also write."))
    elif request.method not in SAFE_METHODS and current_user.is_authenticated:
        # A browser session writes with the pages' CSRF token (X-CSRFToken). A visitor has no
        # session a forged request could act with: the view answers them 401 (sign in).
        csrf.protect()


def init_app(app: Flask) -> None:
    from forum.api import consultations, events, messages, polls, questions, rooms

    app.config.setdefault("API_TITLE", "Plenary API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = Api(app, spec_kwargs={
        "info": {"description": (
            "Read consultations, events and their discussions; respond, reply, endorse, vote and "
            "moderate, as on the pages and with the same rules. See docs/api.md.")},
        # A token, a browser session, or neither (what a visitor may read).
        "security": [{"token": []}, {"session": []}, {}]})
    api.spec.components.security_scheme("token", {
        "type": "http", "scheme": "bearer",
        "description": "A personal access token from your profile (pln_...)."})
    api.spec.components.security_scheme("session", {
        "type": "apiKey", "in": "cookie", "name": app.config.get("SESSION_COOKIE_NAME", "session"),
        "description": "A browser session; writes also need the X-CSRFToken header."})
    for module in (consultations, events, rooms, messages, polls, questions):
        api.register_blueprint(module.bp)
    app.extensions["plenary-api"] = api
