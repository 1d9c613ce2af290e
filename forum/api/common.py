"""What every API area shares: the error's schema (for the document), cursor pagination, and
how a person is shown."""
from __future__ import annotations

import marshmallow as ma
from apispec import BasePlugin
from flask_babel import gettext as _
from flask_smorest import Blueprint as SmorestBlueprint

from forum.services.errors import ValidationError

MAX_LIMIT = 100


class ErrorDetail(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "not_found"})
    message = ma.fields.String(required=True, metadata={"example": "This address does not exist or you cannot see it."})
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()), required=True,
                            metadata={"example": {"body": ["This field is required."]}})


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorDetail, required=True)


class CursorArgs(ma.Schema):
    """`cursor`: the `next_cursor` of the page before (absent for the first page)."""
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=40),
                              metadata={"description": "The previous page's next_cursor."})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_LIMIT),
                              metadata={"description": "Items per page."})


class OptionalQueryArguments(BasePlugin):
    """An apispec plugin: a query argument is a string or absent, never null. marshmallow's
    `load_default=None` (absent: None) would document it as nullable, with a null default and
    null among its enum values, which no request can send; the document says "optional"."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {}) if isinstance(parameter, dict) else {}
                if parameter.get("in") != "query" or "default" not in schema or schema["default"] is not None:
                    continue
                del schema["default"]
                schema.pop("nullable", None)
                if "enum" in schema:
                    schema["enum"] = [value for value in schema["enum"] if value is not None]


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """{"items": [...], "next_cursor": "..." or null} of `item`."""
    return ma.Schema.from_dict({
        "items": ma.fields.List(ma.fields.Nested(item), required=True),
        "next_cursor": ma.fields.String(required=True, allow_none=True, metadata={
            "description": "Pass as cursor for the next page; null on the last."}),
    }, name=name)


def cursor_value(cursor: str | None) -> int:
    """Cursors are opaque to callers; ours are whole numbers (an id or a page). 0: the start."""
    if cursor is None:
        return 0
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 12:
        raise ValidationError(_("This cursor is not one the API gave out."), field="cursor")
    return int(cursor)


def page(items: list, limit: int, next_value) -> dict:
    """A page of at most `limit` items out of `items` (at most limit + 1 fetched: one more says
    there is a next page, whose cursor `next_value(last item)` gives)."""
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": str(next_value(items[-1])) if more and items else None}


class PersonSchema(ma.Schema):
    """A person as the pages show them (their public page is /people/<handle>)."""
    id = ma.fields.Integer(required=True)
    handle = ma.fields.String(required=True)
    display_name = ma.fields.String(required=True)
    organisation = ma.fields.String(required=True)
    organisation_type = ma.fields.String(required=True)
    country = ma.fields.String(required=True)



class StrictBoolean(ma.fields.Boolean):
    """true or false in a JSON body, nothing else ("yes", 1, "true" are not booleans there)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class QuoteSchema(ma.Schema):
    """The post a reply quotes (the one it replies to), as it reads now, the same for every
    reader (templates/partials/quote.html): its words go once it is deleted or hidden."""
    post_id = ma.fields.Integer(required=True)
    state = ma.fields.String(required=True, metadata={
        "enum": ["shown", "deleted", "hidden"],
        "description": "hidden: hidden by a moderator or not published; its words are then not given."})
    author = ma.fields.Nested(PersonSchema, required=True, allow_none=True)
    body = ma.fields.String(required=True, allow_none=True)
    body_html = ma.fields.String(required=True, allow_none=True)


def quote_of(quoted) -> dict:
    gone = quoted.is_deleted or quoted.is_hidden or not quoted.is_published
    return {"post_id": quoted.id, "state": "deleted" if quoted.is_deleted else "hidden" if gone else "shown",
            "author": None if gone else quoted.author, "body": None if gone else quoted.body,
            "body_html": None if gone else quoted.body_html}


# What each refusal means, for the OpenAPI document (its readers are developers). Statuses every
# operation can give are added by errors.CommonErrors; an area documents these where its
# operations give them, with this meaning.
REFUSALS = {
    400: "What was sent is not valid: `fields` names what to correct.",
    401: "No caller: send a token, or use a browser session (a visitor may not do this).",
    403: "The caller may not do this (the same rules as the pages: a closed consultation, a locked "
         "thread, one's own post, a read-only token, ...); `message` says why.",
    404: "No such thing, or the caller may not know it exists.",
    409: "Already done, or someone else was faster (another moderator): nothing changed.",
    429: "Too many writes, or the room's slow mode: try again after Retry-After seconds.",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                               "schema": {"type": "integer"}}}

# Never registered: only its documenting decorators are used (they store on the view).
_DOC = SmorestBlueprint("api_documentation", __name__)


def refusals(*statuses: int):
    """Document these error answers (all shaped as ErrorSchema) on an operation."""
    def decorate(view):
        for status in reversed(statuses):
            view = _DOC.alt_response(status, schema=ErrorSchema, description=REFUSALS[status],
                                     headers=RETRY_AFTER if status == 429 else None)(view)
        return view
    return decorate
