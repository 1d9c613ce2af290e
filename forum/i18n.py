"""Locale and time zone of the reader; dates, plurals for scripts, and the names of codes.

Every code a person may see (a room's phase, an event's status, an organisation type, a
country, a moderation action...) is shown through `label(kind, code)`, in templates as the
`label` global, so no page prints a stored code and every name is in the reader's language."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time, get_datetime_format
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale, get_timezone, get_translations
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


def format_when(value: datetime, format: str = "medium", *, zone: str | None = None) -> str:
    """A date and time for people: the date in `format` ("short", "medium", "long"), the time
    always to the minute ("30 nov 2026, 10:05"), as the pages' script writes it too. In the
    reader's time zone, or in `zone`."""
    locale = get_locale() or _english()
    tz = ZoneInfo(zone) if zone else get_timezone()
    local = value.astimezone(tz)
    return (get_datetime_format(format, locale=locale).replace("'", "")
            .replace("{0}", format_time(local, "short", tzinfo=tz, locale=locale))
            .replace("{1}", format_date(local.date(), format, locale=locale)))


def time_tag(value: datetime | None, format: str = "medium") -> Markup:
    """A <time> element: machine-readable UTC, shown in the reader's time zone and locale;
    `format` "clock": the time of day only ("10:05", a chat message's)."""
    if value is None:
        return Markup("")
    if format == "clock":
        tz = get_timezone()
        text = format_time(value.astimezone(tz), "short", tzinfo=tz, locale=get_locale() or _english())
    else:
        text = format_when(value, format)
    return Markup('<time datetime="{iso}">{text}</time>').format(iso=value.isoformat(timespec="seconds"),
                                                                text=escape(text))


@cache
def vocabularies() -> dict[str, Mapping[str, object]]:
    """Every kind of code a person may see -> {code: lazily translated name}. The names live
    next to the codes they name (models, the audit service); this gathers them in one place."""
    from forum.models.consultations import STATUS_LABELS, VISIBILITY_LABELS
    from forum.models.events import ASSIGNMENT_LABELS, EVENT_STATUS_LABELS, MEMBER_ROLE_LABELS, PHASE_LABELS
    from forum.models.opinion import BOARD_STATUS_LABELS, STATEMENT_STATUS_LABELS
    from forum.models.polls import POLL_KIND_LABELS, POLL_STATUS_LABELS, RESULTS_SHOWN_LABELS
    from forum.models.posts import POST_STATUS_LABELS, STANCE_LABELS
    from forum.models.preevent import PREEVENT_KIND_LABELS
    from forum.models.reports import REPORT_STATUS_LABELS
    from forum.models.users import ORGANISATION_TYPES
    from forum.services.audit import ACTION_LABELS

    def by_code(labels: Mapping) -> dict[str, object]:
        return {getattr(code, "value", code): name for code, name in labels.items()}

    return {
        "room_phase": by_code(PHASE_LABELS),
        "event_status": by_code(EVENT_STATUS_LABELS),
        "consultation_status": by_code(STATUS_LABELS),
        "visibility": by_code(VISIBILITY_LABELS),
        "assignment_mode": by_code(ASSIGNMENT_LABELS),
        "member_role": by_code(MEMBER_ROLE_LABELS),
        "post_status": by_code(POST_STATUS_LABELS),
        "organisation_type": by_code(ORGANISATION_TYPES),
        "moderation_action": by_code(ACTION_LABELS),
        "board_status": by_code(BOARD_STATUS_LABELS),
        "statement_status": by_code(STATEMENT_STATUS_LABELS),
        "poll_kind": by_code(POLL_KIND_LABELS),
        "poll_status": by_code(POLL_STATUS_LABELS),
        "results_shown": by_code(RESULTS_SHOWN_LABELS),
        "stance": by_code(STANCE_LABELS),
        "report_status": by_code(REPORT_STATUS_LABELS),
        "preevent_kind": by_code(PREEVENT_KIND_LABELS),
    }


LABEL_KINDS = ("room_phase", "event_status", "consultation_status", "visibility", "assignment_mode",
               "member_role", "post_status", "organisation_type", "moderation_action", "country",
               "board_status", "statement_status", "poll_kind", "poll_status", "results_shown", "stance",
               "report_status", "preevent_kind")


def label(kind: str, code) -> str:
    """The name of `code` (a string or a str enum member) in the reader's language.
    Countries are ISO 3166 alpha-2 codes named by the locale's data. An unknown code (say an
    organisation type a deployment no longer offers) is shown as stored rather than failing;
    an unknown kind is a programming error."""
    if code is None:
        return ""
    code = getattr(code, "value", code)
    if kind == "country":
        return (get_locale() or _english()).territories.get(code, code)
    names = vocabularies()[kind]
    return str(names[code]) if code in names else str(code)


@cache
def _english() -> Locale:
    return Locale("en")


@cache
def _plural_samples(locale: Locale) -> dict[str, int]:
    """One whole number of each CLDR plural category of the language (the first one)."""
    samples: dict[str, int] = {}
    for number in range(0, 1000):
        samples.setdefault(locale.plural_form(number), number)
    return samples


def plural_forms(singular: str, plural: str, **variables) -> dict[str, str]:
    """A counted text for a script, in every plural form of the reader's language, keyed by
    CLDR category ("one", "few", "other"...), which the browser picks with Intl.PluralRules;
    the number (`%(num)s` or `%(num)d`, so the msgids the templates use serve the scripts too)
    becomes `{n}`, which the script replaces. The language decides the forms, the catalogue the
    words: `plural_forms("%(num)s here now", "%(num)s here now")` -> {"one": "{n} presente ora", ...}."""
    translations = get_translations()
    return {category: (translations.ungettext(singular, plural, number) % {"num": _NUMBER, **variables})
            .replace(str(_NUMBER), "{n}")
            for category, number in _plural_samples(get_locale() or _english()).items()}


_NUMBER = 987654321  # stands for the number while a counted text is formatted (digits only)
