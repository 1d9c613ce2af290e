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

import re

from flask import Flask, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser

from forum.api import errors
from forum.api.common import ErrorSchema, OptionalQueryArguments
from forum.extensions import csrf
from forum.models import TokenScope
from forum.services import api_tokens
from forum.services.errors import LoginRequired, PermissionDenied, ServiceError, ValidationError

PREFIX = "/api/v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class InvalidToken(ServiceError):
    status_code = 401
    default_message = _l("This access token is not valid: it may be mistyped, expired or revoked.")


# What no database column can hold: NUL (PostgreSQL refuses it in text) and the halves of a
# UTF-16 pair, which JSON can spell ("\\ud800") but UTF-8 cannot encode. A form never carries
# them (undecodable bytes arrive as U+FFFD, which services refuse); JSON and query strings can.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(value, path: str = "") -> str | None:
    """The dotted path of the first string (or key) in `value` that holds UNSTORABLE, if any."""
    if isinstance(value, str):
        return path or "_schema" if UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, inner in items:
        where = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and UNSTORABLE.search(key):
            return where
        found = unstorable(inner, where)
        if found:
            return found
    return None


class ArgumentsParser(FlaskParser):
    """Arguments of the wrong shape are a 400 "invalid" with their fields, as the services'
    ValidationError (rather than webargs' 422): one status for "correct what you sent". A
    body that is not JSON, and text no database can store, are refused here, before any
    schema or service sees them."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        return _storable(super()._raw_load_json(req))

    def load_querystring(self, req, schema):
        _storable({key: " ".join(req.args.getlist(key)) for key in req.args})
        return super().load_querystring(req, schema)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise ValidationError(_l("Send the request's body as JSON (Content-Type: application/json)."))


def _storable(data):
    where = unstorable(data)
    if where is not None:
        # The words of forum.services.text.clean_text, which refuses the same in forms.
        raise ValidationError(_l(
            "This text contains invalid characters (for example a NUL byte or bytes that are not valid UTF-8)."),
            field=where)
    return data


class Api(SmorestApi):
    ERROR_SCHEMA = ErrorSchema  # what the document says every error looks like
    # No catch-all "default" response on every operation: each lists the statuses it gives
    # (errors.CommonErrors adds those of every operation), so that tests hold the API to them.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        """None of flask-smorest's: the app's handlers answer JSON under /api/ (forum/web)."""

    def _register_pagination_header(self):
        """None: flask-smorest's page-number pagination is not ours (cursor pages, common.py)."""

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
    elif request.method not in SAFE_METHODS:
        if not current_user.is_authenticated:
            # Every write is someone's: a program that forgot its token hears so, not "CSRF".
            raise LoginRequired(_l("Send a personal access token (Authorization: Bearer pln_...) "
                                   "or sign in to do this."))
        csrf.protect()  # a browser session writes with the pages' CSRF token (X-CSRFToken)


def init_app(app: Flask) -> None:
    from forum.api import consultations, docs, events, messages, polls, posts, questions, rooms

    app.config.setdefault("API_TITLE", "Plenary API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = Api(app, spec_kwargs={
        "info": {
            "description": (
                "Read consultations, events and their discussions; respond, reply, endorse, vote and "
                "moderate, as on the pages and with the same rules.\n\n"
                "Call it with a personal access token (`Authorization: Bearer pln_...`, created in your "
                "profile) or from a signed-in browser (writes send the X-CSRFToken header). Refusals are "
                "`{\"error\": {\"code\", \"message\", \"fields\"}}` with their HTTP status; lists are "
                "pages: pass a page's `next_cursor` as `cursor` for the next one. The guide: docs/api.md."),
            "license": {"name": "AGPL-3.0-or-later", "url": "https://www.gnu.org/licenses/agpl-3.0.html"},
        },
        # Paths in this document start with /api/v1: the API is on this site's own origin.
        "servers": [{"url": "/", "description": "This Plenary site"}],
        # A token, a browser session, or neither (what a visitor may read).
        "security": [{"token": []}, {"session": []}, {}],
        "extra_plugins": [errors.CommonErrors(), OptionalQueryArguments()]})
    api.spec.components.security_scheme("token", {
        "type": "http", "scheme": "bearer",
        "description": "A personal access token from your profile (pln_...): read, or read and write."})
    api.spec.components.security_scheme("session", {
        "type": "apiKey", "in": "cookie", "name": app.config.get("SESSION_COOKIE_NAME", "session"),
        "description": ("A signed-in browser's session, sent by the browser itself (nothing to enter here); "
                        "writes also need the X-CSRFToken header.")})
    errors.register_common_responses(api.spec, ErrorSchema)
    for module in (consultations, posts, events, rooms, messages, polls, questions):
        api.register_blueprint(module.bp)
    app.extensions["plenary-api"] = api
    app.register_blueprint(docs.bp)
