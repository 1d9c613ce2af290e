"""forum.exports.data: CSV and JSON exports parsed back and compared with the database
(every post once, fields equal), formula-injection safety, the byte order mark, people who
chose not to be named, event rooms, the demo data, streaming in bounded memory, permissions."""
from __future__ import annotations

import csv
import io
import json
import tracemalloc
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select, update

from forum import demo
from forum.exports import data
from forum.exports.scope import resolve
from forum.models import Consultation, Event, Post, PostStatus, User
from forum.models.base import utcnow
from forum.rendering import html_to_text
from forum.services import moderation, posts, rooms
from forum.services.errors import NotFound

TRICKY_BODY = 'Città – naïve «façade» 🙂\nsecond line, with "quotes", commas; and a < b & c'


# --- helpers ------------------------------------------------------------------------------

def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _export_csv(scope, **options) -> str:
    return "".join(data.csv_chunks(scope, **options))


def _export_json(scope) -> dict:
    return json.loads("".join(data.json_chunks(scope)))


def _db_posts(db, scope) -> list[Post]:
    """The posts the export must hold, read independently of the exporter."""
    db.session.expire_all()
    query = select(Post).where(Post.status == PostStatus.PUBLISHED, Post.backchannel.is_(False))
    if scope.is_event:
        query = query.where(Post.room_id.in_([room.id for room in scope.sections]))
    else:
        query = query.where(Post.consultation_id == scope.consultation.id)
    return list(db.session.scalars(query.order_by(Post.created_at, Post.id)))


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _seconds(value: datetime | None) -> datetime | None:
    return value.replace(microsecond=0) if value else None


def _expected_state(post: Post) -> str:
    return "deleted" if post.is_deleted else "hidden" if post.is_hidden else "published"


