"""The organiser clicks Export on the demo event and downloads its report, in Chromium.
Exporting only reads: the demo event on the shared server stays as it was."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT_MS, screenshot

pytestmark = pytest.mark.e2e


def test_the_organiser_exports_the_demo_event(page, live_server):
    base = live_server["url"]
    page.goto(base + "/login")
    page.get_by_label("Email address").fill("organiser@plenary.example")
    page.get_by_label("Password").fill("plenary-organiser-demo")
    page.get_by_role("button", name="Log in").click()
    event_path = re.search(r"Plenary: http://\S+?(/events/\d+)/rooms/\d+", live_server["demo_output"]).group(1)

    page.goto(base + event_path)
    page.get_by_role("link", name="Export", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Export: Welcoming cities")
    screenshot(page, "export-choose")

    with page.expect_download(timeout=2 * TIMEOUT_MS) as pdf:  # WeasyPrint takes seconds on a busy machine
        page.get_by_role("link", name="PDF (print-ready)").click()
    assert pdf.value.suggested_filename.endswith(".pdf")
    assert Path(pdf.value.path()).read_bytes()[:5] == b"%PDF-"

    with page.expect_download() as markdown:
        page.get_by_role("link", name="Markdown").click()
    text = Path(markdown.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# Welcoming cities")
    for heading in ("## Participation", "Housing and first reception", "### Key takeaways", "Digest"):
        assert heading in text, heading

    with page.expect_download() as csv_file:
        page.get_by_role("link", name="CSV for Excel (UTF-8 with BOM)").click()
    assert Path(csv_file.value.path()).read_bytes()[:3] == b"\xef\xbb\xbf"
