"""The API's reference: the browsable page at /api/v1/docs (vendored Swagger UI, our CSP
unchanged), the OpenAPI document's conventions (every operation lists the statuses it gives,
no catch-all), and the refusals the foundation makes before any area's view runs."""
from __future__ import annotations

import re
from pathlib import Path

import marshmallow as ma
import pytest

from forum import create_app
from forum.api import Blueprint, unstorable
from forum.web import CONTENT_SECURITY_POLICY
from tests.web.page import parse

ROOT = Path(__file__).resolve().parents[2]


def test_the_reference_page_loads_vendored_swagger_ui_under_our_csp(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    page = parse(response)
    scripts = [tag.get("src") for tag in page.find_all("script") if tag.get("src")]
    styles = [tag.get("href") for tag in page.find_all("link", rel="stylesheet")]
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in scripts
    assert "/static/vendor/swagger-ui/swagger-ui.css" in styles
    assert all(src.startswith("/static/") for src in scripts + styles)  # no CDN
    assert page.find("script", type="module", src="/static/js/api_docs.js") is not None
    for asset in scripts + styles:
        assert (ROOT / asset.lstrip("/")).is_file(), asset
    assert page.by_id("swagger-ui").get("data-url") == "/api/v1/openapi.json"
    assert "needs JavaScript" in page.one(**{"data-api-docs-without-script": True}).text()
    assert page.find("a", href="/api/v1/openapi.json") is not None


def test_the_page_script_starts_swagger_ui_on_our_document():
    script = (ROOT / "static/js/api_docs.js").read_text(encoding="utf-8")
    assert "window.SwaggerUIBundle(" in script
    assert "validatorUrl: null" in script  # Swagger UI would send the document elsewhere
    assert "X-CSRFToken" in script


@pytest.mark.parametrize("path", ["/api/v1/swagger-ui", "/api/v1/redoc", "/api/v1/rapidoc"])
def test_flask_smorests_own_pages_stay_off(client, path):
    """They load their scripts from a CDN."""
    assert client.get(path).status_code == 404


def test_the_document_says_what_every_operation_can_answer(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["servers"] == [{"url": "/", "description": "This Plenary site"}]
    assert "PaginationMetadata" not in document["components"]["schemas"]
    operations = [(path, method, operation) for path, item in document["paths"].items()
                  for method, operation in item.items() if method != "parameters"]
    assert operations
    for path, method, operation in operations:
        statuses = set(operation["responses"])
        assert "default" not in statuses, (method, path)
        assert {"401", "503"} <= statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)
        if method not in ("get", "head", "options"):
            assert {"400", "403", "429"} <= statuses, (method, path)
        assert operation.get("summary"), (method, path)
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            assert not schema.get("nullable") and None not in schema.get("enum", []), (method, path, parameter)
    busy = document["components"]["responses"]["Busy"]
    assert "Retry-After" in busy["headers"]
    examples = document["components"]["responses"]["BadRequest"]["content"]["application/json"]["examples"]
    assert {name: example["value"]["error"]["code"] for name, example in examples.items()} == {
        "invalid": "invalid", "csrf": "csrf"}


def test_odd_text_is_found_wherever_it_is():
    assert unstorable({"body": "fine", "options": ["a", "b\x00"]}) == "options.1"
    assert unstorable({"nested": {"\ud800": 1}}) == "nested.\ud800"
    assert unstorable("\ud83d") == "_schema"
    assert unstorable({"body": "😀 e\u0301 \u202e", "n": 3, "none": None}) is None


def test_a_good_json_body_goes_through(echo_app):
    response = echo_app.test_client().post("/api/v1/open", json={"text": "😀 e\u0301"})
    assert response.status_code == 200 and response.get_json() == {"text": "😀 e\u0301"}


class _Echo(ma.Schema):
    text = ma.fields.String(required=True)


@pytest.fixture(scope="module")
def echo_app():
    """An app with two more areas that echo what they are sent: "echo", as any area, and
    "open", without authentication, to see the arguments parser alone. No database is read."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    for tag in ("echo", "open"):
        bp = Blueprint(tag, __name__, url_prefix=f"/{tag}")

        @bp.post("")
        @bp.arguments(_Echo)
        @bp.response(200, _Echo)
        def echo(data):
            return data

        @bp.get("")
        @bp.arguments(_Echo, location="query")
        @bp.response(200, _Echo)
        def echo_query(data):
            return data

        if tag == "open":
            bp.before_request_funcs.clear()
        app.extensions["plenary-api"].register_blueprint(bp)
    return app


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    return error


def test_a_visitor_writing_is_told_to_send_a_token(echo_app):
    error = _error(echo_app.test_client().post("/api/v1/echo", json={"text": "hi"}), 401, "unauthorized")
    assert "token" in error["message"]


@pytest.mark.parametrize("body", [b'{"text": "\\u0000"}', b'{"text": "\\ud800"}', b'{"text": "a\\udfffb"}'])
def test_text_no_database_can_store_is_refused_before_any_view(echo_app, body):
    client = echo_app.test_client()
    error = _error(client.post("/api/v1/open", data=body, content_type="application/json"), 400, "invalid")
    assert list(error["fields"]) == ["text"]


def test_odd_query_text_is_refused_too(echo_app):
    client = echo_app.test_client()
    error = _error(client.get("/api/v1/open?text=a%00b"), 400, "invalid")
    assert list(error["fields"]) == ["text"]
    assert client.get("/api/v1/open?text=%F0%9F%98%80").get_json() == {"text": "😀"}


def test_a_body_that_is_not_json_is_refused_clearly(echo_app):
    response = echo_app.test_client().post("/api/v1/open", data=b'{"text": ', content_type="application/json")
    error = _error(response, 400, "bad_request")
    assert re.search("JSON", error["message"])
