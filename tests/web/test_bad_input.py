"""Bad input over HTTP: each answer is a clear 4xx, the form keeps what was typed, and
nothing is stored. Unknown and absurd ids and query parameters never reach a 500."""
from __future__ import annotations

import re

import pytest

from tests.factories import login
from tests.web.page import error_message, parse, post_article, post_ids

TOO_LONG_BODY = "x" * 20_001


@pytest.fixture
def setting(client, make_user, make_consultation):
    """An open consultation with two topics, another one, and a logged-in participant."""
    consultation = make_consultation(topics=2)
    other = make_consultation()
    author = make_user()
    login(client, author)
    return consultation, other, author


def respond(client, consultation, **data):
    return client.post(f"/consultations/{consultation.id}/responses", data=data)


# --- posting a response -------------------------------------------------------------

@pytest.mark.parametrize(("body", "message"), [
    ("", "Write your response first."),
    ("  \n\t ", "This field is required."),
    (TOO_LONG_BODY, "This text is too long: 20001 characters, at most 20000 are allowed."),
    ("Hello\x00world", "This text contains invalid characters"),
    ("Bell\x07 and escape\x1b", "This text contains invalid characters"),
], ids=["empty", "blank", "20001 characters", "NUL byte", "control characters"])
def test_a_bad_body_is_refused_with_the_form_as_typed(client, setting, post_count, body, message):
    consultation, _, _ = setting
    topic = consultation.topics[1]

    response = respond(client, consultation, topic_id=topic.id, subject="My subject", body=body)

    assert response.status_code == 400
    page = parse(response)
    assert message in page.field_error("body")
    assert page.control("body").value() == body
    assert page.control("subject").value() == "My subject"
    assert page.control("topic_id").value() == str(topic.id)
    assert post_count() == 0


@pytest.mark.parametrize("topic_id", ["other", "0", "abc", "", "99999999999999999999"])
def test_a_bad_topic_is_refused_with_the_form_as_typed(client, setting, post_count, topic_id):
    consultation, other, _ = setting
    if topic_id == "other":
        topic_id = str(other.topics[0].id)

    response = respond(client, consultation, topic_id=topic_id, body="What I think")

    assert response.status_code == 400
    page = parse(response)
    assert page.field_error("topic_id")
    assert page.control("body").value() == "What I think"
    assert post_count() == 0


def test_a_topic_of_another_consultation_says_which_topics_are_allowed(client, setting):
    consultation, other, _ = setting
    response = respond(client, consultation, topic_id=other.topics[0].id, body="What I think")
    assert parse(response).field_error("topic_id") == "Choose one of this consultation's topics."


INVALID_UTF8 = pytest.mark.parametrize("raw_body", [b"%ff%fe", b"caf%e9", b"ok%c3", b"\xff\xfe"],
                                       ids=["percent-encoded", "latin-1", "truncated sequence", "raw bytes"])


def post_raw(client, consultation, raw_body: bytes):
    data = b"topic_id=%d&subject=Mine&body=" % consultation.topics[0].id + raw_body
    return client.post(f"/consultations/{consultation.id}/responses", data=data,
                       content_type="application/x-www-form-urlencoded")


@INVALID_UTF8
def test_invalid_utf8_is_refused_next_to_the_body_with_the_form_kept(client, setting, post_count, raw_body):
    consultation, _, _ = setting

    response = post_raw(client, consultation, raw_body)

    assert response.status_code == 400
    assert post_count() == 0
    page = parse(response)
    assert "This text contains invalid characters" in page.field_error("body")
    assert page.control("subject").value() == "Mine"
    assert page.control("topic_id").value() == str(consultation.topics[0].id)


def test_a_subject_with_a_nul_byte_is_refused(client, setting, post_count):
    consultation, _, _ = setting
    response = respond(client, consultation, topic_id=consultation.topics[0].id, subject="a\x00b", body="Fine")
    assert response.status_code == 400
    assert "invalid characters" in parse(response).field_error("subject")
    assert post_count() == 0


