"""E-mail over HTTP: the verification mail a registration sends, its link (signed out too),
the notice and "send the link again" for unconfirmed addresses, and the one-click unsubscribe
links of notification mails (the page's button, and RFC 8058's POST straight from a mail
program). Mails go to the real SMTP server of tests/mail.py and are read back."""
from __future__ import annotations

from datetime import UTC, datetime

import itsdangerous.timed
import pytest
from sqlalchemy import select

from forum.models import Notification, NotificationKind, User
from forum.services import accounts, notification_mail
from tests.factories import login
from tests.mail import links, part, path_of, unsubscribe_link
from tests.web.page import csrf_token, error_message, flashes, parse
from tests.web.test_accounts import REGISTRATION


def verification_link(message) -> str:
    [link] = [u for u in links(part(message, "plain")) if "/verify-email/" in u]
    assert f'href="{link}"' in part(message, "html")
    return link


def registered(client, db, smtp, **changes) -> tuple[User, str]:
    response = client.post("/register", data={**REGISTRATION, **changes})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == REGISTRATION["email"]))
    return user, path_of(verification_link(smtp.one()))


# --- Verification ---------------------------------------------------------------------------

def test_registering_mails_a_verification_link_that_works_signed_out(app, client, db, smtp, reload):
    user, link = registered(client, db, smtp)
    message = smtp.one()
    assert (message["To"], message["From"]) == ("ada@example.org", "Plenary <no-reply@plenary.example>")
    assert message["Subject"] == "Confirm your email address for Plenary"
    assert message["Content-Language"] == "en" and '<html lang="en"' in part(message, "html")
    assert message["List-Unsubscribe"] is None
    assert user.email_verified_at is None
    # Reading and posting do not wait: the new account is signed in and its pages work.
    assert client.get("/").status_code == 200

    visitor = app.test_client()  # another browser, signed out
    page = visitor.get(link)
    assert page.status_code == 200
    assert reload(user).email_verified_at is None  # a GET (a mail scanner) confirms nothing
    assert parse(page).one("main").one("form", method="post").find("button") is not None

    response = visitor.post(link, data={})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert reload(user).email_verified_at is not None
    assert "Your email address ada@example.org is confirmed." in flashes(parse(visitor.get("/login")))
    assert visitor.post(link, data={}).status_code == 302  # again: still fine, nothing changes


def test_unconfirmed_people_see_a_notice_and_can_ask_for_the_link_again(client, db, smtp, reload):
    user, _link = registered(client, db, smtp)
    smtp.clear()
    page = parse(client.get("/"))
    notice = page.one("section", class_="account-notice")
    assert "ada@example.org" in notice.text()
    form = notice.one("form")
    assert form.get("action") == "/verify-email"

    response = client.post("/verify-email", data={"next": "/events/"})
    assert response.status_code == 302 and response.headers["Location"] == "/events/"
    fresh = path_of(verification_link(smtp.one()))
    assert "We have sent a new link to ada@example.org." in flashes(parse(client.get("/events/")))

    client.post(fresh, data={})
    assert reload(user).email_verified_at is not None
    assert parse(client.get("/")).find("section", class_="account-notice") is None
    smtp.clear()
    client.post("/verify-email", data={})
    assert smtp.messages == []  # confirmed: no more mail


def test_asking_for_the_link_again_needs_a_login(client, smtp):
    response = client.post("/verify-email", data={})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert smtp.messages == []


def test_confirmed_people_and_visitors_see_no_notice(client, make_user):
    assert parse(client.get("/")).find("section", class_="account-notice") is None
    login(client, make_user())
    assert parse(client.get("/")).find("section", class_="account-notice") is None


def test_the_verification_forms_carry_csrf_tokens(app, client, db, smtp, reload):
    user, link = registered(client, db, smtp)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(link, data={}).status_code == 400
    assert reload(user).email_verified_at is None
    token = csrf_token(parse(client.get(link)))
    assert client.post(link, data={"csrf_token": token}).status_code == 302
    assert reload(user).email_verified_at is not None


def tampered(token: str) -> str:
    return token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")


@pytest.mark.parametrize("case", ["tampered", "expired", "other address", "garbage", "another salt"])
def test_a_bad_verification_link_is_refused_clearly_and_changes_nothing(app, client, db, make_user, monkeypatch,
                                                                        reload, case):
    user = make_user(email="ada@example.org", verified=False)
    token = accounts.make_verification_token(user)
    expected_status = {"tampered": 404, "garbage": 404, "another salt": 404, "expired": 400, "other address": 400}
    if case == "tampered":
        token = tampered(token)
    elif case == "garbage":
        token = "not-a-token%00" + "x" * 3000
    elif case == "another salt":
        token = accounts.make_reset_token(user)  # a reset link's token is not a verification one
    elif case == "expired":
        issued = itsdangerous.timed.time.time()

        class Clock:
            @staticmethod
            def time():
                return issued + app.config["EMAIL_VERIFY_MAX_AGE"] + 5

        monkeypatch.setattr(itsdangerous.timed, "time", Clock)
    elif case == "other address":
        user.email = "ada.new@example.org"
        db.session.commit()

    for method in ("get", "post"):
        response = getattr(client, method)(f"/verify-email/{token}", data={})
        assert response.status_code == expected_status[case], (method, response.status_code)
        assert "confirmation link" in error_message(parse(response))
    assert reload(user).email_verified_at is None


