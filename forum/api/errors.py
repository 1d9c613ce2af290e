"""The API's errors: every refusal under /api/ is `{"error": {"code", "message", "fields"}}`
with its HTTP status. `code` is stable, for programs; `message` is for people, in the caller's
language; `fields` names what to correct: {argument: [messages]}."""
from __future__ import annotations

from apispec import BasePlugin
from flask import jsonify
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from forum.services.errors import BUSY_MESSAGE, ServiceError

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "server_error",
    503: "busy",
}


def error_body(status: int, message: str, fields: dict | None = None, code: str | None = None) -> dict:
    return {"error": {"code": code or CODES.get(status, "error"), "message": message, "fields": fields or {}}}


def _fields_of(messages) -> dict:
    """webargs' messages, {location: {field: [..]}}, as {field: [..]} (nested fields dotted)."""
    fields: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            fields.setdefault(prefix or "_schema", []).extend(
                str(v) for v in (value if isinstance(value, list) else [value]))

    for location_messages in (messages or {}).values():
        walk("", location_messages)
    return fields


def respond(error: Exception, status: int | None = None):
    """The JSON answer to any error the app's handlers catch under /api/."""
    headers = {}
    fields = None
    code = None
    if isinstance(error, ServiceError):
        status = error.status_code
        message = str(error.message)
        if error.field:
            fields = {error.field: [message]}
        if getattr(error, "retry_after", None):
            headers["Retry-After"] = str(error.retry_after)
    elif isinstance(error, CSRFError):
        status, code = 400, "csrf"
        message = _("A browser session must send its CSRF token in the X-CSRFToken header.")
    elif isinstance(error, RateLimitExceeded):
        status = 429
        message = _("You are doing this too often. Please wait a little and try again.")
    elif isinstance(error, HTTPException):
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        fields = _fields_of(data.get("messages")) if "messages" in data else None
        message = _("Please check the arguments named in fields.") if fields else {
            400: _("This request could not be understood."),
            404: _("This address does not exist or you cannot see it."),
            405: _("This address does not accept this method."),
            413: _("What you sent is too large."),
            415: _("Send the request's body as JSON (Content-Type: application/json)."),
        }.get(status, error.description or "")
        headers.update(dict(data.get("headers") or {}))
    else:  # the database busy (forum.web hands only that case here)
        status, message = status or 503, str(BUSY_MESSAGE)
        headers["Retry-After"] = "2"
    if status == 400 and fields and code is None:
        code = "invalid"
    response = jsonify(error_body(status, message, fields, code))
    response.status_code = status
    response.headers.update(headers)
    return response


# --- The refusals in the OpenAPI document ------------------------------------------------
#
# Some refusals can come from any operation, whatever its area: a token that does not work,
# a write refused by the rate limits, a database busy. The document lists them on every
# operation they concern (`CommonErrors`), each with its example, so that an area documents
# with `@bp.alt_response` only its own (409, 410, a 403 of its rules, ...). No operation has
# a catch-all "default" response: a status the document does not list is a bug, which
# tests/api/test_schema.py finds.

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                               "schema": {"type": "integer", "minimum": 1}}}


def _example(status: int, message: str, fields: dict | None = None, code: str | None = None) -> dict:
    return {"value": error_body(status, message, fields, code)}


# {status: (component name, description, examples, headers)}
COMMON_RESPONSES = {
    400: ("BadRequest", "The request is not one the API can act on: see error.fields, or send the session's "
          "CSRF token.", {
              "invalid": _example(400, "Please check the arguments named in fields.",
                                  {"limit": ["Must be greater than or equal to 1 and less than or equal to 100."]},
                                  code="invalid"),
              "csrf": _example(400, "A browser session must send its CSRF token in the X-CSRFToken header.",
                               code="csrf")}, None),
    401: ("Unauthorized", "The access token is not valid (mistyped, expired or revoked), or this needs someone "
          "signed in: send a token.", {
              "unauthorized": _example(401, "This access token is not valid: it may be mistyped, expired or "
                                            "revoked.")}, None),
    403: ("Forbidden", "The caller may not do this (a read-only token writing, or the rules of this place).", {
        "forbidden": _example(403, "This access token may only read. Create one that may also write.")}, None),
    404: ("NotFound", "No such thing, or the caller may not see it (the same answer for both).", {
        "not_found": _example(404, "This address does not exist or you cannot see it.")}, None),
    413: ("TooLarge", "What was sent is larger than the site accepts.", {
        "too_large": _example(413, "What you sent is too large.")}, None),
    429: ("RateLimited", "Over the writing allowance (shared with the pages): wait Retry-After seconds.", {
        "rate_limited": _example(429, "You are doing this too often. Please wait a little and try again.")},
          RETRY_AFTER),
    503: ("Busy", "The database is busy with another write: try again after Retry-After seconds.", {
        "busy": _example(503, "The site is busy. Please try again in a moment.")}, RETRY_AFTER),
}
EVERY_OPERATION = (401, 503)
WITH_PATH_PARAMETERS = (404,)
WRITES = (400, 403, 413, 429)
# flask-smorest's own name for the 400 it documents on operations with arguments.
SMOREST_BAD_REQUEST = "BAD_REQUEST"


def register_common_responses(spec, error_schema) -> None:
    """The components COMMON_RESPONSES names, in the document's components/responses."""
    for name, description, examples, headers in COMMON_RESPONSES.values():
        response = {"description": description,
                    "content": {"application/json": {"schema": error_schema, "examples": examples}}}
        if headers:
            response["headers"] = headers
        spec.components.response(name, response)


class CommonErrors(BasePlugin):
    """An apispec plugin: every operation gets the COMMON_RESPONSES it can give (a 404 where
    its path names something, the writes' 400/403/413/429) unless its area documented that
    status itself."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            statuses = list(EVERY_OPERATION)
            if "{" in (path or ""):
                statuses += WITH_PATH_PARAMETERS
            if method.upper() not in {"GET", "HEAD", "OPTIONS"}:
                statuses += WRITES
            elif 400 in responses or "400" in responses:
                statuses.append(400)
            for status in statuses:
                documented = responses.get(status, responses.get(str(status)))
                if documented is None or documented == SMOREST_BAD_REQUEST:
                    responses.pop(str(status), None)
                    responses[status] = COMMON_RESPONSES[status][0]
            operation["responses"] = dict(sorted(responses.items(), key=lambda item: str(item[0])))
