"""Request parsing that keeps undecodable input visible to our validation.

Werkzeug decodes url-encoded forms so that invalid UTF-8 never shows: percent-escaped bad
bytes arrive as the literal text "%FF", and a body of raw bad bytes makes the whole form
silently empty. Decoding them as U+FFFD instead lets `services.text.clean_text` refuse the
field with a message while the rest of the form is kept.
"""
from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Request
from werkzeug.formparser import FormDataParser


class _ReplacingFormDataParser(FormDataParser):
    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        items = parse_qsl(stream.read().decode("utf-8", "replace"), keep_blank_values=True, errors="replace")
        return stream, self.cls(items), self.cls()


class PlenaryRequest(Request):
    form_data_parser_class = _ReplacingFormDataParser
