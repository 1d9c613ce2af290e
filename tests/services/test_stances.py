"""Stances on proposals (services/stances.py through services/posts.py): who takes one, which
codes, edits, and the counts per stance and per stakeholder group."""
from __future__ import annotations

import pytest

from forum.models.posts import Stance
from forum.services import consultations, moderation, posts, stances
from forum.services.errors import ValidationError


@pytest.fixture
def proposal(make_consultation):
    """An open consultation whose second topic (of two) is a proposal."""
    consultation = make_consultation(topics=2)
    topic = consultation.topics[1]
    consultations.update_topic(consultation.owner, topic, consultations.TopicInput(
        title=topic.title, is_proposal=True))
    return topic


def test_a_topic_becomes_a_proposal_through_its_form_input(proposal):
    assert proposal.is_proposal
    assert not proposal.consultation.topics[0].is_proposal


def test_a_response_to_a_proposal_takes_the_stance_given(proposal, make_user):
    post = posts.create_post(make_user(), proposal.consultation, topic_id=proposal.id, body="Yes.",
                             stance="in_favour")
    assert post.stance is Stance.IN_FAVOUR
    assert stances.shown_stance(post) is Stance.IN_FAVOUR


def test_a_response_to_a_proposal_must_take_a_stance(proposal, make_user):
    with pytest.raises(ValidationError) as refused:
        posts.create_post(make_user(), proposal.consultation, topic_id=proposal.id, body="Hmm.")
    assert refused.value.field == "stance"
    assert "in favour, neutral or against" in str(refused.value.message)


@pytest.mark.parametrize("code", ["yes", "IN_FAVOUR", " against", "in favour", "0"])
def test_an_unknown_stance_is_refused(proposal, make_user, code):
    with pytest.raises(ValidationError) as refused:
        posts.create_post(make_user(), proposal.consultation, topic_id=proposal.id, body="Yes.", stance=code)
    assert refused.value.field == "stance"
    assert refused.value.status_code == 400


def test_a_response_to_another_topic_takes_no_stance(proposal, make_user):
    other = proposal.consultation.topics[0]
    with pytest.raises(ValidationError) as refused:
        posts.create_post(make_user(), proposal.consultation, topic_id=other.id, body="Yes.", stance="against")
    assert refused.value.field == "stance"
    assert "not a proposal" in str(refused.value.message)


def test_a_reply_takes_no_stance(proposal, make_user, make_post):
    response = make_post(topic=proposal, consultation=proposal.consultation, stance="neutral")
    with pytest.raises(ValidationError) as refused:
        posts.create_post(make_user(), proposal.consultation, parent=response, body="Agreed.", stance="in_favour")
    assert refused.value.field == "stance"
    reply = posts.create_post(make_user(), proposal.consultation, parent=response, body="Agreed.")
    assert reply.stance is None


def test_the_author_changes_the_stance_when_editing(proposal, make_post):
    post = make_post(topic=proposal, consultation=proposal.consultation, stance="against", body="No.")
    assert posts.edit_post(post.author, post, body="No.", stance="neutral") is True
    assert post.stance is Stance.NEUTRAL
    assert post.edited_at is None and post.revisions == []  # the text did not change
    # Nothing sent: the stance stays.
    assert posts.edit_post(post.author, post, body="On reflection, no.") is True
    assert post.stance is Stance.NEUTRAL
    assert posts.edit_post(post.author, post, body="On reflection, no.", stance="neutral") is False
    with pytest.raises(ValidationError):
        posts.edit_post(post.author, post, body="No.", stance="maybe")


def test_editing_a_reply_with_a_stance_is_refused(proposal, make_post):
    response = make_post(topic=proposal, consultation=proposal.consultation, stance="against")
    reply = make_post(parent=response)
    with pytest.raises(ValidationError):
        posts.edit_post(reply.author, reply, body="Changed.", stance="in_favour")
    assert reply.stance is None


