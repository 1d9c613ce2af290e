"""What the pages give polls.js: on a poll's page, the results streams its reader may follow now
(the server decides) and the results template (the page's own partial with slots for every
figure); on a room's page, a polls panel (hidden while empty) and its cards' route."""
from __future__ import annotations

import json
import re

import pytest

from forum.services import polls as poll_service
from forum.web.poll_live import results_template
from tests import poll_factory
from tests.factories import login

make_poll = poll_factory.make_poll  # the fixture


def live_config(response) -> dict:
    html = response.get_data(as_text=True)
    return json.loads(re.search(r'<script type="application/json" id="poll-live">(.*?)</script>', html, re.S).group(1))


@pytest.mark.parametrize("kind", ["single", "multiple", "score", "dots"])
def test_the_results_template_has_a_slot_for_every_figure_and_no_stand_in_left(app, make_poll, kind):
    poll = make_poll(kind=kind)
    with app.test_request_context("/"):
        html = str(results_template(poll))
    assert not re.search(r"7391\d{6}", html) and 'width="0.' not in html
    assert "⟦voters_text⟧" in html and 'data-voters="⟦voters⟧"' in html
    for option in poll.options:
        assert f'width="⟦o{option.id}_bar⟧"' in html
        if kind == "score":
            assert f"⟦o{option.id}_mean⟧" in html and f"⟦o{option.id}_ratings⟧" in html
            assert all(f"⟦o{option.id}_d{v}⟧" in html for v in range(poll.scale_min, poll.scale_max + 1))
        else:
            assert f"⟦o{option.id}_share⟧" in html
            assert f"⟦o{option.id}_{'points' if kind == 'dots' else 'votes'}⟧" in html
    if kind == "dots":
        assert "⟦points_given_text⟧" in html
    assert html.startswith(f'<script type="text/html" data-poll-results-template="{poll.id}"><section')


def test_a_ranked_poll_has_no_template_its_page_asks_the_server(app, make_poll):
    with app.test_request_context("/"):
        assert str(results_template(make_poll(kind="ranked"))) == ""


def test_an_after_vote_poll_page_offers_the_results_stream_only_once_voted(client, db, make_poll, make_user):
    poll = make_poll(results_shown="after_vote")
    voter = make_user()
    db.session.commit()
    login(client, voter)
    before = live_config(client.get(f"/polls/{poll.id}"))
    assert before["results_stream"] == "" and before["breakdown_stream"] == ""
    assert before["place_stream"] == f"consultation:{poll.consultation_id}"
    poll_service.cast_vote(voter, poll, [poll.options[0].id])
    db.session.commit()
    after = live_config(client.get(f"/polls/{poll.id}"))
    assert after["results_stream"] == f"poll:{poll.id}" and after["results_seq"] >= 1
    assert after["breakdown_stream"] == ""
    assert f'data-poll-results-template="{poll.id}"' in client.get(f"/polls/{poll.id}").get_data(as_text=True)


def test_the_organiser_is_offered_the_breakdown_stream(client, db, make_poll):
    poll = make_poll()
    db.session.commit()
    login(client, poll.consultation.owner)
    config = live_config(client.get(f"/polls/{poll.id}"))
    assert config["results_stream"] == f"poll:{poll.id}" and config["breakdown_stream"] == f"poll:{poll.id}:breakdown"


def test_a_polls_card_is_served_to_those_who_may_see_it(client, db, make_event, make_poll):
    event = make_event(rooms=1, moderators=1, participants=1)
    room = event.breakout_rooms[0]
    moderator = event.test_moderators[1][0]
    opened = make_poll(room, by=moderator)
    draft = make_poll(room, by=moderator, status="draft")
    db.session.commit()
    login(client, event.test_participants[0])
    card = client.get(f"/polls/{opened.id}/card")
    assert card.status_code == 200
    assert f'id="poll-card-{opened.id}"' in card.get_data(as_text=True) and "Vote" in card.get_data(as_text=True)
    assert client.get(f"/polls/{draft.id}/card").status_code == 404
    page = client.get(f"/events/{event.id}/rooms/{room.id}").get_data(as_text=True)
    assert 'id="poll-live-room"' in page and "js/polls.js" in page


