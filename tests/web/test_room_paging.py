"""A room's page serves its newest messages (ROOM_PAGE_SIZE, 50), grouped by author; "Load
earlier" fetches the page before as list items (rooms.earlier), refusing a bad `before`."""
from __future__ import annotations

import pytest

from forum.services import moderation, posts
from tests.factories import login
from tests.web.page import parse


def path(room, suffix: str = "") -> str:
    return f"/events/{room.event_id}/rooms/{room.id}{suffix}"


@pytest.fixture
def busy_room(db, make_event):
    """A room with 120 messages: runs of two by the first participant, one by the second."""
    event = make_event(rooms=1, moderators=1, participants=2)
    room = event.breakout_rooms[0]
    first, second = event.test_participants
    made = [posts.post_in_room((first, first, second)[n % 3], room, body=f"Message number {n}.") for n in range(120)]
    db.session.commit()
    return event, room, first, made


def ids_of(page) -> list[int]:
    return [int(li.get("id").removeprefix("post-")) for li in page.find_all("li", class_="message")]


def test_the_page_holds_the_newest_50_and_a_link_to_the_earlier(client, busy_room):
    event, room, reader, made = busy_room
    login(client, reader)
    page = parse(client.get(path(room)))
    listed = page.one("ol", data_message_list=True)
    assert ids_of(listed) == [m.id for m in made[70:]]
    link = page.one("a", data_load_earlier=True)
    assert link.get("href").endswith(f"?before={made[70].id}")
    assert link.get("data-before") == str(made[70].id)
    # Without JavaScript the link is the page of the 50 before, with its own link further back.
    older = parse(client.get(link.get("href")))
    assert ids_of(older.one("ol", data_message_list=True)) == [m.id for m in made[20:70]]
    assert older.one("a", data_load_earlier=True).get("data-before") == str(made[20].id)


def test_consecutive_messages_of_one_author_are_grouped_and_keep_their_name(client, busy_room):
    event, room, reader, made = busy_room
    login(client, reader)
    items = parse(client.get(path(room))).one("ol", data_message_list=True).find_all("li", class_="message")
    grouped = ["message-grouped" in (li.get("class") or "") for li in items]
    authors = [li.get("data-author") for li in items]
    # A message is grouped exactly when the one before it is by the same person.
    assert grouped == [n > 0 and authors[n - 1] == authors[n] for n in range(len(items))]
    assert any(grouped) and not all(grouped)
    for li in items:  # the author's name stays in the message (it names the article)
        assert li.one("strong", class_="message-author").text()


def test_load_earlier_returns_the_page_before_as_list_items(client, busy_room):
    event, room, reader, made = busy_room
    login(client, reader)
    response = client.get(path(room, f"/messages/earlier?before={made[70].id}"))
    assert response.status_code == 200
    fragment = parse(response).one("ol", data_earlier=True)
    assert ids_of(fragment) == [m.id for m in made[20:70]]
    assert fragment.get("data-before") == str(made[20].id)
    last = parse(client.get(path(room, f"/messages/earlier?before={made[20].id}"))).one("ol", data_earlier=True)
    assert ids_of(last) == [m.id for m in made[:20]]
    assert last.get("data-before") is None


@pytest.mark.parametrize("query", ["", "?before=", "?before=abc", "?before=-3", "?before=1.5",
                                   "?before=9223372036854775808"])
def test_load_earlier_refuses_a_bad_before(client, busy_room, query):
    event, room, reader, made = busy_room
    login(client, reader)
    response = client.get(path(room, f"/messages/earlier{query}"))
    assert 400 <= response.status_code < 500


def test_load_earlier_is_for_readers_of_the_room(client, busy_room, make_user):
    event, room, reader, made = busy_room
    login(client, make_user())  # not a member of this event's room
    assert client.get(path(room, f"/messages/earlier?before={made[70].id}")).status_code in (403, 404)


def test_a_pinned_message_shows_once_in_the_bar_and_as_a_marker_in_the_discussion(client, busy_room, db):
    event, room, reader, made = busy_room
    moderator = event.test_moderators[room.position][0]
    moderation.pin_post(moderator, made[-1])
    db.session.commit()
    login(client, reader)
    page = parse(client.get(path(room)))
    bar = page.one("details", data_pinned=True)
    assert [li.get("id") for li in bar.find_all("li", class_="message")] == [f"pinned-{made[-1].id}"]
    marker = page.one("ol", data_message_list=True).one("a", class_="pinned-marker")
    assert marker.get("href") == f"#pinned-{made[-1].id}"
