"""People's pages (/people/<handle or id>) and the people a composer may mention
(GET /people/mentionable, JSON for static/js/mentions.js). docs/mentions.md."""
from __future__ import annotations

import json

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forum.extensions import db, limiter
from forum.i18n import plural_forms
from forum.models import Consultation, Room
from forum.ratelimits import account_key, configured
from forum.services import people
from forum.services.errors import LoginRequired, NotFound, ServiceError, ValidationError
from forum.services.text import clean_text
from forum.web import post_url
from forum.web.requests import query_int

bp = Blueprint("people", __name__, url_prefix="/people")


@bp.get("/mentionable")
@limiter.limit(configured("RATELIMIT_MENTIONABLE_PER_ACCOUNT"), key_func=account_key)
def mentionable():
    """`?consultation=<id>&q=ann` or `?room=<id>&q=ann`: up to 8 people who may read that
    place, as JSON. A visitor gets 401; a place the asker may not read, 404; anything else
    malformed, 400 with what is wrong."""
    if not current_user.is_authenticated:
        return jsonify(error=_("Please log in to continue.")), 401
    try:
        place = _place()
        query = clean_text(request.args.get("q"), field="q", max_length=people.QUERY_MAX)
        found = people.mentionable(current_user, place, query)
    except ServiceError as error:
        return jsonify(error=str(error.message)), error.status_code
    return jsonify(people=[{
        "handle": person.handle, "name": person.display_name, "organisation": person.organisation,
        "url": url_for("people.show", key=person.handle),
    } for person in found])


def _place() -> Consultation | Room:
    consultation_id, room_id = query_int("consultation"), query_int("room")
    if (consultation_id is None) == (room_id is None):
        raise ValidationError(_("Name one place: “consultation” or “room”, with its number."))
    if "q" not in request.args:
        raise ValidationError(_("“q” (the letters typed after @) is missing."), field="q")
    if consultation_id is not None:
        place = db.session.get(Consultation, consultation_id)
    else:
        place = db.session.get(Room, room_id)
    if place is None:
        raise NotFound()  # as for one the asker may not read (people.mentionable decides)
    return place


@bp.get("/<key>")
def show(key: str):
    """A person's page, by handle or by id (mention links use the id: it survives a change
    of handle). Visitors are asked to log in (permissions.can_view_profile)."""
    if not current_user.is_authenticated:
        raise LoginRequired()
    person = people.find_person(current_user, key)
    return render_template("people/show.html", person=person, post_url=post_url,
                           contributions=people.recent_contributions(current_user, person))


def mention_attrs(place: Consultation | Room, **attrs) -> dict:
    """A composer's textarea attributes (with `attrs`) that let static/js/mentions.js offer
    the people of `place` after "@": where to ask, and its words in the reader's language."""
    if not current_user.is_authenticated:
        return attrs
    where = {"room": place.id} if isinstance(place, Room) else {"consultation": place.id}
    words = {
        "label": _("People to mention"),
        "count": plural_forms("%(num)d person to mention: up and down arrows to choose, Enter to insert.",
                              "%(num)d people to mention: up and down arrows to choose, Enter to insert."),
        "none": _("No one here matches."),
    }
    return {**attrs, "data-mentions": url_for("people.mentionable", **where), "data-mention-words": json.dumps(words)}
