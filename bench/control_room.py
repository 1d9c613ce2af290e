"""What the organisers' control room costs with 10 rooms x 50 people live: the job that reads
every room's figures and records them on "event:<id>:control" (time, queries, message
size), and what its hook adds to every post in a room (posting with the control room
watched, not watched, and with the hook removed).

A script that prints figures, not a test. It runs in-process, like catch_up.py: the app in
threading mode without a message queue (jobs run in this process on their debounce timer,
as without Redis), a temporary SQLite file (or --database-url). People "present" are
presence entries (in memory) on each room's stream, as their sockets would leave them.

    .venv/bin/python bench/control_room.py
    .venv/bin/python bench/control_room.py --rooms 10 --people 50 --history 200 --rate 10 --seconds 10
    .venv/bin/python bench/control_room.py --database-url postgresql://postgres@127.0.0.1:5432/plenary_bench
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "bench-password-not-secret"
RETRIES = 10  # a post refused by SQLite (busy) is tried again up to this many times, and counted
BODY = ("I think we should {n} keep the language courses open all year, with childcare during the "
        "lessons and evening slots for people who work shifts.")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=10, help="breakout rooms (default 10)")
    parser.add_argument("--people", type=int, default=50, help="participants per room, all present (default 50)")
    parser.add_argument("--history", type=int, default=200, help="messages per room before the run (default 200)")
    parser.add_argument("--rate", type=float, default=10.0, help="posts per second over all rooms (default 10)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each posting phase (default 10)")
    parser.add_argument("--repeat", type=int, default=20, help="job runs timed (default 20)")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    return parser.parse_args(argv)


def seed(app, rooms: int, people: int, history: int):
    """A published event with `rooms` open breakout rooms, each with a co-moderator and
    `people` participants placed in it, and `history` messages per room (a few recent)."""
    from datetime import timedelta

    from werkzeug.security import generate_password_hash

    import forum.models.users
    from forum.extensions import db
    from forum.models import Event, EventMember, Moderator, Post, PostStatus, Room
    from forum.models.base import utcnow
    from forum.models.events import EventStatus, MemberRole, RoomPhase
    from forum.rendering import render_markdown
    from forum.services import accounts

    # What the tests do too: scrypt's 150 ms per account is not what is measured.
    forum.models.users.generate_password_hash = partial(generate_password_hash, method="pbkdf2:sha256:1")

    def person(name: str):
        return accounts.register(f"{name}@example.org", PASSWORD, accounts.Profile(
            display_name=name.title(), organisation="Bench Organisation", organisation_type="ngo", country="BE"))

    organiser = person("organiser")
    accounts.set_roles(None, organiser, organiser=True)
    start = utcnow() - timedelta(minutes=30)
    event = Event(title="Bench event", owner=organiser, starts_at=start, ends_at=start + timedelta(hours=3),
                  status=EventStatus.PUBLISHED)
    event.rooms.append(Room(position=0, title="Plenary", phase=RoomPhase.OPEN))
    for position in range(1, rooms + 1):
        event.rooms.append(Room(position=position, title=f"Room {position}", phase=RoomPhase.OPEN))
    db.session.add(event)
    db.session.flush()
    participants = {}
    for room in event.breakout_rooms:
        db.session.add(Moderator(user_id=person(f"moderator{room.position}").id, room_id=room.id))
        participants[room.id] = []
        for n in range(people):
            user = person(f"p{room.position}x{n}")
            db.session.add(EventMember(event_id=event.id, user_id=user.id, role=MemberRole.PARTICIPANT,
                                       room_id=room.id))
            participants[room.id].append(user)
        db.session.flush()
    html = render_markdown(BODY.format(n=0))
    for room in event.breakout_rooms:
        for n in range(history):
            author = participants[room.id][(n * 7) % people]
            db.session.add(Post(room_id=room.id, author_id=author.id, body=BODY.format(n=n), body_html=html,
                                status=PostStatus.PUBLISHED,
                                created_at=utcnow() - timedelta(minutes=60 - 55 * n / max(history, 1))))
    db.session.commit()
    return event.id, {room_id: [u.id for u in users] for room_id, users in participants.items()}


class Counter:
    def __init__(self, engine):
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._one)

    def _one(self, *args):
        self.count += 1


def time_job(app, event_id: int, participants: dict[int, list[int]], repeat: int, counter: Counter) -> dict:
    """`publish_snapshot` run directly (as the worker does), watched, the figures changed
    since its previous run: per run, wall and CPU time, statements, and the message's size."""
    from sqlalchemy import select

    from forum import jobs
    from forum.extensions import db
    from forum.models import StreamEvent
    from forum.presence import presence
    from forum.services import control_room, events

    runs = []
    first_room = events.room_stream(min(participants))
    for n in range(repeat + 1):
        # Someone comes or goes before each run: the figures change, so each run records them
        # (figures equal to the latest message's are not recorded again).
        if n % 2:
            presence.add(first_room, "sid-bench-visitor", {"id": -1, "name": "Visitor"})
        else:
            presence.remove(first_room, "sid-bench-visitor")
        with app.app_context():
            before = counter.count
            started, cpu = time.perf_counter(), time.process_time()
            jobs._run(app, f"{control_room.publish_snapshot.__module__}.publish_snapshot", [event_id])
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            runs.append({"ms": elapsed * 1000, "cpu_ms": cpu * 1000, "queries": counter.count - before})
    with app.app_context():
        payload = db.session.scalar(select(StreamEvent.payload).where(
            StreamEvent.stream_key == control_room.control_stream(event_id)).order_by(StreamEvent.seq.desc()).limit(1))
        size = len(json.dumps(payload, separators=(",", ":")))
        # What one figure-reading costs, without recording it (the job reads once, or twice on a race).
        from forum.models import Event
        event = db.session.get(Event, event_id)
        started = time.perf_counter()
        control_room.figures(event)
        figures_ms = (time.perf_counter() - started) * 1000
    runs = runs[1:]  # the first compiled the statements
    return {"ms": statistics.median(r["ms"] for r in runs), "max_ms": max(r["ms"] for r in runs),
            "cpu_ms": statistics.median(r["cpu_ms"] for r in runs),
            "queries": statistics.median(r["queries"] for r in runs), "bytes": size, "figures_ms": figures_ms}


