"""CSRF protection, switched on (TestingConfig turns it off; Flask-WTF reads the setting at
every request, and the `app` fixture restores the config after the test)."""
from __future__ import annotations

import pytest

from tests.factories import login
from tests.web.page import csrf_token, error_message, flashes, parse

EXPIRED = "This form has expired or was sent from another page. Go back, reload the page and send it again."


def enable_csrf(app):
    app.config["WTF_CSRF_ENABLED"] = True


def typed_back(page) -> list[str]:
    """The texts the error page gives back so that nothing typed is lost."""
    return [t.value() for t in page.find_all("textarea", readonly=True)]


@pytest.mark.parametrize("token", [None, "not-the-token"], ids=["no token", "wrong token"])
def test_a_response_without_a_valid_token_is_refused_and_given_back(app, client, make_user, make_consultation,
                                                                     post_count, token):
    consultation = make_consultation()
    login(client, make_user())
    enable_csrf(app)
    client.get(f"/consultations/{consultation.id}")  # the session now holds a real token
    data = {"topic_id": consultation.topics[0].id, "body": "Three paragraphs I do not want to lose."}
    if token is not None:
        data["csrf_token"] = token

    response = client.post(f"/consultations/{consultation.id}/responses", data=data)

    assert response.status_code == 400
    page = parse(response)
    assert error_message(page) == EXPIRED
    assert typed_back(page) == ["Three paragraphs I do not want to lose."]
    assert post_count() == 0


def test_a_response_with_the_forms_token_is_published(app, client, make_user, make_consultation, post_count):
    consultation = make_consultation()
    login(client, make_user())
    enable_csrf(app)
    action = f"/consultations/{consultation.id}/responses"
    token = csrf_token(parse(client.get(f"/consultations/{consultation.id}")), action)

    response = client.post(action, data={"csrf_token": token, "topic_id": consultation.topics[0].id,
                                         "body": "Three paragraphs I do not want to lose."})

    assert response.status_code == 302
    assert post_count() == 1
    assert "Your response has been published." in flashes(parse(client.get(response.headers["Location"])))


def test_a_token_from_another_session_is_refused(app, client, make_user, make_consultation, post_count):
    consultation = make_consultation()
    attacker = app.test_client()
    login(client, make_user())
    login(attacker, make_user())
    enable_csrf(app)
    action = f"/consultations/{consultation.id}/responses"
    attackers_token = csrf_token(parse(attacker.get(f"/consultations/{consultation.id}")), action)
    client.get(f"/consultations/{consultation.id}")

    response = client.post(action, data={"csrf_token": attackers_token, "topic_id": consultation.topics[0].id,
                                         "body": "Forged"})

    assert response.status_code == 400
    assert post_count() == 0


def test_a_reply_without_a_token_is_refused_and_given_back(app, client, make_user, make_post, post_count):
    parent = make_post()
    login(client, make_user())
    enable_csrf(app)

    response = client.post(f"/consultations/{parent.consultation_id}/posts/{parent.id}/reply",
                           data={"body": "My careful reply"})

    assert response.status_code == 400
    assert typed_back(parse(response)) == ["My careful reply"]
    assert post_count() == 1


def test_logging_in_without_a_token_is_refused(app, client, make_user):
    user = make_user()
    enable_csrf(app)

    response = client.post("/login", data={"email": user.email, "password": user.test_password})

    assert response.status_code == 400
    assert error_message(parse(response)) == EXPIRED
    with client.session_transaction() as session:
        assert "_user_id" not in session

    token = csrf_token(parse(client.get("/login")), action=None)
    response = client.post("/login", data={"email": user.email, "password": user.test_password, "csrf_token": token})
    assert response.status_code == 302


def test_logging_out_without_a_token_is_refused(app, client, make_user):
    login(client, make_user())
    enable_csrf(app)

    assert client.post("/logout").status_code == 400
    assert client.get("/profile").status_code == 200

    token = csrf_token(parse(client.get("/")), "/logout")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/profile").status_code == 302


def test_an_endorsement_without_a_token_is_refused(app, client, make_user, make_post, reload):
    post = make_post()
    login(client, make_user())
    enable_csrf(app)

    response = client.post(f"/consultations/{post.consultation_id}/posts/{post.id}/endorsement")

    assert response.status_code == 400
    assert reload(post).endorsement_count == 0
