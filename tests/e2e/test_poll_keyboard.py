"""Polls by keyboard alone, and as a screen reader meets them, in Chromium, on a demo server of
its own (these tests vote): a score survey and a ranked-choice poll voted with Tab, the arrow
keys and Enter (the form posts: no live layer needed; with JavaScript on, the form is sent
as itself, see `send_the_form`); a refused vote puts the focus on the
error summary, whose links lead to the field; axe-core on a poll page with a vote form and
results (and breakdowns, for its organiser), and on a refused vote; the pages at 1280 and
390 px, wide tables scrolling in their own focusable, captioned region. Screenshots in
test-artifacts/."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT_MS, axe_violations, live_app, screenshot, serve_demo

pytestmark = pytest.mark.e2e
PASSWORDS = {"organiser@plenary.example": "plenary-organiser-demo"}
PARTICIPANT_PASSWORD = "plenary-participant-demo"
LONG_LABEL = ("Follow-up of employment outcomes over two years, with the regional observatories and the "
              "public employment services reporting together")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_database):
    """The demo, with polls of this module's own in its main consultation (where the demo's
    score survey is): {"url", ..., "polls": {name: id}}."""
    with serve_demo(tmp_path_factory.mktemp("poll-keyboard"), demo_database) as running:
        running["polls"] = make_polls(running["database_url"])
        yield running


def make_polls(database_url: str) -> dict[str, int]:
    from sqlalchemy import select

    from forum.demo import SURVEY_QUESTION
    from forum.extensions import db
    from forum.models import Poll, User
    from forum.services import polls

    with live_app(database_url):
        organiser = db.session.scalar(select(User).where(User.email == "organiser@plenary.example"))
        survey = db.session.scalar(select(Poll).where(Poll.question == SURVEY_QUESTION))
        consultation = survey.consultation
        made = {"survey": survey.id}
        for name, fields, options in (
            ("score", {"kind": "score", "scale_min": 1, "scale_max": 5,
                       "scale_labels": {"1": "Not useful", "5": "Very useful"}, "results_shown": "after_vote"},
             [("Small grants", "For small organisations"), ("Simplified costs", ""), (LONG_LABEL, "")]),
            ("ranked", {"kind": "ranked", "results_shown": "live"},
             [("Funding for small organisations", ""), ("Recognition of skills", "Qualifications too"),
              ("Services for women", ""), (LONG_LABEL, "")]),
            ("dots", {"kind": "dots", "points": 10, "results_shown": "live"},
             [("Mentoring", ""), ("Language courses", "Evening and weekend classes"), (LONG_LABEL, "")]),
        ):
            poll = polls.create_poll(organiser, consultation, {"question": f"Keyboard {name} poll?", **fields},
                                     options)
            polls.open_poll(organiser, poll)
            made[name] = poll.id
        # Someone has spread their points already: the dots poll shows results beside its form.
        dots = db.session.get(Poll, made["dots"])
        voter = db.session.scalar(select(User).where(User.email == "moderator.lea@plenary.example"))
        polls.cast_vote(voter, dots, {str(dots.options[0].id): 6, str(dots.options[2].id): 4})
        return made


def ballot(server, poll_id: int, email: str):
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import PollVote, User

    with live_app(server["database_url"]):
        return db.session.scalar(select(PollVote.choice).join(User, User.id == PollVote.user_id)
                                 .where(PollVote.poll_id == poll_id, User.email == email))


def option_ids(server, poll_id: int) -> list[int]:
    from forum.extensions import db
    from forum.models import Poll

    with live_app(server["database_url"]):
        return [o.id for o in db.session.get(Poll, poll_id).options]


@pytest.fixture
def open_as(browser, server):
    """open_as(email, javascript=True, viewport=None) -> a logged-in page."""
    contexts, pages = [], []

    def _open(email: str, javascript: bool = True, viewport: dict | None = None):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, locale="en-GB",
                                      java_script_enabled=javascript, reduced_motion="reduce")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.console_errors = []
        page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
        pages.append(page)
        # A refused vote answers 400 by design (the form again, with its errors): the browser
        # logs that page's status as an error; anything else still fails the test.
        page.on("response", lambda response: response.status == 400 and response.request.method == "POST"
                and "/vote" in response.url and page.console_errors.append("expected-400"))
        page.goto(server["url"] + "/login")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password").fill(PASSWORDS.get(email, PARTICIPANT_PASSWORD))
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        return page

    yield _open
    errors = []
    for page in pages:
        expected = page.console_errors.count("expected-400")
        for error in page.console_errors:
            if error == "expected-400":
                continue
            if expected and "status of 400" in error:
                expected -= 1
                continue
            errors.append(error)
    for context in contexts:
        context.close()
    assert errors == [], f"the browser console reported errors: {errors}"


def tab_to(page, selector: str, limit: int = 80) -> int:
    """From the top of the page, Tab until an element matching `selector` has the focus."""
    page.evaluate("() => { window.scrollTo(0, 0); document.activeElement && document.activeElement.blur(); }")
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} was not reached in {limit} Tab presses")


def focused(page):
    return page.locator("*:focus")


def send_the_form(page, javascript: bool) -> None:
    """Vote as the form does. Without JavaScript: Enter on the focused Vote button. With it, the
    live layer (static/js/polls.js) may take the form's submit event and vote over the socket;
    these tests are about the form's own round trip, so they submit it without that event
    (form.submit() fires none): the same POST, the same answer."""
    if javascript:
        page.evaluate("document.getElementById('vote').submit()")
    else:
        expect(focused(page)).to_have_accessible_name(re.compile("^(Vote|Change my vote)$"))
        page.keyboard.press("Enter")


def test_a_score_survey_by_keyboard_alone(open_as, server):
    poll_id = server["polls"]["score"]
    a, b, c = option_ids(server, poll_id)
    email = "eva.lindqvist@norrvik-uni.example"
    page = open_as(email, javascript=False)
    page.goto(f"{server['url']}/polls/{poll_id}")
    # Results after voting only: none yet.
    expect(page.locator("#poll-results table")).to_have_count(0)

    tab_to(page, f"input[name='score-{a}']")
    # A group answered with nothing yet: the focus lands on its checked "No answer".
    expect(focused(page)).to_have_id(f"score-{a}-none")
    expect(focused(page)).to_have_accessible_name("No answer")
    expect(page.get_by_role("group", name="Small grants")).to_have_accessible_description("For small organisations")
    page.keyboard.press("ArrowLeft")  # to the top of the scale, the words read with the value
    expect(focused(page)).to_have_accessible_name("5 Very useful")
    expect(focused(page)).to_be_checked()
    page.keyboard.press("ArrowLeft")
    expect(focused(page)).to_have_id(f"score-{a}-4")
    expect(focused(page)).to_be_checked()

    page.keyboard.press("Tab")  # the next option's scale
    expect(focused(page)).to_have_id(f"score-{b}-none")
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    expect(focused(page)).to_have_accessible_name("1 Not useful")
    page.keyboard.press("Tab")  # the third one, left unanswered
    expect(focused(page)).to_have_id(f"score-{c}-none")
    page.keyboard.press("Tab")
    expect(focused(page)).to_have_accessible_name("Vote")
    page.keyboard.press("Enter")

    expect(page.locator(".flash")).to_contain_text("Your vote has been saved.")
    expect(page.get_by_role("region", name="Scores per option, from 1 to 5")).to_be_visible()
    assert ballot(server, poll_id, email) == {str(a): 4, str(b): 1}
    screenshot(page, "poll-keyboard-score-voted")


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_ranked_choice_poll_by_keyboard_alone_and_a_refusal_leads_to_its_field(open_as, server, javascript):
    poll_id = server["polls"]["ranked"]
    ids = option_ids(server, poll_id)
    email = "eva.lindqvist@norrvik-uni.example" if javascript else "jonas.weber@neuhafen-stadt.example"
    page = open_as(email, javascript=javascript)
    page.goto(f"{server['url']}/polls/{poll_id}")
    expect(page.locator("form#vote")).to_be_visible()

    tab_to(page, f"select#rank-{ids[0]}")
    expect(focused(page)).to_have_accessible_name("Funding for small organisations (your rank)")
    page.keyboard.press("ArrowDown")  # Not ranked -> 1st
    expect(focused(page)).to_have_value("1")
    page.keyboard.press("Tab")
    expect(focused(page)).to_have_id(f"rank-{ids[1]}")
    expect(focused(page)).to_have_accessible_description("Qualifications too")
    page.keyboard.press("ArrowDown")  # 1st again: refused
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    send_the_form(page, javascript)

    # Refused: the error summary has the focus, and says what to correct.
    summary = page.locator("#vote-errors")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Give each option a different rank.")
    expect(page).to_have_title(re.compile(r"^Error: "))
    if javascript:
        page.keyboard.press("Tab")
        expect(focused(page)).to_have_attribute("data-error-link", "")
        page.keyboard.press("Enter")
        expect(focused(page)).to_have_id(f"rank-{ids[1]}")
        expect(focused(page)).to_have_accessible_description(re.compile("Give each option a different rank"))
    else:
        page.locator(f"#rank-{ids[1]}").focus()  # a screen reader's own jump to the invalid field
    expect(focused(page)).to_have_value("1")  # what was chosen is kept
    page.keyboard.press("ArrowDown")  # 2nd
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # 3rd
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    send_the_form(page, javascript)

    expect(page.locator(".flash")).to_contain_text("Your vote has been saved.")
    expect(page.get_by_role("region", name="Borda points per option")).to_be_visible()
    assert ballot(server, poll_id, email) == [ids[0], ids[1], ids[2]]


def test_a_dots_vote_announces_its_total_and_meets_wcag(open_as, server):
    poll_id = server["polls"]["dots"]
    ids = option_ids(server, poll_id)
    page = open_as("eva.lindqvist@norrvik-uni.example")
    page.goto(f"{server['url']}/polls/{poll_id}")
    total = page.locator("output#points-total")
    expect(total).to_have_text("Points given: 0 of 10.")
    expect(total).to_have_role("status")
    # A page with a vote form and results: no serious or critical WCAG 2.1 AA violation.
    assert axe_violations(page) == []
    screenshot(page, "poll-dots-form-and-results-1280")

    tab_to(page, f"input#points-{ids[0]}")
    page.keyboard.type("7")
    expect(total).to_have_text("Points given: 7 of 10.")
    page.keyboard.press("Tab")
    expect(focused(page)).to_have_accessible_description(re.compile(r"Points given: 7 of 10\."))
    page.keyboard.type("5")
    expect(total).to_have_text("Points given: 12 of 10. More than you have: take some away.")
    send_the_form(page, javascript=True)

    expect(page.locator("#vote-errors")).to_be_focused()
    expect(total).to_have_text("Points given: 12 of 10. More than you have: take some away.")
    assert axe_violations(page) == []
    screenshot(page, "poll-dots-refused-1280")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_survey_with_results_and_breakdowns_for_its_organiser(open_as, server, width):
    """The demo's survey, answered by many: its organiser sees the form, the results, the
    breakdowns and their warning. Nothing overflows the page; each table scrolls in its own
    region, named by its caption, that the keyboard can focus."""
    page = open_as("organiser@plenary.example", viewport={"width": width, "height": 900})
    page.goto(f"{server['url']}/polls/{server['polls']['survey']}")
    expect(page.locator(".poll-breakdowns")).to_be_visible()
    screenshot(page, f"poll-survey-organiser-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator(".poll-chart").first.get_attribute("aria-hidden") == "true"
    tables = page.locator("#poll-results table")
    assert tables.count() >= 3
    for i in range(tables.count()):
        table = tables.nth(i)
        caption = table.locator("caption").inner_text().strip()
        region = page.get_by_role("region", name=caption, exact=True)
        expect(region).to_have_count(1)
        assert region.evaluate("(el, table) => el.contains(table)", table.element_handle())
        assert table.locator("thead th:not([scope=col])").count() == 0
        assert table.locator("tbody th:not([scope=row])").count() == 0
        if region.evaluate("el => el.scrollWidth > el.clientWidth"):
            region.focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function("el => el.scrollLeft > 0", arg=region.element_handle())
    for warning in page.locator(".poll-warning").all():
        described = page.locator(f"[aria-describedby~='{warning.get_attribute('id')}']")
        expect(described).to_have_count(1)
        expect(described).to_have_role("region")
    assert axe_violations(page) == []


def test_the_other_kinds_on_a_phone(open_as, server):
    """The keyboard polls' pages at 390 px, after the votes above or not: nothing overflows."""
    page = open_as("jonas.weber@neuhafen-stadt.example", viewport=PHONE)
    for name in ("score", "ranked", "dots"):
        page.goto(f"{server['url']}/polls/{server['polls'][name]}")
        expect(page.locator("form#vote")).to_be_visible()
        screenshot(page, f"poll-{name}-390")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        legend = page.locator("fieldset.poll-score > legend").last
        if name == "score":  # a long option's legend wraps inside its box
            box, group = legend.bounding_box(), page.locator("fieldset.poll-score").last.bounding_box()
            assert box["x"] >= group["x"] and box["x"] + box["width"] <= group["x"] + group["width"] + 1
    assert axe_violations(page) == []


def test_an_organiser_deletes_a_draft_by_keyboard_after_confirming(open_as, server):
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import Poll, User
    from forum.services import polls

    with live_app(server["database_url"]):
        organiser = db.session.scalar(select(User).where(User.email == "organiser@plenary.example"))
        consultation = db.session.get(Poll, server["polls"]["survey"]).consultation
        draft_id = polls.create_poll(organiser, consultation, {"kind": "single", "question": "A draft to throw away?"},
                                     ["Yes", "No"]).id
    page = open_as("organiser@plenary.example")
    page.goto(f"{server['url']}/polls/{draft_id}")
    tab_to(page, f"a[href='/polls/{draft_id}/delete']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Delete this draft poll?")).to_be_visible()
    expect(page.locator("blockquote")).to_contain_text("A draft to throw away?")
    assert axe_violations(page) == []
    tab_to(page, "button.button-danger")
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("The draft poll has been deleted.")
    expect(page.locator(f"#poll-card-{draft_id}")).to_have_count(0)
    with live_app(server["database_url"]):
        assert db.session.get(Poll, draft_id) is None
