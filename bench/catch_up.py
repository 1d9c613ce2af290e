"""What an anonymous catch-up costs the server: a public consultation whose stream holds
N events (750 by default), and an anonymous socket that sends `sync` from
`last_seq: 0` (no `join` needed) and follows `more` the way a client does, until it has all of it or the
server tells it to reload the page.

A script that prints figures, not a test. It runs in-process: the app under
Flask-SocketIO's test client (threading mode, no message queue) on a temporary SQLite
file (or --database-url), so that the time measured is the server's handling of each
request: permission check, the database read, building the answer and encoding it into a
Socket.IO packet (the test client also decodes it again, which a server does not, so the
figures are slightly high).

    .venv/bin/python bench/catch_up.py
    .venv/bin/python bench/catch_up.py --events 750 --repeat 5
    .venv/bin/python bench/catch_up.py --set CATCH_UP_RELOAD_AFTER=100000   # page through all
    cd /other/checkout && .venv/bin/python /path/to/bench/catch_up.py --app-root .

`--app-root` names the checkout whose `forum` package is measured (default: the one this
script is in), so the same script measures an older version of the code.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

PASSWORD = "bench-password-not-secret"
BODY = (
    "Our network runs **language courses** for newly arrived families in three districts. "
    "What works: childcare during the lessons, evening slots for people who work shifts, and "
    "teachers who know the local job market. What does not: courses that stop in summer, and "
    "registration forms that need a bank account.\n\n"
    "- co-finance childcare during the courses\n- keep one course open all year\n"
    "- accept registrations without a bank account\n\n"
    "See https://example.org/report-2025 for the figures (post {n})."
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=750, help="events on the stream (default 750)")
    parser.add_argument("--repeat", type=int, default=5, help="catch-ups measured; the median is shown")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--app-root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the checkout whose forum package is measured")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a configuration value (integers are converted), e.g. CATCH_UP_RELOAD_AFTER=100000")
    return parser.parse_args(argv)


def config_value(text: str):
    return int(text) if text.lstrip("-").isdigit() else text


def seed(app, events: int) -> str:
    """An organiser, an open public consultation with one topic, ten authors and `events`
    responses (one event each), committed 50 at a time. Returns the stream's key."""
    from forum.extensions import db
    from forum.models.consultations import ConsultationStatus
    from forum.services import accounts, consultations, posts

    with app.test_request_context():
        def person(name: str):
            return accounts.register(f"{name}@example.org", PASSWORD, accounts.Profile(
                display_name=name.title(), organisation="Bench Organisation", organisation_type="ngo",
                country="BE"))

        organiser = person("organiser")
        accounts.set_roles(None, organiser, organiser=True)
        consultation = consultations.create_consultation(organiser, consultations.ConsultationInput(
            title="Language courses", visibility="public"))
        topic = consultations.add_topic(organiser, consultation, consultations.TopicInput(title="Courses"))
        consultations.set_status(organiser, consultation, ConsultationStatus.OPEN.value)
        authors = [person(f"author{n}") for n in range(10)]
        db.session.commit()
        for n in range(events):
            posts.create_post(authors[n % len(authors)], consultation, topic_id=topic.id, body=BODY.format(n=n))
            if n % 50 == 49:
                db.session.commit()
        db.session.commit()
        return f"consultation:{consultation.id}"


def catch_up(app, stream: str) -> list[dict]:
    """One anonymous socket catching up from 0, page after page: per request, its time,
    size and what it said."""
    from forum.extensions import socketio

    with app.app_context():
        client = socketio.test_client(app)
    requests, last = [], 0
    try:
        for _ in range(1000):  # bounded
            data = {"stream": stream, "last_seq": last}
            with app.app_context():
                started, cpu = time.perf_counter(), time.process_time()
                ack = client.emit("sync", data, callback=True)
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            assert ack.get("ok"), ack
            events = ack.get("events") or []
            requests.append({"events": len(events), "bytes": len(json.dumps(ack)),
                             "ms": elapsed * 1000, "cpu_ms": cpu * 1000, "more": bool(ack.get("more")),
                             "reload": bool(ack.get("reload"))})
            if ack.get("reload") or not ack.get("more") or not events:
                break
            last = events[-1]["seq"]
    finally:
        with app.app_context():
            client.disconnect()
    return requests


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(args.app_root.resolve()))
    from forum import create_app
    from forum.extensions import db

    tmp = tempfile.TemporaryDirectory(prefix="plenary-catch-up-")
    url = args.database_url or f"sqlite:///{tmp.name}/bench.db"
    overrides = {key: config_value(value) for key, value in (item.split("=", 1) for item in args.set)}
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SOCKETIO_ASYNC_MODE": "threading",
                      "SOCKETIO_MESSAGE_QUEUE": None, "RATELIMIT_ENABLED": False, **overrides})
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        stream = seed(app, args.events)
        print(f"code: {args.app_root.resolve()}; database: {url.split('@')[-1]}; "
              f"{args.events} events written in {time.perf_counter() - started:.1f} s", flush=True)
    try:
        catch_up(app, stream)  # warm-up: templates compiled, caches filled
        runs = [catch_up(app, stream) for _ in range(args.repeat)]
        print(f"anonymous catch-up from last_seq 0, median of {args.repeat} runs (ms of wall time, "
              "ms of process CPU):\n")
        print("| sync | events | bytes | server ms | CPU ms | answer |")
        print("|---|---:|---:|---:|---:|---|")
        for index, first in enumerate(runs[0]):
            same = [run[index] for run in runs if len(run) > index]
            answer = "reload" if first["reload"] else "more" if first["more"] else "complete"
            print(f"| {index + 1} | {first['events']} | {first['bytes']:,} | "
                  f"{statistics.median(r['ms'] for r in same):.1f} | "
                  f"{statistics.median(r['cpu_ms'] for r in same):.1f} | {answer} |")
        totals = [sum(r["ms"] for r in run) for run in runs]
        pages = [r["ms"] for run in runs for r in run if r["events"]]
        print(f"\nwhole catch-up: {len(runs[0])} request(s), {sum(r['events'] for r in runs[0])} events, "
              f"{sum(r['bytes'] for r in runs[0]):,} bytes, median {statistics.median(totals):.1f} ms")
        if pages:
            print(f"a request that carried events: median {statistics.median(pages):.1f} ms, "
                  f"max {max(pages):.1f} ms")
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
