"""Stances over HTTP: marking a proposal, the response form's stance group, the badge, the
filter and the counts on the consultation page."""
from __future__ import annotations

import pytest

from forum.models import Post
from forum.models.posts import Stance
from forum.services import consultations, moderation
from tests.factories import login
from tests.web.page import error_message, parse, post_article, response_ids


@pytest.fixture
def proposal(make_consultation):
    consultation = make_consultation(topics=2)
    topic = consultation.topics[1]
    consultations.update_topic(consultation.owner, topic, consultations.TopicInput(title="Ring-fence 10%",
                                                                                   is_proposal=True))
    return topic


def page_of(client, consultation, **query):
    return parse(client.get(f"/consultations/{consultation.id}", query_string=query))


def stance_badges(article) -> list[str]:
    return [b.text() for b in article.find_all("span", class_="badge-stance")]


# --- Organising ------------------------------------------------------------------------

def test_an_organiser_marks_a_topic_as_a_proposal_and_back(client, db, make_consultation):
    consultation = make_consultation(topics=1)
    topic = consultation.topics[0]
    login(client, consultation.owner)
    url = f"/consultations/{consultation.id}/topics/{topic.id}/edit"
    form = parse(client.get(url))
    box = form.control("is_proposal")
    assert box.get("type") == "checkbox" and "checked" not in box.attrs
    assert "keeps the stances already given but hides them" in form.by_id("is_proposal-hint").text()

    response = client.post(url, data={"title": topic.title, "is_proposal": "y"})
    assert response.status_code == 302
    db.session.refresh(topic)
    assert topic.is_proposal is True
    assert "checked" in parse(client.get(url)).control("is_proposal").attrs
    edit = parse(client.get(f"/consultations/{consultation.id}/edit"))
    assert [b.text() for b in edit.find_all("span", class_="badge-proposal")] == ["Proposal"]

    assert client.post(url, data={"title": topic.title}).status_code == 302
    db.session.refresh(topic)
    assert topic.is_proposal is False


# --- Responding ------------------------------------------------------------------------

def test_the_response_form_asks_for_a_stance_in_a_fieldset(client, proposal, make_user):
    login(client, make_user())
    page = page_of(client, proposal.consultation)
    group = page.one("fieldset", data_stance_field=True)
    assert group.one("legend").text() == "Your stance on the proposal"
    radios = group.find_all("input", type="radio")
    assert [(r.get("name"), r.get("value")) for r in radios] == [
        ("stance", "in_favour"), ("stance", "neutral"), ("stance", "against")]
    labels = [lab.text() for lab in group.find_all("label")]
    assert labels == ["✓ In favour", "– Neutral", "✕ Against"]
    assert "Topic 2" in group.by_id("stance-hint").text()
    proposal_option = page.control("topic_id").one("option", value=str(proposal.id))
    assert proposal_option.get("data-proposal") == "yes"


def test_no_stance_group_without_a_proposal(client, make_consultation, make_user):
    consultation = make_consultation(topics=2)
    login(client, make_user())
    page = page_of(client, consultation)
    assert page.find("fieldset", data_stance_field=True) is None
    assert page.find("select", name="stance") is None


def test_responding_to_a_proposal_with_a_stance_shows_its_badge(client, db, proposal, make_user):
    login(client, make_user())
    response = client.post(f"/consultations/{proposal.consultation_id}/responses",
                           data={"topic_id": proposal.id, "body": "Yes, please.", "stance": "against"})
    assert response.status_code == 302
    post = db.session.scalar(db.select(Post))
    assert post.stance is Stance.AGAINST
    article = post_article(parse(client.get(response.headers["Location"])), post.id)
    assert stance_badges(article) == ["Stance: ✕ Against"]


