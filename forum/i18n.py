"""Locale and time zone of the reader, and date formatting for templates."""
from __future__ import annotations

from datetime import datetime

from flask import current_app, g, has_request_context, request, session
from flask_babel import format_datetime
from flask_login import current_user
from markupsafe import Markup, escape


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # command line: the caller uses force_locale if it cares
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.preferred_language in languages:
        return current_user.preferred_language
    if session.get("language") in languages:
        return session["language"]
    return request.accept_languages.best_match(list(languages)) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str | None:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.timezone
    return None


def time_tag(value: datetime | None, format: str = "medium") -> Markup:
    """A <time> element: machine-readable UTC, shown in the reader's time zone and locale.
    In HTML rendered for every reader (live broadcasts) the text stays in UTC: the page's
    script shows it in each reader's own zone, and nobody learns the writer's."""
    if value is None:
        return Markup("")
    rebase = not g.get("render_for_everyone", False)
    return Markup('<time datetime="{iso}">{text}</time>').format(
        iso=value.isoformat(timespec="seconds"), text=escape(format_datetime(value, format, rebase=rebase)))


def in_every_language(render) -> dict[str, str]:
    """{language: render()} for every interface language: the words a live broadcast carries,
    so that each reader shows them in their own language (counts with their plurals, ...)."""
    from flask_babel import force_locale

    texts = {}
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            texts[language] = render()
    return texts
