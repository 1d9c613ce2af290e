"""Closing an account over HTTP (forum/web/account_closure.py, the admin's in forum/web/admin.py):
the profile's "Recent logins" and "Close your account" sections, refusals that change nothing,
the session ended at once, a closed person who cannot log in, their address free to register
again, and an admin closing an account on request."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from forum.models import LoginRecord, ModerationAction, User
from forum.services import posts
from tests.factories import DEFAULT_PASSWORD, login
from tests.web.page import flashes, parse

EMAIL = "rosa.quintero@example.org"


@pytest.fixture
def person(make_user):
    return make_user(email=EMAIL, display_name="Rosa Quintero", password="rosa's own password")


def close(client, mode="keep", password="rosa's own password", url="/account/close"):
    data = {"close-password": password}
    if mode is not None:
        data["close-mode"] = mode
    return client.post(url, data=data)


def test_the_profile_lists_the_recent_logins(client, db, person):
    browser = {"User-Agent": "Zyxwv/1.0 (X11; Linux)\x07"}  # the same on every request, as a browser's
    response = client.post("/login", data={"email": EMAIL, "password": "rosa's own password"}, headers=browser)
    assert response.status_code == 302
    record = db.session.scalars(select(LoginRecord).where(LoginRecord.user_id == person.id)).one()
    assert (record.ip_address, record.user_agent) == ("127.0.0.1", "Zyxwv/1.0 (X11; Linux)")
    page = parse(client.get("/profile", headers=browser))
    section = page.by_id("recent-logins-heading").ancestors().__next__()
    rows = section.one("tbody").find_all("tr")
    assert len(rows) == 1 and "127.0.0.1" in rows[0].text() and "Zyxwv/1.0 (X11; Linux)" in rows[0].text()
    # The close section comes after it, with its two choices and a password field.
    form = page.one("form", action="/account/close")
    assert [radio.get("value") for radio in form.find_all("input", type="radio")] == ["keep", "erase"]
    assert form.control("close-password").get("autocomplete") == "current-password"


def test_only_ten_logins_are_listed_newest_first(app, client, db, person):
    for _ in range(12):
        login(app.test_client(), person, "rosa's own password")
    login(client, person, "rosa's own password")
    rows = parse(client.get("/profile")).by_id("recent-logins-caption").ancestors().__next__().one(
        "tbody").find_all("tr")
    assert len(rows) == 10
    times = [row.one("time").get("datetime") for row in rows]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize(("mode", "password", "field", "message"), [
    ("erase", "not my password", "close-password", "This password is not correct."),
    ("keep", "", "close-password", "Enter your password."),
    (None, "rosa's own password", "close-mode", "Choose whether the contributions are kept or erased."),
    ("burn", "rosa's own password", "close-mode", "Not a valid choice."),
], ids=["wrong password", "no password", "no choice", "unknown choice"])
def test_a_refused_closing_changes_nothing(client, db, person, make_post, mode, password, field, message):
    post = make_post(author=person, body="My words stay mine.")
    login(client, person, "rosa's own password")
    response = close(client, mode, password)
    assert response.status_code == 400
    page = parse(response)
    if field == "close-mode":  # a group of radio buttons: its message is tied to the fieldset
        assert page.by_id(field).get("aria-describedby").split() == ["close-mode-hint", "close-mode-error"]
        assert message in page.by_id("close-mode-error").text()
    else:
        assert message in page.field_error(field)
    db.session.expire_all()
    assert person.closed_at is None and person.email == EMAIL and post.body == "My words stay mine."
    assert client.get("/profile").status_code == 200  # still logged in


def test_a_visitor_closes_nothing(client, db, person):
    response = close(client)
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
    db.session.expire_all()
    assert person.closed_at is None


@pytest.mark.parametrize("mode", ["keep", "erase"])
def test_closing_ends_every_session_and_frees_the_address(app, client, db, person, make_post, mode):
    post = make_post(author=person, body="Words of mine.")
    quoting = posts.create_post(post.consultation.owner, post.consultation, body="Quite so.", parent=post, quote=True)
    login(client, person, "rosa's own password")
    other_browser = app.test_client()
    login(other_browser, person, "rosa's own password")

    response = close(client, mode)
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/"
    home = parse(client.get("/"))
    assert any("Your account is closed" in text for text in flashes(home))
    for browser in (client, other_browser):
        assert browser.get("/profile").status_code == 302  # logged out everywhere
    db.session.expire_all()
    assert person.closed_at is not None and person.closed_erased is (mode == "erase")
    assert (post.body == "") is (mode == "erase")
    # They cannot log in again, by any address.
    refused = client.post("/login", data={"email": EMAIL, "password": "rosa's own password"})
    assert refused.status_code == 400
    refused = client.post("/login", data={"email": person.email, "password": "rosa's own password"})
    assert refused.status_code == 400
    # Their page is gone; their posts name a former participant.
    reader = app.test_client()
    login(reader, post.topic.consultation.owner)
    assert reader.get(f"/people/{person.id}").status_code == 404
    thread = parse(reader.get(f"/consultations/{post.consultation_id}/posts/{post.id}"))
    article = thread.by_id(f"post-{post.id}")
    quote = thread.by_id(f"post-{quoting.id}").one("blockquote")
    if mode == "keep":
        assert article.one("p", class_="post-author").one("strong").text() == "Former participant"
        assert quote.one("p", class_="quote-head").text() == "Former participant wrote:"
    else:
        assert "This post was removed at its author's request." in article.text()
        assert quote.text() == "This post was removed at its author's request."
    assert "Rosa" not in thread.text()
    # The address may register again.
    response = client.post("/register", data={
        "email": EMAIL, "password": "a brand new password", "confirm": "a brand new password",
        "display_name": "Rosa Again", "organisation": "", "organisation_type": "ngo", "country": "ES",
        "preferred_language": "en", "timezone": "Europe/Madrid", "accept_privacy": "y"})
    assert response.status_code == 302
    assert db.session.scalar(select(User).where(User.email == EMAIL)).id != person.id


def test_an_admin_closes_an_account_on_request(app, client, db, person, make_user, make_post):
    admin = make_user("admin", email="root@example.org")
    post = make_post(author=person, body="Rosa's response.")
    their_browser = app.test_client()
    login(their_browser, person, "rosa's own password")
    login(client, admin)

    users = parse(client.get("/admin/users?q=rosa"))
    link = users.one("a", href=f"/admin/users/{person.id}/close")
    assert "Close account" in link.text()
    page = parse(client.get(link.get("href")))
    assert "Close the account of Rosa Quintero" in page.one("h1").text() and EMAIL in page.text()

    refused = close(client, "erase", "rosa's own password", url=f"/admin/users/{person.id}/close")
    assert refused.status_code == 400  # the admin's own password, not the person's
    assert "This password is not correct." in parse(refused).field_error("close-password")
    db.session.expire_all()
    assert person.closed_at is None

    response = close(client, "erase", DEFAULT_PASSWORD, url=f"/admin/users/{person.id}/close")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/admin/users"
    assert their_browser.get("/profile").status_code == 302
    db.session.expire_all()
    assert person.closed_erased and post.is_deleted
    line = db.session.scalars(select(ModerationAction).where(ModerationAction.action == "account.closed")).one()
    assert (line.actor_id, line.target_user_id, line.details) == (admin.id, person.id,
                                                                 {"mode": "erase", "by_admin": True})
    listed = parse(client.get("/admin/users")).text()
    assert "Former participant" in listed and "Closed on" in listed and EMAIL not in listed
    # Once only; not for others; one's own from one's profile.
    assert client.get(f"/admin/users/{person.id}/close").status_code == 404
    assert client.get(f"/admin/users/{admin.id}/close").headers["Location"].endswith("/profile#close-account")
    participant_browser = app.test_client()
    login(participant_browser, make_user())
    target = make_user()
    assert participant_browser.get(f"/admin/users/{target.id}/close").status_code == 403
    assert close(participant_browser, "erase", DEFAULT_PASSWORD,
                 url=f"/admin/users/{target.id}/close").status_code == 403
    db.session.expire_all()
    assert target.closed_at is None
