"""The search page (/search), a GET form that works without JavaScript; the header's search
box sends its words here (docs/search.md)."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from forum.i18n import label
from forum.services import accounts
from forum.services import search as search_service
from forum.services.errors import ValidationError
from forum.web import post_url
from forum.web.requests import query_int

bp = Blueprint("search", __name__)


def _choice(name: str, allowed, message) -> str | None:
    value = request.args.get(name, "")
    if value == "":
        return None
    if value not in allowed:
        raise ValidationError(message, field=name)
    return value


def _day(name: str) -> date | None:
    """A date of the form's date fields (YYYY-MM-DD, as browsers send them)."""
    value = request.args.get(name, "")
    if value == "":
        return None
    try:
        day = date.fromisoformat(value) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value) else None
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 9000:
        raise ValidationError(_l("“%(name)s” must be a date written as YYYY-MM-DD.", name=name), field=name)
    return day


def _start_of(day: date) -> datetime:
    """Midnight of `day` in the reader's time zone."""
    return datetime.combine(day, time(), tzinfo=ZoneInfo(str(get_timezone())))  # Babel's is pytz


def read_filters() -> search_service.Filters:
    """The filters in the address; a value that cannot be one is a 400 that says why."""
    since, until = _day("from"), _day("to")
    if since is not None and until is not None and until < since:
        raise ValidationError(_l("The end of the date range comes before its start."), field="to")
    endorsed = _choice("endorsed", {"1"}, _l("“endorsed” in this address must be 1 or absent."))
    return search_service.Filters(
        consultation_id=query_int("consultation"), topic_id=query_int("topic"), event_id=query_int("event"),
        room_id=query_int("room"), author_id=query_int("author"),
        kind=_choice("kind", search_service.KINDS, _l("Choose a kind of result from the list.")),
        organisation_type=_choice("organisation_type", accounts.organisation_type_codes(),
                                  _l("Choose an organisation type from the list.")),
        country=_choice("country", accounts.country_codes(), _l("Choose a country from the list.")),
        since=_start_of(since) if since else None,
        until=_start_of(until + timedelta(days=1)) if until else None,
        endorsed=endorsed is not None,
    )


@bp.get("/search")
def search():
    query = search_service.read_query(request.args.get("q", ""))
    filters = read_filters()
    sort = _choice("sort", search_service.SORTS, _l("Choose a sort order from the list.")) or "relevance"
    page = query_int("page", 1)
    results = search_service.search(current_user, query, filters, sort=sort, page=page)
    return render_template(
        "search/results.html", results=results, filters=filters, sort=sort, q=query.text,
        consultations=search_service.consultation_choices(current_user),
        events=search_service.room_choices(current_user),
        authors=search_service.author_choices(current_user, query, filters),
        organisation_types=[(code, label("organisation_type", code)) for code in accounts.organisation_type_codes()],
        countries=[(code, label("country", code)) for code in accounts.country_codes()],
        kinds=[(kind, KIND_NAMES[kind]) for kind in search_service.KINDS],
        sorts=[(sort_name, SORT_NAMES[sort_name]) for sort_name in search_service.SORTS],
        since=request.args.get("from", ""), until=request.args.get("to", ""), result_url=result_url,
        kind_names=HIT_NAMES,
    )


KIND_NAMES = {
    "consultation": _l("Consultations"),
    "topic": _l("Topics"),
    "post": _l("Responses and replies"),
    "message": _l("Room messages"),
    "event": _l("Events"),
}
SORT_NAMES = {"relevance": _l("Relevance"), "newest": _l("Newest first"), "endorsed": _l("Most endorsed")}


def result_url(hit: search_service.Hit) -> str:
    """Where a result is read: the post in its thread or room, the topic in its consultation."""
    if hit.post is not None:
        return post_url(hit.post)
    if hit.kind == "topic":
        return url_for("consultations.show", consultation_id=hit.consultation.id, topic=hit.topic.id)
    if hit.kind == "consultation":
        return url_for("consultations.show", consultation_id=hit.consultation.id)
    return url_for("events.show", event_id=hit.event.id)
# What one result is, above its title.
HIT_NAMES = {
    "consultation": _l("Consultation"),
    "topic": _l("Topic"),
    "response": _l("Response"),
    "reply": _l("Reply"),
    "message": _l("Room message"),
    "event": _l("Event"),
}
