"""GET /events/<id>/event.ics, "Add to calendar" on the event page: for whoever may see the
event (forum/ics.py, permissions.can_view_event)."""
from __future__ import annotations

from icalendar import Calendar

from tests.factories import login
from tests.web.page import parse


def test_anyone_who_sees_a_published_event_downloads_its_calendar_file(app, db, make_event):
    event = make_event(title="Rail, cities; and more")
    db.session.commit()
    client = app.test_client()  # signed out
    page = parse(client.get(f"/events/{event.id}"))
    (link,) = [a for a in page.find_all("a") if a.get("href") == f"/events/{event.id}/event.ics"]
    assert "Add to calendar" in link.text()
    response = client.get(f"/events/{event.id}/event.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="event-{event.id}.ics"'
    (vevent,) = Calendar.from_ical(response.data).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Rail, cities; and more"
    assert vevent.decoded("DTSTART") == event.starts_at.replace(microsecond=0)
    assert str(vevent["URL"]) == f"http://localhost/events/{event.id}"


def test_a_draft_events_calendar_file_is_not_found_for_outsiders(app, db, make_event, make_user):
    event = make_event(status="draft")
    outsider = make_user()
    db.session.commit()
    assert app.test_client().get(f"/events/{event.id}/event.ics").status_code == 404
    client = app.test_client()
    login(client, outsider)
    assert client.get(f"/events/{event.id}/event.ics").status_code == 404
    organiser = app.test_client()
    login(organiser, event.owner)
    assert organiser.get(f"/events/{event.id}/event.ics").status_code == 200


def test_bad_event_ids_are_not_found(app, db):
    client = app.test_client()
    for path in ("/events/999999/event.ics", "/events/0/event.ics", "/events/abc/event.ics",
                 "/events/99999999999999999999/event.ics"):
        assert client.get(path).status_code == 404, path
    assert client.post("/events/1/event.ics").status_code in (400, 405)
