"""Accounts over HTTP: registration, logging in and out, sessions, password reset and change."""
from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from forum.models import User
from tests.factories import login
from tests.web.page import flashes, parse

PASSWORD = "a long enough password"
REGISTRATION = {
    "email": "ada@example.org", "password": PASSWORD, "confirm": PASSWORD,
    "display_name": "Ada Lovelace", "organisation": "Analytical Engines", "organisation_type": "research",
    "country": "IT", "role_title": "Researcher", "preferred_language": "en", "timezone": "Europe/Rome",
    "accept_privacy": "y",
}


def accounts_with_email(db, email: str) -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.email == email))


def logged_in_user_id(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def assert_anonymous(client):
    """The client's next request is anonymous: a page that needs a login sends it there."""
    response = client.get("/profile")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


def set_cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


# --- register -----------------------------------------------------------------------

def test_registering_stores_the_profile_and_logs_in(client, db):
    response = client.post("/register", data=REGISTRATION)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user = db.session.scalar(select(User).where(User.email == "ada@example.org"))
    assert (user.display_name, user.organisation, user.organisation_type, user.country, user.role_title) == (
        "Ada Lovelace", "Analytical Engines", "research", "IT", "Researcher")
    assert (user.preferred_language, user.timezone) == ("en", "Europe/Rome")
    assert user.check_password(PASSWORD) and not user.is_organiser and not user.is_admin

    page = parse(client.get("/profile"))
    assert "Logged in as ada@example.org." in page.text()
    assert page.control("display_name").value() == "Ada Lovelace"


def test_the_welcome_message_follows_registration(client):
    response = client.post("/register", data=REGISTRATION, follow_redirects=True)
    assert response.status_code == 200
    assert "Welcome to Plenary, Ada Lovelace." in flashes(parse(response))


@pytest.mark.parametrize(("changes", "field_id", "message"), [
    ({"password": "short", "confirm": "short"}, "password", "Choose a password of at least 10 characters."),
    ({"confirm": PASSWORD + "!"}, "confirm", "The two passwords do not match."),
    ({"accept_privacy": None}, "accept_privacy", "Please accept the privacy notice to register."),
    ({"country": "XX"}, "country", "Choose a country from the list."),
    ({"email": "not-an-email"}, "email", "Enter a valid email address."),
], ids=["short password", "passwords differ", "privacy not accepted", "unknown country", "invalid email"])
def test_registration_errors_are_shown_next_to_the_field_with_what_was_typed(client, db, changes, field_id, message):
    data = {k: v for k, v in {**REGISTRATION, **changes}.items() if v is not None}

    response = client.post("/register", data=data)

    assert response.status_code == 400
    page = parse(response)
    assert message in page.field_error(field_id)
    assert page.control("email").value() == data["email"]
    assert page.control("display_name").value() == "Ada Lovelace"
    assert page.control("organisation").value() == "Analytical Engines"
    assert page.control("role_title").value() == "Researcher"
    assert accounts_with_email(db, data["email"].lower()) == 0
    assert logged_in_user_id(client) is None


def test_registering_an_email_already_used_is_refused_next_to_the_email(client, db, make_user):
    make_user(email="ada@example.org", display_name="The first Ada")

    response = client.post("/register", data={**REGISTRATION, "email": "ADA@example.org"})

    assert response.status_code == 400
    page = parse(response)
    assert "An account with this email address already exists." in page.field_error("email")
    assert page.control("email").value() == "ADA@example.org"
    assert page.control("display_name").value() == "Ada Lovelace"
    assert accounts_with_email(db, "ada@example.org") == 1
    assert logged_in_user_id(client) is None


# --- log in and out -----------------------------------------------------------------

def test_logging_in_with_the_right_password(client, make_user):
    user = make_user(email="ada@example.org")

    response = client.post("/login", data={"email": " ADA@example.org ", "password": user.test_password})

    assert response.status_code == 302
    assert logged_in_user_id(client) is not None
    assert client.get("/profile").status_code == 200


@pytest.mark.parametrize(("email", "password", "message"), [
    ("ada@example.org", "not the password", "The email address or password is not correct."),
    ("nobody@example.org", "correct horse battery staple", "The email address or password is not correct."),
    ("ada@example.org", "", "Please correct the marked fields."),
], ids=["wrong password", "unknown email", "no password"])
def test_a_failed_login_answers_400_with_a_message_and_no_session(client, make_user, email, password, message):
    make_user(email="ada@example.org")

    response = client.post("/login", data={"email": email, "password": password})

    assert response.status_code == 400
    page = parse(response)
    assert page.one("div", class_="form-errors").text() == message
    assert page.control("email").value() == email
    assert page.control("password").value() == ""  # a password is never sent back
    assert logged_in_user_id(client) is None
    assert_anonymous(client)


def test_login_starts_a_fresh_session(client, make_user):
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = 1

    login(client, user)

    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id", "").startswith(f"{user.id}:")


def test_login_keeps_the_language_chosen_before(client, make_user):
    user = make_user()
    client.post("/language", data={"language": "it", "next": "/"})
    login(client, user)
    with client.session_transaction() as session:
        assert session.get("language") == "it"


def test_login_goes_back_to_a_local_next_page(client, make_user):
    user = make_user()
    response = client.post("/login?next=/consultations/5%3Ftopic%3D2",
                           data={"email": user.email, "password": user.test_password})
    assert response.status_code == 302
    assert response.headers["Location"] == "/consultations/5?topic=2"


@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example", "http://evil.example/consultations/1", "///evil.example",
    "/\t/evil.example", "javascript:alert(1)", "evil.example", "/\\evil.example",
])
def test_login_refuses_to_send_you_to_another_site(client, make_user, target):
    user = make_user()
    response = client.post("/login", query_string={"next": target},
                           data={"email": user.email, "password": user.test_password})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_backslash_next_stays_on_the_site(client, make_user):
    """Browsers read '/\\evil.example' as '//evil.example'; the Location must not let them."""
    user = make_user()
    response = client.post("/login", query_string={"next": "/\\evil.example"},
                           data={"email": user.email, "password": user.test_password})
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "\\" not in location and urlsplit(location).netloc == ""


