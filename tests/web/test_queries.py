"""The consultation page issues a fixed number of SQL queries, whatever it shows."""
from __future__ import annotations

import difflib
import re

from forum.services import posts as post_service
from tests.factories import login
from tests.web.page import parse, post_ids


def fill(consultation, threads: int, make_user, make_post) -> int:
    """`threads` responses, each with a reply, a quoting reply to that reply and an endorsement, by
    different people (so that nothing is shared through the session's identity map)."""
    shown = 0
    for _ in range(threads):
        response = make_post(consultation=consultation, topic=consultation.topics[shown % 2])
        reply = make_post(parent=response)
        # A reply that quotes: the quote is rendered from the post it replies to, already read.
        post_service.create_post(make_user(), consultation, parent=reply, body="Quoting.", quote=True)
        post_service.endorse(make_user(), reply)
        shown += 3
    return shown


def queries_for_page(client, count_queries, url: str, expected_posts: int) -> int:
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    assert len(post_ids(parse(response))) == expected_posts
    return len(statements)


def test_the_consultation_page_needs_as_many_queries_for_15_threads_as_for_3(
        client, make_user, make_consultation, make_post, count_queries):
    small, large = make_consultation(topics=2), make_consultation(topics=2)
    small_posts = fill(small, 3, make_user, make_post)
    large_posts = fill(large, 15, make_user, make_post)
    reader = make_user()  # who has endorsed something on each page
    post_service.endorse(reader, make_post(consultation=small))
    post_service.endorse(reader, make_post(consultation=large))
    # Polls, one of them voted in: their cards ask nothing more per poll.
    from forum.services import polls as poll_service
    for consultation, how_many in ((small, 1), (large, 4)):
        for _ in range(how_many):
            poll = poll_service.create_poll(consultation.owner, consultation, {
                "kind": "single", "question": "Which?", "results_shown": "live",
                "topic_id": consultation.topics[1].id}, ["One", "Two"])
            poll_service.open_poll(consultation.owner, poll)
        poll_service.cast_vote(reader, poll, [poll.options[0].id])
    login(client, reader)

    few = queries_for_page(client, count_queries, f"/consultations/{small.id}", small_posts + 1)
    many = queries_for_page(client, count_queries, f"/consultations/{large.id}", large_posts + 1)

    assert many == few
    # user, consultation, topics, hosts, stream seq, count, page, replies, endorsed, topic counts,
    # tags, topics the reader moderates, polls, the reader's votes in them, the statements board,
    # the header's unread notifications, what the reader follows here (the follow buttons)
    assert few <= 17


def test_a_topic_filter_costs_no_query_more_with_polls_of_every_topic(
        client, make_user, make_consultation, make_post, count_queries):
    from forum.services import polls as poll_service

    consultation = make_consultation(topics=2)
    fill(consultation, 4, make_user, make_post)
    for topic_id in (None, consultation.topics[0].id, consultation.topics[1].id):
        poll = poll_service.create_poll(consultation.owner, consultation, {
            "kind": "single", "question": f"Which for {topic_id}?", "topic_id": topic_id}, ["One", "Two"])
        poll_service.open_poll(consultation.owner, poll)
    login(client, make_user())
    with count_queries() as everything:
        whole = client.get(f"/consultations/{consultation.id}")
    with count_queries() as one_topic:
        filtered = client.get(f"/consultations/{consultation.id}?topic={consultation.topics[1].id}")
    cards = [len(parse(page).by_id("polls").find_all("li", class_="poll-card")) for page in (whole, filtered)]
    assert cards == [3, 2]
    assert len(one_topic) <= len(everything), "\n".join(
        difflib.unified_diff(shapes(everything), shapes(one_topic), lineterm=""))


def test_a_thread_page_needs_as_many_queries_for_30_replies_as_for_2(
        client, make_user, make_post, count_queries):
    short, long = make_post(), make_post()
    for _ in range(2):
        make_post(parent=short)
    parent = long
    for _ in range(30):  # a chain of replies to replies, each by someone new
        parent = make_post(parent=parent)
    login(client, make_user())

    few = queries_for_page(client, count_queries, f"/consultations/{short.consultation_id}/posts/{short.id}", 3)
    many = queries_for_page(client, count_queries, f"/consultations/{long.consultation_id}/posts/{long.id}", 31)

    assert many == few



def shapes(statements) -> list[str]:
    """Statements without their numbers and conditions, to show which one differs."""
    return [re.sub(r"\d+", "N", q.split("WHERE")[0][:150]) for q in statements]


def messages_on_page(response) -> int:
    return len(parse(response).find_all("li", class_="message"))


