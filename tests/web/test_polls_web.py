"""Poll pages over HTTP: the organisers' form, voting by form for every kind, refusals, and
who sees results and breakdowns."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.models import Poll, PollVote
from forum.models.polls import PollStatus
from forum.services import polls as service
from tests.factories import login
from tests.web.page import flashes, parse


@pytest.fixture
def count(db):
    def _count(model) -> int:
        db.session.expire_all()
        return db.session.scalar(select(func.count(model.id)))
    return _count


def vote(client, poll, data):
    return client.post(f"/polls/{poll.id}/vote", data=data)


# --- Setting up ---------------------------------------------------------------------

def test_an_organiser_creates_a_score_poll_from_the_consultation(client, make_consultation, count):
    consultation = make_consultation(topics=2)
    login(client, consultation.owner)
    page = parse(client.get(f"/consultations/{consultation.id}/polls/new?topic={consultation.topics[1].id}"))
    assert page.control("topic_id").value() == str(consultation.topics[1].id)

    response = client.post(f"/consultations/{consultation.id}/polls/new", data={
        "kind": "score", "question": "How useful is each option?", "topic_id": consultation.topics[1].id,
        "options": "Small grants — for small organisations\nSimplified cost options\n\n",
        "scale_min": "1", "scale_max": "5", "scale_labels": "1 = Not at all\n5 = Very useful",
        "results_shown": "after_vote", "votes_changeable": "y"})
    assert response.status_code == 302
    poll = Poll.query.one()
    assert (poll.kind.value, poll.status, poll.topic_id) == ("score", PollStatus.DRAFT, consultation.topics[1].id)
    assert [(o.label, o.description) for o in poll.options] == [
        ("Small grants", "for small organisations"), ("Simplified cost options", "")]
    assert poll.scale_labels == {"1": "Not at all", "5": "Very useful"}

    page = parse(client.get(f"/consultations/{consultation.id}"))
    card = page.by_id(f"poll-card-{poll.id}")
    assert card.one("a", href=f"/polls/{poll.id}").text() == "How useful is each option?"
    # The topic says it has a poll too.
    assert page.by_id(f"topic-{consultation.topics[1].id}").one("a", href=f"/polls/{poll.id}")


def test_the_anonymous_choice_warns_that_live_results_show_each_vote_as_it_arrives(client, make_consultation):
    consultation = make_consultation()
    login(client, consultation.owner)
    page = parse(client.get(f"/consultations/{consultation.id}/polls/new"))
    box = page.control("anonymous")
    hint = page.by_id(box.get("aria-describedby"))
    assert "each new vote shows in them as it arrives" in hint.text()
    assert "show the results after the poll closes" in hint.text()


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"options": "Only one"}, "options", "Give from 2 to 20 options."),
    ({"question": ""}, "question", "Write the question first."),
    ({"kind": "dots", "points": "500"}, "points", "Give each voter from 1 to 100 points to spread."),
    ({"kind": "multiple", "max_choices": "5"}, "max_choices", "The most options one may choose"),
    ({"kind": "score", "scale_labels": "one = bad"}, "scale_labels", "Write each line as a value"),
    ({"kind": "score", "scale_max": "x"}, "scale_max", ""),
    ({"closes_at": "2001-01-01T10:00"}, "closes_at", "Choose a time in the future."),
], ids=["one option", "no question", "too many points", "max choices", "scale words", "scale not a number",
        "closes in the past"])
def test_a_bad_poll_form_answers_400_with_what_was_typed_and_stores_nothing(client, make_consultation, count,
                                                                           data, field, message):
    consultation = make_consultation()
    login(client, consultation.owner)
    form = {"kind": "single", "question": "Which one?", "options": "A\nB", "results_shown": "live", **data}
    response = client.post(f"/consultations/{consultation.id}/polls/new", data=form)
    assert response.status_code == 400
    page = parse(response)
    assert message in page.field_error(field)
    assert page.control("options").value() == form["options"]
    assert count(Poll) == 0


def test_a_co_moderator_creates_a_poll_in_their_room_and_not_in_another(client, make_event, count):
    event = make_event()
    room, other = event.breakout_rooms
    login(client, event.test_moderators[1][0])
    data = {"kind": "single", "question": "Ready?", "options": "Yes\nNo", "results_shown": "live"}
    assert client.post(f"/events/{event.id}/rooms/{room.id}/polls/new", data=data).status_code == 302
    assert client.post(f"/events/{event.id}/rooms/{other.id}/polls/new", data=data).status_code in (403, 404)
    assert count(Poll) == 1
    page = parse(client.get(f"/events/{event.id}/rooms/{room.id}"))
    assert page.one("a", href=f"/polls/{Poll.query.one().id}").text() == "Ready?"


def test_participants_cannot_reach_the_organisers_tools(client, make_user, make_poll):
    poll = make_poll(status="draft")
    login(client, make_user())
    assert client.get(f"/consultations/{poll.consultation_id}/polls/new").status_code == 403
    assert client.get(f"/polls/{poll.id}").status_code == 404  # a draft is the organisers'
    assert client.post(f"/polls/{poll.id}/open").status_code == 404
    opened = make_poll()
    assert client.post(f"/polls/{opened.id}/close").status_code == 403
    assert client.get(f"/polls/{opened.id}/edit").status_code == 403


def test_an_organiser_edits_a_draft_then_opens_closes_and_publishes(client, db, make_poll):
    poll = make_poll(status="draft", kind="ranked")
    login(client, poll.consultation.owner)
    page = parse(client.get(f"/polls/{poll.id}/edit"))
    assert page.control("options").value() == "Option 1 — About option 1\nOption 2 — About option 2\n" \
                                               "Option 3 — About option 3"
    response = client.post(f"/polls/{poll.id}/edit", data={
        "kind": "ranked", "question": "Order these", "options": "X\nY\nZ\nW", "results_shown": "after_close"})
    assert response.status_code == 302
    for action in ("open", "close", "breakdown"):
        assert client.post(f"/polls/{poll.id}/{action}").status_code == 302
    db.session.expire_all()
    poll = db.session.get(Poll, poll.id)
    assert [o.label for o in poll.options] == ["X", "Y", "Z", "W"]
    assert poll.status is PollStatus.CLOSED and poll.breakdown_published
    # Opened: the edit page sends back to the poll.
    assert client.get(f"/polls/{poll.id}/edit").status_code == 302


def test_unknown_polls_are_not_found(client):
    assert client.get("/polls/99999").status_code == 404
    assert client.get("/polls/99999/results").status_code == 404
    assert client.get(f"/polls/{2**40}").status_code == 404


# --- Voting by form -------------------------------------------------------------------

def ballot_of(db, poll):
    db.session.expire_all()
    return db.session.scalar(select(PollVote.choice).where(PollVote.poll_id == poll.id))


@pytest.mark.parametrize("kind", ["single", "multiple", "score", "ranked", "dots"])
def test_the_vote_form_of_each_kind_is_labelled_and_stores_the_ballot(client, db, make_user, make_poll, kind):
    poll = make_poll(kind=kind)
    a, b, c = (o.id for o in poll.options)
    login(client, make_user())
    page = parse(client.get(f"/polls/{poll.id}"))
    form = page.one("form", id="vote")
    assert form.get("data-poll-vote") == str(poll.id)
    assert form.find("fieldset").find("legend").text() == poll.question
    for control in form.find_all("input") + form.find_all("select"):
        if control.get("type") == "hidden":
            continue
        assert form.one("label", **{"for": control.get("id")}), control.get("id")

    data, expected = {
        "single": ({"choice": str(b)}, [b]),
        "multiple": ({"choice": [str(a), str(c)]}, [a, c]),
        "score": ({f"score-{a}": "5", f"score-{b}": "1", f"score-{c}": ""}, {str(a): 5, str(b): 1}),
        "ranked": ({f"rank-{a}": "2", f"rank-{b}": "", f"rank-{c}": "1"}, [c, a]),
        "dots": ({f"points-{a}": "7", f"points-{b}": "3", f"points-{c}": "0"}, {str(a): 7, str(b): 3}),
    }[kind]
    response = vote(client, poll, data)
    assert response.status_code == 302
    assert ballot_of(db, poll) == expected
    # The form shows the ballot again, to change it.
    page = parse(client.get(f"/polls/{poll.id}"))
    if kind == "ranked":
        assert page.control(f"rank-{c}").value() == "1"
    if kind == "single":
        assert "checked" in page.one("input", id=f"option-{b}").attrs
    assert "Change my vote" in page.one("form", id="vote").text()


def test_the_score_form_shows_the_words_of_the_scale(client, make_user, make_poll):
    poll = make_poll(kind="score")
    login(client, make_user())
    page = parse(client.get(f"/polls/{poll.id}"))
    option = poll.options[0]
    assert page.one("label", **{"for": f"score-{option.id}-1"}).text() == "1 Not at all"
    assert page.one("label", **{"for": f"score-{option.id}-5"}).text() == "5 Fully"
    assert page.find("fieldset", class_="poll-score").find("legend").text() == option.label


def test_a_multiple_choice_form_says_the_maximum(client, make_user, make_poll):
    poll = make_poll(kind="multiple", max_choices=2)
    login(client, make_user())
    assert parse(client.get(f"/polls/{poll.id}")).by_id("vote-hint").text() == "Choose at most 2 options."


@pytest.mark.parametrize(("kind", "data", "error_id", "message"), [
    ("single", {}, "choice-error", "Choose an option."),
    ("single", {"choice": "abc"}, "choice-error", "This option is not part of the poll."),
    ("single", {"choice": "99999"}, "choice-error", ""),
    ("multiple", {"choice": ["A", "B", "C"]}, "choice-error", ""),
    ("score", {"score-A": "9"}, "score-A-error", "Scores are whole numbers from 1 to 5."),
    ("score", {"score-A": "x"}, "score-A-error", "Scores are whole numbers from 1 to 5."),
    ("score", {}, "choice-error", "Rate at least one option."),
    ("ranked", {"rank-A": "1", "rank-B": "1"}, "rank-B-error", "Give each option a different rank."),
    ("ranked", {"rank-A": "0"}, "rank-A-error", "Ranks are whole numbers from 1 up."),
    ("ranked", {}, "choice-error", "Rank at least one option."),
    ("dots", {"points-A": "8", "points-B": "5"}, "choice-error", "You gave 13 points: spread at most 10 points."),
    ("dots", {"points-A": "-2", "points-B": "5"}, "points-A-error", "Points are whole numbers, zero or more."),
    ("dots", {"points-A": "1.5"}, "points-A-error", "Points are whole numbers, zero or more."),
], ids=lambda v: str(v)[:24])
def test_a_bad_ballot_answers_400_next_to_the_field_keeps_the_choice_and_stores_nothing(
        client, make_user, make_poll, count, kind, data, error_id, message):
    poll = make_poll(kind=kind)
    ids = {letter: str(option.id) for letter, option in zip("ABC", poll.options, strict=True)}

    def real(text):
        for letter, option_id in ids.items():
            text = text.replace(f"-{letter}", f"-{option_id}")
        return ids.get(text, text)

    data = {real(k): [real(x) for x in v] if isinstance(v, list) else v for k, v in data.items()}
    login(client, make_user())
    response = vote(client, poll, data)
    assert response.status_code == 400
    page = parse(response)
    assert message in page.by_id(real(error_id)).text()
    assert count(PollVote) == 0
    for name, value in data.items():
        if name.startswith("points-") or name.startswith("rank-") and value in {"1", "2", "3"}:
            assert page.control(name).value() == value
        if name.startswith("score-") and value in {"1", "2", "3", "4", "5"}:
            assert "checked" in page.one("input", id=f"{name}-{value}").attrs


def test_voting_twice_changes_the_ballot_or_is_refused(client, db, make_user, make_poll, count):
    changeable, fixed = make_poll(), make_poll(votes_changeable=False)
    login(client, make_user())
    for poll in (changeable, fixed):
        assert vote(client, poll, {"choice": str(poll.options[0].id)}).status_code == 302
    assert vote(client, changeable, {"choice": str(changeable.options[1].id)}).status_code == 302
    assert ballot_of(db, changeable) == [changeable.options[1].id]
    assert vote(client, fixed, {"choice": str(fixed.options[1].id)}).status_code == 403
    assert ballot_of(db, fixed) == [fixed.options[0].id]
    assert count(PollVote) == 2
    page = parse(client.get(f"/polls/{fixed.id}"))
    assert page.find("form", id="vote") is None
    assert "Votes in this poll cannot be changed." in page.one("section", class_="poll-vote-panel").text()


def test_no_vote_after_close_nor_where_one_may_not_post(client, make_user, make_poll, make_event, count):
    closed = make_poll(status="closed")
    event = make_event(participants=2)
    room_poll = make_poll(event.breakout_rooms[0])
    visitor_response = client.post(f"/polls/{closed.id}/vote", data={"choice": str(closed.options[0].id)})
    assert visitor_response.status_code == 302 and "/login" in visitor_response.headers["Location"]
    login(client, event.test_participants[1])  # placed in room 2
    assert vote(client, closed, {"choice": str(closed.options[0].id)}).status_code == 403
    assert vote(client, room_poll, {"choice": str(room_poll.options[0].id)}).status_code == 404
    assert count(PollVote) == 0


# --- Results ----------------------------------------------------------------------------

def test_results_are_hidden_until_allowed_then_shown_with_a_table(client, make_user, make_poll):
    poll = make_poll(results_shown="after_vote")
    reader = make_user()
    login(client, reader)
    page = parse(client.get(f"/polls/{poll.id}"))
    results = page.one("section", id="poll-results")
    assert results.get("data-results-shown") == "no"
    assert results.find("table") is None
    assert client.get(f"/polls/{poll.id}/results").status_code == 403

    vote(client, poll, {"choice": str(poll.options[0].id)})
    page = parse(client.get(f"/polls/{poll.id}"))
    table = page.one("section", id="poll-results").find("table")
    assert table.find("caption").text() == "Votes per option"
    rows = [[cell.text() for cell in row.children if getattr(cell, "tag", None) in ("th", "td")]
            for row in table.find("tbody").find_all("tr")]
    assert rows[0] == ["Option 1", "1", "100%"]
    assert page.one("div", class_="poll-chart").get("aria-hidden") == "true"
    assert client.get(f"/polls/{poll.id}/results").status_code == 200


def test_the_breakdown_names_groups_and_suppresses_small_ones(app, client, make_user, make_poll):
    poll = make_poll(kind="score", results_shown="live")
    for country, voters in (("DE", 6), ("IT", 5), ("FR", 2), ("AT", 1)):
        for _ in range(voters):
            service.cast_vote(make_user(country=country, organisation_type="ngo"), poll,
                              {str(poll.options[0].id): 4 if country == "DE" else 2})
    reader = make_user()
    login(client, reader)
    assert parse(client.get(f"/polls/{poll.id}")).find("div", class_="poll-breakdowns") is None

    organiser = app.test_client()
    login(organiser, poll.consultation.owner)
    page = parse(organiser.get(f"/polls/{poll.id}"))
    breakdowns = page.one("div", class_="poll-breakdowns")
    text = breakdowns.text()
    assert "Germany" in text and "fewer than 5 voters" in text
    # France (2) and Austria (1) are hidden, and Italy (5) with them, so that the 3 cannot be
    # worked out from the whole: none of them says how many voters it has.
    table = breakdowns.find_all("table")[0]
    rows = {row.one("th").text(): [cell.text() for cell in row.find_all("td")]
            for row in table.one("tbody").find_all("tr")}
    assert list(rows) == ["Germany", "Austria", "France", "Italy"]
    assert rows["Germany"][0] == "6"
    for hidden in ("Austria", "France", "Italy"):
        assert rows[hidden] == ["not shown: fewer than 5 voters, or hidden with smaller groups"]
    assert "Small groups are not shown." in breakdowns.one("p", class_="poll-warning").text()
    assert "Non-governmental organisation" in text or "NGO" in text

    service.publish_breakdown(poll.consultation.owner, poll)
    assert parse(client.get(f"/polls/{poll.id}")).find("div", class_="poll-breakdowns") is not None


def test_a_draft_poll_shows_only_to_organisers_on_the_consultation_page(app, client, make_user, make_poll):
    poll = make_poll(status="draft")
    login(client, make_user())
    page = parse(client.get(f"/consultations/{poll.consultation_id}"))
    assert page.find("a", href=f"/polls/{poll.id}") is None
    organiser = app.test_client()
    login(organiser, poll.consultation.owner)
    page = parse(organiser.get(f"/consultations/{poll.consultation_id}"))
    assert page.find("a", href=f"/polls/{poll.id}") is not None


def test_a_flash_confirms_the_vote(client, make_user, make_poll):
    poll = make_poll(results_shown="live")
    login(client, make_user())
    response = client.post(f"/polls/{poll.id}/vote", data={"choice": str(poll.options[0].id)},
                           follow_redirects=True)
    assert "Your vote has been saved." in flashes(parse(response))


def test_the_moderation_log_names_poll_actions_and_their_question(client, make_poll):
    poll = make_poll(status="closed")
    login(client, poll.consultation.owner)
    page = parse(client.get(f"/consultations/{poll.consultation_id}/log"))
    rows = [row.text() for row in page.one("table").find("tbody").find_all("tr")]
    assert any("closed a poll" in row and poll.question in row for row in rows)
    assert any("opened a poll" in row and poll.question in row for row in rows)


# --- Deleting a draft ---------------------------------------------------------------------

def test_an_organiser_deletes_a_draft_after_confirming(client, db, make_poll, count):
    poll = make_poll(status="draft")
    consultation_id, question = poll.consultation_id, poll.question
    login(client, poll.consultation.owner)
    page = parse(client.get(f"/polls/{poll.id}"))
    assert page.one("a", href=f"/polls/{poll.id}/delete").text() == "Delete the draft"
    confirm = parse(client.get(f"/polls/{poll.id}/delete"))
    assert question in confirm.one("blockquote").text()
    assert confirm.one("form", action=f"/polls/{poll.id}/delete").get("method") == "post"
    assert count(Poll) == 1  # asking deletes nothing
    response = client.post(f"/polls/{poll.id}/delete", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/consultations/{consultation_id}#polls")
    assert count(Poll) == 0
    page = parse(client.get(response.headers["Location"]))
    assert "The draft poll has been deleted." in flashes(page)
    log = parse(client.get(f"/consultations/{consultation_id}/log"))
    assert any("deleted a draft poll" in row.text() and question in row.text()
               for row in log.one("table").find("tbody").find_all("tr"))


def test_an_opened_poll_offers_no_delete_and_refuses_one(client, make_poll, count):
    poll = make_poll(status="closed")
    login(client, poll.consultation.owner)
    assert parse(client.get(f"/polls/{poll.id}")).find("a", href=f"/polls/{poll.id}/delete") is None
    for method in (client.get, client.post):
        response = method(f"/polls/{poll.id}/delete")
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/polls/{poll.id}")
    page = parse(client.get(f"/polls/{poll.id}"))
    assert "stays for the record" in " ".join(flashes(page))
    assert count(Poll) == 1


def test_only_those_who_run_a_poll_reach_its_delete_page(app, client, make_user, make_poll, count):
    draft, opened = make_poll(status="draft"), make_poll()
    login(client, make_user())
    assert client.get(f"/polls/{draft.id}/delete").status_code == 404  # a draft is the organisers'
    assert client.post(f"/polls/{draft.id}/delete").status_code == 404
    assert client.post(f"/polls/{opened.id}/delete").status_code == 403
    other_organiser = app.test_client()
    login(other_organiser, make_user(role="organiser"))
    assert other_organiser.post(f"/polls/{draft.id}/delete").status_code == 404
    assert count(Poll) == 2


# --- The consultation page, one topic at a time ---------------------------------------------

def test_a_topic_filter_lists_that_topics_polls_and_the_consultation_wide_ones(client, make_user,
                                                                                make_consultation, make_poll):
    consultation = make_consultation(topics=2)
    first, second = consultation.topics
    whole = make_poll(consultation)
    on_first = make_poll(consultation, topic=first)
    on_second = make_poll(consultation, topic=second)
    login(client, make_user())

    def cards(url):
        page = parse(client.get(url))
        return {int(card.get("data-poll-card")) for card in page.one("section", id="polls").find_all("li")}, page

    shown, page = cards(f"/consultations/{consultation.id}")
    assert shown == {whole.id, on_first.id, on_second.id}
    assert page.one("section", id="polls").find("p", class_="hint") is None
    shown, page = cards(f"/consultations/{consultation.id}?topic={second.id}")
    assert shown == {whole.id, on_second.id}
    note = page.one("section", id="polls").one("p", class_="hint")
    assert "Polls about topic 2 and the whole consultation." in note.text()
    assert note.one("a").get("href") == f"/consultations/{consultation.id}#polls"
    # The topic list still names each topic's poll.
    assert page.by_id(f"topic-{first.id}").one("a", href=f"/polls/{on_first.id}")
    # A topic of another consultation, or no number, filters nothing.
    other = make_consultation()
    for query in (f"?topic={other.topics[0].id}", "?topic="):
        assert cards(f"/consultations/{consultation.id}{query}")[0] == {whole.id, on_first.id, on_second.id}


def test_the_organisers_new_poll_link_keeps_the_topic(client, make_consultation):
    consultation = make_consultation(topics=2)
    login(client, consultation.owner)
    topic = consultation.topics[1]
    page = parse(client.get(f"/consultations/{consultation.id}?topic={topic.id}"))
    link = page.one("section", id="polls").one("a", class_="button")
    assert link.get("href") == f"/consultations/{consultation.id}/polls/new?topic={topic.id}"


# --- What a screen reader meets -------------------------------------------------------------

def described_by(element) -> set[str]:
    return set((element.get("aria-describedby") or "").split())


def test_a_refused_vote_leads_with_a_focused_summary_linking_to_each_field(client, make_user, make_poll):
    poll = make_poll(kind="dots")
    a, b, c = (o.id for o in poll.options)
    login(client, make_user())
    page = parse(client.get(f"/polls/{poll.id}"))
    assert page.find("div", id="vote-errors") is None
    assert page.one("output", id="points-total").text() == "Points given: 0 of 10."

    response = vote(client, poll, {f"points-{a}": "8", f"points-{b}": "5", f"points-{c}": ""})
    assert response.status_code == 400
    page = parse(response)
    assert page.one("title").text().startswith("Error: ")
    summary = page.one("div", id="vote-errors")
    assert summary.get("tabindex") == "-1" and summary.get("autofocus") is not None
    links = summary.find_all("a")
    assert [link.text() for link in links] == ["You gave 13 points: spread at most 10 points."]
    assert links[0].get("href") == f"#points-{a}" and page.by_id(f"points-{a}").tag == "input"
    total = page.one("output", id="points-total")
    assert total.text() == "Points given: 13 of 10. More than you have: take some away."
    for option_id in (a, b, c):
        field = page.by_id(f"points-{option_id}")
        assert {"points-total-text", "choice-error"} <= described_by(field)
        assert page.by_id("choice-error")


def test_a_field_error_is_tied_to_its_controls_and_linked_from_the_summary(client, make_user, make_poll):
    poll = make_poll(kind="score")
    a, b = poll.options[0].id, poll.options[1].id
    login(client, make_user())
    response = vote(client, poll, {f"score-{a}": "9", f"score-{b}": "2"})
    assert response.status_code == 400
    page = parse(response)
    link = page.one("div", id="vote-errors").one("a")
    assert link.get("href") == f"#score-{a}-1" and page.by_id(f"score-{a}-1")
    for value in range(1, 6):
        radio = page.by_id(f"score-{a}-{value}")
        assert described_by(radio) == {f"score-{a}-error"} and radio.get("aria-invalid") == "true"
    assert page.by_id(f"score-{b}-2").get("aria-invalid") is None
    assert "checked" in page.by_id(f"score-{b}-2").attrs  # what was chosen stays chosen


def test_a_ballot_wide_error_is_read_with_every_option(client, make_user, make_poll):
    poll = make_poll(kind="single")
    login(client, make_user())
    page = parse(vote(client, poll, {}))
    assert page.one("div", id="vote-errors").one("a").get("href") == f"#option-{poll.options[0].id}"
    for option in poll.options:
        box = page.by_id(f"option-{option.id}")
        assert described_by(box) == {f"option-{option.id}-about", "choice-error"}
        assert box.get("aria-invalid") == "true"


def test_each_rank_select_is_named_by_its_option_as_a_rank(client, make_user, make_poll):
    poll = make_poll(kind="ranked")
    login(client, make_user())
    page = parse(client.get(f"/polls/{poll.id}"))
    for option in poll.options:
        label = page.one("label", **{"for": f"rank-{option.id}"})
        assert label.text() == f"{option.label} (your rank)"
        assert described_by(page.by_id(f"rank-{option.id}")) == {f"option-{option.id}-about"}


def test_whole_numbers_in_results_are_in_the_readers_locale(app):
    from flask_babel import force_locale

    from forum.web.polls import figures

    with app.test_request_context():
        with force_locale("en"):
            assert figures()["whole"](12345) == "12,345"
        with force_locale("it"):
            assert figures()["whole"](12345) == "12.345"
            assert figures()["percent"](0.5) == "50%"


def test_the_breakdown_warning_describes_its_table(client, make_user, make_poll):
    poll = make_poll(results_shown="live")
    for _ in range(2):
        service.cast_vote(make_user(country="DE"), poll, [poll.options[0].id])
    login(client, poll.consultation.owner)
    page = parse(client.get(f"/polls/{poll.id}"))
    regions = page.one("div", class_="poll-breakdowns").find_all("div", class_="table-wrap")
    assert len(regions) == 2  # by country, by type of organisation
    for region in regions:
        warning = page.by_id(next(iter(described_by(region))))
        assert warning.get("class") == "poll-warning" and "Small groups are not shown." in warning.text()
        assert region.get("role") == "region" and region.get("tabindex") == "0"
        assert page.by_id(region.get("aria-labelledby")).tag == "caption"


def test_a_rooms_co_moderator_deletes_a_draft_and_returns_to_the_room(client, make_event, make_poll, count):
    event = make_event()
    room, other = event.breakout_rooms
    poll = make_poll(room, status="draft", by=event.test_moderators[1][0])
    login(client, event.test_moderators[2][0])  # another room's: the draft is not theirs to see
    assert client.post(f"/polls/{poll.id}/delete").status_code == 404
    client.post("/logout")
    login(client, event.test_moderators[1][0])
    response = client.post(f"/polls/{poll.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{event.id}/rooms/{room.id}#polls")
    assert count(Poll) == 0
