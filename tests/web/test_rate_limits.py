"""Rate limits, on a second app with limits enabled and small (see `rate_limited_app` in
tests/web/conftest.py for why it takes a second app)."""
from __future__ import annotations

from tests.factories import login
from tests.web.page import error_message, parse

TOO_OFTEN = "You are doing this too often. Please wait a little and try again."
GENEROUS = "1000 per minute"


def assert_rate_limited(response, window_seconds: int) -> None:
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= window_seconds
    assert error_message(parse(response)) == TOO_OFTEN


def fail_login(client, email: str):
    return client.post("/login", data={"email": email, "password": "not the password at all"})


# --- logging in ---------------------------------------------------------------------

def test_failed_logins_for_one_account_are_limited_and_others_are_not(rate_limited_app, make_user):
    app = rate_limited_app(RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute", RATELIMIT_LOGIN_PER_ADDRESS=GENEROUS)
    ada, bob, carol = make_user(email="ada@example.org"), make_user(), make_user()
    client = app.test_client()

    for _ in range(3):
        assert fail_login(client, "ada@example.org").status_code == 400
    assert_rate_limited(fail_login(client, "ada@example.org"), 60)
    # The same account however it is spelt.
    assert fail_login(client, " ADA@Example.org ").status_code == 429

    # Other accounts, from the same address, are not slowed.
    assert fail_login(client, bob.email).status_code == 400
    response = app.test_client().post("/login", data={"email": carol.email, "password": carol.test_password})
    assert response.status_code == 302


def test_successful_logins_do_not_count_against_the_account(rate_limited_app, make_user):
    app = rate_limited_app(RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute", RATELIMIT_LOGIN_PER_ADDRESS=GENEROUS)
    user = make_user()

    for _ in range(4):
        assert login(app.test_client(), user).status_code == 302
    assert fail_login(app.test_client(), user.email).status_code == 400


def test_failed_logins_from_one_address_are_limited_across_accounts(rate_limited_app, make_user):
    app = rate_limited_app(RATELIMIT_LOGIN_PER_ADDRESS="3 per minute", RATELIMIT_LOGIN_PER_ACCOUNT=GENEROUS)
    users = [make_user() for _ in range(4)]
    client = app.test_client()

    for user in users[:3]:
        assert fail_login(client, user.email).status_code == 400
    assert_rate_limited(fail_login(client, users[3].email), 60)

    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert fail_login(elsewhere, users[3].email).status_code == 400


# --- registering and resetting ------------------------------------------------------

def test_registrations_from_one_address_are_limited(rate_limited_app):
    app = rate_limited_app(RATELIMIT_REGISTER_PER_ADDRESS="1 per minute")
    data = {"password": "a long enough password", "confirm": "a long enough password",
            "display_name": "Ada", "organisation": "", "organisation_type": "individual", "country": "IT",
            "preferred_language": "en", "timezone": "Europe/Rome", "accept_privacy": "y"}

    assert app.test_client().post("/register", data={**data, "email": "one@example.org"}).status_code == 302
    assert_rate_limited(app.test_client().post("/register", data={**data, "email": "two@example.org"}), 60)
    assert app.test_client().get("/register").status_code == 200  # only sending counts


def test_reset_requests_for_one_account_are_limited(rate_limited_app, make_user):
    app = rate_limited_app(RATELIMIT_RESET_PER_ACCOUNT="1 per hour", RATELIMIT_RESET_PER_ADDRESS=GENEROUS)
    ada, bob = make_user(email="ada@example.org"), make_user()
    client = app.test_client()

    assert client.post("/forgot-password", data={"email": "ada@example.org"}).status_code == 302
    assert_rate_limited(client.post("/forgot-password", data={"email": "ada@example.org"}), 3600)
    assert client.post("/forgot-password", data={"email": bob.email}).status_code == 302


# --- posting ------------------------------------------------------------------------

def test_posting_beyond_the_account_limit_is_refused_and_stores_nothing(rate_limited_app, make_user,
                                                                          make_consultation, post_count):
    app = rate_limited_app(RATELIMIT_POST_PER_ACCOUNT="2 per minute", RATELIMIT_POST_PER_ADDRESS=GENEROUS,
                           RATELIMIT_LOGIN_PER_ADDRESS=GENEROUS)
    consultation = make_consultation()
    url = f"/consultations/{consultation.id}/responses"
    data = {"topic_id": consultation.topics[0].id, "body": "Again and again"}
    busy, other = app.test_client(), app.test_client()
    login(busy, make_user())
    login(other, make_user())

    assert [busy.post(url, data=data).status_code for _ in range(2)] == [302, 302]
    assert post_count() == 2

    assert_rate_limited(busy.post(url, data=data), 60)
    assert post_count() == 2

    assert other.post(url, data=data).status_code == 302  # the same address, another account
    assert post_count() == 3


def test_replies_count_against_the_same_posting_limit(rate_limited_app, make_user, make_post, post_count):
    app = rate_limited_app(RATELIMIT_POST_PER_ACCOUNT="1 per minute", RATELIMIT_POST_PER_ADDRESS=GENEROUS,
                           RATELIMIT_LOGIN_PER_ADDRESS=GENEROUS)
    parent = make_post()
    client = app.test_client()
    login(client, make_user())
    reply_url = f"/consultations/{parent.consultation_id}/posts/{parent.id}/reply"

    assert client.post(reply_url, data={"body": "First"}).status_code == 302
    assert_rate_limited(client.post(reply_url, data={"body": "Second"}), 60)
    assert client.get(reply_url).status_code == 200  # reading the form is not posting
    assert post_count() == 2


def test_posts_over_the_socket_and_the_form_share_one_allowance(rate_limited_app, make_user, make_consultation,
                                                                 db):
    from forum.extensions import socketio

    app = rate_limited_app(RATELIMIT_POST_PER_ACCOUNT="2 per minute", RATELIMIT_POST_PER_ADDRESS=GENEROUS)
    consultation = make_consultation()
    user = make_user()
    db.session.commit()
    client = app.test_client()
    login(client, user)
    topic_id = consultation.topics[0].id
    url = f"/consultations/{consultation.id}/responses"

    assert client.post(url, data={"topic_id": topic_id, "body": "By form."}).status_code == 302
    socket = socketio.test_client(app, flask_test_client=client)
    message = {"stream": f"consultation:{consultation.id}", "topic_id": topic_id}
    assert socket.emit("post", dict(message, body="By socket."), callback=True)["ok"] is True
    refused = socket.emit("post", dict(message, body="One too many."), callback=True)
    assert refused["ok"] is False and refused["error"]["code"] == 429
    assert_rate_limited(client.post(url, data={"topic_id": topic_id, "body": "Form, one too many."}), 60)
    socket.disconnect()