def test_a_new_address_is_unconfirmed_and_old_links_stop_working(db, make_user):
    user = make_user(email="ada@example.org")
    assert user.email_verified_at is not None
    token = accounts.make_verification_token(user)
    user.email = "ada@elsewhere.example"
    assert user.email_verified_at is None
    with pytest.raises(accounts.ValidationError, match="no longer uses"):
        accounts.verify_email(token)
    accounts.verify_email(accounts.make_verification_token(user))
    assert user.email_verified_at is not None


# --- Unsubscribing --------------------------------------------------------------------------

@pytest.fixture
def mailed(db, smtp, make_user, make_post):
    """A mention mailed at once and a digest mailed to one person; their messages."""
    user = make_user(email="reader@example.org")
    user.created_at = datetime(2030, 5, 1, tzinfo=UTC)
    user.last_digest_at = datetime(2030, 6, 9, 6, tzinfo=UTC)
    post = make_post()
    mention = Notification(user_id=user.id, kind=NotificationKind.MENTION, post_id=post.id,
                           consultation_id=post.consultation_id)
    reply = Notification(user_id=user.id, kind=NotificationKind.REPLY, post_id=post.id,
                         consultation_id=post.consultation_id)
    reply.created_at = reply.updated_at = datetime(2030, 6, 9, 12, tzinfo=UTC)
    db.session.add_all([mention, reply])
    db.session.flush()
    notification_mail.send_immediate(mention.id)
    notification_mail.send_digests(datetime(2030, 6, 10, 6, 15, tzinfo=UTC))
    db.session.commit()
    immediate, digest = sorted(smtp.messages, key=lambda m: "new notification" in m["Subject"])
    return user, immediate, digest


def test_every_notification_mail_has_one_click_unsubscribe_headers_and_footer_links(mailed):
    _user, immediate, digest = mailed
    for message in (immediate, digest):
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = unsubscribe_link(message)
        assert link in part(message, "plain") and f'href="{link}"' in part(message, "html")
        assert "http://localhost/profile" in part(message, "plain")  # the settings
    assert unsubscribe_link(immediate) != unsubscribe_link(digest)


@pytest.mark.parametrize(("which", "immediate_after", "digest_after"), [
    ("immediate", False, "daily"),
    ("digest", True, "never"),
])
def test_the_unsubscribe_page_asks_once_then_unsubscribes_signed_out(app, mailed, reload, which, immediate_after,
                                                                      digest_after):
    user, immediate, digest = mailed
    link = path_of(unsubscribe_link(immediate if which == "immediate" else digest))
    visitor = app.test_client()

    page = visitor.get(link)
    assert page.status_code == 200
    forms = parse(page).one("main").find_all("form", method="post")
    assert len(forms) == 1 and len(forms[0].find_all("button")) == 1
    assert (reload(user).email_immediate, user.digest_frequency) == (True, "daily")  # a GET changes nothing

    done = visitor.post(link, data={})
    assert done.status_code == 200
    assert parse(done).find("a", href="/profile") is not None
    assert (reload(user).email_immediate, user.digest_frequency) == (immediate_after, digest_after)


def test_the_all_link_stops_every_notification_mail(app, mailed, reload):
    user, immediate, _digest = mailed
    [all_link] = [u for u in links(part(immediate, "plain"))
                  if "/unsubscribe/" in u and u != unsubscribe_link(immediate)]
    assert app.test_client().post(path_of(all_link), data={}).status_code == 200
    assert (reload(user).email_immediate, user.digest_frequency) == (False, "never")


def test_a_mail_programs_one_click_post_unsubscribes_without_a_page_or_token(app, mailed, reload):
    """RFC 8058: the mail program POSTs List-Unsubscribe=One-Click to the header's URL, with no
    cookie and no CSRF token of ours (CSRF protection on)."""
    user, _immediate, digest = mailed
    app.config["WTF_CSRF_ENABLED"] = True
    response = app.test_client().post(path_of(unsubscribe_link(digest)), data={"List-Unsubscribe": "One-Click"},
                                      content_type="multipart/form-data")
    assert response.status_code == 200
    assert reload(user).digest_frequency == "never"


@pytest.mark.parametrize("token", ["nonsense", "eyJ1Ijo5OTk5OTk5OTk5OTk5LCJzIjoiYWxsIn0.AAAA", "%00", "x" * 5000])
def test_a_bad_unsubscribe_link_is_refused_with_404(client, token):
    for method in ("get", "post"):
        response = getattr(client, method)(f"/unsubscribe/{token}")
        assert response.status_code == 404
        assert error_message(parse(response)) == "This unsubscribe link is not valid."


def test_an_unsubscribe_token_for_someone_else_or_another_scope_cannot_be_forged(app, db, make_user, reload):
    user = make_user()
    token = notification_mail.unsubscribe_token(user, "digest")
    payload, _, signature = token.partition(".")
    import base64
    import json

    other = base64.urlsafe_b64encode(json.dumps({"u": user.id, "s": "all"}).encode()).decode().rstrip("=")
    response = app.test_client().post(f"/unsubscribe/{other}.{signature}")
    assert response.status_code == 404
    assert (reload(user).email_immediate, user.digest_frequency) == (True, "daily")


def test_an_unsubscribe_link_mailed_to_an_old_address_no_longer_works(app, db, make_user, reload):
    user = make_user()
    token = notification_mail.unsubscribe_token(user, "all")
    user.email = "new.address@example.org"
    db.session.commit()
    response = app.test_client().post(f"/unsubscribe/{token}")
    assert response.status_code == 404
    assert (reload(user).email_immediate, user.digest_frequency) == (True, "daily")
    fresh = notification_mail.unsubscribe_token(user, "all")
    assert app.test_client().post(f"/unsubscribe/{fresh}").status_code == 200
    assert (reload(user).email_immediate, user.digest_frequency) == (False, "never")