def post_phase(app, event_id: int, participants: dict[int, list[int]], rate: float, seconds: float,
               counter: Counter, offset: int) -> dict:
    """Posts at `rate` per second over all rooms for `seconds`, each in its own transaction
    (as a request): the post's own time, the process's CPU per post over the phase (jobs on
    their timers included) and the statements per post."""
    from sqlalchemy.exc import OperationalError

    from forum.extensions import db
    from forum.models import Room, User
    from forum.services import posts
    from forum.services.errors import database_busy

    total = int(rate * seconds)
    retried = 0
    room_ids = sorted(participants)
    times = []
    before_queries = counter.count
    cpu = time.process_time()
    started = time.perf_counter()
    for n in range(total):
        slot = started + n / rate
        pause = slot - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        room_id = room_ids[n % len(room_ids)]
        author_id = participants[room_id][(n + offset) % len(participants[room_id])]
        t0 = time.perf_counter()
        for attempt in range(RETRIES + 1):
            # As the socket's `post` does (forum/realtime/handlers.py, 3 times there): a write
            # that SQLite refused because another committed since it began reading is tried again.
            with app.test_request_context():
                try:
                    author, room = db.session.get(User, author_id), db.session.get(Room, room_id)
                    posts.post_in_room(author, room, body=BODY.format(n=n + offset))
                    db.session.commit()
                    break
                except OperationalError as error:
                    db.session.rollback()
                    if not database_busy(error) or attempt == RETRIES:
                        raise
                    retried += 1
                    time.sleep(0.05 * (attempt + 1))
        times.append((time.perf_counter() - t0) * 1000)
    time.sleep(max(1.5, app.config["CONTROL_ROOM_DEBOUNCE_SECONDS"] + 0.5))  # the last debounced run
    cpu = time.process_time() - cpu
    return {"posts": total, "p50": statistics.median(times), "p95": sorted(times)[int(0.95 * (len(times) - 1))],
            "cpu_per_post": cpu * 1000 / total, "queries_per_post": (counter.count - before_queries) / total,
            "retried": retried}


