"""The API's errors: every refusal under /api/ is `{"error": {"code", "message", "fields"}}`
with its HTTP status. `code` is stable, for programs; `message` is for people, in the caller's
language; `fields` names what to correct: {argument: [messages]}."""
from __future__ import annotations

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
