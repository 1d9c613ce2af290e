"""The job queue (forum/jobs.py): inline after commit without Redis; with Redis, RQ jobs that a
real SimpleWorker runs (in burst mode, in this process), debounced per key by a gate.

The Redis tests need Redis at 127.0.0.1:6379: skipped without it, except under CI=true where
they fail. Each uses a key prefix of its own and deletes its keys afterwards."""
from __future__ import annotations

import os
import secrets
import threading

import pytest
from sqlalchemy import select

from forum import jobs
from forum.models import OpinionBoard
from forum.services import opinion

REDIS_URL = "redis://127.0.0.1:6379/0"
ran: list[tuple] = []


def record(*args):
    """A job: remembers that it ran, with what, and whether it had a database session."""
    from forum.extensions import db

    ran.append((*args, db.session.is_active))


def fail(*args):
    raise RuntimeError("this job fails")


@pytest.fixture(autouse=True)
def _nothing_ran():
    ran.clear()
    yield
    ran.clear()


# --- Without Redis: inline, after commit ---------------------------------------------------

def test_without_redis_a_job_runs_after_the_commit_never_inside_it(app, db):
    assert not jobs.redis_url()
    jobs.enqueue(record, 1, key="k")
    jobs.enqueue(record, 1, key="k")  # the same key in one transaction: one run
    jobs.enqueue(record, 2)
    assert ran == []
    db.session.commit()
    assert ran == [(1, True), (2, True)]
    jobs.enqueue(record, 3, key="k")  # a new transaction asks anew
    db.session.commit()
    assert ran[-1] == (3, True)


def test_without_redis_a_long_job_under_gevent_runs_in_a_greenlet_of_its_own(app, db, monkeypatch):
    """A report asked for in a request of the gevent web process: the commit returns (and the
    request answers) before the job runs; the job then runs on its own."""
    import gevent

    monkeypatch.setattr(jobs, "_gevent_patched", lambda: True)
    jobs.enqueue(record, 1, long=True)
    db.session.commit()
    assert ran == []  # the request goes on
    gevent.wait(timeout=30)  # the loop runs the job's greenlet
    assert ran == [(1, True)]


def test_without_redis_a_debounced_job_runs_once_on_a_timer_and_reads_every_change(app, db):
    done = threading.Event()
    started = []
    calls = []
    original = jobs.run_inline

    def run_inline(app_, path, args):
        started.append(threading.current_thread())
        original(app_, path, args)
        done.set()

    jobs.run_inline = run_inline
    try:
        for n in range(3):  # three transactions within the delay: one run
            jobs.enqueue(record, n, key="board:9", debounce_seconds=0.2)
            db.session.commit()
            calls.append(n)
        assert ran == []  # not in the request that asked
        assert done.wait(30)
    finally:
        jobs.run_inline = original
    assert ran == [(0, True)] and len(started) == 1
    assert started[0] is not threading.current_thread()
    # The gate opened as the run started: the next change schedules the next run.
    assert "board:9" not in jobs._scheduled


def test_without_redis_a_rolled_back_transaction_runs_nothing(app, db, make_user):
    make_user()  # a write, whose transaction is then rolled back
    jobs.enqueue(record, 1, key="k")
    db.session.rollback()
    db.session.commit()
    assert ran == []


def test_a_failing_inline_job_is_logged_and_the_write_stands(app, db, make_user, caplog):
    user = make_user()
    jobs.enqueue(fail, 1)
    db.session.commit()
    assert "a job failed: tests.test_jobs.fail" in caplog.text
    db.session.expire_all()
    assert db.session.get(type(user), user.id) is not None


# --- With Redis: RQ -------------------------------------------------------------------------

@pytest.fixture
def redis_jobs(app):
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        message = f"Redis not reachable at 127.0.0.1:6379: {error}"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    prefix = f"plenary-test-{secrets.token_hex(4)}:jobs:"
    app.config.update(JOBS_REDIS_URL=REDIS_URL, JOBS_KEY_PREFIX=prefix)
    yield client
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    for key in client.scan_iter(match=f"rq:*{prefix}*"):
        client.delete(key)
    queue = jobs.queue(app)
    for job_id in queue.get_job_ids():
        client.delete(f"rq:job:{job_id}")
    queue.empty()
    queue.delete(delete_jobs=True)


def work(app):
    """A real RQ SimpleWorker in burst mode: runs what is queued now, then returns."""
    return jobs.run_worker(app, burst=True, with_scheduler=False)


