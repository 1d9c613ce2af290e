"""A report's status page (/reports/<id>, docs/exports.md "Report files") in Chromium, on a
site set up as in production: Redis as job queue and message queue, the report built by
`flask worker` in a process of its own (started once the page waits, so that the page has
to follow the job). The organiser asks for the demo event's report as DOCX by keyboard from
the export page; with JavaScript the page shows the job's progress as it goes, without a
timed refresh, and reaches the download link by itself; without JavaScript it refreshes
itself until the link is there. Both give a Word document of the event. axe finds no WCAG
2.1 AA violation on the page, waiting or done, on a laptop and at a phone's width.
Screenshots: /tmp/shots/report-*.png."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import docx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import BIN, ROOT, TIMEOUT_MS, axe_violations, log_in, new_page, serve_demo
from tests.e2e.keyboard import shot, tab_to
from tests.realtime.live import OwnRedis

pytestmark = pytest.mark.e2e
ORGANISER = ("organiser@plenary.example", "plenary-organiser-demo")
PHONE = {"width": 390, "height": 844}
# Long enough for WeasyPrint-free DOCX on a busy machine, short enough to fail a hung worker.
WORKER_TIMEOUT_S = 4 * TIMEOUT_MS // 1000

# Remembers, across the page's own reloads (sessionStorage), every status the page showed.
WATCH_STATUS = """() => {
    const status = document.querySelector("[data-report-status]");
    const seen = () => JSON.parse(sessionStorage.getItem("seen-statuses") || "[]");
    const keep = () => sessionStorage.setItem("seen-statuses", JSON.stringify([...seen(), status.textContent]));
    keep();
    new MutationObserver(keep).observe(status, { childList: true, characterData: true, subtree: true });
}"""


@pytest.fixture(scope="module")
def site(demo_database, tmp_path_factory):
    """The demo on gunicorn with its own Redis; `site["run_worker"]()` runs the queued jobs
    (`flask worker --burst`) in a process of its own, as a deployment's worker would."""
    workdir = tmp_path_factory.mktemp("reports-site")
    redis = OwnRedis(workdir)
    redis.start()
    env = {"REDIS_URL": redis.url, "REPORTS_DIR": str(workdir / "reports")}
    try:
        with serve_demo(workdir, demo_database, env=env) as server:
            def run_worker() -> None:
                done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "worker", "--burst"], cwd=ROOT,
                                      env=server["env"], capture_output=True, text=True, timeout=WORKER_TIMEOUT_S)
                assert done.returncode == 0, done.stderr
            server["run_worker"] = run_worker
            server["event_path"] = re.search(r"Plenary: http://\S+?(/events/\d+)/rooms/\d+",
                                             server["demo_output"]).group(1)
            yield server
    finally:
        redis.stop()


@pytest.fixture
def organiser_page(browser, site):
    """organiser_page(javascript=True, viewport=None) -> the organiser, logged in, on the
    export page of the demo event. Fails the test if a page's console reported an error."""
    contexts, pages = [], []

    def open_page(javascript: bool = True, viewport: dict | None = None):
        context, page = new_page(browser, javascript=javascript, viewport=viewport)
        contexts.append(context)
        pages.append(page)
        log_in(page, site["url"], *ORGANISER)
        page.goto(f"{site['url']}/exports/event/{site['event_path'].rsplit('/', 1)[1]}")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Export: Welcoming cities")
        return page

    yield open_page
    errors = [error for page in pages for error in page.console_errors]
    for context in contexts:
        context.close()
    assert errors == [], f"the browser console reported errors: {errors}"


def check_word_document(download) -> None:
    assert download.suggested_filename.endswith(".docx")
    headings = [p.text for p in docx.Document(download.path()).paragraphs
                if p.style.name == "Title" or p.style.name.startswith("Heading")]
    assert headings[0].startswith("Welcoming cities") and "Participation" in headings


def test_with_javascript_the_page_follows_the_job_live(organiser_page, site):
    page = organiser_page()
    docx_button = page.get_by_role("button", name="Word document (DOCX, editable)")
    tab_to(page, docx_button)
    # The page reads the report's state once its socket is connected: from then on the job's
    # notices reach it.
    with page.expect_request(lambda r: re.search(r"/reports/\d+$", r.url) and r.resource_type == "fetch"):
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Report: ")
    expect(page.get_by_role("status")).to_have_text("Waiting to be built")
    # No timed refresh on a page whose script follows the job (it is for pages without one).
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    shot(page, "report-waiting")
    assert axe_violations(page) == []
    page.evaluate(WATCH_STATUS)

    site["run_worker"]()

    link = page.get_by_role("link", name=re.compile(r"^Download plenary-event-\d+-.*\.docx$"))
    expect(link).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Ready to download")
    seen = page.evaluate("JSON.parse(sessionStorage.getItem('seen-statuses'))")
    assert seen[0] == "Waiting to be built" and "Being built" in seen, seen  # shown live, as it went
    shot(page, "report-done")
    assert axe_violations(page) == []
    with page.expect_download() as download:
        link.click()
    check_word_document(download.value)

    page.set_viewport_size(PHONE)
    shot(page, "report-done-phone")
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_without_javascript_the_page_refreshes_itself_to_the_link(organiser_page, site):
    page = organiser_page(javascript=False, viewport=PHONE)
    page.get_by_role("button", name="Word document (DOCX, editable)").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Report: ")
    expect(page.get_by_role("status")).to_have_text("Waiting to be built")
    assert page.locator('meta[http-equiv="refresh"]').count() == 1
    expect(page.get_by_role("link", name="Reload")).to_be_visible()
    shot(page, "report-waiting-no-js")

    site["run_worker"]()

    link = page.get_by_role("link", name=re.compile(r"^Download plenary-event-\d+-.*\.docx$"))
    expect(link).to_be_visible()  # after the page's own refresh: nobody reloaded it
    assert page.locator('meta[http-equiv="refresh"]').count() == 0  # done: it stops refreshing
    with page.expect_download() as download:
        link.click()
    check_word_document(download.value)
    assert Path(download.value.path()).stat().st_size > 0
