"""The consultation page issues a fixed number of SQL queries, whatever it shows."""
from __future__ import annotations

from forum.services import posts as post_service
from tests.factories import login
from tests.web.page import parse, post_ids


def fill(consultation, threads: int, make_user, make_post) -> int:
    """`threads` responses, each with a reply, a reply to that reply and an endorsement, by
    different people (so that nothing is shared through the session's identity map)."""
    shown = 0
    for _ in range(threads):
        response = make_post(consultation=consultation, topic=consultation.topics[shown % 2])
        reply = make_post(parent=response)
        make_post(parent=reply)
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
    login(client, reader)

    few = queries_for_page(client, count_queries, f"/consultations/{small.id}", small_posts + 1)
    many = queries_for_page(client, count_queries, f"/consultations/{large.id}", large_posts + 1)

    assert many == few
    assert few <= 12  # user, consultation, topics, hosts, stream seq, count, page, replies, endorsed, topic counts, tags,
    #                 topics the reader moderates


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
