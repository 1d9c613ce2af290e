"""Request parsing: integers from URLs (`query_int`, and ids in paths through `IdConverter`),
and forms whose undecodable input stays visible to our validation.

Werkzeug decodes url-encoded forms so that invalid UTF-8 never shows: percent-escaped bad
bytes arrive as the literal text "%FF", and a body of raw bad bytes makes the whole form
silently empty. Decoding them as U+FFFD instead lets `services.text.clean_text` refuse the
field with a message while the rest of the form is kept.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl

from flask import Request, request
from flask_babel import gettext as _
from werkzeug.formparser import FormDataParser
from werkzeug.routing import IntegerConverter

from forum.permissions import MAX_ID
from forum.services.errors import ValidationError


class _ReplacingFormDataParser(FormDataParser):
    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        items = parse_qsl(stream.read().decode("utf-8", "replace"), keep_blank_values=True, errors="replace")
        return stream, self.cls(items), self.cls()


class PlenaryRequest(Request):
    form_data_parser_class = _ReplacingFormDataParser


class IdConverter(IntegerConverter):
    """`<int:...>` in our routes: an id, so at most MAX_ID (the largest id a table holds).
    Werkzeug's own accepts any number of digits, and a value past 64 bits reaching the
    database is an error there (SQLite cannot even bind it); a larger one here does not match
    the route, so it answers 404 like any id that does not exist."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def query_int(name: str, default: int | None = None, *, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """The whole number in the query parameter `name` (absent or empty: `default`). Anything
    else (a word, a sign, a fraction, a number out of range) is refused with a 400 that says
    what the parameter must be; every integer read from a URL's query goes through here."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    value = int(raw) if re.fullmatch(r"[0-9]{1,19}", raw) else None
    if value is None or not minimum <= value <= maximum:
        raise ValidationError(_("“%(name)s” in this address must be a whole number from %(minimum)d to %(maximum)d.",
                                name=name, minimum=minimum, maximum=maximum), field=name)
    return value