def main(argv=None) -> int:
    args = parse_args(argv)
    from sqlalchemy import func, select

    from forum import create_app
    from forum.extensions import db
    from forum.models import StreamEvent
    from forum.presence import presence
    from forum.services import control_room, events

    tmp = tempfile.TemporaryDirectory(prefix="plenary-control-room-")
    url = args.database_url or f"sqlite:///{tmp.name}/bench.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SOCKETIO_ASYNC_MODE": "threading",
                      "SOCKETIO_MESSAGE_QUEUE": None, "RATELIMIT_ENABLED": False, "JOBS_REDIS_URL": None,
                      "CONTROL_ROOM_DECAY_SECONDS": 0})
    try:
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            event_id, participants = seed(app, args.rooms, args.people, args.history)
            counter = Counter(db.engine)
        print(f"{args.rooms} rooms x {args.people} people present, {args.history} messages per room before; "
              f"database {url.split('@')[-1]}; set up in {time.perf_counter() - started:.1f} s", flush=True)
        # Everyone present: one entry per person on their room's stream.
        for room_id, user_ids in participants.items():
            for user_id in user_ids:
                presence.add(events.room_stream(room_id), f"sid-{user_id}", {"id": user_id, "name": f"P{user_id}"})
        control = control_room.control_stream(event_id)

        presence.add(control, "sid-organiser", {})
        job = time_job(app, event_id, participants, args.repeat, counter)
        print(f"\nthe job (publish_snapshot, watched), median of {args.repeat}:")
        print(f"  {job['ms']:.1f} ms wall (max {job['max_ms']:.1f}), {job['cpu_ms']:.1f} ms CPU, "
              f"{job['queries']:.0f} statements; figures alone {job['figures_ms']:.1f} ms; "
              f"message {job['bytes']:,} bytes")

        phases = []
        offset = 0
        for name, watched, hooked in (("hook removed", False, False), ("not watched", False, True),
                                      ("watched", True, True)):
            if watched:
                presence.add(control, "sid-organiser", {})
            else:
                presence.remove(control, "sid-organiser")
            if not hooked:
                events._room_watchers.remove(control_room.room_changed)
            with app.app_context():
                seq_before = events.latest_seq(control)
            result = post_phase(app, event_id, participants, args.rate, args.seconds, counter, offset)
            offset += result["posts"]
            if not hooked:
                events.watch_rooms(control_room.room_changed)
            with app.app_context():
                result["snapshots"] = events.latest_seq(control) - seq_before
            phases.append((name, result))

        print(f"\nposting {args.rate:g}/s over {args.rooms} rooms for {args.seconds:g} s per phase "
              f"(debounce {app.config['CONTROL_ROOM_DEBOUNCE_SECONDS']:g} s):")
        print(f"{'phase':14} {'posts':>5} {'post p50 ms':>11} {'p95 ms':>7} {'CPU ms/post':>11} "
              f"{'stmts/post':>10} {'snapshots':>9} {'busy retries':>12}")
        for name, r in phases:
            print(f"{name:14} {r['posts']:>5} {r['p50']:>11.1f} {r['p95']:>7.1f} {r['cpu_per_post']:>11.1f} "
                  f"{r['queries_per_post']:>10.1f} {r['snapshots']:>9} {r['retried']:>12}")
        with app.app_context():
            stored = db.session.scalar(select(func.count()).select_from(StreamEvent)
                                       .where(StreamEvent.stream_key == control))
        print(f"\n{stored} snapshot events stored on {control} (only the latest keeps its message)")
    finally:
        with app.app_context():
            db.session.remove()
            if args.database_url:
                db.drop_all()
            db.engine.dispose()
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
