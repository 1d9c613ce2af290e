"""Posting over HTTP: respond, reply, quote, edit, delete, endorse, speak for an organisation."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from forum.models import Post
from tests.factories import login
from tests.web.page import error_message, flashes, parse, post_article, post_ids, response_ids


def thread_url(post) -> str:
    return f"/consultations/{post.consultation_id}/posts/{post.thread_id}"


def endorse_button(page, post_id):
    return post_article(page, post_id).find("button", aria_pressed=True)


# --- responding ---------------------------------------------------------------------

def test_responding_to_topic_2_shows_the_response_under_that_topic(client, db, make_user, make_consultation):
    consultation = make_consultation(topics=2)
    second = consultation.topics[1]
    author = make_user(display_name="Amina Diallo")
    login(client, author)

    response = client.post(f"/consultations/{consultation.id}/responses",
                           data={"topic_id": second.id, "subject": "Housing first", "body": "Homes **before** jobs."})

    assert response.status_code == 302
    post = db.session.scalar(db.select(Post))
    location = urlsplit(response.headers["Location"])
    assert location.path == f"/consultations/{consultation.id}"
    assert parse_qs(location.query) == {"topic": [str(second.id)]}
    assert location.fragment == f"post-{post.id}"
    assert (post.topic_id, post.author_id, post.subject, post.parent_id) == (
        second.id, author.id, "Housing first", None)

    page = parse(client.get(response.headers["Location"]))
    assert flashes(page) == ["Your response has been published."]
    assert page.control("topic").value() == str(second.id)
    assert response_ids(page) == [post.id]
    article = post_article(page, post.id)
    assert article.one(class_="topic-chip").text() == f"Topic 2: {second.title}"
    assert article.one(class_="post-author").one("strong").text() == "Amina Diallo"
    assert article.one("div", class_="post-body").one("strong").text() == "before"
    # ...and not under topic 1.
    first = parse(client.get(f"/consultations/{consultation.id}", query_string={"topic": consultation.topics[0].id}))
    assert response_ids(first) == []


def test_the_response_form_offers_the_consultations_topics(client, make_user, make_consultation):
    consultation = make_consultation(topics=2)
    login(client, make_user())
    page = parse(client.get(f"/consultations/{consultation.id}"))
    options = page.control("topic_id").find_all("option")
    assert [(o.get("value"), o.text()) for o in options] == [
        ("0", "Choose a topic…"),
        (str(consultation.topics[0].id), f"Topic 1: {consultation.topics[0].title}"),
        (str(consultation.topics[1].id), f"Topic 2: {consultation.topics[1].title}"),
    ]


def test_visitors_are_invited_to_log_in_instead_of_given_a_form(client, make_post):
    post = make_post()
    page = parse(client.get(f"/consultations/{post.consultation_id}"))
    assert page.find("textarea") is None
    assert page.find("a", href=f"/login?next=/consultations/{post.consultation_id}%23respond") is not None
    assert post_article(page, post.id).find("a", href=f"/login?next=/consultations/{post.consultation_id}"
                                                        f"/posts/{post.id}/reply") is not None
    assert endorse_button(page, post.id) is None
    assert "0 endorsements" in post_article(page, post.id).text()


def test_posting_on_behalf_of_the_organisation_names_it(client, db, make_user, make_consultation):
    consultation = make_consultation()
    login(client, make_user(organisation="Passerelles Solidaires", display_name="Amina"))

    response = client.post(f"/consultations/{consultation.id}/responses", data={
        "topic_id": consultation.topics[0].id, "body": "Our position", "on_behalf_of_organisation": "y"})

    post = db.session.scalar(db.select(Post))
    page = parse(client.get(response.headers["Location"]))
    assert "on behalf of Passerelles Solidaires" in post_article(page, post.id).one(class_="post-org").text()


def test_a_personal_post_shows_the_organisation_without_speaking_for_it(client, db, make_user, make_consultation):
    consultation = make_consultation()
    login(client, make_user(organisation="Passerelles Solidaires"))
    response = client.post(f"/consultations/{consultation.id}/responses",
                           data={"topic_id": consultation.topics[0].id, "body": "My own view"})
    post = db.session.scalar(db.select(Post))
    org = post_article(parse(client.get(response.headers["Location"])), post.id).one(class_="post-org").text()
    assert org.startswith("Passerelles Solidaires") and "on behalf of" not in org


# --- replying and quoting -----------------------------------------------------------

def test_replies_are_threaded_with_in_reply_to(client, db, make_user, make_post):
    response = make_post(author=make_user(display_name="First Author"))
    second = make_user(display_name="Second Author")
    login(client, second)

    answer = client.post(f"/consultations/{response.consultation_id}/posts/{response.id}/reply",
                         data={"body": "I see it differently."})
    reply = db.session.scalar(db.select(Post).where(Post.parent_id == response.id))
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"{thread_url(response)}#post-{reply.id}"

    login(client, make_user())  # someone else answers the reply
    client.post(f"/consultations/{response.consultation_id}/posts/{reply.id}/reply", data={"body": "Both of you..."})
    nested = db.session.scalar(db.select(Post).where(Post.parent_id == reply.id))
    assert nested.thread_id == response.id

    page = parse(client.get(thread_url(response)))
    assert post_ids(page) == [response.id, reply.id, nested.id]
    in_reply_to = post_article(page, reply.id).one(class_="in-reply-to")
    assert in_reply_to.text() == "In reply to First Author"
    assert in_reply_to.one("a").get("href") == f"#post-{response.id}"
    assert post_article(page, nested.id).one(class_="in-reply-to").text() == "In reply to Second Author"
    # The nested reply sits inside the reply's list, under the response's.
    assert post_article(page, nested.id) in [e for li in page.find_all("ol", class_="reply-list") for e in li.iter()]
    assert post_article(page, response.id).find(class_="in-reply-to") is None

    consultation_page = parse(client.get(f"/consultations/{response.consultation_id}"))
    assert post_ids(consultation_page) == [response.id, reply.id, nested.id]


def test_quote_ticks_quoting_and_leaves_the_text_to_the_writer(client, make_user, make_post):
    parent = make_post(author=make_user(display_name="Quoted Person"), body="First line\n\n- a point\nlast")
    login(client, make_user())

    page = parse(client.get(f"/consultations/{parent.consultation_id}/posts/{parent.id}/reply?quote=1"))

    assert page.control("body").value() == ""
    assert page.control("quote").get("checked") is not None
    plain = parse(client.get(f"/consultations/{parent.consultation_id}/posts/{parent.id}/reply"))
    assert plain.control("body").value() == ""
    assert plain.control("quote").get("checked") is None
    assert plain.one("h1").text() == "Reply to Quoted Person"


def test_replying_to_a_deleted_post_is_refused(client, make_user, make_post, post_count):
    parent = make_post(deleted=True)
    login(client, make_user())
    response = client.post(f"/consultations/{parent.consultation_id}/posts/{parent.id}/reply", data={"body": "Hi"})
    assert response.status_code == 403
    assert post_count() == 1


# --- editing ------------------------------------------------------------------------

def test_editing_your_post_keeps_the_previous_version_in_the_history(client, make_user, make_post, reload):
    author = make_user()
    post = make_post(author, subject="First subject", body="First *version*")
    login(client, author)
    edit_url = f"/consultations/{post.consultation_id}/posts/{post.id}/edit"

    form = parse(client.get(edit_url))
    assert (form.control("subject").value(), form.control("body").value()) == ("First subject", "First *version*")

    response = client.post(edit_url, data={"subject": "Second subject", "body": "Second version"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{thread_url(post)}#post-{post.id}"

    page = parse(client.get(thread_url(post)))
    assert flashes(page) == ["Your changes have been saved."]
    article = post_article(page, post.id)
    assert article.one("div", class_="post-body").text() == "Second version"
    edited = article.one("a", class_="edited")
    assert edited.text() == "edited"

    history = parse(client.get(edited.get("href")))
    versions = history.one("ol", class_="history").find_all("li", class_="panel")
    assert "Second version" in versions[0].text() and "Current version" in versions[0].text()
    assert versions[1].one("pre", class_="revision-source").text() == "First *version*"
    assert "First subject" in versions[1].text()
    assert len(reload(post).revisions) == 1


def test_an_unchanged_edit_keeps_no_version(client, make_user, make_post, reload):
    author = make_user()
    post = make_post(author, body="Same")
    login(client, author)
    response = client.post(f"/consultations/{post.consultation_id}/posts/{post.id}/edit",
                           data={"subject": "", "body": "Same"})
    assert flashes(parse(client.get(response.headers["Location"]))) == ["Nothing was changed."]
    assert reload(post).revisions == [] and post.edited_at is None
    assert post_article(parse(client.get(thread_url(post))), post.id).find("a", class_="edited") is None


def test_editing_someone_elses_post_is_forbidden(client, make_user, make_post, reload):
    post = make_post(body="Not yours")
    login(client, make_user())
    edit_url = f"/consultations/{post.consultation_id}/posts/{post.id}/edit"

    assert client.get(edit_url).status_code == 403
    response = client.post(edit_url, data={"subject": "", "body": "Mine now"})

    assert response.status_code == 403
    assert error_message(parse(response)) == "You are not allowed to do this."
    assert reload(post).body == "Not yours"
    assert post_article(parse(client.get(thread_url(post))), post.id).find(
        "a", href=edit_url) is None  # and no Edit button is offered


def test_the_edit_button_is_offered_to_the_author_only(client, make_user, make_post):
    author = make_user()
    post = make_post(author)
    edit_url = f"/consultations/{post.consultation_id}/posts/{post.id}/edit"
    login(client, author)
    assert post_article(parse(client.get(thread_url(post))), post.id).one("a", href=edit_url).text() == "Edit"


# --- deleting -----------------------------------------------------------------------

def test_deleting_through_the_confirmation_page_leaves_a_placeholder_and_the_replies(client, make_user,
                                                                                     make_post, reload):
    author = make_user()
    post = make_post(author, body="Words I regret")
    reply = make_post(parent=post, body="A reply that stays")
    login(client, author)
    delete_url = f"/consultations/{post.consultation_id}/posts/{post.id}/delete"

    confirmation = parse(client.get(delete_url))
    assert confirmation.one("h1").text() == "Delete this post?"
    assert "Words I regret" in confirmation.one("blockquote").text()
    assert reload(post).deleted_at is None  # looking is not deleting

    response = client.post(delete_url)
    assert response.status_code == 302

    page = parse(client.get(thread_url(post)))
    assert post_ids(page) == [post.id, reply.id]
    article = post_article(page, post.id)
    assert article.one(class_="post-author").text() == "Deleted post"
    assert "This post was deleted by its author or an organiser." in article.text()
    assert "Words I regret" not in page.text()
    assert "A reply that stays" in post_article(page, reply.id).text()
    assert reload(post).body == ""
    assert client.get(f"/consultations/{post.consultation_id}/posts/{post.id}/history").status_code == 404


@pytest.mark.parametrize(("who", "status"), [("another participant", 403), ("the organiser", 302)])
def test_who_may_delete_someone_elses_post(client, make_user, make_post, reload, who, status):
    post = make_post()
    login(client, post.consultation.owner if who == "the organiser" else make_user())
    delete_url = f"/consultations/{post.consultation_id}/posts/{post.id}/delete"

    assert client.get(delete_url).status_code == (200 if status == 302 else 403)
    assert client.post(delete_url).status_code == status
    assert (reload(post).deleted_at is not None) == (status == 302)


def test_authors_may_delete_after_closing(client, make_user, make_post, reload):
    from forum.services.consultations import set_status
    author = make_user()
    post = make_post(author)
    set_status(post.consultation.owner, post.consultation, "closed")
    login(client, author)
    assert client.post(f"/consultations/{post.consultation_id}/posts/{post.id}/delete").status_code == 302
    assert reload(post).deleted_at is not None


# --- endorsing ----------------------------------------------------------------------

def test_endorse_and_withdraw_toggle_the_count_and_the_pressed_state(client, make_user, make_post, reload):
    post = make_post()
    login(client, make_user())
    url = f"/consultations/{post.consultation_id}/posts/{post.id}/endorsement"

    button = endorse_button(parse(client.get(thread_url(post))), post.id)
    assert (button.get("aria-pressed"), button.one("span", class_="count").text()) == ("false", "0")
    assert "Endorse" in button.text()

    response = client.post(url, data={"action": "endorse"})
    assert response.status_code == 302
    client.post(url, data={"action": "endorse"})  # twice is once
    button = endorse_button(parse(client.get(thread_url(post))), post.id)
    assert (button.get("aria-pressed"), button.one("span", class_="count").text()) == ("true", "1")
    assert "Endorsed" in button.text()
    assert button.parent.control("action").value() == "withdraw"
    assert reload(post).endorsement_count == 1

    client.post(url, data={"action": "withdraw"})
    button = endorse_button(parse(client.get(thread_url(post))), post.id)
    assert (button.get("aria-pressed"), button.one("span", class_="count").text()) == ("false", "0")
    assert reload(post).endorsement_count == 0


def test_endorsing_goes_back_to_the_page_it_came_from(client, make_user, make_post):
    post = make_post()
    login(client, make_user())
    page_url = f"/consultations/{post.consultation_id}?sort=endorsed"
    response = client.post(f"/consultations/{post.consultation_id}/posts/{post.id}/endorsement",
                           headers={"Referer": f"http://localhost{page_url}#respond"})
    assert response.headers["Location"] == f"{page_url}#post-{post.id}"


def test_endorsing_never_redirects_to_another_site(client, make_user, make_post):
    post = make_post()
    login(client, make_user())

    response = client.post(f"/consultations/{post.consultation_id}/posts/{post.id}/endorsement",
                           headers={"Referer": "http://localhost//evil.example/x"})

    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//"), location


def test_endorsing_your_own_post_is_refused(client, make_user, make_post, reload):
    author = make_user()
    post = make_post(author)
    login(client, author)

    response = client.post(f"/consultations/{post.consultation_id}/posts/{post.id}/endorsement",
                           data={"action": "endorse"})

    assert response.status_code == 403
    assert reload(post).endorsement_count == 0
    page = parse(client.get(thread_url(post)))
    assert endorse_button(page, post.id) is None
    assert "0 endorsements" in post_article(page, post.id).text()


def test_anonymous_endorsement_goes_to_login(client, make_post, reload):
    post = make_post()
    response = client.post(f"/consultations/{post.consultation_id}/posts/{post.id}/endorsement")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert reload(post).endorsement_count == 0


def test_a_form_sent_twice_with_the_same_client_key_makes_one_post(client, make_user, make_consultation,
                                                                     post_count):
    """A double click, or the resend after a lost answer, never creates a duplicate."""
    consultation = make_consultation(topics=2)
    login(client, make_user())
    form = {"topic_id": consultation.topics[1].id, "body": "Said once.", "client_key": "3f1c2a9e-double"}
    first = client.post(f"/consultations/{consultation.id}/responses", data=form)
    second = client.post(f"/consultations/{consultation.id}/responses", data=form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert post_count() == 1
    other_key = client.post(f"/consultations/{consultation.id}/responses", data=dict(form, client_key="another"))
    assert other_key.status_code == 302
    assert post_count() == 2


# --- a busy database (SQLite) -------------------------------------------------------------

def busy_error():
    """What SQLAlchemy raises when SQLite refuses a write because another one holds it."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    refused = sqlite3.OperationalError("database is locked")
    refused.sqlite_errorcode = sqlite3.SQLITE_BUSY_SNAPSHOT
    return OperationalError("INSERT INTO post ...", {}, refused)


def test_a_write_refused_by_a_busy_database_answers_503_and_keeps_what_was_typed(
        client, db, make_user, make_consultation, monkeypatch):
    from forum.services import posts

    consultation = make_consultation()
    login(client, make_user())
    monkeypatch.setattr(posts, "_store", lambda *args: (_ for _ in ()).throw(busy_error()))

    response = client.post(f"/consultations/{consultation.id}/responses",
                           data={"topic_id": consultation.topics[0].id, "body": "My long answer, kept."})

    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    page = parse(response)
    assert error_message(page) == "The site is busy. Please try again in a moment."
    assert "My long answer, kept." in page.text()
    assert db.session.scalar(db.select(db.func.count(Post.id))) == 0
