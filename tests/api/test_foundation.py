"""forum/api/__init__.py and errors.py: who calls (token, session, visitor), and every refusal
as JSON {"error": {"code", "message", "fields"}}."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.models import ApiToken
from forum.models.base import utcnow
from forum.services import api_tokens
from forum.services.errors import NotFound, ValidationError
from tests.api.scene import error


def test_a_members_only_consultation_is_read_with_a_token_not_without(client, make_user, make_consultation, bearer):
    consultation = make_consultation(visibility="members", title="For members")
    reader = make_user()
    error(client.get(f"/api/v1/consultations/{consultation.id}"), 401, "unauthorized")
    response = client.get(f"/api/v1/consultations/{consultation.id}", headers=bearer(reader, "read"))
    assert response.status_code == 200
    assert response.get_json()["title"] == "For members"
    assert [t["position"] for t in response.get_json()["topics"]] == [1]


def test_the_list_pages_by_cursor(client, make_consultation):
    titles = {make_consultation(title=f"Consultation {n}").title for n in range(5)}
    seen, cursor = [], None
    while True:
        arguments = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/v1/consultations", query_string=arguments)
        assert response.status_code == 200
        page = response.get_json()
        assert len(page["items"]) <= 2
        seen += [item["title"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert set(seen) == titles and len(seen) == len(titles)


@pytest.mark.parametrize("header", ["Bearer pln_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer", "pln_x"])
def test_a_wrong_authorization_header_is_401_not_a_visitor(client, make_consultation, header):
    make_consultation()
    error(client.get("/api/v1/consultations", headers={"Authorization": header}), 401, "unauthorized")


@pytest.mark.parametrize("end", ["revoked", "expired", "account closed"])
def test_a_token_stops_working(client, db, make_user, bearer, end):
    user = make_user()
    headers = bearer(user)
    assert client.get("/api/v1/consultations", headers=headers).status_code == 200
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    if end == "revoked":
        api_tokens.revoke_token(user, token.id)
    elif end == "expired":
        token.expires_at = utcnow() - timedelta(seconds=1)
    else:
        user.closed_at = utcnow()
    db.session.flush()
    error(client.get("/api/v1/consultations", headers=headers), 401, "unauthorized")


def test_tokens_are_stored_hashed_and_note_their_last_use(client, db, make_user):
    user = make_user()
    new = api_tokens.create_token(user, name="Analysis notebook", scope="read", days=7)
    assert new.secret.startswith("pln_") and len(new.secret) > 40
    stored = db.session.scalar(select(ApiToken).where(ApiToken.id == new.token.id))
    assert new.secret not in (stored.token_hash, stored.prefix) and new.secret.startswith(stored.prefix)
    assert stored.last_used_at is None
    assert client.get("/api/v1/consultations", headers={"Authorization": f"Bearer {new.secret}"}).status_code == 200
    db.session.refresh(stored)
    assert stored.last_used_at is not None
    assert timedelta(days=6) < stored.expires_at - utcnow() <= timedelta(days=7)


def test_creating_a_token_checks_what_it_is_given(db, make_user):
    user = make_user()
    for kwargs, field in [({"name": "", "scope": "read", "days": 7}, "name"),
                          ({"name": "x" * 81, "scope": "read", "days": 7}, "name"),
                          ({"name": "ok", "scope": "admin", "days": 7}, "scope"),
                          ({"name": "ok", "scope": "read", "days": 3650}, "days")]:
        with pytest.raises(ValidationError) as refused:
            api_tokens.create_token(user, **kwargs)
        assert refused.value.field == field
    assert api_tokens.tokens_of(user) == []


def test_only_the_owner_revokes_a_token(db, make_user):
    owner, other = make_user(), make_user("admin")
    token = api_tokens.create_token(owner, name="mine", scope="read", days=7).token
    with pytest.raises(NotFound):
        api_tokens.revoke_token(other, token.id)
    assert api_tokens.tokens_of(owner) == [token]


def test_refusals_are_json(client):
    error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    error(client.delete("/api/v1/consultations"), 405, "method_not_allowed")
    refused = error(client.get("/api/v1/consultations?limit=1000"), 400, "invalid")
    assert "limit" in refused["fields"]
    refused = error(client.get("/api/v1/consultations?cursor=%F0%9F%98%80"), 400, "invalid")
    assert list(refused["fields"]) == ["cursor"]
    error(client.get("/api/v1/consultations/99999999999999"), 404, "not_found")


def test_pages_keep_their_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_the_openapi_document_describes_the_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/consultations/{consultation_id}" in document["paths"]
    assert set(document["components"]["securitySchemes"]) == {"token", "session"}
    assert set(document["components"]["schemas"]["Error"]["properties"]) == {"error"}
