"""The cost of notifying the followers of one consultation: an organiser adds a Topic to a
consultation that N people follow (2,000 by default).

Two figures, each as time (median of --runs) and SQL statements:
- the request that adds the Topic (POST /consultations/<id>/topics/new), which must stay the
  same whatever N is: it only queues the fan-out job. The baseline is the same request on a
  consultation nobody follows, in the same run; the ratio is printed.
- the fan-out job itself (notifications.deliver_new_topic: the followers, their settings,
  the permission check per follower, one INSERT of the notices, the bell's push), which
  grows with N; per follower figures are printed.

The job queue is held for the request (the job recorded, not run: what a deployment with
Redis does, where a worker runs it), then the job is run on its own, timed.

    .venv/bin/python bench/notify.py                           # SQLite, 2,000 followers
    .venv/bin/python bench/notify.py --followers 10000 --runs 5
    .venv/bin/python bench/notify.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench

The PostgreSQL database must exist; its tables are dropped and made again.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, insert, select

from forum import create_app, jobs
from forum.extensions import db
from forum.models import Topic, User
from forum.models.notifications import Follow, Notification
from forum.services import accounts
from forum.services import consultations as consultation_service

PASSWORD = "bench-password-long-enough"


def build(followers: int) -> tuple[int, int, int]:
    """An organiser, two open consultations (one followed by `followers` people, one by
    nobody but its organiser); returns (organiser id, followed id, unfollowed id)."""
    db.drop_all()
    db.create_all()
    organiser = accounts.register("organiser@bench.example", PASSWORD, accounts.Profile(
        "Organiser", "Bench", "eu_institution", "BE"))
    accounts.set_roles(None, organiser, organiser=True)
    ids = []
    for title in ("Followed", "Unfollowed"):
        consultation = consultation_service.create_consultation(
            organiser, consultation_service.ConsultationInput(title=title))
        consultation_service.add_topic(organiser, consultation, consultation_service.TopicInput("First"))
        consultation_service.set_status(organiser, consultation, "open")
        ids.append(consultation.id)
    db.session.commit()
    # Accounts inserted directly (registering hashes each password: minutes for thousands).
    rows = [dict(email=f"f{i}@bench.example", password_hash="-", display_name=f"Follower {i}",
                 handle=f"follower{i}", organisation_type="ngo", country="IT", session_token=f"token-{i}")
            for i in range(followers)]
    for chunk in range(0, len(rows), 1000):
        db.session.execute(insert(User), rows[chunk:chunk + 1000])
    user_ids = db.session.scalars(select(User.id).where(User.email.like("f%@bench.example"))).all()
    follows = [dict(user_id=user_id, consultation_id=ids[0], active=True) for user_id in user_ids]
    for chunk in range(0, len(follows), 1000):
        db.session.execute(insert(Follow), follows[chunk:chunk + 1000])
    db.session.commit()
    return organiser.id, ids[0], ids[1]


@contextmanager
def counting():
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@contextmanager
def held_jobs(queued: list):
    """Record the jobs a request queues instead of running them after its commit."""
    original = jobs._sender
    jobs._sender = lambda app, path, args, key, debounce: (lambda: queued.append((path, args)))
    try:
        yield
    finally:
        jobs._sender = original


def add_topic(client, consultation_id: int, n: int) -> None:
    response = client.post(f"/consultations/{consultation_id}/topics/new", data={"title": f"Topic {n}"})
    assert response.status_code == 302, response.status_code


def measure_request(app, consultation_id: int, runs: int, queued: list) -> tuple[float, int]:
    client = app.test_client()
    response = client.post("/login", data={"email": "organiser@bench.example", "password": PASSWORD})
    assert response.status_code == 302
    times, counts = [], []
    with held_jobs(queued):
        add_topic(client, consultation_id, 0)  # warm-up: templates, statement caches
        for n in range(1, runs + 1):
            with counting() as statements:
                t0 = time.perf_counter()
                add_topic(client, consultation_id, n)
                times.append(time.perf_counter() - t0)
            counts.append(len(statements))
    return statistics.median(times) * 1000, int(statistics.median(counts))


def measure_jobs(app, queued: list) -> tuple[float, int, int]:
    """Run the recorded fan-out jobs one by one (each in an app context of its own, committed,
    as a worker does); returns the median ms, statements and notices per job."""
    times, counts, made = [], [], []
    jobs.run_inline(app, *queued[0])  # the warm-up's job, untimed
    for path, args in queued[1:]:
        before = db.session.scalar(select(db.func.count(Notification.id)))
        with counting() as statements:
            t0 = time.perf_counter()
            jobs._run(app, path, list(args))
            times.append(time.perf_counter() - t0)
        counts.append(len(statements))
        db.session.commit()  # a new snapshot: the job committed in its own session
        made.append(db.session.scalar(select(db.func.count(Notification.id))) - before)
    return statistics.median(times) * 1000, int(statistics.median(counts)), int(statistics.median(made))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    options = parser.parse_args()
    tmp = None
    url = options.database_url
    if not url:
        tmp = tempfile.NamedTemporaryFile(suffix=".db", delete=False)
        url = f"sqlite:///{tmp.name}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "JOBS_REDIS_URL": None,
                      "SOCKETIO_MESSAGE_QUEUE": None})
    print(f"database: {url.split('@')[-1]}   followers: {options.followers:,}   runs: {options.runs}")
    with app.app_context():
        _organiser_id, followed, unfollowed = build(options.followers)
        queued_base: list = []
        queued_many: list = []
        base_ms, base_q = measure_request(app, unfollowed, options.runs, queued_base)
        many_ms, many_q = measure_request(app, followed, options.runs, queued_many)
        job_base_ms, job_base_q, made_base = measure_jobs(app, queued_base)
        job_ms, job_q, made = measure_jobs(app, queued_many)
        topics = db.session.scalar(select(db.func.count(Topic.id)))
        print(f"{'what':<44} {'median ms':>10} {'statements':>11} {'notices':>8}")
        print(f"{'request adding a Topic, nobody follows':<44} {base_ms:>10.1f} {base_q:>11} {'':>8}")
        print(f"{'request adding a Topic, followed':<44} {many_ms:>10.1f} {many_q:>11} {'':>8}")
        print(f"{'  ratio followed / nobody':<44} {many_ms / base_ms:>10.2f} {many_q / base_q:>11.2f}")
        print(f"{'fan-out job, nobody follows':<44} {job_base_ms:>10.1f} {job_base_q:>11} {made_base:>8}")
        print(f"{'fan-out job, followed':<44} {job_ms:>10.1f} {job_q:>11} {made:>8}")
        if made:
            print(f"{'  per notice':<44} {job_ms / made:>10.3f}")
        assert made == options.followers, (made, options.followers)
        assert topics == 2 + 2 * (options.runs + 1)
        db.session.remove()  # its transaction would hold the tables DROP waits for (PostgreSQL)
        db.drop_all()
    if tmp:
        Path(tmp.name).unlink()


if __name__ == "__main__":
    main()
