"""Mentions: a person's handle (the name after @), who a text mentions, and the links a
post's HTML gets for them (docs/mentions.md).

A handle is made from the display name at registration (ASCII letters, digits, '.', '_' and
'-', lower case, unique, with at least one letter) and can be changed in the profile
(`check_handle`, `change_handle`). Written `@handle` in a post or a room message, it names
that person; whether they are told depends on whether they may read the place
(forum.services.notifications).

A post's HTML is rendered once, when it is written or edited (`render_post`): an existing
handle becomes a link to its person's page by their id, `/people/<id>`, showing `@handle` as
written then. A link by id keeps pointing at the person it named after they change their
handle (and never at whoever takes the old one later); a handle that names no one stays
text."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.models.users import User
from forum.rendering import MentionLinks, render_markdown
from forum.services.errors import ValidationError
from forum.services.text import clean_text

HANDLE_MIN, HANDLE_MAX = 2, 30
# A handle starts and ends with a letter or digit: "@maria.rossi." at a sentence's end names
# "maria.rossi".
HANDLE = r"[a-z0-9](?:[a-z0-9._-]{0,%d}[a-z0-9])?" % (HANDLE_MAX - 2)
HANDLE_RE = re.compile(rf"^{HANDLE}$")
# Not inside a word or an address ("anna@example.org" mentions no one).
MENTION_RE = re.compile(rf"(?<![\w@.\-/])@({HANDLE})(?![\w@])", re.IGNORECASE)
# Words that name something else where a handle goes: the page paths under /people/, and
# what chat products reserve for "notify everyone" (a handle must never look like one).
RESERVED_HANDLES = frozenset({
    "mentionable", "people", "me", "new", "edit", "settings", "profile", "admin", "admins",
    "all", "everyone", "here", "channel", "room", "plenary", "moderator", "moderators",
    "organiser", "organisers", "organizer", "organizers", "system", "support",
    "help", "null", "undefined", "none", "anonymous",
})
PROFILE_PATH = "/people/{id}"


def handle_base(display_name: str) -> str:
    """"Márta Kovács-Nagy" -> "marta.kovacs-nagy"; a name without Latin letters -> "user"
    (as is one of digits only: "/people/<digits>" is a person's id)."""
    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9_-]+", ".", ascii_name).strip("._-")[:HANDLE_MAX - 4].strip("._-")
    return base if len(base) >= HANDLE_MIN and _has_letter(base) else "user"


def _has_letter(handle: str) -> bool:
    return any("a" <= c <= "z" for c in handle.lower())


def unique_handle(display_name: str, taken: Callable[[str], bool] | None = None) -> str:
    """A free handle for this name: the base, else the base with the lowest free number."""
    taken = taken or handle_taken
    base = handle_base(display_name)
    candidate, n = base, 1
    while taken(candidate) or candidate in RESERVED_HANDLES:
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


def check_handle(typed: str) -> str:
    """A handle as a person types it in their profile ("@Anna.Rossi" -> "anna.rossi"), or
    ValidationError (field "handle") naming what was typed and why it cannot be one."""
    text = clean_text(typed, field="handle", max_length=80)
    handle = text.removeprefix("@").lower()
    if not handle:
        raise ValidationError(_l("Choose a handle: the name people write after @ to mention you."), field="handle")
    if not (HANDLE_MIN <= len(handle) <= HANDLE_MAX) or not HANDLE_RE.match(handle):
        raise ValidationError(_l(
            "\"%(typed)s\" cannot be a handle: use %(min)d to %(max)d letters (a to z), digits, dots, hyphens "
            "or underscores, starting and ending with a letter or a digit.",
            typed=text, min=HANDLE_MIN, max=HANDLE_MAX), field="handle")
    if not _has_letter(handle):
        raise ValidationError(_l("\"%(typed)s\" cannot be a handle: it needs at least one letter.", typed=text),
                              field="handle")
    if handle in RESERVED_HANDLES:
        raise ValidationError(_l("\"%(typed)s\" is reserved: choose another handle.", typed=text), field="handle")
    return handle


def change_handle(user: User, typed: str) -> None:
    """Give `user` the handle typed (checked by `check_handle`), if no one else has it in any
    case. Earlier mentions keep linking to the person (by id); they show the old handle."""
    handle = check_handle(typed)
    if handle == user.handle:
        return
    taken = ValidationError(_l("The handle \"%(handle)s\" is taken: choose another.", handle=handle),
                            field="handle")
    other = db.session.scalar(select(User.id).where(func.lower(User.handle) == handle, User.id != user.id))
    if other is not None:
        raise taken
    try:
        with db.session.begin_nested():
            user.handle = handle
            db.session.flush()
    except IntegrityError:  # taken by someone else at the same moment
        raise taken from None


def profile_path(user_id: int) -> str:
    """A person's page, as mention links store it (forum.web.people serves it)."""
    return PROFILE_PATH.format(id=user_id)


def render_post(source: str) -> str:
    """A post's or room message's Markdown as HTML, its mentions of existing people as links
    (`<a class="mention" href="/people/<id>">@handle</a>`): forum.rendering decides the HTML."""
    handles = mentioned_handles(source)
    hrefs = {}
    if handles:
        rows = db.session.execute(select(User.id, User.handle).where(User.handle.in_(handles)))
        hrefs = {handle: profile_path(user_id) for user_id, handle in rows}
    return render_markdown(source, mentions=MentionLinks(MENTION_RE, hrefs) if hrefs else None)
