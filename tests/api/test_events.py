"""forum/api/events.py: the events a caller may see, one event with its rooms, its report-back."""
from __future__ import annotations

import pytest

from forum.models.events import EventStatus
from forum.services import rooms as room_service
from tests.api.scene import error, ok


def test_the_list_shows_published_events_to_visitors_and_drafts_to_their_organiser(client, make_event, bearer):
    published = make_event(title="Published one")
    draft = make_event(title="Draft one", status="draft")
    titles = {item["title"] for item in ok(client.get("/api/v1/events"))["items"]}
    assert published.title in titles and draft.title not in titles
    mine = ok(client.get("/api/v1/events", headers=bearer(draft.owner, "read")))
    assert draft.title in {item["title"] for item in mine["items"]}
    [card] = [item for item in mine["items"] if item["id"] == draft.id]
    assert card["status"] == "draft" and card["when"] == "live"


def test_the_list_pages_by_cursor(client, make_event):
    ids = {make_event().id for _ in range(5)}
    seen, cursor = [], None
    while True:
        page = ok(client.get("/api/v1/events", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})}))
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert set(seen) == ids and len(seen) == len(ids)


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "cursor=abc", "cursor=-1"])
def test_the_list_refuses_bad_arguments(client, query):
    error(client.get(f"/api/v1/events?{query}"), 400, "invalid")


def test_an_event_shows_its_agenda_and_every_room_with_whether_the_caller_may_read_it(live):
    event = ok(live.call("amina", "GET", f"/events/{live.event.id}"))
    assert event["title"] == live.event.title and event["status"] == "published"
    assert [room["id"] for room in event["rooms"]] == [r.id for r in live.event.rooms]
    readable = {room["id"]: room["readable"] for room in event["rooms"]}
    assert readable == {live.plenary.id: True, live.room1.id: True, live.room2.id: False}
    room1 = next(room for room in event["rooms"] if room["id"] == live.room1.id)
    assert room1["phase"] == "open" and room1["moderator_names"] == [live.mo.display_name]
    assert room1["participants"] == 1 and event["rooms"][0]["participants"] == 2
    assert event["viewer"] == {"registered_as": "participant", "own_room_id": live.room1.id, "organiser": False}

    # A visitor sees the page too (as the event's page), and reads no room.
    seen = ok(live.call("visitor", "GET", f"/events/{live.event.id}"))
    assert not any(room["readable"] for room in seen["rooms"])
    assert seen["viewer"] == {"registered_as": None, "own_room_id": None, "organiser": False}


@pytest.mark.parametrize("who", ["visitor", "xavier", "amina"])
def test_a_draft_event_is_not_found_but_by_its_organisers(live, db, who):
    live.event.status = EventStatus.DRAFT
    db.session.commit()
    error(live.call(who, "GET", f"/events/{live.event.id}"), 404, "not_found")
    assert ok(live.call("organiser", "GET", f"/events/{live.event.id}"))["status"] == "draft"
    error(live.call(who, "GET", "/events/99999999"), 404, "not_found")


def test_the_report_back_lists_closed_rooms_takeaways_to_the_plenarys_readers(live, db):
    room_service.add_takeaway(live.mo, live.room1, "Recognise skills earlier")
    db.session.commit()
    assert ok(live.call("amina", "GET", f"/events/{live.event.id}/takeaways")) == {"items": []}
    room_service.set_phase(live.mo, live.room1, "closed")
    db.session.commit()

    for who in ("amina", "bruno", "olga", "organiser"):
        [card] = ok(live.call(who, "GET", f"/events/{live.event.id}/takeaways"))["items"]
        assert card["room_id"] == live.room1.id and card["moderators"] == [live.mo.display_name]
        assert [t["body_html"] for t in card["takeaways"]] == ["<p>Recognise skills earlier</p>\n"]
    error(live.call("visitor", "GET", f"/events/{live.event.id}/takeaways"), 401, "unauthorized")
    error(live.call("xavier", "GET", f"/events/{live.event.id}/takeaways"), 403, "forbidden")


def resolve(document: dict, item: dict) -> dict:
    """A response of the document, its $ref (to components/responses) followed."""
    if "$ref" in item:
        _, _, section, name = item["$ref"].split("/")
        return document["components"][section][name]
    return item


def test_the_document_describes_every_operation_of_the_events_areas_and_its_refusals(client):
    document = ok(client.get("/api/v1/openapi.json"))
    operations = {(method.upper(), path): operation for path, item in document["paths"].items()
                  for method, operation in item.items() if method in ("get", "post", "put", "patch", "delete")
                  and path.startswith(("/api/v1/events", "/api/v1/rooms", "/api/v1/polls"))}
    assert len(operations) == 32
    assert {tag for operation in operations.values() for tag in operation["tags"]} \
        == {"events", "rooms", "messages", "polls", "questions"}
    for (method, path), operation in operations.items():
        refusals = {status for status in operation["responses"] if status.startswith("4")}
        assert "404" in refusals or path == "/api/v1/events", (method, path)
        if method != "GET":
            assert {"401", "403"} <= refusals, (method, path)
        responses = {status: resolve(document, operation["responses"][status]) for status in refusals}
        for status in refusals:
            assert responses[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        if "429" in refusals:
            assert "Retry-After" in responses["429"]["headers"]
