"""What a busy room's page costs: server time and bytes, for a participant and a moderator.

Builds an event whose breakout room holds N messages (2,000 by default: 20 participants
taking turns, one reply in ten, a few pinned) and two co-moderators, then GETs the room's
page through the app with the test client as a participant and as a co-moderator: the
median server time of --runs requests (after one to warm the caches), the response's size,
the SQL statements per request and the messages on the page. Also the "Load earlier"
fragment when the app has it (forum.web.rooms.earlier).

    .venv/bin/python bench/room_page.py                  # 2,000 messages
    .venv/bin/python bench/room_page.py 500 5000 --runs 15
    DATABASE_URL=postgresql://postgres@127.0.0.1/bench .venv/bin/python bench/room_page.py

Without DATABASE_URL it uses a temporary SQLite file. The same script runs on an older
checkout (the baseline in bench/README.md was measured so, on `main` before the chat page).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from datetime import timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import insert

from forum import create_app
from forum.extensions import db
from forum.models import Event, EventMember, Moderator, Post, Room
from forum.models.base import utcnow
from forum.models.events import AssignmentMode, EventStatus, MemberRole, RoomPhase
from forum.services import accounts

PASSWORD = "bench-password"


def user(n: int, kind: str):
    return accounts.register(f"{kind}{n}@bench.example", PASSWORD, accounts.Profile(
        f"{kind.title()} {n}", f"Organisation {n}", "ngo", "IT"))


def build(n_messages: int) -> dict:
    db.drop_all()
    db.create_all()
    organiser = user(0, "organiser")
    accounts.set_roles(None, organiser, organiser=True)
    start = utcnow() - timedelta(hours=1)
    event = Event(title="Bench event", owner=organiser, starts_at=start, ends_at=start + timedelta(hours=3),
                  status=EventStatus.PUBLISHED, assignment_mode=AssignmentMode.BALANCED)
    event.rooms.append(Room(position=0, title="Plenary", phase=RoomPhase.OPEN))
    room = Room(position=1, title="Bench room", phase=RoomPhase.OPEN)
    event.rooms.append(room)
    db.session.add(event)
    db.session.flush()
    moderators = [user(i, "moderator") for i in range(2)]
    for m in moderators:
        db.session.add(Moderator(user_id=m.id, room_id=room.id))
    participants = [user(i, "participant") for i in range(20)]
    for p in participants:
        db.session.add(EventMember(event_id=event.id, user_id=p.id, role=MemberRole.PARTICIPANT, room_id=room.id))
    db.session.commit()
    # Messages in bulk: two in a row by one person, then the next person, a few seconds apart.
    first = start + timedelta(minutes=1)
    rows = [dict(room_id=room.id, author_id=participants[(i // 2) % 20].id,
                 body=f"Message {i}: a thought about the question, with **some** emphasis.",
                 body_html=f"<p>Message {i}: a thought about the question, with <strong>some</strong> emphasis.</p>",
                 created_at=first + timedelta(seconds=2 * i))
            for i in range(n_messages)]
    for chunk in range(0, len(rows), 5000):
        db.session.execute(insert(Post), rows[chunk:chunk + 5000])
    db.session.execute(Post.__table__.update().where(Post.room_id == room.id).values(thread_id=Post.id))
    ids = list(db.session.scalars(db.select(Post.id).where(Post.room_id == room.id).order_by(Post.id)))
    for parent_id in ids[5::10]:  # one reply in ten, to the message before it
        db.session.execute(Post.__table__.update().where(Post.id == parent_id + 1)
                           .values(parent_id=parent_id, thread_id=parent_id))
    for pinned_id in ids[:3]:
        db.session.execute(Post.__table__.update().where(Post.id == pinned_id).values(pinned_at=first))
    db.session.commit()
    return {"event": event.id, "room": room.id, "participant": participants[0].email,
            "moderator": moderators[0].email, "first_shown": None}


def measure(app, engine, email: str, url: str, runs: int) -> dict:
    """Outside any app context: each request has its own (its own `g`, its own signed-in user)."""
    statements = []

    def count(*_args):
        statements.append(1)

    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    response = client.get(url)  # warm caches (templates, statements)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        statements.clear()
        sa_event.listen(engine, "before_cursor_execute", count)
        t0 = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - t0)
        sa_event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    messages = len(re.findall(r'<li class="message[ "]', html))
    earlier = re.search(r'data-before="(\d+)"', html)
    return {"ms": statistics.median(times) * 1000, "bytes": len(response.get_data()), "queries": len(statements),
            "messages": messages, "before": earlier.group(1) if earlier else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[2000])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    tmp = None
    if not url:
        tmp = tempfile.NamedTemporaryFile(suffix=".db", delete=False)
        url = f"sqlite:///{tmp.name}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False})
    has_earlier = "rooms.earlier" in app.view_functions
    print(f"database: {url.split('@')[-1]}  runs: {args.runs} (median)")
    print(f"{'messages':>9} {'reader':<12} {'view':<14} {'median ms':>10} {'kB':>8} {'queries':>8} {'on page':>8}")
    for n in args.sizes:
        with app.app_context():
            built = build(n)
            engine = db.engine
        page = f"/events/{built['event']}/rooms/{built['room']}"
        for reader in ("participant", "moderator"):
            result = measure(app, engine, built[reader], page, args.runs)
            views = [("room page", result)]
            if has_earlier and result["before"]:
                fragment = measure(app, engine, built[reader], f"{page}/messages/earlier?before={result['before']}",
                                   args.runs)
                views.append(("load earlier", fragment))
            for name, r in views:
                print(f"{n:>9,} {reader:<12} {name:<14} {r['ms']:>10.1f} {r['bytes'] / 1000:>8.1f} "
                      f"{r['queries']:>8} {r['messages']:>8}")
    with app.app_context():
        db.drop_all()
    if tmp:
        os.unlink(tmp.name)


if __name__ == "__main__":
    main()