def test_a_request_over_max_content_length_answers_413(app, client, setting, post_count):
    consultation, _, _ = setting
    app.config["MAX_CONTENT_LENGTH"] = 50_000

    response = respond(client, consultation, topic_id=consultation.topics[0].id, body="x" * 50_001)

    assert response.status_code == 413
    assert error_message(parse(response)) == "What you sent is too large."
    assert post_count() == 0


def test_requests_are_limited_to_one_mebibyte_by_default(app, client, setting, post_count):
    consultation, _, _ = setting
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 1024 * 1024

    response = respond(client, consultation, topic_id=consultation.topics[0].id, body="x" * (limit + 1))

    assert response.status_code == 413
    assert post_count() == 0


# --- what Markdown may not do -------------------------------------------------------

HOSTILE_MARKDOWN = "\n\n".join([
    "<script>alert('script')</script>",
    '<img src="x" onerror="alert(\'img\')">',
    "[click me](javascript:alert('link'))",
    "[spaced](  JaVaScRiPt:alert('case') )",
    "[entity](jav&#x61;script:alert('entity'))",
    '![picture](x" onerror="alert(\'md-img\'))',
    "<a href=\"javascript:alert('raw')\">raw link</a>",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<iframe src=\"https://evil.example\"></iframe>",
    "[fine](https://example.org/page)",
])


def test_scripts_handlers_and_javascript_links_are_neutralised(client, setting):
    consultation, _, _ = setting
    response = respond(client, consultation, topic_id=consultation.topics[0].id,
                       subject="<b onmouseover=alert(1)>Subject</b>", body=HOSTILE_MARKDOWN)
    assert response.status_code == 302
    post_id = int(response.headers["Location"].rsplit("#post-", 1)[1])

    page = parse(client.get(response.headers["Location"].split("#")[0]))
    article = post_article(page, post_id)

    body = article.one("div", class_="post-body")
    assert {e.tag for e in body.iter()} <= {"p", "a", "br", "strong", "em", "code"}
    assert no_active_content(article) == []
    links = body.find_all("a")
    assert [a.get("href") for a in links] == ["https://example.org/page"]
    assert links[0].get("rel") == "nofollow ugc noopener"
    # What was refused is shown as text, so the author sees what happened to it.
    assert "<script>alert('script')</script>" in body.text()
    # The subject is text too.
    assert article.one(class_="post-subject").text() == "<b onmouseover=alert(1)>Subject</b>"


def no_active_content(element) -> list[str]:
    """What in this part of the page could run script: script, iframe, object, embed or
    img elements, on* attributes, and javascript:/data: links."""
    found = []
    for e in element.iter():
        if e.tag in {"script", "iframe", "object", "embed", "img", "svg", "style"}:
            found.append(f"<{e.tag}>")
        found += [f"{e.tag}[{name}]" for name in e.attrs if name.startswith("on")]
        href = (e.get("href") or e.get("src") or "").strip().lower()
        if href.startswith(("javascript:", "data:", "vbscript:")):
            found.append(f"{e.tag}[href={href}]")
    return found


def test_hostile_names_and_briefs_are_shown_as_text(client, make_user, make_consultation, make_post):
    from forum.services.consultations import ConsultationInput, update_consultation
    consultation = make_consultation(title="<img src=x onerror=alert('title')>")
    update_consultation(consultation.owner, consultation, ConsultationInput(
        title=consultation.title, brief=HOSTILE_MARKDOWN))
    author = make_user(display_name="<script>alert('name')</script>", organisation='"><svg onload=alert(1)>')
    post = make_post(author, consultation=consultation, on_behalf_of_organisation=True)

    page = parse(client.get(f"/consultations/{consultation.id}"))

    assert no_active_content(page.one("main")) == []
    assert page.one("h1").text() == "<img src=x onerror=alert('title')>"
    assert post_article(page, post.id).one("strong").text() == "<script>alert('name')</script>"
    assert '"><svg onload=alert(1)>' in post_article(page, post.id).one(class_="post-org").text()
    brief = page.one("section", class_="brief")
    assert [a.get("href") for a in brief.find_all("a")] == ["https://example.org/page"]
    # Only our own script files, and data that is never run (the live page's strings, and
    # its card templates, which hold no user data: forum/web/cards.py).
    scripts = [e for e in page.one("head").iter() if e.tag == "script"]
    assert scripts and all((e.get("src") or "").startswith("/static/")
                           or e.get("type") in ("application/json", "text/html") for e in scripts)
    assert "onload=alert" not in "".join(e.raw_text() for e in scripts if e.get("type") == "text/html")