def test_with_redis_a_job_is_queued_after_commit_and_a_worker_runs_it(app, db, redis_jobs):
    jobs.enqueue(record, 7)
    assert jobs.queue().count == 0  # not before the commit
    db.session.commit()
    assert jobs.queue().count == 1
    assert ran == []  # not in the process that asked
    assert work(app) is True
    assert ran == [(7, True)]
    assert jobs.queue().count == 0


def test_with_redis_a_rolled_back_transaction_queues_nothing(app, db, redis_jobs, make_user):
    make_user()
    jobs.enqueue(record, 7, key="k", debounce_seconds=30)
    db.session.rollback()
    assert jobs.queue().count == 0 and len(jobs.queue().scheduled_job_registry) == 0
    assert not redis_jobs.exists(jobs.gate_key("k"))


def test_with_redis_requests_within_the_delay_make_one_run(app, db, redis_jobs):
    from rq.job import Job

    queue = jobs.queue()
    for _ in range(3):  # three transactions, as three votes would be
        jobs.enqueue(record, 1, key="board:1", debounce_seconds=30)
        db.session.commit()
    scheduled = queue.scheduled_job_registry
    assert len(scheduled) == 1 and queue.count == 0
    assert redis_jobs.exists(jobs.gate_key("board:1"))
    ttl = redis_jobs.ttl(jobs.gate_key("board:1"))
    assert 30 < ttl <= 30 + jobs.GATE_SLACK_SECONDS

    # Its time has come (as RQ's scheduler would do 30 s later): the worker runs it once.
    job = Job.fetch(scheduled.get_job_ids()[0], connection=redis_jobs)
    scheduled.remove(job)
    queue.enqueue_job(job)
    work(app)
    assert ran == [(1, True)]
    # It opened the gate as it started: the next change schedules the next run.
    assert not redis_jobs.exists(jobs.gate_key("board:1"))
    jobs.enqueue(record, 1, key="board:1", debounce_seconds=30)
    db.session.commit()
    assert len(scheduled) == 1


def test_with_redis_a_worker_recomputes_a_boards_map(app, db, redis_jobs, make_consultation, make_user):
    app.config["OPINION_MAP_DEBOUNCE_SECONDS"] = 0
    consultation = make_consultation()
    board = opinion.save_board(consultation.owner, consultation, prompt="Why?", premoderated=False)
    opinion.set_board_status(consultation.owner, board, "open")
    statements = [opinion.add_seed_statement(consultation.owner, board, f"Statement {i}") for i in range(7)]
    for n in range(4):
        person = make_user()
        for statement in statements:
            opinion.vote(person, statement, 1 if n % 2 else -1)
    db.session.commit()
    db.session.expire_all()
    assert board.map is None  # queued, not run
    assert jobs.queue().count == 1  # 28 votes in one transaction: one job
    work(app)
    db.session.expire_all()
    board = db.session.scalar(select(OpinionBoard).where(OpinionBoard.id == board.id))
    assert board.map is not None and board.map["participants"] == 4
    assert board.map_version == board.matrix_version


def test_flask_worker_needs_redis(app):
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0
    assert "REDIS_URL is not set" in result.output


def test_flask_worker_runs_the_queued_jobs_with_the_app(app, db, redis_jobs):
    jobs.enqueue(record, 5, key="cli", debounce_seconds=0)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert ran == [(5, True)]
    assert jobs.queue().count == 0


def test_a_long_computation_off_the_loop_lets_the_other_greenlets_run(monkeypatch):
    """Under gevent (the web process without Redis), printing a report runs in a native thread:
    a greenlet standing for the live rooms keeps its turns meanwhile; run in the loop itself,
    the same computation would give it none."""
    import threading
    import time

    import gevent

    from forum import jobs

    monkeypatch.setattr(jobs, "_gevent_patched", lambda: True)
    ticks = []

    def live_rooms():
        while True:
            ticks.append(time.perf_counter())
            gevent.sleep(0.005)

    def busy(seconds=0.4):
        end, n = time.perf_counter() + seconds, 0
        while time.perf_counter() < end:
            n += 1
        return threading.get_ident()

    rooms = gevent.spawn(live_rooms)
    gevent.sleep(0)
    try:
        before = len(ticks)
        assert busy() == threading.get_ident()
        in_the_loop = len(ticks) - before
        before = len(ticks)
        assert jobs.off_the_loop(busy) != threading.get_ident()  # another thread did it
        off = len(ticks) - before
    finally:
        rooms.kill()
    assert in_the_loop == 0
    assert off >= 10, off  # about 80 at 5 ms each, with slack for a busy machine
    assert jobs.off_the_loop(lambda a, b: a + b, 2, 3) == 5