def test_a_response_to_a_proposal_without_a_stance_is_refused_and_kept(client, db, proposal, make_user):
    login(client, make_user())
    response = client.post(f"/consultations/{proposal.consultation_id}/responses",
                           data={"topic_id": proposal.id, "body": "Not sure yet."})
    assert response.status_code == 400
    assert db.session.scalar(db.select(Post)) is None
    page = parse(response)
    group = page.one("fieldset", data_stance_field=True)
    assert "field-invalid" in group.classes
    assert "stance-error" in group.get("aria-describedby").split()
    assert "in favour, neutral or against" in page.by_id("stance-error").text()
    assert page.control("body").value() == "Not sure yet."


def test_the_chosen_stance_is_kept_when_the_form_comes_back(client, proposal, make_user):
    login(client, make_user())
    response = client.post(f"/consultations/{proposal.consultation_id}/responses",
                           data={"topic_id": proposal.id, "body": "", "stance": "neutral"})
    assert response.status_code == 400
    checked = [r.get("value") for r in parse(response).find_all("input", type="radio") if "checked" in r.attrs]
    assert checked == ["neutral"]


def test_a_stance_on_another_topic_is_refused_and_emptied(client, db, proposal, make_user):
    login(client, make_user())
    other = proposal.consultation.topics[0]
    response = client.post(f"/consultations/{proposal.consultation_id}/responses",
                           data={"topic_id": other.id, "body": "About topic 1.", "stance": "in_favour"})
    assert response.status_code == 400
    assert db.session.scalar(db.select(Post)) is None
    page = parse(response)
    assert "not a proposal" in page.by_id("stance-error").text()
    # A radio group cannot be emptied by hand: it comes back empty.
    assert not [r for r in page.find_all("input", type="radio") if "checked" in r.attrs]


@pytest.mark.parametrize("value", ["yes", "IN_FAVOUR", "against\u0000"])
def test_an_unknown_stance_is_a_400(client, db, proposal, make_user, value):
    login(client, make_user())
    response = client.post(f"/consultations/{proposal.consultation_id}/responses",
                           data={"topic_id": proposal.id, "body": "Hm.", "stance": value})
    assert response.status_code == 400
    assert db.session.scalar(db.select(Post)) is None


def test_a_reply_sent_with_a_stance_is_refused(client, db, proposal, make_user, make_post):
    response_post = make_post(topic=proposal, consultation=proposal.consultation, stance="in_favour")
    login(client, make_user())
    url = f"/consultations/{proposal.consultation_id}/posts/{response_post.id}/reply"
    assert parse(client.get(url)).find("fieldset", data_stance_field=True) is None
    refused = client.post(url, data={"body": "Agreed.", "stance": "in_favour"})
    assert refused.status_code == 400
    assert db.session.scalar(db.select(db.func.count(Post.id))) == 1
    assert client.post(url, data={"body": "Agreed."}).status_code == 302


def test_the_author_changes_the_stance_on_the_edit_page(client, db, proposal, make_post):
    post = make_post(topic=proposal, consultation=proposal.consultation, stance="against", body="No.")
    login(client, post.author)
    url = f"/consultations/{proposal.consultation_id}/posts/{post.id}/edit"
    page = parse(client.get(url))
    checked = [r.get("value") for r in page.find_all("input", type="radio") if "checked" in r.attrs]
    assert checked == ["against"]
    assert client.post(url, data={"body": "No.", "stance": "in_favour"}).status_code == 302
    db.session.refresh(post)
    assert post.stance is Stance.IN_FAVOUR
    assert client.post(url, data={"body": "No.", "stance": "perhaps"}).status_code == 400
    db.session.refresh(post)
    assert post.stance is Stance.IN_FAVOUR


# --- Reading: counts, tables and the filter -----------------------------------------------