# --- when and where one may post ----------------------------------------------------

def test_posting_to_a_closed_consultation_is_refused_with_a_message(client, make_user, make_consultation,
                                                                    make_post, post_count):
    consultation = make_consultation()
    post = make_post(consultation=consultation)
    consultation_id, post_id, topic_id = consultation.id, post.id, consultation.topics[0].id
    from forum.services.consultations import set_status
    set_status(consultation.owner, consultation, "closed")
    login(client, make_user())

    response = client.post(f"/consultations/{consultation_id}/responses", data={"topic_id": topic_id, "body": "Late"})
    assert response.status_code == 403
    assert error_message(parse(response)) == "This consultation is not accepting responses at the moment."

    response = client.post(f"/consultations/{consultation_id}/posts/{post_id}/reply", data={"body": "Late"})
    assert response.status_code == 403
    assert error_message(parse(response)) == "This consultation is not accepting responses at the moment."
    assert post_count() == 1


def test_posting_before_the_opening_time_is_refused(client, make_user, make_consultation, post_count):
    from datetime import timedelta

    from forum.models.base import utcnow
    consultation = make_consultation(opens_at=utcnow() + timedelta(days=1))
    login(client, make_user())
    response = respond(client, consultation, topic_id=consultation.topics[0].id, body="Early")
    assert response.status_code == 403
    assert post_count() == 0


def test_posting_to_a_draft_is_not_found_for_a_participant(client, make_user, make_consultation, post_count):
    draft = make_consultation(status="draft")
    login(client, make_user())
    response = respond(client, draft, topic_id=draft.topics[0].id, body="Hello?")
    assert response.status_code == 404
    assert error_message(parse(response)) == "This page does not exist or you cannot see it."
    assert post_count() == 0


# --- editing ------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "message"), [
    ("", "The text cannot be empty."),
    (TOO_LONG_BODY, "This text is too long"),
    ("Hello\x00world", "This text contains invalid characters"),
], ids=["empty", "20001 characters", "NUL byte"])
def test_a_bad_edit_is_refused_and_changes_nothing(client, make_user, make_post, reload, body, message):
    author = make_user()
    post = make_post(author, subject="Original subject", body="Original text")
    login(client, author)

    response = client.post(f"/consultations/{post.consultation_id}/posts/{post.id}/edit",
                           data={"subject": "New subject", "body": body})

    assert response.status_code == 400
    page = parse(response)
    assert message in page.field_error("body")
    assert page.control("body").value() == body
    assert page.control("subject").value() == "New subject"
    post = reload(post)
    assert (post.subject, post.body, post.edited_at, post.revisions) == ("Original subject", "Original text", None, [])


def test_an_edit_with_invalid_utf8_is_refused(client, make_user, make_post, reload):
    author = make_user()
    post = make_post(author, body="Original text")
    login(client, author)

    response = client.post(f"/consultations/{post.consultation_id}/posts/{post.id}/edit",
                           data=b"subject=&body=%ff%fe", content_type="application/x-www-form-urlencoded")

    assert reload(post).body == "Original text"
    assert response.status_code == 400
    assert "invalid characters" in parse(response).field_error("body")


