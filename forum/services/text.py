"""Validation shared by every service that stores text a person typed."""
from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l

from forum.services.errors import ValidationError

# C0 controls other than tab, newline and carriage return; U+FFFD, which is what undecodable
# (invalid UTF-8) input becomes on its way in; and lone surrogates, which JSON can carry
# ("\ud800", from the API or a socket) but no database can store.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\ud800-\udfff]")


def clean_text(value: str | None, *, field: str, max_length: int, required: bool = False,
               multiline: bool = False) -> str:
    value = unicodedata.normalize("NFC", value or "")
    if _FORBIDDEN.search(value):
        raise ValidationError(
            _l("This text contains invalid characters (for example a NUL byte or bytes that are not valid UTF-8)."),
            field=field,
        )
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.strip() if multiline else " ".join(value.split())
    if required and not value:
        raise ValidationError(_l("This field is required."), field=field)
    if len(value) > max_length:
        raise ValidationError(
            _l("This text is too long: %(length)d characters, at most %(max)d are allowed.",
               length=len(value), max=max_length),
            field=field,
        )
    return value
