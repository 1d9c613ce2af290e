"""Search on both engines (the app fixture runs each test on SQLite and on PostgreSQL): words
in any of their forms, ranking, sorts, filters, highlighting, and the index after every kind
of change (docs/search.md)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select, text, update

from forum.models import Post, PostStatus, SearchDocument
from forum.models.base import utcnow
from forum.models.consultations import ConsultationStatus, Visibility
from forum.models.search import FTS_TABLE
from forum.services import consultations as consultation_service
from forum.services import moderation, posts, search_index
from forum.services.errors import ValidationError
from forum.services.search import NO_FILTERS, Filters, read_query, search
from forum.services.search_text import parse_query

ANONYMOUS = AnonymousUserMixin()


def found(viewer, words, filters=NO_FILTERS, **options) -> list:
    """The posts' ids (or the kinds and ids of other rows) a search finds, in order."""
    page = search(viewer, parse_query(words), filters, **options)
    return [hit.post.id if hit.post is not None else (hit.kind, (hit.consultation or hit.event).id)
            for hit in page.hits]


def total(viewer, words, filters=NO_FILTERS) -> int:
    return search(viewer, parse_query(words), filters).total


# --- Languages ----------------------------------------------------------------------------

def test_english_words_are_found_in_their_other_forms(make_user, make_post):
    author = make_user(preferred_language="en")
    childcare = make_post(author, body="The cost of childcare's first year is too high.")
    integration = make_post(author, consultation=childcare.consultation, body="Integration of newcomers takes time.")

    assert found(ANONYMOUS, "childcare") == [childcare.id]
    assert found(ANONYMOUS, "childcares") == [childcare.id]
    assert found(ANONYMOUS, "integrating") == [integration.id]  # Snowball: both "integr"
    assert found(ANONYMOUS, "integrated newcomer") == [integration.id]
    assert found(ANONYMOUS, "kindergarten") == []


def test_italian_words_are_found_in_their_other_forms(make_user, make_post):
    author = make_user(preferred_language="it")
    post = make_post(author, body="I bambini della scuola chiedono più spazi verdi.")

    assert found(ANONYMOUS, "bambino") == [post.id]
    assert found(ANONYMOUS, "bambina") == [post.id]  # Snowball's Italian: "bambin"
    assert found(ANONYMOUS, "scuole") == [post.id]
    assert found(ANONYMOUS, "verde") == [post.id]


def test_a_post_is_indexed_in_its_authors_language_and_queried_in_every_language(make_user, make_post, db):
    """A query word is looked for in every language's form at once, so an English query may
    find an Italian post where the stems meet: "integrating" (English stem "integr") finds
    "integrazione" (Italian stem "integr"). A person without a known language: words as written."""
    italian = make_post(make_user(preferred_language="it"), body="L'integrazione dei migranti.")
    unknown = make_user()
    unknown.preferred_language = "xx"
    plain = make_post(unknown, consultation=italian.consultation, body="Integrations everywhere.")
    language = dict(db.session.execute(select(SearchDocument.post_id, SearchDocument.language)
                                       .where(SearchDocument.kind == "post")).all())

    assert (language[italian.id], language[plain.id]) == ("italian", "simple")
    assert found(ANONYMOUS, "integrazioni") == [italian.id]
    assert found(ANONYMOUS, "integrating") == [italian.id]
    assert set(found(ANONYMOUS, "integrations")) == {italian.id, plain.id}  # "integr" too
    assert found(ANONYMOUS, "integration") == [italian.id]  # "simple" keeps the plural's s


# --- Ranking and order ---------------------------------------------------------------------

def test_relevance_puts_the_title_and_more_mentions_first(make_user, make_post, make_consultation):
    consultation = make_consultation()
    author = make_user()
    once = make_post(author, consultation=consultation, body="Housing matters, and so does childcare.")
    titled = make_post(author, consultation=consultation, subject="Childcare",
                       body="We run three centres in Ghent.")
    often = make_post(author, consultation=consultation, body="Childcare, childcare and again childcare: "
                      "affordable childcare for every family.")

    order = found(ANONYMOUS, "childcare")
    assert set(order) == {once.id, titled.id, often.id}
    assert order[-1] == once.id