def test_a_bad_reply_is_refused_with_the_form_as_typed(client, make_user, make_post, post_count):
    parent = make_post()
    login(client, make_user())
    response = client.post(f"/consultations/{parent.consultation_id}/posts/{parent.id}/reply",
                           data={"body": TOO_LONG_BODY})
    assert response.status_code == 400
    page = parse(response)
    assert "This text is too long" in page.field_error("body")
    assert page.control("body").value() == TOO_LONG_BODY
    assert post_count() == 1


# --- unknown ids --------------------------------------------------------------------

MISSING_IDS = [0, 999_999, 2**31 - 1, 2**31, 2**63, 2**70]


@pytest.mark.parametrize("missing", MISSING_IDS)
def test_unknown_ids_are_not_found_for_readers(client, make_user, make_post, missing):
    post = make_post()
    other = make_post()  # a post of another consultation
    c, p = post.consultation_id, post.id
    login(client, make_user())
    urls = [
        ("GET", f"/consultations/{missing}"),
        ("GET", f"/consultations/{c}/posts/{missing}"),
        ("GET", f"/consultations/{missing}/posts/{p}"),
        ("GET", f"/consultations/{c}/posts/{other.id}"),
        ("GET", f"/consultations/{c}/posts/{missing}/reply"),
        ("GET", f"/consultations/{c}/posts/{other.id}/reply"),
        ("GET", f"/consultations/{c}/posts/{missing}/history"),
        ("GET", f"/consultations/{c}/posts/{other.id}/history"),
        ("GET", f"/consultations/{c}/posts/{missing}/edit"),
        ("GET", f"/consultations/{c}/posts/{missing}/delete"),
        ("POST", f"/consultations/{missing}/responses"),
        ("POST", f"/consultations/{c}/posts/{missing}/reply"),
        ("POST", f"/consultations/{c}/posts/{missing}/endorsement"),
        ("POST", f"/consultations/{c}/posts/{other.id}/endorsement"),
    ]
    answers = {f"{method} {url}": client.open(url, method=method, data={"body": "x", "topic_id": "1"}).status_code
               for method, url in urls}
    assert answers == {key: 404 for key in answers}


@pytest.mark.parametrize("missing", MISSING_IDS)
def test_unknown_ids_are_not_found_for_organisers(client, db, make_consultation, missing):
    consultation = make_consultation(topics=2, hosts=["Someone"])
    other = make_consultation(owner=consultation.owner, hosts=["Elsewhere"])
    c = consultation.id
    login(client, consultation.owner)
    urls = [
        ("GET", f"/consultations/{missing}/edit"),
        ("GET", f"/consultations/{missing}/topics/new"),
        ("GET", f"/consultations/{c}/topics/{missing}/edit"),
        ("POST", f"/consultations/{c}/topics/{missing}/edit"),
        ("GET", f"/consultations/{c}/topics/{other.topics[0].id}/edit"),
        ("GET", f"/consultations/{c}/hosts/{missing}/edit"),
        ("POST", f"/consultations/{c}/hosts/{missing}/edit"),
        ("GET", f"/consultations/{c}/hosts/{other.hosts[0].id}/edit"),
        ("POST", f"/consultations/{missing}/status"),
        ("POST", f"/consultations/{c}/topics/{missing}/up"),
        ("POST", f"/consultations/{c}/topics/{other.topics[0].id}/delete"),
        ("POST", f"/consultations/{c}/hosts/{missing}/down"),
        ("POST", f"/consultations/{c}/hosts/{other.hosts[0].id}/delete"),
    ]
    answers = {f"{method} {url}": client.open(url, method=method, data={"title": "x", "name": "x"}).status_code
               for method, url in urls}
    assert answers == {key: 404 for key in answers}
    db.session.expire_all()
    assert (len(consultation.topics), len(consultation.hosts)) == (2, 1)


