"""The accessibility statement (/accessibility): linked from every page's footer, after the
EU model (status, known limitations, how it was prepared, contact, enforcement), with the
site's contact when one is configured, in the reader's language."""
from __future__ import annotations

from tests.web.page import parse


def _page(client, url="/accessibility", **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return parse(response)


def test_every_page_links_the_statement(client):
    for url in ("/", "/login", "/privacy"):
        link = _page(client, url).one("footer").find("a", href="/accessibility")
        assert link is not None and link.text() == "Accessibility", url


def test_the_statement_follows_the_eu_model(client):
    page = _page(client)
    assert page.one("h1").text() == "Accessibility statement"
    assert [h.text() for h in page.find_all("h2")] == [
        "Compliance status", "Content that is not fully accessible", "Preparation of this statement",
        "Feedback and contact", "Enforcement procedure"]
    text = page.one("article").text()
    assert "partially compliant" in text and "WCAG" in text and "November 30, 2026" in text
    assert len(page.one("article").one("ul").find_all("li")) >= 3  # the known limitations, named
    assert "write to the administrators of this site" in text  # no contact configured


def test_the_configured_contact_is_given(app, client):
    app.config["ACCESSIBILITY_CONTACT"] = "access@city.example"
    text = _page(client).one("article").text()
    assert "access@city.example" in text and "administrators of this site" not in text


def test_the_statement_in_italian(client):
    page = _page(client, **{"Accept-Language": "it"})
    assert page.one("h1").text() == "Dichiarazione di accessibilità"
