"""Browser tests: a real server (gunicorn) on a free port with the demo data, driven by
Playwright in Debian's Chromium. Screenshots go to test-artifacts/.

Independence: the demo database is made once (`flask db upgrade` + `flask demo`) and every
server starts from a copy of it. Tests on the shared session server only read the demo's
objects; a test that changes something makes objects of its own first (`live_app` runs the
services against the server's database), so that no test sees another's changes, whatever
the order.

Load: CI machines are busy. Every wait is on a condition (Playwright's auto-waiting
`expect`) with a generous upper bound (`TIMEOUT_MS`, 30 s by default, E2E_TIMEOUT_MS to
change it): a bound costs nothing when things are quick, and only a real failure reaches it.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
SECRET_KEY = "e2e-secret"
BIN = Path(sys.executable).parent
# The longest a page may take to show what a test waits for (actions, navigations, `expect`).
TIMEOUT_MS = int(os.environ.get("E2E_TIMEOUT_MS", "30000"))
expect.set_options(timeout=TIMEOUT_MS)  # Playwright's own default is 5 s: too short under load

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)  # polling a condition, not synchronising on time
    raise RuntimeError(f"no answer from {url} within {timeout}s")


def server_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY, RATELIMIT_ENABLED="false")
    env.pop("REDIS_URL", None)
    return env


def make_demo_database(directory: Path) -> dict:
    """A SQLite file in `directory`, migrated and filled with `flask demo`.
    {"path": Path, "demo_output": what `flask demo` printed (the logins and room links)}."""
    path = directory / "demo.db"
    env = server_env(f"sqlite:///{path}")
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    demo = subprocess.run(flask + ["demo"], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return {"path": path, "demo_output": demo.stdout}


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> dict:
    """The demo database, made once for the session; servers run on copies of it."""
    return make_demo_database(tmp_path_factory.mktemp("demo"))


def copy_demo_database(demo_database: dict, directory: Path) -> str:
    """A copy of the demo database in `directory`; returns its SQLAlchemy URL."""
    target = directory / "plenary.db"
    shutil.copyfile(demo_database["path"], target)
    return f"sqlite:///{target}"


@contextmanager
def serve_demo(workdir: Path, demo_database: dict | None = None, env: dict[str, str] | None = None) -> Iterator[dict]:
    """gunicorn on a copy of the demo database in `workdir` (made there first when no
    `demo_database` is given): {"url", "database_url", "database" (the file), "demo_output",
    "env" (the server's environment, for other processes of the same site)}. For tests that
    need a server of their own; pass the session's `demo_database` to save migrating and
    loading the demo again, and `env` for settings of its own (say REDIS_URL)."""
    demo_database = demo_database or make_demo_database(workdir)
    database_url = copy_demo_database(demo_database, workdir)
    environment = {**server_env(database_url), **(env or {})}
    port = _free_port()
    log = open(workdir / "server.log", "w")
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--worker-class", "gevent", "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "wsgi:app"],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url + "/", process)
        yield {"url": base_url, "database_url": database_url, "database": workdir / "plenary.db",
               "demo_output": demo_database["demo_output"], "env": environment}
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def live_server(demo_database, tmp_path_factory):
    """The app as a user gets it: migrated, demo loaded, served by gunicorn; shared by the
    session. Change nothing of the demo's on it: make your own objects with `live_app` (see
    the module docstring), or start a server of your own with `serve_demo`."""
    with serve_demo(tmp_path_factory.mktemp("live"), demo_database) as server:
        yield server


@contextmanager
def live_app(database_url: str) -> Iterator:
    """An app context on a live server's database, to make a test's own objects with the
    services; commits at the end. The server reads them from the database like any other."""
    from forum import create_app
    from forum.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SOCKETIO_ASYNC_MODE": "threading",
                      "SOCKETIO_MESSAGE_QUEUE": None, "SECRET_KEY": SECRET_KEY, "RATELIMIT_ENABLED": False})
    try:
        with app.app_context():
            yield app
            db.session.commit()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def room_path(room) -> str:
    """A room's page, as forum.web.room_url builds it, inside live_app (no request there)."""
    from flask import current_app

    from forum.web import room_url

    with current_app.test_request_context():
        return room_url(room)


def open_actions(message) -> None:
    """Open the "Actions" disclosure of a message or post (one per message holds its actions),
    unless it is open already: a live refresh of the message may have closed it, or not."""
    menu = message.locator("details.message-menu").first
    if menu.get_attribute("open") is None:
        menu.locator(":scope > summary").click()
    expect(menu).to_have_attribute("open", "")


def new_page(browser, timeout_ms: int = TIMEOUT_MS, *, viewport: dict | None = None, javascript: bool = True):
    """(context, page): a browser context of its own (cookies, storage) with one page whose
    console errors are collected in `page.console_errors`. It prefers reduced motion: no smooth
    scrolling, so a page is where a test put it, however slowly its frames are drawn."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, locale="en-GB",
                                  reduced_motion="reduce", java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.console_errors = []

    def keep(message) -> None:
        if message.type == "error":  # with where it happened: a failed load names no URL itself
            page.console_errors.append(f"{message.text} [{message.location.get('url')} at {page.url}]")
    page.on("console", keep)
    return context, page


def log_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_attached()


@contextmanager
def page_opener(browser, base_url: str) -> Iterator:
    """open_page(email, password, path=None, viewport=None, javascript=True): a page in a
    browser context of its own, logged in, on `path` (live, when its script runs). On leaving,
    fails if any page's console reported an error."""
    contexts, pages = [], []

    def open_page(email: str, password: str, path: str | None = None, *, viewport: dict | None = None,
                  javascript: bool = True):
        context, page = new_page(browser, viewport=viewport, javascript=javascript)
        contexts.append(context)
        pages.append(page)
        log_in(page, base_url, email, password)
        if path is not None:
            page.goto(base_url + path)
            if javascript:
                expect(page.locator("[data-live-status]").first).to_have_attribute("data-state", "live")
        return page

    try:
        yield open_page
        errors = [error for page in pages for error in page.console_errors]
        assert errors == [], f"the browser console reported errors: {errors}"
    finally:
        for context in contexts:
            context.close()


@contextmanager
def signed_in_pages(browser, base_url: str, accounts: dict[str, tuple[str, str]]) -> Iterator[dict]:
    """A page per account (name: (email, password)), each in a browser context of its own,
    logged in. On leaving, fails if any page's console reported an error."""
    with page_opener(browser, base_url) as open_page:
        yield {name: open_page(email, password) for name, (email, password) in accounts.items()}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium, or run .ci/install-packages)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    # Console errors (a script failing, a resource or inline code refused by our CSP) fail the test.
    context, page = new_page(browser)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        screenshot(page, f"FAILED-{request.node.name}")
    errors = page.console_errors
    context.close()
    assert errors == [], f"the browser console reported errors: {errors}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core on the current page against WCAG 2.0/2.1 A and AA rules."""
    page.evaluate(AXE)  # evaluated through the DevTools protocol, so our CSP does not block it
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in impacts
    ]