def test_a_proposal_turned_off_keeps_the_stances_but_shows_and_counts_none(proposal, make_post):
    post = make_post(topic=proposal, consultation=proposal.consultation, stance="in_favour")
    consultation = proposal.consultation
    consultations.update_topic(consultation.owner, proposal, consultations.TopicInput(title=proposal.title))
    assert post.stance is Stance.IN_FAVOUR
    assert stances.shown_stance(post) is None
    assert stances.stance_counts(consultation) == {}
    # Its author may still edit the text, keeping the stored stance.
    assert posts.edit_post(post.author, post, body="New words.") is True
    assert post.stance is Stance.IN_FAVOUR
    consultations.update_topic(consultation.owner, proposal, consultations.TopicInput(
        title=proposal.title, is_proposal=True))
    assert stances.stance_counts(consultation) == {proposal.id: {"in_favour": 1, "neutral": 0, "against": 0}}


def test_counts_per_stance_and_group_leave_out_hidden_deleted_and_replies(proposal, make_post, make_user):
    consultation = proposal.consultation
    italian_ngo = make_user(country="IT", organisation_type="ngo")
    italian_authority = make_user(country="IT", organisation_type="local_authority")
    belgian_ngo = make_user(country="BE", organisation_type="ngo")
    at = {"topic": proposal, "consultation": consultation}
    make_post(italian_ngo, stance="in_favour", **at)
    make_post(italian_authority, stance="against", **at)
    first = make_post(belgian_ngo, stance="in_favour", **at)
    make_post(belgian_ngo, stance="neutral", **at)
    make_post(parent=first)  # a reply: no stance, not counted
    hidden = make_post(make_user(country="FR"), stance="against", **at)
    moderation.hide_post(consultation.owner, hidden, reason="Off topic.")
    make_post(make_user(country="DE"), stance="against", deleted=True, **at)
    make_post(make_user(country="DE"), topic=consultation.topics[0], consultation=consultation)  # no proposal

    assert stances.stance_counts(consultation) == {proposal.id: {"in_favour": 2, "neutral": 1, "against": 1}}
    table = stances.stance_tables(consultation)[proposal.id]
    assert table.total == 4
    assert [(r.code, r.counts, r.total) for r in table.by["country"]] == [
        ("BE", {"in_favour": 1, "neutral": 1, "against": 0}, 2),
        ("IT", {"in_favour": 1, "neutral": 0, "against": 1}, 2),
    ]
    assert [(r.code, r.counts) for r in table.by["organisation_type"]] == [
        ("ngo", {"in_favour": 2, "neutral": 1, "against": 0}),
        ("local_authority", {"in_favour": 0, "neutral": 0, "against": 1}),
    ]
    assert stances.live_counts(consultation) == {
        "topics": {str(proposal.id): {"in_favour": 2, "neutral": 1, "against": 1}},
        "all": {"in_favour": 2, "neutral": 1, "against": 1}}


def test_deleting_a_response_erases_its_stance(proposal, make_post):
    post = make_post(topic=proposal, consultation=proposal.consultation, stance="against")
    posts.delete_post(post.author, post)
    assert post.stance is None


def test_the_stance_filter_lists_the_responses_counted_for_it(proposal, make_post, make_user):
    consultation = proposal.consultation
    at = {"topic": proposal, "consultation": consultation}
    yes = make_post(stance="in_favour", **at)
    make_post(stance="against", **at)
    hidden = make_post(stance="in_favour", **at)
    moderation.hide_post(consultation.owner, hidden, reason="Off topic.")
    make_post(topic=consultation.topics[0], consultation=consultation)
    listed = posts.list_responses(make_user(), consultation, stance=Stance.IN_FAVOUR)
    assert [n.post.id for n in listed.threads] == [yes.id]
    assert listed.total == 1
    # Combined with a topic filter.
    other = posts.list_responses(make_user(), consultation, stance=Stance.IN_FAVOUR,
                                 topic_id=consultation.topics[0].id)
    assert other.total == 0


def test_parse_takes_codes_and_nothing_else():
    assert stances.parse("neutral") is Stance.NEUTRAL
    assert stances.parse("") is None and stances.parse(None) is None
    for raw in ("Neutral", 1, ["neutral"], "neutral\x00"):
        with pytest.raises(ValidationError):
            stances.parse(raw)