@pytest.mark.parametrize("missing", [0, 999_999, 2**31 - 1])
def test_an_unknown_user_is_not_found_by_the_admin_roles_form(client, make_user, missing):
    login(client, make_user("admin"))
    assert client.post(f"/admin/users/{missing}/roles", data={"is_organiser": "y"}).status_code == 404


@pytest.mark.parametrize("missing", [2**63, 2**70])
def test_an_admin_roles_id_beyond_64_bits_is_not_found(client, make_user, missing):
    login(client, make_user("admin"))
    assert client.post(f"/admin/users/{missing}/roles", data={"is_organiser": "y"}).status_code == 404


def test_an_admin_roles_id_beyond_32_bits_is_not_found(client, make_user):
    login(client, make_user("admin"))
    assert client.post(f"/admin/users/{2**31}/roles", data={"is_organiser": "y"}).status_code == 404


# --- query parameters ---------------------------------------------------------------

@pytest.mark.parametrize("query", [
    {"sort": "bogus"}, {"topic": "999"}, {"sort": "\x00"}, {"page": "999"}, {"page": ""}, {"topic": ""},
], ids=lambda q: "&".join(f"{k}={v!r}" for k, v in q.items()))
def test_unknown_sorts_topics_and_pages_on_a_consultation_page_still_show_it(client, make_post, query):
    post = make_post()
    response = client.get(f"/consultations/{post.consultation_id}", query_string=query)
    assert response.status_code == 200
    assert post_ids(parse(response)) == [post.id]


NOT_WHOLE_NUMBERS = ["abc", "1.5", "-1", "0", "\x00", "1e3", " 7", "²", str(2**31), str(2**63), str(2**63 - 1),
                     str(2**64), str(10**30)]


@pytest.fixture
def integer_parameters(client, make_user, make_post, make_event, db):
    """[(url, name of an integer query parameter), ...]: every page that reads one, for an
    administrator who organises the consultation and the event."""
    admin = make_user("admin")
    admin.is_organiser = True
    post = make_post()
    post.consultation.owner = admin
    event = make_event(owner=admin)
    room = event.plenary
    db.session.flush()
    login(client, admin)
    c, e = post.consultation_id, event.id
    return [
        ("/", "page"),
        ("/admin/users", "page"),
        (f"/consultations/{c}", "page"),
        (f"/consultations/{c}", "topic"),
        (f"/consultations/{c}/log", "before"),
        (f"/events/{e}/log", "before"),
        (f"/events/{e}/rooms/{room.id}", "before"),
        (f"/events/{e}/rooms/{room.id}", "reply_to"),
        *(("/search", name) for name in ("page", "consultation", "topic", "event", "room", "author")),
    ]


@pytest.mark.parametrize("value", NOT_WHOLE_NUMBERS)
def test_an_integer_query_parameter_out_of_range_or_not_a_number_answers_400(client, integer_parameters, value):
    answers = {}
    for url, name in integer_parameters:
        response = client.get(url, query_string={name: value})
        message = error_message(parse(response)) if response.status_code == 400 else ""
        answers[f"{url}?{name}"] = (response.status_code, f"“{name}”" in message and "whole number" in message)
    assert answers == {key: (400, True) for key in answers}


@pytest.mark.parametrize("value", ["1", "2", str(2**31 - 1)])
def test_an_integer_query_parameter_in_range_is_accepted(client, integer_parameters, value):
    answers = {f"{url}?{name}": client.get(url, query_string={name: value}).status_code
               for url, name in integer_parameters}
    assert answers == {key: 200 for key in answers}


def test_the_room_page_of_the_field_report_answers_400(client, make_user, make_event):
    # GET /events/1/rooms/4?before=9223372036854775808 was a server error.
    event = make_event(participants=1)
    login(client, event.test_participants[0])
    room = event.breakout_rooms[0]
    response = client.get(f"/events/{event.id}/rooms/{room.id}?before=9223372036854775808")
    assert response.status_code == 400
    assert error_message(parse(response)) == (
        "“before” in this address must be a whole number from 1 to 2147483647.")