def test_an_anonymous_response_goes_to_login_and_back_to_the_consultation(client, db, make_user,
                                                                           make_consultation, post_count):
    consultation = make_consultation(topics=2)
    page_url = f"/consultations/{consultation.id}?topic={consultation.topics[1].id}"

    response = client.post(f"/consultations/{consultation.id}/responses",
                           data={"topic_id": consultation.topics[1].id, "body": "My view"},
                           headers={"Referer": f"http://localhost{page_url}"})

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [page_url]
    assert post_count() == 0
    login_page = parse(client.get(response.headers["Location"]))
    assert "Please log in to continue." in flashes(login_page)

    user = make_user()
    response = client.post(response.headers["Location"], data={"email": user.email, "password": user.test_password})
    assert response.headers["Location"] == page_url


def test_a_referer_from_another_site_is_not_a_next_page(client, make_consultation):
    consultation = make_consultation()
    response = client.post(f"/consultations/{consultation.id}/responses",
                           data={"topic_id": consultation.topics[0].id, "body": "My view"},
                           headers={"Referer": "https://evil.example/consultations/1"})
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/"]


def test_an_anonymous_reply_page_goes_to_login_with_that_page_as_next(client, make_post):
    post = make_post()
    reply_url = f"/consultations/{post.consultation_id}/posts/{post.id}/reply"

    response = client.get(reply_url)

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [reply_url]


def test_logout_needs_a_post(client, make_user):
    login(client, make_user())

    response = client.get("/logout")
    assert response.status_code == 405
    assert client.get("/profile").status_code == 200

    response = client.post("/logout")
    assert response.status_code == 302
    assert logged_in_user_id(client) is None
    assert_anonymous(client)


def test_logging_out_also_ends_keep_me_logged_in(client, make_user):
    user = make_user()
    client.post("/login", data={"email": user.email, "password": user.test_password, "remember": "y"})

    response = client.post("/logout", follow_redirects=True)

    assert "You have logged out." in flashes(parse(response))
    assert client.get_cookie("remember_token") is None
    assert_anonymous(client)


def test_keep_me_logged_in_does_not_outlive_a_password_change(app, client, make_user):
    user = make_user()
    other_device = app.test_client()
    other_device.post("/login", data={"email": user.email, "password": user.test_password, "remember": "y"})
    login(client, user)

    client.post("/profile/password", data={
        "current_password": user.test_password, "password": "a new long password", "confirm": "a new long password"})

    assert other_device.get_cookie("remember_token") is not None
    assert_anonymous(other_device)


# --- cookies ------------------------------------------------------------------------

