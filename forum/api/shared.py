"""What the API's event areas (events, rooms, messages, polls, questions) share: the check
that a write has a signed-in caller, and the refusals an operation documents."""
from __future__ import annotations

import functools

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint as SmorestBlueprint

from forum.api.common import ErrorSchema
from forum.ratelimits import WRITING_METHODS, counts_as_write
from forum.services.errors import LoginRequired

# What each refusal means, for the OpenAPI document (its readers are developers).
REFUSALS = {
    400: "Bad input: `fields` names what to correct.",
    401: "No valid access token or session: authenticate (a visitor may not do this).",
    403: "The caller may not do this (a read-only token never writes); `message` says why.",
    404: "No such thing, or the caller may not know it exists.",
    409: "Already done, or someone else was faster (another moderator).",
    429: "Too many writes, or the room's slow mode: try again after Retry-After seconds.",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                               "schema": {"type": "integer"}}}


def refusals(*statuses: int):
    """Document these error answers (all shaped as ErrorSchema) on an operation."""
    def decorate(view):
        for status in reversed(statuses):
            view = _DOC.alt_response(
                status, schema=ErrorSchema, description=REFUSALS[status],
                headers=RETRY_AFTER if status == 429 else None)(view)
        return view
    return decorate


# Never registered: only its documenting decorators are used (they store on the view).
_DOC = SmorestBlueprint("api_documentation", __name__)


def signed_in(view):
    """Writes need an account: a visitor's is answered 401 before anything else (rate limits,
    arguments); reads are left to the view. Put it right below the route, above
    `counts_as_write` (which then knows the account); on a MethodView, last in `decorators`."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.method in WRITING_METHODS and not current_user.is_authenticated:
            raise LoginRequired()
        return view(*args, **kwargs)
    return wrapper


# One rule per path (a MethodView for a path with several methods): with a rule per method,
# an id out of range in the path would be answered 405 instead of 404 (werkzeug checks a
# rule's method before its converters; tests/web/test_bad_input.py).
COUNTED = [counts_as_write, signed_in]  # `decorators` of a participant's writes
MODERATORS = [signed_in]                # of moderators' tools (exempt from the writing allowance)
