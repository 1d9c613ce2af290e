"""Reading: the home page's list and filters, and what a consultation page shows."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from forum.models.base import utcnow
from forum.services import posts as post_service
from tests.factories import login
from tests.web.page import parse, post_article, post_ids, response_ids


def card_titles(page) -> list[str]:
    return [li.one("h2").text() for li in page.find_all("li", class_="consultation-card")]


# --- home page ----------------------------------------------------------------------

def test_home_lists_visible_consultations_newest_first(client, make_consultation):
    make_consultation(title="Older question")
    newer = make_consultation(title="Newer question", status="closed")
    make_consultation(title="A draft", status="draft")
    make_consultation(title="Members only question", visibility="members")

    page = parse(client.get("/"))

    assert card_titles(page) == ["Newer question", "Older question"]
    assert page.one("p", class_="result-count").text() == "2 consultations"
    link = page.find("a", href=f"/consultations/{newer.id}")
    assert link is not None and link.text() == "Newer question"


def test_home_shows_members_only_consultations_to_members_and_own_drafts_to_their_organiser(
        client, make_user, make_consultation):
    draft = make_consultation(title="My draft", status="draft")
    make_consultation(title="Members only question", visibility="members")
    make_consultation(title="Someone else's draft", status="draft")

    login(client, draft.owner)

    assert sorted(card_titles(parse(client.get("/")))) == ["Members only question", "My draft"]


def test_home_filters_by_tag_and_by_open_or_closed(client, make_consultation):
    make_consultation(title="Housing, open", tags="#Housing")
    make_consultation(title="Housing, closed", tags="#Housing #Work", status="closed")
    make_consultation(title="Work, open", tags="#Work")
    make_consultation(title="Past its closing time", closes_at=utcnow() - timedelta(hours=1))

    def titles(**query):
        return sorted(card_titles(parse(client.get("/", query_string=query))))

    assert titles(tag="housing") == ["Housing, closed", "Housing, open"]
    assert titles(tag="#Housing") == ["Housing, closed", "Housing, open"]
    assert titles(tag="work", phase="open") == ["Work, open"]
    assert titles(phase="closed") == ["Housing, closed", "Past its closing time"]
    assert titles(phase="open") == ["Housing, open", "Work, open"]
    assert titles(tag="nothing") == []

    page = parse(client.get("/", query_string={"tag": "housing"}))
    assert page.control("tag").value() == "housing"
    assert [o.get("value") for o in page.control("tag").find_all("option")] == ["", "housing", "work"]
    assert "No consultations match these filters." not in page.text()
    assert "No consultations match these filters." in parse(client.get("/?tag=nothing")).text()


def test_a_tag_on_a_card_links_to_the_filtered_list(client, make_consultation):
    make_consultation(tags="#Housing")
    page = parse(client.get("/"))
    tag = page.one("a", class_="tag")
    assert tag.text() == "#Housing"
    assert tag.get("href") == "/?tag=housing"


# --- a consultation page ------------------------------------------------------------

def test_the_page_shows_brief_hosts_topics_questions_and_responses(client, make_user, make_consultation,
                                                                   make_post):
    from forum.services import consultations as service

    host = make_user(display_name="Mariam Host")
    consultation = make_consultation(title="How should cities welcome newcomers?",
                                     brief="Read **this** first.\n\nThen answer.", hosts=[host, "Dr. Plain Name"])
    service.update_topic(consultation.owner, consultation.topics[0], service.TopicInput(
        title="Housing", description="Where people live.", guiding_questions=["What works?", "What fails?"]))
    service.add_topic(consultation.owner, consultation,
                      service.TopicInput(title="Work", guiding_questions=["Who hires?"]))
    response = make_post(consultation=consultation, topic=consultation.topics[1], subject="On work",
                         body="Employers *should* help.")
    reply = make_post(parent=response, body="I agree.", author=host)

    page = parse(client.get(f"/consultations/{consultation.id}"))

    assert page.one("h1").text() == "How should cities welcome newcomers?"
    brief = page.one("section", class_="brief")
    assert brief.one("strong").text() == "this"
    assert [li.one("strong").text() for li in page.one("ul", class_="host-list").find_all("li")] == [
        "Mariam Host", "Dr. Plain Name"]

    topics = page.one("ol", class_="topic-list").find_all("li", class_="topic")
    assert [t.one("h3").text() for t in topics] == ["Topic 1 Housing", "Topic 2 Work"]
    assert [[q.text() for q in t.find_all("li")] for t in topics] == [["What works?", "What fails?"], ["Who hires?"]]
    assert "Where people live." in topics[0].text()
    assert topics[1].find("a").text() == "1 response"

    assert post_ids(page) == [response.id, reply.id]
    article = post_article(page, response.id)
    assert article.one(class_="topic-chip").text() == "Topic 2: Work"
    assert article.one(class_="post-subject").text() == "On work"
    assert article.one("div", class_="post-body").one("em").text() == "should"
    reply_article = post_article(page, reply.id)
    assert reply_article.one(class_="badge").text() == "Host"  # the linked host is marked
    assert reply_article.find(class_="topic-chip") is None  # replies carry no chip of their own


def test_times_are_time_elements_with_a_machine_readable_utc_value(client, db, make_post):
    post = make_post()
    post.consultation.closes_at = utcnow().replace(microsecond=0) + timedelta(days=3)
    db.session.flush()

    page = parse(client.get(f"/consultations/{post.consultation_id}"))

    times = [t.get("datetime") for t in page.find_all("time")]
    assert post.created_at.isoformat(timespec="seconds") in times
    assert post.consultation.closes_at.isoformat(timespec="seconds") in times
    assert all(t.endswith("+00:00") for t in times)
    assert all(t.text() for t in page.find_all("time"))


def test_times_are_shown_in_the_readers_time_zone(client, make_user, make_consultation):
    from datetime import datetime, timezone
    consultation = make_consultation(closes_at=datetime(2030, 7, 1, 10, 0, tzinfo=timezone.utc))
    reader = make_user(timezone="Asia/Tokyo")

    anonymous = parse(client.get(f"/consultations/{consultation.id}")).one("time", datetime="2030-07-01T10:00:00+00:00")
    login(client, reader)
    tokyo = parse(client.get(f"/consultations/{consultation.id}")).one("time", datetime="2030-07-01T10:00:00+00:00")

    assert anonymous.text() == "Jul 1, 2030, 12:00 PM"  # Europe/Brussels, summer time
    assert tokyo.text() == "Jul 1, 2030, 7:00 PM"


@pytest.fixture
def four_responses(make_user, make_consultation, make_post, db):
    """Responses a (oldest) .. d (newest) on two topics, with 0, 2, 1, 0 endorsements."""
    consultation = make_consultation(topics=2)
    now = utcnow()
    first, second = consultation.topics
    a = make_post(consultation=consultation, topic=first, created_at=now - timedelta(hours=4))
    b = make_post(consultation=consultation, topic=second, created_at=now - timedelta(hours=3))
    c = make_post(consultation=consultation, topic=first, created_at=now - timedelta(hours=2))
    d = make_post(consultation=consultation, topic=second, created_at=now - timedelta(hours=1))
    for post, endorsers in ((b, 2), (c, 1)):
        for _ in range(endorsers):
            post_service.endorse(make_user(), post)
    return consultation, a, b, c, d


@pytest.mark.parametrize(("query", "expected"), [
    ({}, "dcba"),
    ({"sort": "newest"}, "dcba"),
    ({"sort": "oldest"}, "abcd"),
    ({"sort": "endorsed"}, "bcda"),
    ({"sort": "bogus"}, "dcba"),
    ({"topic": "first"}, "ca"),
    ({"topic": "second", "sort": "oldest"}, "bd"),
    ({"topic": "second", "sort": "endorsed"}, "bd"),
    ({"topic": "999999"}, "dcba"),
])
def test_topic_filter_and_sorts_order_the_responses(client, four_responses, query, expected):
    consultation, *posts = four_responses
    by_letter = dict(zip("abcd", posts, strict=True))
    topics = {"first": consultation.topics[0].id, "second": consultation.topics[1].id}
    query = {k: topics.get(v, v) for k, v in query.items()}

    page = parse(client.get(f"/consultations/{consultation.id}", query_string=query))

    assert response_ids(page) == [by_letter[letter].id for letter in expected]
    assert page.one("p", class_="result-count").text() == f"{len(expected)} responses"
    sort = query.get("sort")
    assert page.control("sort").value() == (sort if sort in {"oldest", "endorsed"} else "newest")


def test_a_topic_filter_preselects_the_topic_in_the_response_form(client, make_user, four_responses):
    consultation, *_ = four_responses
    login(client, make_user())
    second = consultation.topics[1].id

    page = parse(client.get(f"/consultations/{consultation.id}", query_string={"topic": second}))

    assert page.control("topic").value() == str(second)
    assert page.control("topic_id").value() == str(second)


def test_responses_are_paginated(app, client, make_consultation, make_post):
    app.config["RESPONSES_PER_PAGE"] = 2
    consultation = make_consultation()
    now = utcnow()
    posts = [make_post(consultation=consultation, created_at=now - timedelta(minutes=10 - i)) for i in range(5)]
    newest_first = [p.id for p in reversed(posts)]
    url = f"/consultations/{consultation.id}"

    pages = [parse(client.get(url, query_string={"page": n})) for n in (1, 2, 3)]

    assert [response_ids(p) for p in pages] == [newest_first[0:2], newest_first[2:4], newest_first[4:]]
    nav = pages[0].one("nav", class_="pagination")
    assert nav.one("span", aria_current="page").text() == "1"
    next_link = urlsplit(nav.one("a", rel="next").get("href"))
    assert (next_link.path, parse_qs(next_link.query)) == (url, {"page": ["2"]})
    assert pages[2].find("a", rel="next") is None
    assert pages[2].one("a", rel="prev") is not None
    # Past the end shows the last page; what is not a page number is refused (test_bad_input.py).
    assert response_ids(parse(client.get(url, query_string={"page": 999}))) == newest_first[4:]
    assert client.get(url, query_string={"page": "abc"}).status_code == 400


def test_pagination_keeps_the_filter_and_sort(app, client, four_responses):
    app.config["RESPONSES_PER_PAGE"] = 1
    consultation, a, b, c, d = four_responses
    first = consultation.topics[0].id

    page = parse(client.get(f"/consultations/{consultation.id}", query_string={"topic": first, "sort": "oldest"}))

    next_link = urlsplit(page.one("a", rel="next").get("href"))
    assert parse_qs(next_link.query) == {"topic": [str(first)], "sort": ["oldest"], "page": ["2"]}
    assert response_ids(page) == [a.id]
    assert response_ids(parse(client.get(page.one("a", rel="next").get("href")))) == [c.id]


# --- who may read what --------------------------------------------------------------

def test_members_only_asks_visitors_to_log_in_and_is_shown_to_participants(client, make_user, make_consultation,
                                                                        make_post):
    consultation = make_consultation(visibility="members")
    post = make_post(consultation=consultation)

    # A visitor is asked to log in, and comes back to the page after.
    for url in (f"/consultations/{consultation.id}", f"/consultations/{consultation.id}/posts/{post.id}",
                f"/consultations/{consultation.id}/posts/{post.id}/history"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == f"/login?next={url}", url
    # ... without learning anything of it before.
    assert consultation.title not in client.get(f"/consultations/{consultation.id}", follow_redirects=True).get_data(
        as_text=True)

    user = make_user()
    response = client.post(f"/login?next=/consultations/{consultation.id}",
                           data={"email": user.email, "password": user.test_password})
    assert response.headers["Location"] == f"/consultations/{consultation.id}"
    response = client.get(f"/consultations/{consultation.id}")
    assert response.status_code == 200
    assert post_ids(parse(response)) == [post.id]


@pytest.mark.parametrize(("reader", "status"), [
    ("anonymous", 404), ("participant", 404), ("other organiser", 404),
    ("owner", 200), ("linked host", 200), ("admin", 200),
])
def test_a_draft_is_seen_by_its_owner_hosts_and_admins_only(client, make_user, make_consultation, reader, status):
    host = make_user()
    draft = make_consultation(status="draft", hosts=[host], title="Secret draft")
    users = {"participant": make_user(), "other organiser": make_user("organiser"), "owner": draft.owner,
             "linked host": host, "admin": make_user("admin")}
    if reader != "anonymous":
        login(client, users[reader])

    response = client.get(f"/consultations/{draft.id}")

    assert response.status_code == status
    if status == 200:
        page = parse(response)
        assert page.one("h1").text() == "Secret draft"
        assert page.one("span", class_="badge-draft").text() == "Draft"
    else:
        assert "Secret draft" not in response.get_data(as_text=True)


def test_a_deleted_response_keeps_its_place_and_its_replies(client, make_user, make_post):
    response = make_post(body="Withdrawn words")
    reply = make_post(parent=response, body="Still here")
    post_service.delete_post(response.author, response)

    page = parse(client.get(f"/consultations/{response.consultation_id}"))

    assert post_ids(page) == [response.id, reply.id]
    assert "Withdrawn words" not in page.text()
    assert "This post was deleted by its author or an organiser." in post_article(page, response.id).text()
    assert "In reply to deleted post" in post_article(page, reply.id).text()


# --- headers ------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/", "/login", "/consultations/999999", "/consultations/{id}"])
def test_pages_forbid_framing_sniffing_and_foreign_scripts(client, make_consultation, url):
    consultation = make_consultation()
    response = client.get(url.format(id=consultation.id))
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("url", ["/", "/login", "/consultations/999999", "/static/css/app.css"])
def test_pages_turn_off_the_browser_features_we_never_use(client, url):
    response = client.get(url)
    response.close()
    policy = response.headers["Permissions-Policy"]
    features = dict(item.strip().split("=") for item in policy.split(","))
    assert {"camera", "microphone", "geolocation", "payment", "usb"} <= set(features)
    assert set(features.values()) == {"()"}


def test_hsts_is_sent_over_https_when_configured(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "HSTS_MAX_AGE", 31536000)
    assert client.get("/login", base_url="https://localhost").headers["Strict-Transport-Security"] == (
        "max-age=31536000")
    # Over plain HTTP a browser ignores it, and a development server must never send it.
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_hsts_is_not_sent_unless_configured(client):
    assert "Strict-Transport-Security" not in client.get("/login", base_url="https://localhost").headers


def test_production_sends_hsts_for_a_year_and_development_does_not():
    from forum.config import DevelopmentConfig, ProductionConfig, TestingConfig

    assert ProductionConfig.HSTS_MAX_AGE == 365 * 24 * 60 * 60
    assert DevelopmentConfig.HSTS_MAX_AGE == TestingConfig.HSTS_MAX_AGE == 0


def test_behind_a_trusted_proxy_hsts_follows_the_clients_scheme(app):
    from forum import create_app
    from forum.extensions import db

    behind_nginx = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                               "TRUSTED_PROXIES": 1, "HSTS_MAX_AGE": 600})
    client = behind_nginx.test_client()
    https = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    http = client.get("/login", headers={"X-Forwarded-Proto": "http"})
    assert https.headers["Strict-Transport-Security"] == "max-age=600"
    assert "Strict-Transport-Security" not in http.headers
    with behind_nginx.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("query", ["consultation_id=abc", "_method=POST", "_anchor=x", "page=2&_external=1"])
def test_pagination_links_ignore_reserved_query_names(app, client, make_consultation, make_post, query):
    app.config["RESPONSES_PER_PAGE"] = 2
    consultation = make_consultation()
    for _ in range(5):
        make_post(consultation=consultation)
    response = client.get(f"/consultations/{consultation.id}?{query}")
    assert response.status_code == 200
    assert 'rel="next"' in response.get_data(as_text=True) or 'rel="prev"' in response.get_data(as_text=True)


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "9999-12-31T23:59", "1850-06-01T10:00"])
def test_extreme_dates_are_refused_next_to_the_field(client, make_user, when):
    organiser = make_user("organiser", timezone="America/New_York")
    login(client, organiser)
    response = client.post("/consultations/new", data={"title": "Dates", "visibility": "public", "opens_at": when})
    assert response.status_code == 400
    assert "between the years 1900 and 9000" in response.get_data(as_text=True)