# --- ids in the path ------------------------------------------------------------------

PATH_VALUES = {"kind": "consultation", "fmt": "csv", "name": "hands", "token": "x", "action": "up"}


def path_id_urls(app, real: dict[str, int], huge: int) -> list[tuple[str, str]]:
    """(method, url) for every route and every integer in its path: that one set to `huge`,
    the others to real objects, so that the huge one is what the route reaches."""
    urls = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        ints = [name for name, converter in rule._converters.items() if converter.regex == r"\d+"]
        methods = rule.methods or set()
        method = next(m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m in methods)  # the API's too
        for name in ints:
            values = {arg: real.get(arg, 1) for arg in ints} | {name: huge}
            for arg, converter in rule._converters.items():
                if arg not in values:  # a word: an `any(...)` converter's first choice, or a usual value
                    choices = re.fullmatch(r"\(\?:([^|)]+).*\)", converter.regex)
                    values[arg] = choices.group(1) if choices else PATH_VALUES[arg]
            urls.append((method, adapter.build(rule.endpoint, values, method=method)))
    return urls


def test_a_route_never_receives_an_id_larger_than_a_table_holds(app):
    # Every route also checks ids itself (permissions.valid_id); the converter keeps a route
    # that forgets it from handing SQLite a number it cannot bind (OverflowError: a 500).
    from forum import create_app

    fresh = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    fresh.add_url_rule("/probe/<int:thing_id>", "probe", lambda thing_id: str(thing_id))
    client = fresh.test_client()

    assert client.get(f"/probe/{2**31 - 1}").get_data(as_text=True) == str(2**31 - 1)
    assert [client.get(f"/probe/{n}").status_code for n in (2**31, 2**63, 2**70)] == [404] * 3
    with fresh.app_context():
        from forum.extensions import db as fresh_db
        fresh_db.engine.dispose()


@pytest.mark.parametrize("huge", [2**31, 2**63 - 1, 2**63, 2**64, 10**30])
def test_every_id_in_a_path_beyond_the_ids_we_store_is_not_found(app, client, make_user, make_post, make_event,
                                                                  db, huge):
    admin = make_user("admin")
    admin.is_organiser = True
    post = make_post()
    post.consultation.owner = admin
    event = make_event(owner=admin)
    db.session.flush()
    login(client, admin)
    real = {"consultation_id": post.consultation_id, "post_id": post.id, "topic_id": post.topic_id,
            "item_id": post.topic_id, "event_id": event.id, "room_id": event.breakout_rooms[0].id,
            "user_id": admin.id, "object_id": post.consultation_id}

    urls = path_id_urls(app, real, huge)

    assert len(urls) > 40
    answers = {f"{method} {url}": client.open(url, method=method, data={"body": "x"}).status_code
               for method, url in urls}
    assert answers == {key: 404 for key in answers}


@pytest.mark.parametrize("query", [
    {"page": "999"}, {"phase": "bogus"}, {"tag": "bogus tag"},
    {"tag": "#"}, {"tag": "x" * 500},
], ids=lambda q: "&".join(f"{k}={v!r}"[:40] for k, v in q.items()))
def test_odd_query_parameters_on_the_home_page_answer_200(client, make_consultation, query):
    make_consultation()
    assert client.get("/", query_string=query).status_code == 200


@pytest.mark.parametrize("query", ["tag=%00", "tag=Hous%00ing", "phase=%00", "page=%00", "tag=%ff"])
def test_nul_bytes_in_home_page_filters_never_cause_a_server_error(client, make_consultation, query):
    make_consultation(tags="#Housing")
    assert client.get(f"/?{query}").status_code in {200, 400}


def test_nul_bytes_in_the_admin_search_never_cause_a_server_error(client, make_user):
    login(client, make_user("admin"))
    assert client.get("/admin/users?q=%00").status_code in {200, 400}
    assert client.get("/admin/users?page=999").status_code == 200