def test_newest_and_most_endorsed_orders(make_user, make_post, make_consultation):
    consultation = make_consultation()
    old = make_post(consultation=consultation, body="Rents in Brussels.", created_at=utcnow() - timedelta(days=3))
    new = make_post(consultation=consultation, body="Rents in Milan.")
    for _ in range(2):
        posts.endorse(make_user(), old)

    assert found(ANONYMOUS, "rents", sort="newest") == [new.id, old.id]
    assert found(ANONYMOUS, "rents", sort="endorsed") == [old.id, new.id]
    assert found(ANONYMOUS, "rents", Filters(endorsed=True)) == [old.id]


def test_or_and_minus(make_post, make_consultation):
    consultation = make_consultation()
    rents = make_post(consultation=consultation, body="Rents are rising.")
    wages = make_post(consultation=consultation, body="Wages are rising too.")

    assert set(found(ANONYMOUS, "rents or wages")) == {rents.id, wages.id}
    assert found(ANONYMOUS, "rising -wages") == [rents.id]
    assert found(ANONYMOUS, "rising -rents") == [wages.id]
    assert found(ANONYMOUS, "-rents") == []  # only words to leave out: nothing asked


# --- Kinds and filters ---------------------------------------------------------------------

def test_consultations_topics_and_events_are_found(make_consultation, make_event, db):
    consultation = make_consultation(title="Affordable housing in cities", brief="Tenants and **landlords**.")
    event = make_event(title="Housing forum")

    assert found(ANONYMOUS, "landlord") == [("consultation", consultation.id)]
    assert set(found(ANONYMOUS, "housing")) == {("consultation", consultation.id), ("event", event.id)}
    topic = consultation.topics[0]
    consultation_service.update_topic(consultation.owner, topic, consultation_service.TopicInput(
        title="Social rents", guiding_questions=["Who pays?"]))
    assert found(ANONYMOUS, "pays", Filters(kind="topic")) == [("topic", consultation.id)]


def test_filters(make_user, make_post, make_consultation):
    first, second = make_consultation(topics=2), make_consultation()
    italian_ngo = make_user(country="IT", organisation_type="ngo")
    belgian_city = make_user(country="BE", organisation_type="local_authority")
    a = make_post(italian_ngo, consultation=first, body="Schools need funding.")
    b = make_post(belgian_city, consultation=first, topic=first.topics[1], body="Schools need teachers.")
    c = make_post(italian_ngo, consultation=second, body="Schools need buses.")
    reply = make_post(belgian_city, parent=a, body="Schools need both.", created_at=utcnow() + timedelta(days=2))

    assert set(found(ANONYMOUS, "schools", Filters(consultation_id=first.id))) == {a.id, b.id, reply.id}
    assert found(ANONYMOUS, "schools", Filters(topic_id=first.topics[1].id)) == [b.id]
    assert set(found(ANONYMOUS, "schools", Filters(country="IT"))) == {a.id, c.id}
    assert set(found(ANONYMOUS, "schools", Filters(organisation_type="local_authority"))) == {b.id, reply.id}
    assert set(found(ANONYMOUS, "schools", Filters(author_id=italian_ngo.id))) == {a.id, c.id}
    assert found(ANONYMOUS, "schools", Filters(since=utcnow() + timedelta(days=1))) == [reply.id]
    assert reply.id not in found(ANONYMOUS, "schools", Filters(until=utcnow() + timedelta(days=1)))
    # Filters without words list what they select, newest first.
    assert found(ANONYMOUS, "", Filters(author_id=belgian_city.id)) == [reply.id, b.id]


def test_room_messages_are_found_by_who_may_read_the_room(make_event, db):
    event = make_event(participants=2)
    inside, outside = event.test_participants  # placed in rooms 1 and 2
    message = posts.post_in_room(inside, event.breakout_rooms[0], body="Our mentoring scheme works.")

    assert found(inside, "mentoring") == [message.id]
    assert found(inside, "mentoring", Filters(kind="message")) == [message.id]
    assert found(inside, "mentoring", Filters(kind="post")) == []
    assert found(inside, "mentoring", Filters(room_id=event.breakout_rooms[0].id)) == [message.id]
    assert found(inside, "mentoring", Filters(event_id=event.id)) == [message.id]
    assert found(outside, "mentoring") == []
    assert total(ANONYMOUS, "mentoring") == 0