def test_a_room_without_polls_has_its_panel_hidden_ready_for_one(client, db, make_event):
    event = make_event(rooms=1, moderators=1, participants=1)
    room = event.breakout_rooms[0]
    db.session.commit()
    login(client, event.test_participants[0])
    page = client.get(f"/events/{event.id}/rooms/{room.id}").get_data(as_text=True)
    assert re.search(r'<section class="panel polls-panel" id="polls"[^>]*data-polls hidden>', page)


BALLOTS = {
    "single": lambda ids: [[ids[i % 2]] for i in range(7)],
    "multiple": lambda ids: [[ids[0], ids[i % 3]] if i % 3 else [ids[1]] for i in range(7)],
    "score": lambda ids: [{str(ids[0]): 1 + i % 5, str(ids[2]): 5 - i % 3} for i in range(7)],
    "ranked": lambda ids: [[ids[i % 3], ids[(i + 1) % 3]] for i in range(7)],
    "dots": lambda ids: [{str(ids[i % 3]): 6, **({str(ids[1]): 4} if i % 3 != 1 else {})} for i in range(7)],
}


@pytest.mark.parametrize("kind", sorted(BALLOTS))
@pytest.mark.parametrize("who", ["organiser", "voter"])
def test_the_live_results_partial_is_the_one_the_server_counts(client, db, make_poll, make_user, kind, who):
    """From the stored messages, without counting again: the same HTML as the poll's own
    results partial (ranked rounds and breakdowns included), for its organiser and a voter."""
    poll = make_poll(kind=kind, results_shown="after_vote")
    ids = [option.id for option in poll.options]
    voters = [make_user(country=("DE", "FR")[i % 2], organisation_type=("ngo", "private_company")[i % 2])
              for i in range(7)]
    for voter, choice in zip(voters, BALLOTS[kind](ids), strict=True):
        poll_service.cast_vote(voter, poll, choice)
        db.session.commit()
    poll_service.publish_breakdown(poll.consultation.owner, poll) if who == "voter" and kind == "single" else None
    db.session.commit()
    login(client, poll.consultation.owner if who == "organiser" else voters[0])
    live = client.get(f"/polls/{poll.id}/results/live")
    counted = client.get(f"/polls/{poll.id}/results")
    assert live.status_code == counted.status_code == 200
    assert live.get_data(as_text=True) == counted.get_data(as_text=True)
    assert ("By country" in live.get_data(as_text=True)) is (who == "organiser" or kind == "single")


def test_the_live_results_partial_is_refused_to_who_may_not_see_them_yet(client, db, make_poll, make_user):
    poll = make_poll(results_shown="after_vote")
    db.session.commit()
    login(client, make_user())
    assert client.get(f"/polls/{poll.id}/results/live").status_code == 403


def test_results_published_by_the_job_after_form_votes_are_the_ones_the_page_counts(client, db, make_poll,
                                                                                   make_user):
    """Form votes publish their results through the job (at once in tests): the live partial,
    from the latest stored message, shows what the page counts, and the page's live config
    starts from that message's number."""
    from forum.services import events
    from forum.services.poll_events import results_stream

    poll = make_poll(results_shown="live")
    voters = [make_user() for _ in range(3)]
    db.session.commit()
    before = events.latest_seq(results_stream(poll))
    for n, voter in enumerate(voters):
        login(client, voter)
        assert client.post(f"/polls/{poll.id}/vote", data={"choice": str(poll.options[n % 2].id)}).status_code == 302
        client.post("/logout")
    assert events.latest_seq(results_stream(poll)) == before + 3  # one message per vote's commit (no delay)
    live = client.get(f"/polls/{poll.id}/results/live").get_data(as_text=True)
    assert live == client.get(f"/polls/{poll.id}/results").get_data(as_text=True)
    assert 'data-voters="3"' in live
    assert live_config(client.get(f"/polls/{poll.id}"))["results_seq"] == before + 3
