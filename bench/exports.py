"""How long the exports of a consultation take (CSV, JSON, and the Markdown and PDF summary
report), and how much memory they use.

Fills a consultation with N posts (responses of ~600 characters of Markdown from 200
people, a tenth not named in reports; a reply to every fourth response; some hidden and
deleted), then exports it as CSV and as JSON in a fresh subprocess each, writing to a sink
that only counts the bytes, and prints per size and format: the time, the output size, the
process's RSS before the export (app loaded, organiser and scope read) and its peak RSS by
the end, and, in a second run under tracemalloc, the peak of Python allocations during the
export. Constant memory shows as the same peak at every size.

    .venv/bin/python bench/exports.py                 # 1,000, 10,000 and 50,000 posts
    .venv/bin/python bench/exports.py 100000          # other sizes
    .venv/bin/python bench/exports.py --no-pdf        # leave a format out
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/bench .venv/bin/python bench/exports.py

Without DATABASE_URL it uses a temporary SQLite file. The database is emptied first.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta

from sqlalchemy import insert, select, update

SIZES = [int(a) for a in sys.argv[1:] if a.isdigit()] or [1_000, 10_000, 50_000]
# The data exports stream; the report (md, pdf) holds the scope's posts to count and digest them.
FORMATS = [f for f in ("csv", "json", "md", "pdf") if f"--no-{f}" not in sys.argv]

BODIES = [
    "We run a **one-stop shop** for newcomers in our city. What works:\n\n"
    "- one caseworker per family, from arrival to the first job\n"
    "- language courses *during* working hours, paid by the employer\n\n"
    "What does not: calls for proposals that open for four weeks, then close for a year. "
    "See [our evaluation](https://example.org/evaluation) for the figures.",
    "The managing authority should allow simplified cost options for mentoring. Small "
    "associations cannot keep time sheets for volunteers; a flat rate per participant would "
    "let them apply at all. In 2023 we lost three partners to the paperwork alone.",
    "Recognition of qualifications takes 14 months on average here. Could the fund pay for "
    "bridging courses while the procedure runs, so that people keep their skills? Engineers "
    "and nurses end up cleaning offices, and that is a loss for everyone, not only for them.",
    "I agree with the point on childcare: without it, women do not attend the courses. "
    "Our pilot with a crèche next to the training centre doubled attendance (from 31% to "
    "64%). It cost less than one extra course per year.",
]


def _app(url: str):
    from forum import create_app
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})


def build(n_posts: int) -> int:
    """A consultation with n_posts published posts; returns its id."""
    from werkzeug.security import generate_password_hash

    import forum.models.users
    from forum.extensions import db
    from forum.models import Post
    from forum.models.base import utcnow
    from forum.rendering import render_markdown
    from forum.services import accounts
    from forum.services import consultations as consultation_service
    # 200 accounts: skip the slow password hashing (nobody logs in).
    forum.models.users.generate_password_hash = lambda p: generate_password_hash(p, method="pbkdf2:sha256:1")

    db.drop_all()
    db.create_all()
    organiser = accounts.register("organiser@bench.example", "bench-password", accounts.Profile(
        "Organiser", "Bench", "eu_institution", "BE"))
    accounts.set_roles(None, organiser, organiser=True)
    types, countries = ["ngo", "local_authority", "research", "migrant_led", "private_company"], ["IT", "DE", "PL"]
    authors = [accounts.register(f"user{i}@bench.example", "bench-password", accounts.Profile(
        f"User {i}", f"Organisation {i}", types[i % 5], countries[i % 3], named_in_reports=i % 10 != 0))
        for i in range(200)]
    consultation = consultation_service.create_consultation(
        organiser, consultation_service.ConsultationInput(title="Bench", tags="#Bench"))
    topics = [consultation_service.add_topic(organiser, consultation, consultation_service.TopicInput(
        f"Topic {i}", guiding_questions=["What works?", "What does not?"])) for i in range(4)]
    consultation_service.set_status(organiser, consultation, "open")
    db.session.commit()
    rendered = [render_markdown(body) for body in BODIES]
    start = utcnow() - timedelta(days=30)
    n_responses = n_posts * 4 // 5
    rows = [dict(consultation_id=consultation.id, topic_id=topics[i % 4].id, author_id=authors[i % 200].id,
                 subject=f"Response {i}" if i % 3 == 0 else "", body=BODIES[i % 4], body_html=rendered[i % 4],
                 created_at=start + timedelta(seconds=i), endorsement_count=i % 17,
                 hidden_at=start if i % 97 == 0 else None, hidden_reason="Off topic" if i % 97 == 0 else "")
            for i in range(n_responses)]
    for chunk in range(0, len(rows), 5000):
        db.session.execute(insert(Post), rows[chunk:chunk + 5000])
    db.session.execute(update(Post).where(Post.parent_id.is_(None)).values(thread_id=Post.id))
    parents = list(db.session.execute(select(Post.id, Post.topic_id).where(Post.parent_id.is_(None))
                                      .order_by(Post.id).limit(n_posts - n_responses)))
    replies = [dict(consultation_id=consultation.id, topic_id=topic_id, author_id=authors[(pid * 7) % 200].id,
                    parent_id=pid, thread_id=pid, body=BODIES[pid % 4][:200], body_html=rendered[pid % 4],
                    created_at=start + timedelta(days=1, seconds=pid),
                    deleted_at=start if pid % 53 == 0 else None)
               for pid, topic_id in parents]
    for chunk in range(0, len(replies), 5000):
        db.session.execute(insert(Post), replies[chunk:chunk + 5000])
    db.session.commit()
    return consultation.id


def _maxrss_bytes() -> int:
    """This process's peak RSS (VmHWM). Not ru_maxrss: a child started by subprocess (vfork,
    then exec) inherits its parent's, here the process that built the data."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def run_one(url: str, fmt: str, consultation_id: int, traced: bool) -> dict:
    """In the subprocess: one export to a byte-counting sink."""
    from forum.exports import data, report
    from forum.exports.scope import resolve
    from forum.extensions import db
    from forum.models import User

    app = _app(url)
    with app.test_request_context():
        organiser = db.session.scalar(select(User).where(User.email == "organiser@bench.example"))
        scope = resolve(organiser, "consultation", consultation_id)
        before = _maxrss_bytes()
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        if fmt in ("csv", "json"):
            chunks = data.csv_chunks(scope, bom=True) if fmt == "csv" else data.json_chunks(scope)
            size = sum(len(chunk.encode()) for chunk in chunks)
        else:  # the summary report: built in memory, then written
            built = report.build_report(scope)
            size = len(report.render_markdown(built).encode()) if fmt == "md" else len(report.render_pdf(built))
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if traced else None
        return {"seconds": seconds, "bytes": size, "rss_before": before, "rss_peak": _maxrss_bytes(),
                "traced_peak": peak}


