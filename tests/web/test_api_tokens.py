"""The profile's API tokens (forum/web/api_tokens.py, templates/account/_api_tokens.html):
create one (its secret shown once), list them, revoke one; the token then works, or no
longer, against the API."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.models import ApiToken
from forum.services import api_tokens
from tests.factories import login
from tests.web.page import csrf_token, flashes, parse

CREATE = "/account/api-tokens"


def stored_tokens(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(ApiToken.id)))


def create(client, name="Analysis notebook", scope="read", days="30", **extra):
    return client.post(CREATE, data={"token-name": name, "token-scope": scope, "token-days": days, **extra})


def token_rows(page) -> list[list[str]]:
    section = page.by_id("api-tokens")
    table = section.find("table")
    if table is None:
        return []
    return [[cell.text() for cell in row.find_all() if cell.tag in ("th", "td")]
            for row in table.one("tbody").find_all("tr")]


def test_the_profile_offers_tokens_and_links_to_the_api_documentation(client, make_user):
    login(client, make_user())
    page = parse(client.get("/profile"))
    section = page.by_id("api-tokens")
    assert "/api/v1/docs" in [a.get("href") for a in section.find_all("a")]
    assert "docs/api.md" in section.text()
    assert "You have no working tokens." in section.text()
    form = section.one("form", method="post")
    assert form.get("action") == CREATE
    assert {c.get("value") for c in form.find_all("input", type="radio")} == {"read", "write"}
    assert [o.get("value") for o in form.control("token-days").find_all("option")] == \
        [str(days) for days in api_tokens.LIFETIMES_DAYS]
    assert page.find(id="new-token") is None


def test_a_new_token_is_shown_once_and_then_only_listed(client, db, make_user, make_consultation):
    user = make_user()
    login(client, user)
    response = create(client, name="Analysis notebook", scope="write", days="90")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = parse(response)
    field = page.by_id("new-token")
    secret = field.value()
    assert secret.startswith("pln_") and "readonly" in field.attrs
    assert "shown only this once" in page.by_id("api-tokens").text()
    # Never in an address, a flash or the session: the next page has no trace of it.
    assert secret not in response.headers.get("Location", "")
    with client.session_transaction() as session:
        assert secret not in repr(dict(session))
    again = client.get("/profile")
    assert secret not in again.get_data(as_text=True)
    assert parse(again).find(id="new-token") is None
    [row] = token_rows(parse(again))
    assert row[0] == "Analysis notebook" and row[1] == secret[:10] + "…" and row[2] == "Read and write"
    assert row[5] == "never"

    # It works: the API knows its owner, and the list notes its use.
    make_consultation(visibility="members")
    assert client.application.test_client().get(
        "/api/v1/consultations", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    [row] = token_rows(parse(client.get("/profile")))
    assert row[5] != "never"


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": ""}, "token-name", "Give the token a name"),
    ({"name": "   "}, "token-name", "Give the token a name"),
    ({"name": "x" * 81}, "token-name", "80"),
    ({"days": "3650"}, "token-days", "Choose how long the token works."),
    ({"days": "seven"}, "token-days", "Choose how long the token works."),
    ({"days": "३०"}, "token-days", "Choose how long the token works."),  # Devanagari digits: not ours
])
def test_bad_input_is_refused_with_the_form_errors_and_nothing_is_stored(client, db, make_user, data, field, message):
    login(client, make_user())
    before = stored_tokens(db)
    response = create(client, **{"name": "ok", "days": "30", **data})

    assert response.status_code == 400
    page = parse(response)
    assert message in page.field_error(field)
    assert page.find(id="new-token") is None
    assert stored_tokens(db) == before


def test_a_scope_that_is_not_offered_is_refused(client, db, make_user):
    login(client, make_user())
    response = create(client, scope="admin")

    assert response.status_code == 400
    assert "Choose what the token may do." in parse(response).by_id("token-scope-error").text()
    assert stored_tokens(db) == 0


def test_creating_without_the_csrf_token_is_refused(app, client, db, make_user):
    login(client, make_user())
    app.config["WTF_CSRF_ENABLED"] = True
    assert create(client).status_code == 400
    assert stored_tokens(db) == 0


def test_a_visitor_is_sent_to_log_in(client, db):
    response = create(client)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/account/api-tokens").status_code == 302
    assert stored_tokens(db) == 0


def test_revoking_asks_first_and_then_the_token_stops_working(app, client, db, make_user):
    user = make_user()
    new = api_tokens.create_token(user, name="Old script", scope="read", days=7)
    db.session.commit()
    headers = {"Authorization": f"Bearer {new.secret}"}
    assert app.test_client().get("/api/v1/consultations", headers=headers).status_code == 200
    login(client, user)
    app.config["WTF_CSRF_ENABLED"] = True  # the confirmation page's form carries its token

    profile = parse(client.get("/profile"))
    revoke_url = f"/account/api-tokens/{new.token.id}/revoke"
    assert revoke_url in [a.get("href") for a in profile.by_id("api-tokens").find_all("a")]
    confirmation = client.get(revoke_url)
    assert confirmation.status_code == 200
    page = parse(confirmation)
    assert "Old script" in page.one("h1").text()
    assert api_tokens.tokens_of(user) == [new.token]  # asking is not revoking

    response = client.post(revoke_url, data={"csrf_token": csrf_token(page, revoke_url)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/profile#api-tokens")
    after = parse(client.get("/profile"))
    assert any("Old script" in message and "revoked" in message for message in flashes(after))
    assert token_rows(after) == []
    assert app.test_client().get("/api/v1/consultations", headers=headers).status_code == 401


def test_another_persons_token_is_not_found(client, db, make_user):
    owner, other = make_user(), make_user()
    token = api_tokens.create_token(owner, name="Theirs", scope="write", days=30).token
    login(client, other)

    assert client.get(f"/account/api-tokens/{token.id}/revoke").status_code == 404
    assert client.post(f"/account/api-tokens/{token.id}/revoke").status_code == 404
    assert client.get("/account/api-tokens/99999999/revoke").status_code == 404
    assert client.get("/account/api-tokens/99999999999999999999/revoke").status_code == 404
    db.session.expire_all()
    assert api_tokens.tokens_of(owner) == [token]
    assert "Theirs" not in client.get("/profile").get_data(as_text=True)