def test_pages(make_post, make_consultation):
    consultation = make_consultation()
    made = [make_post(consultation=consultation, body=f"Bicycle lane number {i}.",
                      created_at=utcnow() - timedelta(minutes=i)) for i in range(25)]

    first = search(ANONYMOUS, parse_query("bicycle"), sort="newest", page=1)
    second = search(ANONYMOUS, parse_query("bicycle"), sort="newest", page=2)
    assert (first.total, first.pages, len(first.hits), len(second.hits)) == (25, 2, 20, 5)
    assert [h.post.id for h in first.hits + second.hits] == [p.id for p in made]
    past_the_end = search(ANONYMOUS, parse_query("bicycle"), sort="newest", page=9)
    assert (past_the_end.page, past_the_end.total) == (2, 25)
    assert [h.post.id for h in past_the_end.hits] == [p.id for p in made[20:]]


def test_queries_that_cannot_be_searched_are_refused():
    with pytest.raises(ValidationError):
        read_query("word " * 13)
    with pytest.raises(ValidationError):
        read_query("x" * 201)
    with pytest.raises(ValidationError):
        read_query("nul\x00byte")
    assert read_query("  a   lot of   space ").text == "a lot of space"


# --- Highlighting ---------------------------------------------------------------------------

def test_matches_are_marked_and_the_text_escaped(make_user, make_post):
    post = make_post(make_user(preferred_language="en"), subject="Childcare <b>now</b>",
                     body="Intro. " + "Filler words here. " * 40 + "<script>alert(1)</script> childcare's costs & more")
    hit = search(ANONYMOUS, parse_query("childcare"), sort="relevance").hits[0]

    assert hit.post.id == post.id
    assert str(hit.title) == "<mark>Childcare</mark> &lt;b&gt;now&lt;/b&gt;"
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>childcare</mark>&#39;s costs &amp; more" in str(hit.snippet)
    assert str(hit.snippet).startswith("… ")
    assert "<script>" not in str(hit.snippet)


# --- The index after every kind of change ---------------------------------------------------

def rows(db, **where) -> list[SearchDocument]:
    return db.session.scalars(select(SearchDocument).filter_by(**where)).all()


def fts_rows(db) -> int | None:
    if db.engine.dialect.name != "sqlite":
        return None
    return db.session.execute(text(f"SELECT count(*) FROM {FTS_TABLE}")).scalar()


def test_an_edit_replaces_the_words(make_post, db):
    post = make_post(body="Trams are late.")
    posts.edit_post(post.author, post, body="Buses are late.")

    assert found(ANONYMOUS, "trams") == []
    assert found(ANONYMOUS, "buses") == [post.id]
    assert len(rows(db, post_id=post.id)) == 1


def test_a_deleted_post_leaves_the_index(make_post, db):
    post = make_post(body="Ferries are late.")
    before = fts_rows(db)
    posts.delete_post(post.author, post)

    assert rows(db, post_id=post.id) == []
    assert found(post.author, "ferries") == []
    if before is not None:
        assert fts_rows(db) == before - 1


def test_hidden_and_restored(make_post, make_user, db):
    post = make_post(body="Potholes everywhere.")
    organiser = post.consultation.owner
    moderation.hide_post(organiser, post, "Off topic")

    assert found(ANONYMOUS, "potholes") == []
    assert found(make_user(), "potholes") == []
    assert found(post.author, "potholes") == [post.id]
    assert found(organiser, "potholes") == [post.id]
    moderation.restore_post(organiser, post)
    assert found(ANONYMOUS, "potholes") == [post.id]


def test_pending_approved_and_rejected(make_event, db):
    event = make_event(participants=2)
    author, other = event.test_participants
    room = event.breakout_rooms[0]
    moderator = event.test_moderators[1][0]
    room.premoderated = True
    db.session.flush()
    waiting = posts.post_in_room(author, room, body="Libraries should open on Sundays.")
    refused = posts.post_in_room(author, room, body="Libraries are useless.")
    assert waiting.status is PostStatus.PENDING

    assert found(moderator, "libraries", sort="newest") == [refused.id, waiting.id]
    assert found(author, "libraries", sort="newest") == [refused.id, waiting.id]
    assert found(other, "libraries") == []
    moderation.approve_post(moderator, waiting)
    moderation.reject_post(moderator, refused, "Rude")
    db.session.expire_all()
    assert found(moderator, "libraries", sort="newest") == [refused.id, waiting.id]
    assert found(author, "libraries", sort="newest") == [refused.id, waiting.id]
    assert found(event.owner, "sundays") == [waiting.id]
    assert found(event.owner, "useless") == [refused.id]
    assert found(other, "libraries") == []  # room 2's