def _subprocess(url: str, fmt: str, consultation_id: int, traced: bool) -> dict:
    command = [sys.executable, __file__, "--run", url, fmt, str(consultation_id)]
    command += ["--traced"] if traced else []
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    url = os.environ.get("DATABASE_URL")
    tmp = None
    if not url:
        tmp = tempfile.NamedTemporaryFile(suffix=".db", delete=False)
        url = f"sqlite:///{tmp.name}"
    app = _app(url)
    print(f"database: {url.split('@')[-1]}")
    print(f"{'posts':>8} {'format':<6} {'seconds':>8} {'output MB':>10} {'RSS before MB':>14} "
          f"{'peak RSS MB':>12} {'tracemalloc peak MB':>20}")
    try:
        for n in SIZES:
            with app.app_context():
                consultation_id = build(n)
            for fmt in FORMATS:
                plain = _subprocess(url, fmt, consultation_id, traced=False)
                traced = _subprocess(url, fmt, consultation_id, traced=True)
                print(f"{n:>8,} {fmt:<6} {plain['seconds']:>8.2f} {plain['bytes'] / 1e6:>10.1f} "
                      f"{plain['rss_before'] / 1e6:>14.1f} {plain['rss_peak'] / 1e6:>12.1f} "
                      f"{traced['traced_peak'] / 1e6:>20.1f}", flush=True)
        with app.app_context():
            from forum.extensions import db
            db.drop_all()
    finally:
        if tmp:
            os.unlink(tmp.name)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if sys.argv[1:2] == ["--run"]:
        print(json.dumps(run_one(sys.argv[2], sys.argv[3], int(sys.argv[4]), "--traced" in sys.argv)))
    else:
        main()