def test_session_and_remember_cookies_are_httponly_and_samesite_lax(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": user.test_password, "remember": "y"})

    cookies = set_cookies(response)
    for name in ("session", "remember_token"):
        assert name in cookies, f"no {name} cookie set on login"
        attributes = [a.strip().lower() for a in cookies[name].split(";")[1:]]
        assert "httponly" in attributes, cookies[name]
        assert "samesite=lax" in attributes, cookies[name]


# --- password reset -----------------------------------------------------------------

RESET_LINK = re.compile(r"http://localhost(/reset-password/[^\s]+)")


def reset_links(caplog) -> list[str]:
    return [m.group(1) for r in caplog.records if r.name == "forum.mail"
            for m in RESET_LINK.finditer(r.getMessage())]


def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(client, make_user, caplog):
    make_user(email="ada@example.org")
    caplog.set_level(logging.INFO, logger="forum.mail")

    known = client.post("/forgot-password", data={"email": "ada@example.org"})
    known_page = parse(client.get(known.headers["Location"]))
    assert len(reset_links(caplog)) == 1
    caplog.clear()

    unknown = client.post("/forgot-password", data={"email": "nobody@example.org"})
    unknown_page = parse(client.get(unknown.headers["Location"]))
    assert reset_links(caplog) == []

    assert ((known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
            == (302, "/login"))
    assert flashes(known_page) == flashes(unknown_page) == [
        "If an account uses this address, we have sent it a link to choose a new password."]


def test_a_reset_link_sets_a_new_password_logs_in_and_works_once(app, client, make_user, caplog, reload):
    user = make_user(email="ada@example.org")
    caplog.set_level(logging.INFO, logger="forum.mail")
    client.post("/forgot-password", data={"email": "ada@example.org"})
    [link] = reset_links(caplog)
    assert f"Hello {user.display_name}," in caplog.text

    form = client.get(link)
    assert form.status_code == 200
    assert parse(form).control("password").value() == ""

    response = client.post(link, data={"password": "my brand new password", "confirm": "my brand new password"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/profile").status_code == 200  # logged in
    assert reload(user).check_password("my brand new password")

    again = client.get(link)
    assert again.status_code == 302
    assert urlsplit(again.headers["Location"]).path == "/forgot-password"
    assert "This reset link has already been used. Ask for a new one." in flashes(parse(client.get("/forgot-password")))
    # ...and posting to it changes nothing.
    replay = app.test_client().post(link, data={"password": "yet another password", "confirm": "yet another password"})
    assert replay.status_code == 302
    assert reload(user).check_password("my brand new password")


def test_a_reset_link_refuses_a_short_password_and_stays_valid(client, make_user, caplog, reload):
    user = make_user(email="ada@example.org")
    caplog.set_level(logging.INFO, logger="forum.mail")
    client.post("/forgot-password", data={"email": "ada@example.org"})
    [link] = reset_links(caplog)

    response = client.post(link, data={"password": "short", "confirm": "short"})

    assert response.status_code == 400
    assert "at least 10 characters" in parse(response).field_error("password")
    assert reload(user).check_password(user.test_password)
    assert client.get(link).status_code == 200


def test_a_forged_reset_link_is_refused(client):
    response = client.get("/reset-password/not-a-real-token")
    assert response.status_code == 302
    page = parse(client.get(response.headers["Location"]))
    assert "This reset link is not valid. Ask for a new one." in flashes(page)


# --- profile ------------------------------------------------------------------------

def test_the_profile_is_saved(client, make_user, reload):
    user = make_user()
    login(client, user)
    response = client.post("/profile", data={**REGISTRATION, "display_name": "New Name", "country": "FR"})
    assert response.status_code == 302
    assert flashes(parse(client.get("/profile"))) == ["Your profile has been saved."]
    assert (reload(user).display_name, user.country, user.timezone) == ("New Name", "FR", "Europe/Rome")


def test_a_refused_profile_change_stores_none_of_its_fields(client, make_user, reload):
    """The service sets fields one by one and refuses at the country: the commit point must
    drop the fields already set, not half-save the form."""
    user = make_user(display_name="Old Name", country="BE")
    login(client, user)

    response = client.post("/profile", data={**REGISTRATION, "display_name": "New Name", "country": "XX"})

    assert response.status_code == 400
    page = parse(response)
    assert page.field_error("country") == "Choose a country from the list."
    assert page.control("display_name").value() == "New Name"
    assert (reload(user).display_name, user.organisation, user.country) == ("Old Name", "Test Organisation", "BE")


# --- password change ----------------------------------------------------------------

def test_changing_the_password_logs_out_other_clients(app, client, make_user, reload):
    user = make_user()
    other_device = app.test_client()
    login(client, user)
    login(other_device, user)
    assert other_device.get("/profile").status_code == 200

    response = client.post("/profile/password", data={
        "current_password": user.test_password, "password": "a new long password", "confirm": "a new long password"})

    assert response.status_code == 302
    profile = client.get("/profile")  # this browser stays logged in
    assert profile.status_code == 200
    assert "Your password has been changed. Other devices have been logged out." in flashes(parse(profile))
    assert_anonymous(other_device)
    assert reload(user).check_password("a new long password")


def test_resetting_the_password_logs_out_other_clients(app, client, make_user, caplog):
    user = make_user(email="ada@example.org")
    other_device = app.test_client()
    login(other_device, user)
    caplog.set_level(logging.INFO, logger="forum.mail")
    client.post("/forgot-password", data={"email": "ada@example.org"})
    [link] = reset_links(caplog)

    client.post(link, data={"password": "my brand new password", "confirm": "my brand new password"})

    assert client.get("/profile").status_code == 200
    assert_anonymous(other_device)


def test_changing_the_password_needs_the_current_one(client, make_user, reload):
    user = make_user()
    login(client, user)
    response = client.post("/profile/password", data={
        "current_password": "wrong wrong wrong", "password": "a new long password", "confirm": "a new long password"})
    assert response.status_code == 400
    assert "Your current password is not correct." in parse(response).field_error("current_password")
    assert reload(user).check_password(user.test_password)
