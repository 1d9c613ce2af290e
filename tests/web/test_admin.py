"""User administration over HTTP: who may open it, searching, granting the organiser role."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import login
from tests.web.page import error_message, flashes, parse


def listed_emails(page) -> list[str]:
    return [row.find_all("td")[0].text() for row in page.one("table").one("tbody").find_all("tr")]


def test_visitors_are_sent_to_log_in(client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.path, parse_qs(location.query)) == ("/login", {"next": ["/admin/users"]})


@pytest.mark.parametrize("role", ["participant", "organiser"])
def test_non_admins_are_refused(client, make_user, role):
    target = make_user()
    login(client, make_user(role))

    response = client.get("/admin/users")
    assert response.status_code == 403
    assert error_message(parse(response)) == "You are not allowed to do this."
    assert client.post(f"/admin/users/{target.id}/roles", data={"is_organiser": "y"}).status_code == 403
    assert parse(client.get("/")).find("a", href="/admin/users") is None


def test_an_admin_searches_by_name_email_or_organisation(client, make_user):
    login(client, make_user("admin", email="root@example.org"))
    make_user(email="amina@example.org", display_name="Amina Diallo", organisation="Passerelles")
    make_user(email="bob@example.org", display_name="Bob", organisation="City of Ghent")
    make_user(email="carla@example.org", display_name="Carla", organisation="Passerelles Nord")

    assert listed_emails(parse(client.get("/admin/users?q=amina"))) == ["amina@example.org"]
    assert sorted(listed_emails(parse(client.get("/admin/users?q=PASSERELLES")))) == [
        "amina@example.org", "carla@example.org"]
    assert listed_emails(parse(client.get("/admin/users?q=ghent"))) == ["bob@example.org"]
    assert listed_emails(parse(client.get("/admin/users?q=nobody"))) == []
    everyone = parse(client.get("/admin/users"))
    assert len(listed_emails(everyone)) == 4
    assert everyone.one("p", class_="result-count").text() == "4 accounts"
    assert everyone.control("q").value() == ""


def test_an_admin_grants_the_organiser_role_and_it_takes_effect(app, client, make_user, reload):
    login(client, make_user("admin"))
    user = make_user(display_name="Future Organiser")
    their_browser = app.test_client()
    login(their_browser, user)
    assert their_browser.get("/consultations/new").status_code == 403

    page = parse(client.get("/admin/users?q=future"))
    form = page.one("form", class_="roles-form")
    assert form.get("action") == f"/admin/users/{user.id}/roles?q=future"
    assert "checked" not in form.control("is_organiser").attrs

    response = client.post(form.get("action"), data={"is_organiser": "y"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users?q=future"
    after = parse(client.get(response.headers["Location"]))
    assert flashes(after) == ["Roles of Future Organiser saved."]
    assert "checked" in after.one("form", class_="roles-form").control("is_organiser").attrs
    assert reload(user).is_organiser and not user.is_admin

    assert their_browser.get("/consultations/new").status_code == 200
    assert parse(their_browser.get("/")).find("a", href="/consultations/new") is not None

    client.post(f"/admin/users/{user.id}/roles", data={})  # both boxes unticked: the role goes
    assert their_browser.get("/consultations/new").status_code == 403


def test_an_admin_cannot_remove_their_own_admin_role(client, make_user, reload):
    admin = make_user("admin")
    login(client, admin)
    response = client.post(f"/admin/users/{admin.id}/roles", data={})
    assert response.status_code == 400
    assert error_message(parse(response)) == "You cannot remove your own admin role."
    assert reload(admin).is_admin