@pytest.fixture
def discussed(proposal, make_post, make_user):
    consultation = proposal.consultation
    at = {"topic": proposal, "consultation": consultation}
    made = {
        "it_yes": make_post(make_user(country="IT", organisation_type="ngo"), stance="in_favour", **at),
        "be_yes": make_post(make_user(country="BE", organisation_type="ngo"), stance="in_favour", **at),
        "be_no": make_post(make_user(country="BE", organisation_type="trade_union"), stance="against", **at),
        "hidden": make_post(make_user(country="FR"), stance="neutral", **at),
        "other": make_post(topic=consultation.topics[0], consultation=consultation),
    }
    moderation.hide_post(consultation.owner, made["hidden"], reason="Off topic.")
    return made


def test_the_proposal_shows_its_counts_and_a_table_per_group(client, proposal, discussed):
    page = page_of(client, proposal.consultation)
    topic = page.by_id(f"topic-{proposal.id}")
    assert topic.one("span", class_="badge-proposal").text() == "Proposal"
    line = topic.one("p", data_stance_counts=str(proposal.id))
    assert line.text() == "Stances: ✓ 2 in favour · – 0 neutral · ✕ 1 against"
    links = {a.get("data-stance-count"): a.get("href") for a in line.find_all("a")}
    assert links["against"] == f"/consultations/{proposal.consultation_id}?topic={proposal.id}&stance=against#responses"
    tables = topic.find_all("table")
    assert [t.one("caption").text() for t in tables] == ["Stances by country", "Stances by type of organisation"]
    rows = [[c.text() for c in tr.children if not isinstance(c, str)] for tr in tables[0].one("tbody").find_all("tr")]
    assert rows == [["Belgium", "1", "0", "1", "2"], ["Italy", "1", "0", "0", "1"]]
    kinds = [tr.one("th").text() for tr in tables[1].one("tbody").find_all("tr")]
    assert kinds[0] == "NGO" and "Trade union" in kinds
    # The other topic is no proposal: no counts.
    assert page.by_id(f"topic-{proposal.consultation.topics[0].id}").find("p", class_="stance-counts") is None


def test_the_stance_filter_lists_those_responses(client, proposal, discussed):
    page = page_of(client, proposal.consultation, stance="in_favour")
    assert set(response_ids(page)) == {discussed["it_yes"].id, discussed["be_yes"].id}
    assert page.control("stance").value() == "in_favour"
    assert page.one("p", data_count="responses").text() == "2 responses"
    options = [o.text() for o in page.control("stance").find_all("option")]
    assert options == ["All responses", "In favour (2)", "Neutral (0)", "Against (1)"]
    combined = page_of(client, proposal.consultation, stance="against", topic=proposal.id)
    assert response_ids(combined) == [discussed["be_no"].id]
    elsewhere = page_of(client, proposal.consultation, stance="against",
                        topic=proposal.consultation.topics[0].id)
    assert response_ids(elsewhere) == []


@pytest.mark.parametrize("value", ["favour", "IN_FAVOUR", "1", "in_favour "])
def test_a_bad_stance_filter_is_a_400_with_a_message(client, proposal, value):
    response = client.get(f"/consultations/{proposal.consultation_id}", query_string={"stance": value})
    assert response.status_code == 400
    assert error_message(parse(response)) == ("“stance” in this address must be one of: "
                                              "in_favour, neutral, against.")


def test_badges_show_only_while_the_topic_is_a_proposal(client, proposal, discussed):
    consultation = proposal.consultation
    article = post_article(page_of(client, consultation), discussed["be_no"].id)
    assert stance_badges(article) == ["Stance: ✕ Against"]
    consultations.update_topic(consultation.owner, proposal, consultations.TopicInput(title=proposal.title))
    page = page_of(client, consultation)
    assert stance_badges(post_article(page, discussed["be_no"].id)) == []
    assert page.find("p", class_="stance-counts") is None
    assert discussed["be_no"].stance is Stance.AGAINST  # kept


def test_a_hidden_response_shows_no_stance_to_readers(client, proposal, discussed, make_user):
    login(client, make_user())
    article = post_article(page_of(client, proposal.consultation), discussed["hidden"].id)
    assert stance_badges(article) == []
