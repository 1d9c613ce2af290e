"""The organiser clicks Export on the demo's ended webinar, writes the executive summary from
its draft and the next steps, asks for its report as PDF, Word and Markdown (each built by a
job, followed on its page) and downloads them, in Chromium; then the CSV, streamed. The report
holds the pre-event input and the feedback. Exporting only adds report files: the event stays
as it was."""
from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT_MS, axe_violations, screenshot

pytestmark = pytest.mark.e2e


def ask_for(page, format_name: str):
    """On the export page: ask for the report in this format, wait on its page for the
    download link (the job's progress comes live), download it, and go back."""
    page.get_by_role("button", name=format_name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Report: ")
    link = page.get_by_role("link", name=re.compile(r"^Download "))
    expect(link).to_be_visible(timeout=4 * TIMEOUT_MS)  # WeasyPrint takes seconds on a busy machine
    with page.expect_download() as download:
        link.click()
    page.get_by_role("link", name="Back to the export page").click()
    return download.value


def test_the_organiser_exports_the_demo_event(page, live_server):
    base = live_server["url"]
    page.goto(base + "/login")
    page.get_by_label("Email address").fill("organiser@plenary.example")
    page.get_by_label("Password").fill("plenary-organiser-demo")
    page.get_by_role("button", name="Log in").click()
    event_path = re.search(r"Event page: http://\S+?(/events/\d+)\s", live_server["demo_output"]).group(1)

    page.goto(base + event_path)
    page.get_by_role("link", name="Export", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Export: Pathways to work")
    screenshot(page, "export-choose")

    # The organiser starts from the draft, signs it off and adds next steps.
    page.get_by_role("link", name="Write the executive summary and next steps, add a logo").click()
    summary = page.get_by_label("Executive summary (Markdown)")
    expect(summary).to_have_value(re.compile(r"people registered"))  # the draft, from the figures
    summary.fill(summary.input_value() + "\n\nSigned off by the organising team.")
    page.get_by_label("Next steps and recommendations (Markdown)").fill(
        "- Publish the report\n- Invite the rooms' moderators to the programme committee")
    screenshot(page, "export-cover")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Export: Pathways to work")

    pdf = ask_for(page, "PDF (print-ready)")
    assert pdf.suggested_filename.endswith(".pdf")
    assert Path(pdf.path()).read_bytes()[:5] == b"%PDF-"

    word = ask_for(page, "Word document (DOCX, editable)")
    assert word.suggested_filename.endswith(".docx")
    headings = [p.text for p in docx.Document(word.path()).paragraphs
                if p.style.name == "Title" or p.style.name.startswith("Heading")]
    assert headings[0].startswith("Pathways to work")
    for heading in ("Executive summary", "Agenda and speakers", "Participation", "Pre-event input", "Feedback",
                    "Next steps and recommendations", "About this report"):
        assert heading in headings, heading
    text = "\n".join(p.text for p in docx.Document(word.path()).paragraphs)
    assert "Signed off by the organising team." in text
    assert "Invite the rooms' moderators to the programme committee" in text

    markdown = ask_for(page, "Markdown")
    text = Path(markdown.path()).read_text(encoding="utf-8")
    assert text.startswith("# Pathways to work")
    for heading in ("## Participation", "Childcare, care duties and flexible formats", "### Key takeaways", "Digest",
                    "## Pre-event input", "## Feedback", "Signed off by the organising team."):
        assert heading in text, heading

    with page.expect_download() as csv_file:
        page.get_by_role("link", name="CSV for Excel (UTF-8 with BOM)").click()
    assert Path(csv_file.value.path()).read_bytes()[:3] == b"\xef\xbb\xbf"
