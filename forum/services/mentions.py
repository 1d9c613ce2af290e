"""Mentions: a person's handle (the name after @), and who a text mentions.

A handle is made from the display name at registration (ASCII letters, digits, '.', '_' and
'-', lower case, unique) and can be changed in the profile. Written `@handle` in a post or a
room message, it names that person; whether they are told depends on whether they may read
the place (forum.services.notifications)."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from sqlalchemy import func, select

from forum.extensions import db
from forum.models.users import User

HANDLE_MIN, HANDLE_MAX = 2, 30
# A handle starts and ends with a letter or digit: "@maria.rossi." at a sentence's end names
# "maria.rossi".
HANDLE = r"[a-z0-9](?:[a-z0-9._-]{0,%d}[a-z0-9])?" % (HANDLE_MAX - 2)
HANDLE_RE = re.compile(rf"^{HANDLE}$")
# Not inside a word or an address ("anna@example.org" mentions no one).
MENTION_RE = re.compile(rf"(?<![\w@.\-/])@({HANDLE})(?![\w@])", re.IGNORECASE)


def handle_base(display_name: str) -> str:
    """"Márta Kovács-Nagy" -> "marta.kovacs-nagy"; a name without Latin letters -> "user"."""
    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9_-]+", ".", ascii_name).strip("._-")[:HANDLE_MAX - 4].strip("._-")
    return base if len(base) >= HANDLE_MIN else "user"


def unique_handle(display_name: str, taken: Callable[[str], bool] | None = None) -> str:
    """A free handle for this name: the base, else the base with the lowest free number."""
    taken = taken or handle_taken
    base = handle_base(display_name)
    candidate, n = base, 1
    while taken(candidate):
        n += 1
        candidate = f"{base}{n}"
    return candidate


def handle_taken(handle: str) -> bool:
    return db.session.scalar(select(User.id).where(func.lower(User.handle) == handle.lower())) is not None


def mentioned_handles(text: str) -> list[str]:
    """The handles a text mentions, lower case, in order of first mention."""
    return list(dict.fromkeys(match.lower() for match in MENTION_RE.findall(text or "")))


def mentioned_users(text: str) -> list[User]:
    """The accounts a text mentions (unknown handles name no one)."""
    handles = mentioned_handles(text)
    if not handles:
        return []
    users = db.session.scalars(select(User).where(User.handle.in_(handles))).all()
    order = {handle: i for i, handle in enumerate(handles)}
    return sorted(users, key=lambda user: order[user.handle])