def test_a_moved_thread_is_found_in_its_new_topic(make_post, make_consultation, db):
    consultation = make_consultation(topics=2)
    first, second = consultation.topics
    response = make_post(consultation=consultation, topic=first, body="Parks need benches.")
    reply = make_post(parent=response, body="Parks need shade.")
    moderation.move_post(consultation.owner, response, topic=second)

    assert found(ANONYMOUS, "parks", Filters(topic_id=first.id)) == []
    assert set(found(ANONYMOUS, "parks", Filters(topic_id=second.id))) == {response.id, reply.id}


def test_a_consultation_made_members_only_or_draft_is_hidden_from_those_who_may_not_read_it(
        make_post, make_user, db):
    post = make_post(body="Cycling to school.")
    consultation = post.consultation
    member = make_user()
    consultation.visibility = Visibility.MEMBERS
    db.session.flush()

    assert found(ANONYMOUS, "cycling") == []
    assert total(ANONYMOUS, "cycling") == 0
    assert found(member, "cycling") == [post.id]
    consultation.status = ConsultationStatus.DRAFT
    db.session.flush()
    assert found(member, "cycling") == []
    assert found(consultation.owner, "cycling") == [post.id]


def test_rebuild_writes_the_same_rows_again_and_removes_strays(make_post, make_event, db):
    make_event(title="Forum of the cities")
    post = make_post(body="Street lighting.")
    gone = make_post(body="Street markets.")

    def snapshot():
        return sorted((r.kind, r.object_id, r.title, r.body, r.language) for r in rows(db))

    before = snapshot()
    db.session.execute(SearchDocument.__table__.delete().where(SearchDocument.post_id == post.id))
    # Deleted behind the hooks' back (plain SQL): rebuild removes its row.
    db.session.execute(update(Post).where(Post.id == gone.id).values(deleted_at=utcnow()))
    written = search_index.rebuild(db.session, batch=2)

    assert written == len(before) - 1
    assert snapshot() == [row for row in before if row[1] != gone.id or row[0] != "post"]
    assert search_index.rebuild(db.session) == written  # idempotent
    assert found(ANONYMOUS, "lighting") == [post.id]
    assert found(ANONYMOUS, "markets") == []
    if fts_rows(db) is not None:
        assert fts_rows(db) == db.session.scalar(select(func.count()).select_from(SearchDocument))


def test_the_reindex_command_shows_its_progress_and_can_run_again(app, make_post, db):
    post = make_post(body="Swimming pools.")
    db.session.execute(SearchDocument.__table__.delete())
    runner = app.test_cli_runner()

    result = runner.invoke(args=["search", "reindex", "--batch", "1"])
    again = runner.invoke(args=["search", "reindex"])

    assert result.exit_code == 0, result.output
    assert "Indexing 3 objects" in result.output  # a consultation, its topic, a post
    assert result.output.strip().endswith("3 rows in the search index.")
    assert again.output.strip().endswith("3 rows in the search index.")
    assert found(ANONYMOUS, "pools") == [post.id]


def test_the_plain_text_of_rendered_html_keeps_words_whole_and_blocks_apart():
    from forum.services.search_text import plain_text

    assert plain_text('<p>See our <a href="x">short <em>note</em></a>.</p><ul><li>one</li><li>two</li></ul>'
                      "<p>a<br>b &amp; c</p>") == "See our short note. one two a b & c"


def test_a_removed_topic_leaves_the_index(make_consultation, db):
    consultation = make_consultation(topics=2)
    second = consultation.topics[1]
    consultation_service.update_topic(consultation.owner, second, consultation_service.TopicInput(title="Ferries"))
    assert found(ANONYMOUS, "ferries") == [("topic", consultation.id)]

    consultation_service.delete_topic(consultation.owner, second)

    assert found(ANONYMOUS, "ferries") == []
    assert rows(db, kind="topic", object_id=second.id) == []
