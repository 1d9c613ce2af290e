"""The API reference at /api/v1/docs in Chromium: Swagger UI (vendored) shows the document under
our Content-Security-Policy (a refused script or style is a console error, which fails the
test), "Authorize" takes a personal access token and "Try it out" calls the API with it; and
without JavaScript the page says where the document is."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.conftest import live_app, new_page, screenshot

PARTICIPANT = "amina.diallo@passerelles-solidaires.example"


def _token(database_url: str) -> str:
    from forum.extensions import db
    from forum.models import User
    from forum.services import api_tokens

    with live_app(database_url):
        user = db.session.scalar(select(User).where(User.email == PARTICIPANT))
        return api_tokens.create_token(user, name="API reference test", scope="read", days=7).secret


def test_a_developer_authorizes_with_a_token_and_tries_an_operation(browser, live_server, page):
    secret = _token(live_server["database_url"])
    calls = []
    page.on("request", lambda request: calls.append(request) if "/api/v1/consultations" in request.url else None)
    page.goto(live_server["url"] + "/api/v1/docs")
    expect(page.get_by_role("heading", name="API reference", level=1)).to_be_visible()
    operation = page.locator("#operations-consultations-get_api_v1_consultations")
    expect(operation).to_be_visible()
    screenshot(page, "api-reference")

    page.get_by_role("button", name=re.compile("^Authorize")).first.click()
    dialog = page.locator(".modal-ux")
    dialog.get_by_role("textbox", name="auth-bearer-value").fill(secret)
    dialog.get_by_role("button", name="Apply credentials").first.click()
    dialog.get_by_role("button", name="Close").first.click()

    operation.locator(".opblock-summary-control").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator("input[placeholder=limit]").fill("2")
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tr.response .response-col_status").first
    expect(status).to_have_text("200")
    expect(operation.locator(".live-responses-table .microlight").first).to_contain_text('"next_cursor"')
    assert calls and calls[-1].headers.get("authorization") == f"Bearer {secret}"
    screenshot(page, "api-reference-tried")


def test_without_javascript_the_page_points_to_the_document(browser, live_server):
    context, page = new_page(browser, javascript=False)
    try:
        page.goto(live_server["url"] + "/api/v1/docs")
        expect(page.get_by_text(re.compile("^This reference needs JavaScript."))).to_be_visible()
        link = page.get_by_role("link", name="The OpenAPI document")
        assert link.get_attribute("href") == "/api/v1/openapi.json"
        assert page.console_errors == []
    finally:
        context.close()
