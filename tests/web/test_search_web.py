"""The search page over HTTP: a GET form without JavaScript, the header's box, results with
their matches marked (and everything else escaped), pages, the filters' choices, and a clear
400 for every value a filter cannot take."""
from __future__ import annotations

from datetime import timedelta

import pytest

from forum.models.base import utcnow
from tests.factories import login
from tests.web.page import error_message, parse


def results(page) -> list:
    return page.find_all("li", class_="search-hit")


def test_the_header_has_a_search_box_that_sends_its_words_to_the_search_page(client):
    page = parse(client.get("/"))
    form = page.one("form", class_="header-search")

    assert (form.get("method"), form.get("action"), form.get("role")) == ("get", "/search", "search")
    box = form.one("input", name="q")
    assert page.one("label", **{"for": box.get("id")}).text() == "Words to find"


def test_results_link_to_what_they_found_with_the_words_marked(client, make_user, make_post):
    post = make_post(make_user(preferred_language="en", display_name="Ana"),
                     body="Affordable <childcare> matters: childcare's costs & hours.")
    response = client.get("/search", query_string={"q": "childcare"})

    assert response.status_code == 200
    page = parse(response)
    assert page.one(id="search-count").text() == "1 result for “childcare”"
    assert page.one(id="search-count").get("role") == "status"
    (hit,) = results(page)
    link = hit.one("h3").one("a")
    assert link.get("href") == f"/consultations/{post.consultation_id}/posts/{post.id}#post-{post.id}"
    assert link.text() == "Response by Ana"
    assert [mark.text() for mark in hit.find_all("mark")] == ["childcare", "childcare"]
    snippet = hit.one("p", class_="search-snippet")
    assert snippet.text() == "Affordable <childcare> matters: childcare's costs & hours."
    assert "<childcare>" not in response.get_data(as_text=True)  # escaped, never markup
    assert "&lt;<mark>childcare</mark>&gt;" in response.get_data(as_text=True)


def test_the_form_keeps_what_was_asked_and_works_without_javascript(client, make_post):
    post = make_post(body="Rents.")
    page = parse(client.get("/search", query_string={
        "q": "rents", "sort": "newest", "consultation": post.consultation_id, "endorsed": "1", "from": "2020-01-02"}))
    form = page.one("form", class_="search-form")

    assert (form.get("method"), form.get("action")) == ("get", "/search")
    assert page.control("q").value() == "rents"
    assert page.control("sort").value() == "newest"
    assert page.control("consultation").value() == str(post.consultation_id)
    assert page.control("from").value() == "2020-01-02"
    assert "checked" in page.one("input", name="endorsed").attrs
    for control in form.find_all("select") + form.find_all("input", type="date"):
        assert page.one("label", **{"for": control.get("id")}).text()
    assert page.find("script", type="module") is None
    assert page.one(id="search-count").text() == "0 results for “rents”"  # none endorsed


def test_no_words_no_filters_no_results(client):
    page = parse(client.get("/search"))
    assert page.find(id="search-count") is None
    assert page.control("q").value() == ""


def test_pages(client, make_post, make_consultation):
    consultation = make_consultation()
    for i in range(23):
        make_post(consultation=consultation, body=f"Tram line {i}.", created_at=utcnow() - timedelta(minutes=i))

    first = parse(client.get("/search", query_string={"q": "tram", "sort": "newest"}))
    second = parse(client.get("/search", query_string={"q": "tram", "sort": "newest", "page": 2}))

    assert len(results(first)) == 20 and len(results(second)) == 3
    assert first.one(id="search-count").text() == "23 results for “tram” · page 1 of 2"
    next_link = first.one("a", rel="next").get("href")
    assert next_link.startswith("/search?") and "q=tram" in next_link and "page=2" in next_link
    assert second.one("ol", class_="search-results").get("start") == "21"