def _unformula(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(data.FORMULA_STARTS) else value


def _assert_matches_database(records: list[dict], expected: list[Post], *, as_csv: bool) -> None:
    """Every post once, in order, with its ids, place, times, counts, state and text."""
    assert [int(r["post_id"]) for r in records] == [p.id for p in expected]
    for record, post in zip(records, expected, strict=True):
        parent = record["parent_id"]
        assert (int(parent) if parent not in ("", None) else None) == post.parent_id
        assert int(record["thread_id"]) == post.thread_id
        assert int(record["endorsements"]) == post.endorsement_count
        assert _time(record["created_at"]) == _seconds(post.created_at)
        assert _time(record["edited_at"]) == _seconds(post.edited_at)
        assert record["state"] == _expected_state(post)
        yes = "yes" if as_csv else True
        assert (record["pinned"] == yes) == (post.pinned_at is not None)
        assert (record["locked"] == yes) == (post.locked_at is not None)
        place_id = post.room_id if post.room_id is not None else post.topic_id
        assert (record["place_kind"], int(record["place_id"])) == (
            "room" if post.room_id is not None else "topic", place_id)
        body = _unformula(record["body_markdown"]) if as_csv else record["body_markdown"]
        assert body == post.body
        assert (_unformula(record["subject"]) if as_csv else record["subject"]) == post.subject
        if post.is_deleted:
            assert record["author"] == "" and record["body_text"] == ""


def _discussion(db, make_user, make_consultation, make_post):
    """A consultation with most of what can happen to a post."""
    organiser = make_user("organiser")
    consultation = make_consultation(owner=organiser, topics=2, title="Housing & «work»")
    topic1, topic2 = consultation.topics
    alice = make_user(display_name="Alice Žižek", organisation="Città di Bologna", country="IT",
                      organisation_type="local_authority")
    bob = make_user(display_name="Secret Bob", organisation="Hidden Org Ltd", country="BE",
                    organisation_type="ngo")
    bob.named_in_reports = False
    carol = make_user(display_name="Carol", organisation="ACME Foundation", country="FR")
    db.session.flush()

    first = make_post(alice, consultation=consultation, topic=topic1, subject='Quotes "and", commas',
                      body=TRICKY_BODY + "\n\n**Bold** and a [link](https://example.org \"ti>tle\")")
    formula = make_post(bob, parent=first, body="=SUM(A1:A2)")
    on_behalf = make_post(carol, consultation=consultation, topic=topic2, body="@cmd",
                          on_behalf_of_organisation=True)
    edited = make_post(alice, parent=formula, body="- a list item\n- another")
    posts.edit_post(alice, edited, body="- a list item\n- another, edited")
    deleted = make_post(carol, consultation=consultation, topic=topic1, deleted=True)
    hidden = make_post(bob, parent=first, body="Something rude")
    moderation.hide_post(organiser, hidden, "Off topic")
    moderation.pin_post(organiser, first)
    moderation.lock_thread(organiser, on_behalf)
    for _ in range(2):
        posts.endorse(make_user(), first)
    make_post(alice, body="In another consultation")  # must not appear
    # Times a second apart, so that the order (by creation) is known.
    start = utcnow() - timedelta(hours=1)
    ordered = [first, formula, on_behalf, edited, deleted, hidden]
    for i, post in enumerate(ordered):
        post.created_at = start + timedelta(seconds=i)
    db.session.flush()
    return SimpleNamespace(organiser=organiser, consultation=consultation, alice=alice, bob=bob,
                           carol=carol, posts=ordered, first=first, formula=formula,
                           on_behalf=on_behalf, edited=edited, deleted=deleted, hidden=hidden)


# --- CSV ----------------------------------------------------------------------------------

def test_csv_round_trip(db, make_user, make_consultation, make_post):
    d = _discussion(db, make_user, make_consultation, make_post)
    scope = resolve(d.organiser, "consultation", d.consultation.id)
    text = _export_csv(scope)

    assert not text.startswith("\ufeff")
    assert text.startswith(",".join(data.COLUMNS) + "\r\n")
    rows = _csv_rows(text)
    assert list(rows[0]) == list(data.COLUMNS)
    _assert_matches_database(rows, _db_posts(db, scope), as_csv=True)
    assert data.count_posts(scope) == len(rows) == 6
    by_id = {int(r["post_id"]): r for r in rows}

    # Text that needs quoting survives; the plain text has no Markdown.
    first = by_id[d.first.id]
    assert first["subject"] == 'Quotes "and", commas'
    assert first["body_text"] == TRICKY_BODY + "\n\nBold and a link"
    assert first["place_title"] == f"Topic 1: {d.consultation.topics[0].title}"
    assert (first["author"], first["organisation"], first["country"]) == ("Alice Žižek", "Città di Bologna", "IT")
    assert (first["organisation_type"], first["organisation_type_label"]) == (
        "local_authority", "Local public authority")
    assert (first["pinned"], first["endorsements"]) == ("yes", "2")

    # Formula-like text is defused; the edited list (starting with "-") too.
    assert by_id[d.formula.id]["body_markdown"] == "'=SUM(A1:A2)"
    assert by_id[d.formula.id]["body_text"] == "'=SUM(A1:A2)"
    assert by_id[d.on_behalf.id]["body_markdown"] == "'@cmd"
    edited = by_id[d.edited.id]
    assert edited["body_markdown"] == "'- a list item\n- another, edited"
    assert edited["body_text"] == "• a list item\n• another, edited"
    assert edited["edited_at"] and edited["parent_id"] == str(d.formula.id)

    # Posting on behalf of an organisation names it; the thread is locked.
    on_behalf = by_id[d.on_behalf.id]
    assert (on_behalf["organisation"], on_behalf["on_behalf_of_organisation"]) == ("ACME Foundation", "yes")
    assert (on_behalf["locked"], on_behalf["place_kind"]) == ("yes", "topic")

    # Moderators' view: the hidden post with its text and reason; the deleted one in its place.
    hidden = by_id[d.hidden.id]
    assert (hidden["state"], hidden["hidden_reason"], hidden["body_text"]) == (
        "hidden", "Off topic", "Something rude")
    deleted = by_id[d.deleted.id]
    assert (deleted["state"], deleted["author"], deleted["author_ref"], deleted["body_markdown"]) == (
        "deleted", "", "", "")

    # Bob chose not to be named: neither his name nor his organisation appears.
    assert by_id[d.formula.id]["author"] == "Participant (BE, NGO)"
    assert by_id[d.formula.id]["organisation"] == ""
    assert "Secret Bob" not in text and "Hidden Org Ltd" not in text
    # One number per person links their posts.
    assert by_id[d.formula.id]["author_ref"] == by_id[d.hidden.id]["author_ref"] != first["author_ref"]


def test_csv_byte_order_mark_only_when_asked(db, make_user, make_consultation, make_post):
    d = _discussion(db, make_user, make_consultation, make_post)
    scope = resolve(d.organiser, "consultation", d.consultation.id)
    plain = _export_csv(scope)
    with_bom = _export_csv(scope, bom=True)
    assert with_bom.startswith("\ufeffpost_id,") and with_bom.count("\ufeff") == 1
    assert with_bom[1:] == plain
    # As bytes, as a spreadsheet reads the file: UTF-8 with its signature.
    assert with_bom.encode().startswith(b"\xef\xbb\xbf")
    assert _csv_rows(with_bom.encode().decode("utf-8-sig")) == _csv_rows(plain)


def test_csv_cells():
    assert [data._csv_cell(v) for v in ("=1+1", "+1", "-1", "@a", "\tx", "\rx", "a=b", "")] == [
        "'=1+1", "'+1", "'-1", "'@a", "'\tx", "'\rx", "a=b", ""]
    # Numbers are not text: a negative one stays a number.
    assert [data._csv_cell(v) for v in (-3, 0, None, True, False)] == [-3, 0, "", "yes", "no"]


def test_plain_text():
    html = ('<h3>Title</h3>\n<p>a &lt; b &amp; c<br>\nnext <a href="https://x.example/?a=1&amp;b=2" '
            'title="x > y" rel="nofollow">link</a></p>\n<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n'
            '<blockquote>\n<p>quoted</p>\n</blockquote>\n<pre><code>x = 1\n</code></pre>\n')
    assert html_to_text(html) == "Title\n\na < b & c\nnext link\n\n• one\n• two\n\nquoted\n\nx = 1"
    assert html_to_text("") == ""


# --- JSON ---------------------------------------------------------------------------------

def test_json_round_trip(db, make_user, make_consultation, make_post):
    d = _discussion(db, make_user, make_consultation, make_post)
    scope = resolve(d.organiser, "consultation", d.consultation.id)
    text = "".join(data.json_chunks(scope))
    document = json.loads(text)

    assert list(document) == ["export", "consultation", "event", "participants", "polls", "opinion_map",
                              "plenary_questions", "feedback", "pre_event_input", "posts"]
    export = document["export"]
    assert (export["format"], export["version"]) == ("plenary-discussion", 1)
    assert export["scope"] == {"kind": "consultation", "id": d.consultation.id, "title": "Housing & «work»"}
    assert export["moderators_view"] is True
    assert _time(export["generated_at"]) <= utcnow()
    consultation = document["consultation"]
    assert (consultation["id"], consultation["status"], consultation["organiser"]) == (
        d.consultation.id, "open", d.organiser.display_name)
    assert [t["id"] for t in consultation["topics"]] == [t.id for t in d.consultation.topics]
    assert consultation["topics"][0]["guiding_questions"] == ["Question 1?"]
    assert document["event"] is None

    records = document["posts"]
    _assert_matches_database(records, _db_posts(db, scope), as_csv=False)
    # Records are flat (a table for pandas.json_normalize) with the CSV's columns.
    assert all(list(r) == list(data.COLUMNS) for r in records)
    assert all(not isinstance(v, (dict, list)) for r in records for v in r.values())
    by_id = {r["post_id"]: r for r in records}
    assert by_id[d.formula.id]["body_markdown"] == "=SUM(A1:A2)"  # JSON needs no defusing
    assert by_id[d.first.id]["parent_id"] is None and by_id[d.first.id]["pinned"] is True
    assert by_id[d.hidden.id]["state"] == "hidden" and by_id[d.hidden.id]["body_markdown"] == "Something rude"
    assert by_id[d.deleted.id]["author_ref"] is None

    # Participants: the authors of the posts that were not deleted, each once, with counts.
    participants = {p["ref"]: p for p in document["participants"]}
    assert [p["label"] for p in document["participants"]] == ["Alice Žižek", "Participant (BE, NGO)", "Carol"]
    for record in records:
        if record["author_ref"] is not None:
            assert participants[record["author_ref"]]["label"] == record["author"]
    live = [r for r in records if r["state"] != "deleted"]
    assert sum(p["posts"] for p in participants.values()) == len(live)
    bob = participants[by_id[d.formula.id]["author_ref"]]
    assert bob == {"ref": bob["ref"], "label": "Participant (BE, NGO)", "named": False, "organisation": "",
                   "organisation_type": "ngo", "organisation_type_label": "NGO", "country": "BE", "posts": 2}
    assert "Secret Bob" not in text and "Hidden Org Ltd" not in text
    assert "@" not in json.dumps(document["participants"])  # no e-mail addresses

    # CSV and JSON say the same thing.
    rows = _csv_rows(_export_csv(scope))
    for row, record in zip(rows, records, strict=True):
        assert row == {k: str(data._csv_cell(v)) for k, v in record.items()}


def test_public_view_leaves_hidden_posts_out(db, make_user, make_consultation, make_post):
    d = _discussion(db, make_user, make_consultation, make_post)
    scope = resolve(make_user(), "consultation", d.consultation.id, public=True)
    document = _export_json(scope)
    assert document["export"]["moderators_view"] is False
    ids = [r["post_id"] for r in document["posts"]]
    assert d.hidden.id not in ids and d.first.id in ids
    assert "Something rude" not in json.dumps(document) and "Off topic" not in json.dumps(document)


def test_topic_and_thread_exports(db, make_user, make_consultation, make_post):
    d = _discussion(db, make_user, make_consultation, make_post)
    topic2 = d.consultation.topics[1]
    document = _export_json(resolve(d.organiser, "topic", topic2.id))
    assert [t["id"] for t in document["consultation"]["topics"]] == [topic2.id]
    assert [r["post_id"] for r in document["posts"]] == [d.on_behalf.id]
    thread = _csv_rows(_export_csv(resolve(d.organiser, "thread", d.formula.id)))
    assert [int(r["post_id"]) for r in thread] == [d.first.id, d.formula.id, d.edited.id, d.hidden.id]


# --- Events -------------------------------------------------------------------------------

def test_event_export(db, make_user, make_event):
    event = make_event(rooms=2, participants=2)
    room1, room2 = event.breakout_rooms
    speaker = event.test_participants[0]  # placed in room 1
    moderator = event.test_moderators[1][0]
    said = posts.post_in_room(speaker, room1, body="We need **childcare**, first.")
    answer = posts.post_in_room(moderator, room1, body="Noted; who else?", parent=said)
    posts.post_in_room(moderator, room1, body="Between us moderators", backchannel=True)
    other = posts.post_in_room(event.test_participants[1], room2, body="+1 from room two")
    rooms.add_takeaway(moderator, room1, "Childcare comes first", source_post=said)

    scope = resolve(event.owner, "event", event.id)
    rows = _csv_rows(_export_csv(scope))
    _assert_matches_database(rows, _db_posts(db, scope), as_csv=True)
    assert [int(r["post_id"]) for r in rows] == [said.id, answer.id, other.id]
    assert [(r["place_kind"], r["place_id"], r["place_title"]) for r in rows] == [
        ("room", str(room1.id), room1.title), ("room", str(room1.id), room1.title),
        ("room", str(room2.id), room2.title)]
    assert rows[0]["body_text"] == "We need childcare, first."
    assert rows[2]["body_markdown"] == "'+1 from room two"

    document = _export_json(scope)
    assert document["consultation"] is None
    rooms_out = document["event"]["rooms"]
    assert [r["id"] for r in rooms_out] == [room.id for room in event.rooms]
    assert rooms_out[0]["plenary"] is True and rooms_out[1]["phase"] == "open"
    assert rooms_out[1]["moderators"] == [m.display_name for m in event.test_moderators[1]]
    assert rooms_out[1]["takeaways"] == [{"position": 1, "body_markdown": "Childcare comes first",
                                          "body_text": "Childcare comes first", "credited": speaker.display_name}]
    assert "Between us moderators" not in json.dumps(document)

    # A co-moderator exports their own room, and no other.
    room_rows = _csv_rows(_export_csv(resolve(moderator, "room", room1.id)))
    assert [int(r["post_id"]) for r in room_rows] == [said.id, answer.id]
    with pytest.raises(NotFound):
        resolve(moderator, "room", room2.id)
    with pytest.raises(NotFound):
        resolve(moderator, "event", event.id)


# --- Demo data ----------------------------------------------------------------------------

def test_demo_exports_round_trip(db):
    assert demo.load_demo() is not None
    organiser = db.session.scalar(select(User).where(User.email == demo.ORGANISER_EMAIL))
    scopes = [resolve(organiser, "consultation", c.id) for c in db.session.scalars(select(Consultation))]
    scopes += [resolve(organiser, "event", e.id) for e in db.session.scalars(select(Event))]
    total = hidden = 0
    for scope in scopes:
        expected = _db_posts(db, scope)
        _assert_matches_database(_csv_rows(_export_csv(scope, bom=True)[1:]), expected, as_csv=True)
        document = _export_json(scope)
        _assert_matches_database(document["posts"], expected, as_csv=False)
        authors = {r["author_ref"] for r in document["posts"] if r["author_ref"] is not None}
        assert authors == {p["ref"] for p in document["participants"]}
        total += len(expected)
        hidden += sum(1 for r in document["posts"] if r["state"] == "hidden")
    assert total > 50
    assert hidden == 2  # room 3 of the live event, and of the ended one


# --- Scale --------------------------------------------------------------------------------

def _bulk_posts(db, consultation, authors, n: int) -> None:
    """n responses (one reply to every fourth) with long bodies, inserted in bulk."""
    body = ("A response with **some** words, a [link](https://example.org) and more words. " * 20).strip()
    body_html = f"<p>{body}</p>"  # its exact rendering does not matter here
    start = utcnow() - timedelta(days=1)
    topic = consultation.topics[0]
    rows = [dict(consultation_id=consultation.id, topic_id=topic.id, author_id=authors[i % len(authors)].id,
                 body=f"{i} {body}", body_html=body_html, created_at=start + timedelta(seconds=i),
                 endorsement_count=i % 7) for i in range(n)]
    db.session.execute(insert(Post), rows)
    db.session.execute(update(Post).where(Post.consultation_id == consultation.id, Post.thread_id.is_(None))
                       .values(thread_id=Post.id))


def test_large_export_streams_in_bounded_memory(db, make_user, make_consultation, monkeypatch):
    organiser = make_user("organiser")
    consultation = make_consultation(owner=organiser)
    _bulk_posts(db, consultation, [make_user() for _ in range(5)], 3000)
    scope = resolve(organiser, "consultation", consultation.id)
    # A smaller batch than in production, so that the rows of a batch (held twice: the one
    # being written and the driver's next one, ~7 KB a row here) are clearly fewer than the
    # output. (With BATCH = 1000 the peak is ~7.5 MB here, and the same at 50,000 posts.)
    monkeypatch.setattr(data, "BATCH", 50)

    for export in (lambda: data.csv_chunks(scope), lambda: data.json_chunks(scope)):
        sum(len(chunk) for chunk in export())  # warm up: compiled statements, translations
        chunks = rows = size = 0
        tracemalloc.start()
        try:
            for chunk in export():
                chunks += 1
                size += len(chunk)
                rows += chunk.count('"post_id"') + chunk.count("\r\n")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert chunks > 20  # streamed, not built whole
        assert size > 4_000_000
        assert rows >= 3000
        # Not holding the output: the peak stays well below its size.
        assert peak < size / 5, (peak, size)

    progress = []
    assert sum(1 for _ in data.csv_chunks(scope, progress=progress.append)) > 1
    assert progress == [50] * 60
    assert data.count_posts(scope) == 3000


# --- Permissions --------------------------------------------------------------------------

def test_participants_get_no_export(db, make_user, make_consultation, make_post):
    d = _discussion(db, make_user, make_consultation, make_post)
    for person in (d.alice, d.bob, make_user()):
        with pytest.raises(NotFound):
            resolve(person, "consultation", d.consultation.id)
        with pytest.raises(NotFound):
            resolve(person, "topic", d.consultation.topics[0].id)
