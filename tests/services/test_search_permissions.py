"""No leak: for every reader of a scene holding every kind of object a reader may or may not see,
a search finds exactly what forum.permissions' per-object functions allow (can_find_post,
can_view_consultation, can_view_event), and counts nothing else. The SQL clauses
(permissions.findable_documents) and the functions are two writings of one rule: this test
is what keeps them one."""
from __future__ import annotations

from flask_login import AnonymousUserMixin
from sqlalchemy import select

from forum import permissions
from forum.models import Consultation, Event, EventMember, Host, Moderator, Post, SearchDocument, Topic
from forum.models.consultations import ConsultationStatus, Visibility
from forum.models.events import EventStatus, MemberRole
from forum.services import moderation, posts
from forum.services.search import Filters, search
from forum.services.search_text import parse_query

WORD = "zeppelin"  # in every object of the scene


def build_scene(db, make_user, make_consultation, make_event):
    people = {name: make_user() for name in (
        "author", "stranger", "host", "topic moderator", "participant 1", "participant 2", "observer",
        "room moderator", "other room moderator")}
    people["organiser"] = make_user("organiser")
    people["admin"] = make_user("admin")
    people["anonymous"] = AnonymousUserMixin()
    organiser, author = people["organiser"], people["author"]

    consultations = {}
    for name, status, visibility in (("public", "open", "public"), ("members", "open", "members"),
                                     ("closed", "closed", "public"), ("draft", "draft", "public")):
        consultations[name] = make_consultation(organiser, status=status, visibility=visibility, topics=2,
                                                title=f"{WORD} {name}", brief=f"A {WORD} brief.")
    for c in consultations.values():
        db.session.add(Host(consultation_id=c.id, position=1, name="Host", user_id=people["host"].id))
        db.session.add(Moderator(user_id=people["topic moderator"].id, topic_id=c.topics[1].id))
    db.session.flush()
    # Open and public while people post, then as named.
    states = {name: (c.status, c.visibility) for name, c in consultations.items()}
    for c in consultations.values():
        c.status, c.visibility = ConsultationStatus.OPEN, Visibility.PUBLIC
    db.session.flush()

    made: list[Post] = []
    for c in consultations.values():
        for topic in c.topics:
            shown = posts.create_post(author, c, body=f"{WORD} shown", topic_id=topic.id)
            made.append(shown)
            made.append(posts.create_post(people["stranger"], c, body=f"{WORD} reply", parent=shown))
            hidden = posts.create_post(author, c, body=f"{WORD} hidden", topic_id=topic.id)
            moderation.hide_post(organiser, hidden, "Rude")
            made.append(hidden)
            deleted = posts.create_post(author, c, body=f"{WORD} deleted", topic_id=topic.id)
            posts.delete_post(author, deleted)
            made.append(deleted)
            pending = posts.create_post(author, c, body=f"{WORD} pending", topic_id=topic.id)
            pending.status = moderation.PostStatus.PENDING
            made.append(pending)
    for name, c in consultations.items():
        c.status, c.visibility = states[name]
    db.session.flush()

    events = {}
    for status in ("published", "draft", "ended"):
        event = make_event(organiser, status="published", title=f"{WORD} {status}", moderators=1)
        events[status] = event
        room1, room2 = event.breakout_rooms
        db.session.add_all([
            EventMember(event_id=event.id, user_id=people["participant 1"].id, room_id=room1.id),
            EventMember(event_id=event.id, user_id=people["participant 2"].id, room_id=room2.id),
            EventMember(event_id=event.id, user_id=people["observer"].id, role=MemberRole.OBSERVER),
            Moderator(user_id=people["room moderator"].id, room_id=room1.id),
            Moderator(user_id=people["other room moderator"].id, room_id=room2.id),
        ])
        db.session.flush()
        for room in event.rooms:
            db.session.expire(room, ["moderators"])
        made.append(posts.post_in_room(people["participant 1"], event.rooms[0], body=f"{WORD} plenary"))
        made.append(posts.post_in_room(people["participant 1"], room1, body=f"{WORD} room one"))
        made.append(posts.post_in_room(people["participant 2"], room2, body=f"{WORD} room two"))
        made.append(posts.post_in_room(people["room moderator"], room1, body=f"{WORD} backchannel",
                                       backchannel=True))
        hidden = posts.post_in_room(people["participant 1"], room1, body=f"{WORD} hidden message")
        moderation.hide_post(organiser, hidden, "Rude")
        made.append(hidden)
        rejected = posts.post_in_room(people["participant 1"], room1, body=f"{WORD} rejected")
        rejected.status = moderation.PostStatus.REJECTED
        made.append(rejected)
        event.status = EventStatus(status)
    db.session.flush()
    return people, consultations, events, made


def test_search_finds_exactly_what_the_permission_functions_allow(db, make_user, make_consultation, make_event):
    people, consultations, events, made = build_scene(db, make_user, make_consultation, make_event)
    db.session.expire_all()
    all_posts = db.session.scalars(select(Post).where(Post.id.in_([p.id for p in made]))).all()
    all_topics = db.session.scalars(select(Topic)).all()
    assert len(all_posts) == 58

    checked = 0
    for name, reader in people.items():
        expected = {("post", p.id) for p in all_posts if permissions.can_find_post(reader, p)}
        expected |= {("consultation", c.id) for c in db.session.scalars(select(Consultation))
                     if permissions.can_view_consultation(reader, c)}
        expected |= {("topic", t.id) for t in all_topics if permissions.can_view_consultation(reader, t.consultation)}
        expected |= {("event", e.id) for e in db.session.scalars(select(Event))
                     if permissions.can_view_event(reader, e)}

        everything = {tuple(row) for row in db.session.execute(
            select(SearchDocument.kind, SearchDocument.object_id).outerjoin(Post, Post.id == SearchDocument.post_id)
            .where(permissions.findable_documents(reader)))}
        assert everything == expected, name
        page = search(reader, parse_query(WORD), Filters(), per_page=1000)
        found = {("post", h.post.id) if h.post else (h.kind, (h.topic or h.consultation or h.event).id)
                 for h in page.hits}
        # Topics hold no WORD: every other row the reader may find does.
        assert found == {key for key in expected if key[0] != "topic"}, name
        assert page.total == len(found), name
        checked += len(all_posts)
    assert checked == 58 * len(people)


def test_the_scene_has_what_each_reader_must_not_find(db, make_user, make_consultation, make_event):
    """The matrix above can fail: each kind of reader misses something, and finds something."""
    people, consultations, events, made = build_scene(db, make_user, make_consultation, make_event)

    def finds(name):
        page = search(people[name], parse_query(WORD), per_page=1000)
        return {h.post.body for h in page.hits if h.post is not None}

    assert f"{WORD} hidden" not in finds("stranger")
    assert f"{WORD} hidden" in finds("author")
    assert f"{WORD} deleted" not in finds("admin") and "" not in finds("admin")
    assert f"{WORD} pending" not in finds("stranger")
    assert f"{WORD} pending" in finds("topic moderator")
    assert f"{WORD} backchannel" not in finds("participant 1")
    assert f"{WORD} backchannel" in finds("room moderator")
    assert f"{WORD} room two" not in finds("participant 1")
    assert f"{WORD} room two" in finds("observer")
    assert finds("anonymous") == {f"{WORD} shown", f"{WORD} reply"}
