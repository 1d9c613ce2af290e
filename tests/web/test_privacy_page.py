"""The privacy notice (/privacy): what is stored, why, on what legal basis and for how long (the
retention periods as the site is configured), and how to use one's rights in the app."""
from __future__ import annotations

from tests.factories import login
from tests.web.page import parse


def _page(client):
    response = client.get("/privacy")
    assert response.status_code == 200
    return parse(response)


def test_it_says_what_is_stored_why_and_for_how_long(client):
    page = _page(client)
    assert page.one("h1").text() == "Privacy notice"
    assert [h.text() for h in page.find_all("h2")] == [
        "What is stored, why and for how long", "Who sees what", "Your rights, and how to use them", "Cookies"]
    assert [h.text() for h in page.find_all("h3")] == [
        "Your account", "What you write and do", "Login records", "Report files", "Downloads of your data",
        "API tokens", "Email", "The moderation log"]
    text = page.one("article").text()
    for basis in ("Article 6(1)(b)", "Article 6(1)(a)", "Article 6(1)(f)"):
        assert basis in text
    assert "the address is deleted after 30 days, the whole record after 180 days." in text
    assert "a report file is kept 7 days" in text and "deleted after 7 days" in text
    assert "contact the organisers" not in text


def test_the_periods_are_the_sites_own(app, client):
    app.config.update(PRIVACY_IP_RETENTION_DAYS=1, PRIVACY_LOGIN_RETENTION_DAYS=90, REPORTS_KEEP_DAYS=3,
                      PERSONAL_DATA_KEEP_DAYS=2)
    text = _page(client).one("article").text()
    assert "the address is deleted after 1 day, the whole record after 90 days." in text
    assert "a report file is kept 3 days" in text and "deleted after 2 days" in text


def test_the_rights_lead_to_where_they_are_used(client, make_user):
    rights = _page(client).by_id("rights").ancestors().__next__()
    links = {a.get("href") for a in rights.find_all("a")}
    assert {"/profile", "/profile#close-account"} <= links
    login(client, make_user())
    profile = parse(client.get("/profile"))
    assert profile.by_id("close-account").find("a", href="/privacy") is not None
