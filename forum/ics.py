"""An event as an iCalendar file (RFC 5545): the "Add to calendar" download of the event
page and the attachment of the registration confirmation. docs/notifications.md.

Written with the `icalendar` package, which folds long lines at 75 octets and escapes
commas, semicolons, backslashes and line breaks in text as RFC 5545 asks. One VEVENT:

- UID `event-<id>@<host of PUBLIC_URL>`: the same for every download and mail of the
  event, so a calendar that imports it again (after the time moved) updates its entry
  instead of adding a second one (no SEQUENCE: without a stored revision number it could
  not be made to only grow, and a smaller one would be ignored);
- DTSTART / DTEND in UTC (`...Z`): no VTIMEZONE needed, every calendar shows local time;
- SUMMARY the title, DESCRIPTION the start of the description and the event's address,
  URL the event's address (its page leads to each person's room).
"""
from __future__ import annotations

from datetime import timezone

from flask import url_for
from flask_babel import gettext as _
from icalendar import Calendar
from icalendar import Event as VEvent

from forum import mail
from forum.models import Event
from forum.models.base import utcnow

CONTENT_TYPE = "text/calendar; charset=utf-8"
DESCRIPTION_LENGTH = 600


def uid(event: Event) -> str:
    host = mail.public_host()
    return f"event-{event.id}@{host}"


def event_url(event: Event) -> str:
    with mail.site_context():
        return url_for("events.show", event_id=event.id, _external=True)


def filename(event: Event) -> str:
    return f"event-{event.id}.ics"


def calendar(event: Event) -> bytes:
    """The event as a calendar file (METHOD:PUBLISH: an entry to add, not an invitation to
    answer). Text in the current locale (the one sentence it adds)."""
    from forum.services.notifications import excerpt

    link = event_url(event)
    cal = Calendar()
    cal.add("prodid", "-//Plenary//Events//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    entry = VEvent()
    entry.add("uid", uid(event))
    entry.add("dtstamp", utcnow().astimezone(timezone.utc).replace(microsecond=0))
    entry.add("dtstart", event.starts_at.astimezone(timezone.utc).replace(microsecond=0))
    entry.add("dtend", event.ends_at.astimezone(timezone.utc).replace(microsecond=0))
    entry.add("summary", event.title)
    about = excerpt(event.description, DESCRIPTION_LENGTH)
    joining = _("Join the event: %(url)s", url=link)
    entry.add("description", f"{about}\n\n{joining}" if about else joining)
    entry.add("location", link)
    entry.add("url", link)
    entry.add("status", "CONFIRMED")
    cal.add_component(entry)
    return cal.to_ical()

