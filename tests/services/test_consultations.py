"""forum.services.consultations: settings, tags, life cycle, topics, hosts and the listing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from forum.models import Consultation, Host, Tag, Topic
from forum.models.base import utcnow
from forum.models.consultations import ConsultationStatus, Visibility
from forum.services import consultations as service
from forum.services.consultations import ConsultationInput, HostInput, TopicInput
from forum.services.errors import NotFound, PermissionDenied, ValidationError


def count(db, model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


# --- create and update --------------------------------------------------------------

def test_an_organiser_creates_a_draft_with_rendered_brief_and_tags(db, make_user):
    organiser = make_user("organiser")
    consultation = service.create_consultation(organiser, ConsultationInput(
        title="  How should  cities welcome newcomers? ", brief="We want **your** view.\n\n<script>x</script>",
        tags="#Integration, #Cities", visibility="members"))

    assert consultation.id is not None
    assert consultation.owner is organiser
    assert consultation.status is ConsultationStatus.DRAFT
    assert consultation.visibility is Visibility.MEMBERS
    assert consultation.title == "How should cities welcome newcomers?"
    assert "<strong>your</strong>" in consultation.brief_html
    assert "<script>" not in consultation.brief_html
    assert [t.name for t in consultation.tags] == ["Integration", "Cities"]
    assert consultation.topics == [] and consultation.hosts == []


def test_an_admin_may_create_a_consultation(db, make_user):
    admin = make_user("admin")
    assert service.create_consultation(admin, ConsultationInput(title="By the admin")).owner is admin


def test_a_participant_may_not_create_a_consultation(db, make_user):
    with pytest.raises(PermissionDenied):
        service.create_consultation(make_user(), ConsultationInput(title="Not allowed"))
    assert count(db, Consultation) == 0


@pytest.mark.parametrize(("changes", "field"), [
    ({"title": ""}, "title"),
    ({"title": "x" * 301}, "title"),
    ({"title": "Nul\x00byte"}, "title"),
    ({"brief": "Invalid \ufffd bytes"}, "brief"),
    ({"visibility": "secret"}, "visibility"),
    ({"tags": "#ok #not!ok"}, "tags"),
])
def test_create_refuses_invalid_settings(db, make_user, changes, field):
    data = ConsultationInput(title="A title")
    for key, value in changes.items():
        setattr(data, key, value)
    with pytest.raises(ValidationError) as error:
        service.create_consultation(make_user("organiser"), data)
    assert error.value.field == field
    assert count(db, Consultation) == 0


def test_closing_time_must_be_after_opening_time(db, make_user):
    now = utcnow()
    with pytest.raises(ValidationError) as error:
        service.create_consultation(make_user("organiser"), ConsultationInput(
            title="T", opens_at=now + timedelta(days=2), closes_at=now + timedelta(days=1)))
    assert error.value.field == "closes_at"


def test_update_by_owner_and_admin(db, make_user, make_consultation):
    owner, admin = make_user("organiser"), make_user("admin")
    consultation = make_consultation(owner=owner, tags="#Old")
    closes = utcnow() + timedelta(days=30)

    service.update_consultation(owner, consultation, ConsultationInput(
        title="New title", tags="#New #Other", visibility="members", closes_at=closes))
    assert consultation.title == "New title"
    assert [t.slug for t in consultation.tags] == ["new", "other"]
    assert consultation.visibility is Visibility.MEMBERS
    assert consultation.closes_at == closes

    service.update_consultation(admin, consultation, ConsultationInput(title="Admin's title"))
    assert consultation.title == "Admin's title"
    assert consultation.tags == [] and consultation.closes_at is None


@pytest.mark.parametrize("who", ["participant", "host", "other organiser"])
def test_update_refused_to_anyone_else(db, make_user, make_consultation, who):
    host = make_user()
    consultation = make_consultation(title="Original", hosts=[host])
    actor = {"participant": make_user(), "host": host, "other organiser": make_user("organiser")}[who]
    with pytest.raises(PermissionDenied):
        service.update_consultation(actor, consultation, ConsultationInput(title="Changed"))
    assert consultation.title == "Original"


# --- tags ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "names"), [
    ("", []),
    ("#Integration", ["Integration"]),
    ("#Integration, #Labour-market", ["Integration", "Labour-market"]),
    ("Integration Labour_market\n#EU2030", ["Integration", "Labour_market", "EU2030"]),
    ("#Integration #integration #INTEGRATION", ["Integration"]),
    ("##Double  ,, # #", ["Double"]),
    ("#Università #Überblick", ["Università", "Überblick"]),
])
def test_parse_tags(app, text, names):
    assert service.parse_tags(text) == names


@pytest.mark.parametrize("text", ["#no!bang", "#a/b", "#" + "x" * 41, "#tag\x00", "<b>bold</b>"])
def test_parse_tags_refuses_what_is_not_a_single_word(app, text):
    with pytest.raises(ValidationError) as error:
        service.parse_tags(text)
    assert error.value.field == "tags"


def test_parse_tags_allows_at_most_eight(app):
    assert len(service.parse_tags(" ".join(f"#t{i}" for i in range(service.MAX_TAGS)))) == service.MAX_TAGS
    with pytest.raises(ValidationError):
        service.parse_tags(" ".join(f"#t{i}" for i in range(service.MAX_TAGS + 1)))


def test_consultations_share_tags_case_insensitively(db, make_consultation):
    first = make_consultation(tags="#Integration")
    second = make_consultation(tags="#INTEGRATION #Housing")
    assert count(db, Tag) == 2
    shared = next(t for t in second.tags if t.slug == "integration")
    assert shared is first.tags[0]
    assert shared.name == "Integration"  # as first written


# --- status -------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "target", "allowed"), [
    ("draft", "open", True),
    ("draft", "closed", False),
    ("draft", "draft", False),
    ("open", "closed", True),
    ("open", "draft", False),
    ("open", "open", False),
    ("closed", "open", True),   # reopening
    ("closed", "draft", False),
    ("closed", "closed", False),
])
def test_status_transitions(db, make_consultation, start, target, allowed):
    consultation = make_consultation(status=start)
    if allowed:
        service.set_status(consultation.owner, consultation, target)
        assert consultation.status is ConsultationStatus(target)
    else:
        with pytest.raises(ValidationError):
            service.set_status(consultation.owner, consultation, target)
        assert consultation.status is ConsultationStatus(start)


def test_unknown_status_is_refused(db, make_consultation):
    consultation = make_consultation(status="draft")
    with pytest.raises(ValidationError):
        service.set_status(consultation.owner, consultation, "archived")
    assert consultation.status is ConsultationStatus.DRAFT


def test_a_consultation_without_topics_cannot_open(db, make_consultation):
    consultation = make_consultation(status="draft", topics=0)
    with pytest.raises(ValidationError, match="topic"):
        service.set_status(consultation.owner, consultation, "open")
    assert consultation.status is ConsultationStatus.DRAFT

    service.add_topic(consultation.owner, consultation, TopicInput(title="Now there is one"))
    service.set_status(consultation.owner, consultation, "open")
    assert consultation.status is ConsultationStatus.OPEN


def test_a_consultation_whose_closing_time_passed_cannot_reopen(db, make_consultation):
    consultation = make_consultation(status="closed", closes_at=utcnow() - timedelta(hours=1))
    with pytest.raises(ValidationError, match="closing time"):
        service.set_status(consultation.owner, consultation, "open")
    assert consultation.status is ConsultationStatus.CLOSED

    service.update_consultation(consultation.owner, consultation, ConsultationInput(
        title=consultation.title, closes_at=utcnow() + timedelta(days=1)))
    service.set_status(consultation.owner, consultation, "open")
    assert consultation.status is ConsultationStatus.OPEN


def test_a_host_may_not_change_the_status(db, make_user, make_consultation):
    host = make_user()
    consultation = make_consultation(status="draft", hosts=[host])
    with pytest.raises(PermissionDenied):
        service.set_status(host, consultation, "open")
    assert consultation.status is ConsultationStatus.DRAFT


def test_an_admin_may_change_the_status(db, make_user, make_consultation):
    consultation = make_consultation(status="open")
    service.set_status(make_user("admin"), consultation, "closed")
    assert consultation.status is ConsultationStatus.CLOSED


def test_phase_closes_an_open_consultation_at_its_closing_time(db, make_consultation):
    now = utcnow()
    consultation = make_consultation(closes_at=now + timedelta(hours=1))
    assert consultation.phase(now) is ConsultationStatus.OPEN
    assert consultation.accepts_posts(now)
    assert consultation.phase(now + timedelta(hours=1)) is ConsultationStatus.CLOSED
    assert not consultation.accepts_posts(now + timedelta(hours=2))


def test_an_open_consultation_accepts_posts_only_from_its_opening_time(db, make_consultation):
    now = utcnow()
    consultation = make_consultation(opens_at=now + timedelta(hours=1))
    assert consultation.phase(now) is ConsultationStatus.OPEN
    assert not consultation.accepts_posts(now)
    assert consultation.accepts_posts(now + timedelta(hours=1))


# --- topics -------------------------------------------------------------------------

def test_topics_are_numbered_in_order_of_addition(db, make_consultation):
    consultation = make_consultation(status="draft", topics=0)
    owner = consultation.owner
    first = service.add_topic(owner, consultation, TopicInput(
        title=" Housing ", description="Where to live\r\n", guiding_questions=["Who helps?", "  ", "What costs?"]))
    second = service.add_topic(owner, consultation, TopicInput(title="Work"))

    assert [(t.position, t.title) for t in consultation.topics] == [(1, "Housing"), (2, "Work")]
    assert first.description == "Where to live"
    assert first.guiding_questions == ["Who helps?", "What costs?"]
    assert second.guiding_questions == []


@pytest.mark.parametrize(("data", "field"), [
    (TopicInput(title=""), "title"),
    (TopicInput(title="x" * 201), "title"),
    (TopicInput(title="T", description="\x00"), "description"),
    (TopicInput(title="T", guiding_questions=[f"Q{i}?" for i in range(service.MAX_QUESTIONS + 1)]),
     "guiding_questions"),
    (TopicInput(title="T", guiding_questions=["x" * 501]), "guiding_questions"),
])
def test_add_topic_refuses_invalid_input(db, make_consultation, data, field):
    consultation = make_consultation(status="draft", topics=0)
    with pytest.raises(ValidationError) as error:
        service.add_topic(consultation.owner, consultation, data)
    assert error.value.field == field
    assert count(db, Topic) == 0


def test_a_consultation_has_at_most_thirty_topics(db, make_consultation):
    consultation = make_consultation(status="draft", topics=service.MAX_TOPICS)
    with pytest.raises(ValidationError):
        service.add_topic(consultation.owner, consultation, TopicInput(title="One too many"))
    assert count(db, Topic) == service.MAX_TOPICS


def test_update_topic(db, make_consultation):
    consultation = make_consultation(topics=1)
    topic = consultation.topics[0]
    service.update_topic(consultation.owner, topic, TopicInput(title="Renamed", guiding_questions=["Why?"]))
    assert (topic.title, topic.guiding_questions, topic.position) == ("Renamed", ["Why?"], 1)


@pytest.mark.parametrize("who", ["participant", "host", "other organiser"])
def test_topics_are_managed_only_by_editors(db, make_user, make_consultation, who):
    host = make_user()
    consultation = make_consultation(topics=2, hosts=[host])
    actor = {"participant": make_user(), "host": host, "other organiser": make_user("organiser")}[who]
    topic = consultation.topics[0]
    with pytest.raises(PermissionDenied):
        service.add_topic(actor, consultation, TopicInput(title="Intruder"))
    with pytest.raises(PermissionDenied):
        service.update_topic(actor, topic, TopicInput(title="Intruder"))
    with pytest.raises(PermissionDenied):
        service.move_topic(actor, topic, 1)
    with pytest.raises(PermissionDenied):
        service.delete_topic(actor, topic)
    db.session.expire_all()
    assert [t.title for t in consultation.topics] == [
        "Topic 1 of consultation 1", "Topic 2 of consultation 1"]


def titles(consultation) -> list[tuple[int, str]]:
    return [(t.position, t.title) for t in consultation.topics]


def test_move_topic_up_and_down(db, make_consultation):
    consultation = make_consultation(status="draft", topics=0)
    owner = consultation.owner
    a, b, c = (service.add_topic(owner, consultation, TopicInput(title=t)) for t in "ABC")

    service.move_topic(owner, c, -1)
    assert titles(consultation) == [(1, "A"), (2, "C"), (3, "B")]
    service.move_topic(owner, a, 1)
    assert titles(consultation) == [(1, "C"), (2, "A"), (3, "B")]

    with pytest.raises(ValidationError):
        service.move_topic(owner, c, -1)
    with pytest.raises(ValidationError):
        service.move_topic(owner, b, 1)
    assert titles(consultation) == [(1, "C"), (2, "A"), (3, "B")]

    db.session.expire_all()
    assert titles(db.session.get(Consultation, consultation.id)) == [(1, "C"), (2, "A"), (3, "B")]


def test_delete_topic_renumbers_the_others(db, make_consultation):
    consultation = make_consultation(status="draft", topics=0)
    owner = consultation.owner
    a, b, c = (service.add_topic(owner, consultation, TopicInput(title=t)) for t in "ABC")

    service.delete_topic(owner, b)

    assert titles(consultation) == [(1, "A"), (2, "C")]
    assert db.session.get(Topic, b.id) is None


@pytest.mark.parametrize("deleted", [False, True], ids=["post", "deleted post"])
def test_a_topic_with_responses_cannot_be_deleted(db, make_consultation, make_post, deleted):
    consultation = make_consultation(topics=2)
    topic = consultation.topics[0]
    make_post(consultation=consultation, topic=topic, deleted=deleted)

    with pytest.raises(ValidationError, match="responses"):
        service.delete_topic(consultation.owner, topic)
    assert [t.id for t in consultation.topics][0] == topic.id
    assert db.session.get(Topic, topic.id) is not None

    service.delete_topic(consultation.owner, consultation.topics[1])  # the empty one may go
    assert [t.id for t in consultation.topics] == [topic.id]


def test_topic_of_finds_only_this_consultations_topics(db, make_consultation):
    first, second = make_consultation(topics=2), make_consultation(topics=1)
    assert service.topic_of(first, first.topics[1].id) is first.topics[1]
    with pytest.raises(NotFound):
        service.topic_of(first, second.topics[0].id)
    with pytest.raises(NotFound):
        service.topic_of(first, 999_999)


# --- hosts --------------------------------------------------------------------------

def test_hosts_may_be_linked_to_accounts_by_email(db, make_user, make_consultation):
    account = make_user(email="host@example.org")
    consultation = make_consultation(status="draft")
    owner = consultation.owner

    linked = service.add_host(owner, consultation, HostInput(
        name="Dr Host", role="Moderator", organisation="City", account_email="HOST@example.org"))
    named = service.add_host(owner, consultation, HostInput(name="Guest speaker"))

    assert [(h.position, h.name) for h in consultation.hosts] == [(1, "Dr Host"), (2, "Guest speaker")]
    assert linked.user is account and (linked.role, linked.organisation) == ("Moderator", "City")
    assert named.user is None
    assert consultation.is_host(account)
    assert not consultation.is_host(owner)


def test_a_host_email_without_account_is_refused(db, make_consultation):
    consultation = make_consultation()
    with pytest.raises(ValidationError) as error:
        service.add_host(consultation.owner, consultation, HostInput(name="X", account_email="nobody@example.org"))
    assert error.value.field == "account_email"
    assert count(db, Host) == 0


def test_update_host_links_and_unlinks_the_account(db, make_user, make_consultation):
    account = make_user()
    consultation = make_consultation()
    host = service.add_host(consultation.owner, consultation, HostInput(name="Host"))

    service.update_host(consultation.owner, host, HostInput(name="Host", account_email=account.email))
    assert host.user is account and consultation.is_host(account)
    service.update_host(consultation.owner, host, HostInput(name="Renamed"))
    assert host.user is None and host.name == "Renamed"
    assert not consultation.is_host(account)


def test_move_and_delete_hosts(db, make_consultation):
    consultation = make_consultation()
    owner = consultation.owner
    a, b, c = (service.add_host(owner, consultation, HostInput(name=n)) for n in "ABC")

    service.move_host(owner, a, 1)
    assert [(h.position, h.name) for h in consultation.hosts] == [(1, "B"), (2, "A"), (3, "C")]
    with pytest.raises(ValidationError):
        service.move_host(owner, c, 1)
    service.delete_host(owner, a)
    assert [(h.position, h.name) for h in consultation.hosts] == [(1, "B"), (2, "C")]
    assert db.session.get(Host, a.id) is None


def test_a_consultation_has_at_most_twenty_hosts(db, make_consultation):
    consultation = make_consultation(hosts=[f"Host {i}" for i in range(service.MAX_HOSTS)])
    with pytest.raises(ValidationError):
        service.add_host(consultation.owner, consultation, HostInput(name="One too many"))
    assert len(consultation.hosts) == service.MAX_HOSTS


def test_hosts_are_managed_only_by_editors(db, make_user, make_consultation):
    host_account = make_user()
    consultation = make_consultation(hosts=[host_account])
    host = consultation.hosts[0]
    for actor in (host_account, make_user(), make_user("organiser")):
        with pytest.raises(PermissionDenied):
            service.add_host(actor, consultation, HostInput(name="Intruder"))
        with pytest.raises(PermissionDenied):
            service.update_host(actor, host, HostInput(name="Intruder"))
        with pytest.raises(PermissionDenied):
            service.delete_host(actor, host)
    assert [h.name for h in consultation.hosts] == [host_account.display_name]


def test_host_of_finds_only_this_consultations_hosts(db, make_consultation):
    first, second = make_consultation(hosts=["A"]), make_consultation(hosts=["B"])
    assert service.host_of(first, first.hosts[0].id) is first.hosts[0]
    with pytest.raises(NotFound):
        service.host_of(first, second.hosts[0].id)


# --- listing ------------------------------------------------------------------------

@pytest.fixture
def catalogue(make_user, make_consultation):
    """One consultation of each kind, and the people who look at them."""
    owner, host = make_user("organiser"), make_user()
    made = {
        "draft": make_consultation(owner=owner, status="draft", hosts=[host]),
        "open": make_consultation(owner=owner, status="open"),
        "closed": make_consultation(owner=owner, status="closed"),
        "expired": make_consultation(owner=owner, status="open", closes_at=utcnow() - timedelta(minutes=1)),
        "members": make_consultation(owner=owner, status="open", visibility="members"),
        "other draft": make_consultation(status="draft"),
    }
    names = {c.id: name for name, c in made.items()}
    viewers = {
        "anonymous": None, "participant": make_user(), "host": host, "owner": owner,
        "other organiser": made["other draft"].owner, "admin": make_user("admin"),
    }
    return made, names, viewers


@pytest.mark.parametrize(("viewer", "visible"), [
    ("anonymous", {"open", "closed", "expired"}),
    ("participant", {"open", "closed", "expired", "members"}),
    ("host", {"open", "closed", "expired", "members", "draft"}),
    ("owner", {"open", "closed", "expired", "members", "draft"}),
    ("other organiser", {"open", "closed", "expired", "members", "other draft"}),
    ("admin", {"open", "closed", "expired", "members", "draft", "other draft"}),
])
def test_list_consultations_shows_what_the_viewer_may_see(db, catalogue, viewer, visible):
    made, names, viewers = catalogue
    cards, total = service.list_consultations(viewers[viewer])
    assert {names[card.consultation.id] for card in cards} == visible
    assert total == len(visible)


@pytest.mark.parametrize(("phase", "listed"), [
    ("open", {"open", "members"}),
    ("closed", {"closed", "expired"}),
    (None, {"open", "closed", "expired", "members", "draft", "other draft"}),
])
def test_list_consultations_by_phase_counts_a_passed_closing_time_as_closed(db, catalogue, phase, listed):
    made, names, viewers = catalogue
    cards, total = service.list_consultations(viewers["admin"], phase=phase)
    assert {names[card.consultation.id] for card in cards} == listed
    assert total == len(listed)


def test_list_consultations_by_tag(db, make_user, make_consultation):
    housing = make_consultation(tags="#Housing #Integration")
    work = make_consultation(tags="#Work #integration")
    make_consultation(tags="#Health")
    make_consultation(status="draft", tags="#Integration")  # not visible to the viewer

    def listed(tag):
        return {card.consultation.id for card in service.list_consultations(make_user(), tag=tag)[0]}

    assert listed("integration") == {housing.id, work.id}
    assert listed("#INTEGRATION") == {housing.id, work.id}
    assert listed("housing") == {housing.id}
    assert listed("unknown") == set()


def test_list_consultations_newest_first_with_pages(db, make_consultation):
    made = [make_consultation(title=f"C{i}") for i in range(5)]
    first, total = service.list_consultations(None, per_page=2)
    third, _ = service.list_consultations(None, page=3, per_page=2)
    assert total == 5
    assert [c.consultation.title for c in first] == ["C4", "C3"]
    assert [c.consultation.title for c in third] == ["C0"]
    assert len(made) == 5


def test_list_consultations_counts_responses_and_participants(db, make_user, make_consultation, make_post):
    busy, quiet = make_consultation(), make_consultation()
    alice, bob = make_user(), make_user()
    first = make_post(alice, consultation=busy)
    make_post(bob, consultation=busy)
    make_post(bob, parent=first)  # a reply is not a response, and bob counts once

    cards = {c.consultation.id: c for c in service.list_consultations(None)[0]}
    assert (cards[busy.id].responses, cards[busy.id].participants) == (2, 2)
    assert (cards[quiet.id].responses, cards[quiet.id].participants) == (0, 0)

    make_post(make_user(), consultation=busy, deleted=True)  # a withdrawn response is not counted
    cards = {c.consultation.id: c for c in service.list_consultations(None)[0]}
    assert cards[busy.id].responses == 2


def test_list_consultations_past_the_last_page_is_empty(db, make_consultation):
    make_consultation()
    assert service.list_consultations(None, page=10**20) == ([], 1)


def test_list_consultations_by_a_tag_with_a_nul_byte_finds_nothing(db, make_consultation):
    make_consultation(tags="#Housing")
    assert service.list_consultations(None, tag="Hous\x00ing") == ([], 0)


def test_used_tags_are_those_carried_by_a_consultation(db, make_consultation):
    consultation = make_consultation(tags="#Housing #Work")
    make_consultation(tags="#Health")
    service.update_consultation(consultation.owner, consultation, ConsultationInput(title="T", tags="#Housing"))
    assert [t.slug for t in service.used_tags(None)] == ["health", "housing"]


def test_used_tags_are_only_those_of_consultations_the_viewer_may_see(db, make_user, make_consultation):
    draft = make_consultation(status="draft", tags="#Secret")
    make_consultation(visibility="members", tags="#Members")
    make_consultation(tags="#Open")
    assert [t.slug for t in service.used_tags(None)] == ["open"]
    assert [t.slug for t in service.used_tags(make_user())] == ["members", "open"]
    assert [t.slug for t in service.used_tags(draft.owner)] == ["members", "open", "secret"]
