"""A person's data rights in Chromium, as issue 15's "done when" reads: someone who took part
creates an API token (shown once) and reads with it, downloads a copy of their data and reads
it, then closes their account erasing what they wrote; afterwards their words are found
nowhere: not on the consultation's page, not in search, not through the API, and the token
and the password no longer work. axe finds no WCAG 2.1 AA violation on the profile.
Screenshots: test-artifacts/data-rights-*.png."""
from __future__ import annotations

import io
import secrets
import zipfile

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, axe_violations, live_app, log_in, new_page

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough password"


@pytest.fixture
def person(live_server):
    """A new participant who responded to the demo's consultation with a word no one else uses."""
    from forum.extensions import db
    from forum.models import Consultation
    from forum.models.base import utcnow
    from forum.services import accounts, posts

    marker = f"quokka{secrets.token_hex(4)}"
    email = f"{marker}@example.org"
    with live_app(live_server["database_url"]):
        user = accounts.register(email, PASSWORD, accounts.Profile(
            display_name=f"Rosa {marker.title()}", organisation="Kollektiv Ankommen",
            organisation_type="ngo", country="DE"))
        consultation = next(c for c in db.session.scalars(db.select(Consultation).order_by(Consultation.id))
                            if c.accepts_posts(utcnow()))
        posts.create_post(user, consultation, topic_id=consultation.topics[0].id,
                          body=f"Our {marker} mentoring scheme pairs newcomers with local volunteers.")
        path = f"/consultations/{consultation.id}"
    return {"email": email, "marker": marker, "consultation_path": path}


def test_a_person_takes_their_data_and_leaves_without_a_trace(browser, live_server, person):
    base, marker = live_server["url"], person["marker"]
    context, page = new_page(browser)
    try:
        log_in(page, base, person["email"], PASSWORD)
        page.goto(base + "/profile")
        assert axe_violations(page) == []

        # An API token, shown once, that reads as the person.
        page.get_by_label("Name", exact=True).fill("My notebook")
        page.get_by_label("Read only").check()
        page.get_by_role("button", name="Create the token").click()
        secret = page.locator("#new-token").input_value()
        assert secret.startswith("pln_")
        page.screenshot(path=str(ARTIFACTS / "data-rights-token.png"), full_page=True)
        page.goto(base + "/profile")
        assert secret not in page.content()
        api = page.request.get(base + "/api/v1/consultations", headers={"Authorization": f"Bearer {secret}"})
        assert api.status == 200 and api.json()["items"]

        # A copy of their data: built off the request, then downloaded and read.
        page.get_by_role("button", name="Ask for a copy of my data").click()
        link = page.get_by_role("link", name="Download")
        expect(link).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "data-rights-copy.png"))
        with page.expect_download() as download:
            link.click()
        archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
        assert {"index.html", "profile.json", "posts.json"} <= set(archive.namelist())
        assert marker in archive.read("posts.json").decode()
        index = archive.read("index.html").decode()
        assert "Kollektiv Ankommen" in index and marker in index

        # Closing the account, erasing what they wrote: logged out at once.
        page.goto(base + "/profile#close-account")
        page.get_by_label("Erase the contributions too").check()
        page.locator("#close-account").get_by_label("Your password").fill(PASSWORD)
        page.get_by_role("button", name="Close my account").click()
        expect(page.get_by_role("link", name="Log in")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "data-rights-closed.png"))

        # Their words are nowhere; the token and the password are dead.
        page.goto(base + person["consultation_path"])
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert marker not in page.content().lower()
        page.goto(base + f"/search?q={marker}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert page.locator("li.search-hit").count() == 0
        for path in ("/api/v1/consultations", f"/api/v1/consultations/{person['consultation_path'].rsplit('/', 1)[1]}"
                     "/posts?limit=100"):
            visitor = page.request.get(base + path)
            assert visitor.status == 200 and marker not in visitor.text().lower()
        assert page.request.get(base + "/api/v1/consultations",
                                headers={"Authorization": f"Bearer {secret}"}).status == 401
        assert page.console_errors == []
        page.goto(base + "/login")
        page.get_by_label("Email address").fill(person["email"])
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_response(lambda response: response.url.endswith("/login")
                                  and response.request.method == "POST") as refused:
            page.get_by_role("button", name="Log in").click()
        assert refused.value.status == 400  # the login form again, with its error
        expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    finally:
        context.close()