def test_nothing_members_only_or_draft_is_shown_or_counted_or_offered(client, make_user, make_post,
                                                                      make_consultation):
    members = make_consultation(visibility="members", title="Members' consultation")
    draft = make_consultation(status="draft", title="Draft consultation")
    make_post(consultation=members, body="Secret zeppelin plans.")

    page = parse(client.get("/search", query_string={"q": "zeppelin"}))
    assert page.one(id="search-count").text() == "0 results for “zeppelin”"
    offered = page.control("consultation").text()
    assert "Members' consultation" not in offered and "Draft consultation" not in offered
    page = parse(client.get("/search", query_string={"q": "zeppelin", "consultation": members.id}))
    assert page.one(id="search-count").text() == "0 results for “zeppelin”"

    login(client, make_user())
    page = parse(client.get("/search", query_string={"q": "zeppelin"}))
    assert page.one(id="search-count").text() == "1 result for “zeppelin”"
    assert "Members' consultation" in page.control("consultation").text()
    assert "Draft consultation" not in page.control("consultation").text()
    assert draft.id


def test_the_author_filter_offers_the_people_found(client, make_user, make_post, make_consultation):
    consultation = make_consultation()
    ana, ben = make_user(display_name="Ana"), make_user(display_name="Ben")
    make_post(ana, consultation=consultation, body="Water prices.")
    make_post(ben, consultation=consultation, body="Bread prices.")
    make_user(display_name="Carla")

    page = parse(client.get("/search", query_string={"q": "water"}))
    assert [o.text() for o in page.control("author").find_all("option")] == ["Anyone", "Ana (Test Organisation)"]
    page = parse(client.get("/search", query_string={"q": "prices", "author": ben.id}))
    assert [o.text() for o in page.control("author").find_all("option")] == [
        "Anyone", "Ana (Test Organisation)", "Ben (Test Organisation)"]
    assert page.one(id="search-count").text() == "1 result for “prices”"


@pytest.mark.parametrize(("query", "message"), [
    ({"sort": "oldest"}, "Choose a sort order from the list."),
    ({"kind": "poll"}, "Choose a kind of result from the list."),
    ({"country": "XX"}, "Choose a country from the list."),
    ({"organisation_type": "club"}, "Choose an organisation type from the list."),
    ({"endorsed": "yes"}, "“endorsed” in this address must be 1 or absent."),
    ({"from": "2024-13-01"}, "“from” must be a date written as YYYY-MM-DD."),
    ({"to": "yesterday"}, "“to” must be a date written as YYYY-MM-DD."),
    ({"to": "9999-12-31"}, "“to” must be a date written as YYYY-MM-DD."),
    ({"from": "2024-05-02", "to": "2024-05-01"}, "The end of the date range comes before its start."),
    ({"consultation": "abc"}, "“consultation” in this address must be a whole number"),
    ({"q": "nul\x00byte"}, "This text contains invalid characters"),
    ({"q": "x" * 201}, "This text is too long: 201 characters, at most 200 are allowed."),
    ({"q": "a b c d e f g h i j k l m"}, "Search for at most 12 words at a time."),
], ids=["sort", "kind", "country", "organisation type", "endorsed", "month 13", "a word", "year 9999",
        "backwards", "consultation", "NUL", "too long", "too many words"])
def test_bad_values_answer_400_with_what_is_wrong(client, query, message):
    response = client.get("/search", query_string={"q": "housing", **query})

    assert response.status_code == 400
    assert message in error_message(parse(response))


def test_dates_are_days_in_the_readers_time_zone(client, make_post, make_user, db):
    post = make_post(body="Night buses.")
    post.created_at = utcnow().replace(year=2024, month=5, day=1, hour=22, minute=30, second=0, microsecond=0)
    db.session.flush()  # 00:30 on 2 May in Brussels (UTC+2)
    reader = make_user(timezone="Europe/Brussels")
    login(client, reader)

    def count(**dates):
        page = parse(client.get("/search", query_string={"q": "buses", **dates}))
        return page.one(id="search-count").text().split(" ")[0]

    assert count(**{"from": "2024-05-02", "to": "2024-05-02"}) == "1"
    assert count(to="2024-05-01") == "0"
    assert count(**{"from": "2024-05-03"}) == "0"
