"""The API's browsable reference at /api/v1/docs: Swagger UI (vendored under
static/vendor/swagger-ui/, no CDN) on the document at /api/v1/openapi.json, for people who
explore the API in a browser, with their session or a token (docs/api.md).

flask-smorest's own Swagger UI, ReDoc and RapiDoc pages stay off (OPENAPI_SWAGGER_UI_PATH and
the like unset): they load their scripts from a CDN, which our Content-Security-Policy forbids."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("api_reference", __name__)


@bp.get("/api/v1/docs")
def reference():
    return render_template("api/docs.html")