def test_a_room_page_needs_as_many_queries_for_60_messages_as_for_6(client, db, make_user, make_event,
                                                                    count_queries):
    """For an organiser (every moderator's panel) and for an observer (a reader's view)."""
    from forum.models import EventMember
    from forum.models.events import MemberRole
    from forum.services import posts as room_posts

    event = make_event(rooms=2, moderators=2, participants=6)
    quiet, busy = event.breakout_rooms
    observer = make_user()
    db.session.add(EventMember(event_id=event.id, user_id=observer.id, role=MemberRole.OBSERVER))
    in_quiet = [p for i, p in enumerate(event.test_participants) if i % 2 == 0]
    in_busy = [p for i, p in enumerate(event.test_participants) if i % 2 == 1]
    for i in range(6):
        room_posts.post_in_room(in_quiet[i % 3], quiet, body=f"Quiet room message {i}")
    for i in range(60):
        author = in_busy[i % 3] if i % 4 else event.test_moderators[2][i % 2]
        room_posts.post_in_room(author, busy, body=f"Busy room message {i}")
    db.session.commit()
    for viewer in (event.owner, observer):
        login(client, viewer)
        # The first visit of a running room records attendance (one write, once): the pages
        # compared are those of someone who already came.
        for room in (quiet, busy):
            client.get(f"/events/{event.id}/rooms/{room.id}")
        with count_queries() as few:
            quiet_page = client.get(f"/events/{event.id}/rooms/{quiet.id}")
        with count_queries() as many:
            busy_page = client.get(f"/events/{event.id}/rooms/{busy.id}")
        client.post("/logout")
        # The busy room's page holds its newest ROOM_PAGE_SIZE (50) of the 60.
        assert (messages_on_page(quiet_page), messages_on_page(busy_page)) == (6, 50)
        assert len(many) == len(few), "\n".join(difflib.unified_diff(shapes(few), shapes(many), lineterm=""))


def test_the_search_page_needs_as_many_queries_with_12_events_as_with_2(client, make_user, make_event,
                                                                       make_consultation, make_post, count_queries):
    """The room filter's choices list every event the reader may see with its rooms: one
    query for all the rooms, not one per event."""
    login(client, make_user("admin"))

    def search() -> list[str]:
        with count_queries() as statements:
            response = client.get("/search", query_string={"q": "zebra"})
        assert response.status_code == 200
        return statements

    for _ in range(2):
        make_event()
        make_post(consultation=make_consultation(), body="A zebra crossing.")
    few = search()
    for _ in range(10):
        make_event()
        make_post(consultation=make_consultation(), body="A zebra crossing.")
    many = search()
    assert len(many) == len(few), "\n".join(difflib.unified_diff(shapes(few), shapes(many), lineterm=""))


def test_the_notifications_page_needs_as_many_queries_for_20_notices_as_for_5(
        client, db, make_user, make_post, make_event, make_consultation, count_queries):
    """Each notice is described (and its target's permissions asked) from what the page
    loads once per kind of thing: no query per notice, whatever it is about."""
    from forum.models import Notification, NotificationKind
    from forum.services import posts as room_posts

    me = make_user()
    kinds = NotificationKind

    def notify(rounds: int) -> None:
        for _ in range(rounds):
            consultation = make_consultation()
            response = make_post(consultation=consultation, body=f"Hello @{me.handle}")
            reply = make_post(parent=response)
            event = make_event(rooms=1, moderators=1, participants=1)
            room = event.breakout_rooms[0]
            message = room_posts.post_in_room(event.test_participants[0], room, body="In the room")
            db.session.add_all([
                Notification(user_id=me.id, kind=kinds.MENTION, post_id=response.id, actor_id=response.author_id,
                             consultation_id=consultation.id, topic_id=response.topic_id),
                Notification(user_id=me.id, kind=kinds.REPLY, post_id=reply.id, actor_id=reply.author_id,
                             consultation_id=consultation.id),
                Notification(user_id=me.id, kind=kinds.NEW_TOPIC, topic_id=consultation.topics[0].id,
                             consultation_id=consultation.id),
                Notification(user_id=me.id, kind=kinds.PLACEMENT, event_id=event.id, room_id=room.id),
                Notification(user_id=me.id, kind=kinds.ENDORSEMENT, post_id=message.id, room_id=room.id,
                             actor_id=message.author_id),
            ])
            db.session.add(EventMember(event_id=event.id, user_id=me.id, role=MemberRole.OBSERVER))
        db.session.commit()

    from forum.models import EventMember
    from forum.models.events import MemberRole

    login(client, me)
    notify(1)
    with count_queries() as few:
        assert client.get("/notifications").status_code == 200
    notify(3)
    with count_queries() as many:
        response = client.get("/notifications")
    assert response.status_code == 200
    assert len(parse(response).find_all("li", class_="notification")) == 20
    assert len(many) == len(few), "\n".join(difflib.unified_diff(shapes(few), shapes(many), lineterm=""))


def test_the_following_page_needs_as_many_queries_for_12_follows_as_for_3(
        client, db, make_user, make_post, make_consultation, count_queries):
    """What one follows is loaded a kind at a time: no query per consultation, Topic or
    thread listed."""
    from forum.services import notifications

    me = make_user()

    def follow(rounds: int) -> None:
        for _ in range(rounds):
            consultation = make_consultation()
            response = make_post(consultation=consultation)
            for target in (consultation, consultation.topics[0], response):
                notifications.follow(me, target)
        db.session.commit()

    login(client, me)
    follow(1)
    with count_queries() as few:
        assert client.get("/notifications/following").status_code == 200
    follow(3)
    with count_queries() as many:
        response = client.get("/notifications/following")
    assert response.status_code == 200
    assert len(parse(response).one("main").find_all("li")) >= 12
    assert len(many) == len(few), "\n".join(difflib.unified_diff(shapes(few), shapes(many), lineterm=""))
