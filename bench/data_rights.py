"""How long a person's data rights take on a large consultation: building their copy of their
data (the job, forum/services/personal_data.py) and closing their account either way
(forum/services/account_closure.py, which runs in the request that closes it).

Fills a consultation with N posts from 200 people (bench/exports.py's `build`) and its live
stream with two stored events per post: the post's own (with its words) and a count update
that names no post, which the closure must read through to find what carries the person's
name or words. One person (~N/200 posts) asks for their copy; one closes keeping their
contributions, another erasing them. Prints per size the time of each, the archive's size and
the number of stream events read; the baseline is the same work at the smallest size.

    .venv/bin/python bench/data_rights.py                 # 1,000, 10,000 and 50,000 posts
    .venv/bin/python bench/data_rights.py 100000          # other sizes
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/bench .venv/bin/python bench/data_rights.py

Without DATABASE_URL it uses a temporary SQLite file. The database is emptied first.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.exports import build  # noqa: E402  (the same consultation as the exports' figures)

SIZES = [int(a) for a in sys.argv[1:] if a.isdigit()] or [1_000, 10_000, 50_000]


def _fill_stream(consultation_id: int) -> int:
    from forum.extensions import db
    from forum.models import Post, Stream, StreamEvent
    from forum.services.events import consultation_stream

    key = consultation_stream(consultation_id)
    if db.session.get(Stream, key) is None:
        db.session.add(Stream(key=key, last_seq=0))
        db.session.flush()
    rows, seq = [], 0
    for post_id, author_id, body in db.session.execute(
            select(Post.id, Post.author_id, Post.body).where(Post.consultation_id == consultation_id)
            .order_by(Post.id)):
        seq += 1
        rows.append(dict(stream_key=key, seq=seq, kind="post", post_id=post_id,
                         data={"post_id": post_id, "author_id": author_id, "body": body}))
        seq += 1
        rows.append(dict(stream_key=key, seq=seq, kind="endorsements", post_id=None,
                         data={"post_id": post_id, "count": seq % 17}))
    for chunk in range(0, len(rows), 5000):
        db.session.execute(insert(StreamEvent), rows[chunk:chunk + 5000])
    db.session.get(Stream, key).last_seq = seq
    db.session.commit()
    return seq


def run(url: str, n_posts: int, reports_dir: str) -> dict:
    from forum import create_app, jobs
    from forum.extensions import db
    from forum.models import Post, User
    from forum.services import account_closure, personal_data

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "REPORTS_DIR": reports_dir})
    with app.app_context():
        consultation_id = build(n_posts)
        events = _fill_stream(consultation_id)
        people = {i: db.session.scalar(select(User).where(User.email == f"user{i}@bench.example"))
                  for i in (0, 1, 2)}
        own_posts = db.session.scalar(select(func.count()).where(Post.author_id == people[0].id))
        figures = {"posts": n_posts, "stream events": events, "their posts": own_posts}

    with app.test_request_context():
        person = db.session.get(User, people[0].id)
        jobs.enqueue, enqueue = (lambda *args, **kwargs: None), jobs.enqueue  # built below, timed
        try:
            copy = personal_data.request_personal_data(person)
        finally:
            jobs.enqueue = enqueue
        db.session.commit()
        started = time.perf_counter()
        personal_data.build(copy.id)
        figures["copy s"] = time.perf_counter() - started
        db.session.refresh(copy)
        figures["copy KB"] = copy.size / 1024

    for mode, index in (("keep", 1), ("erase", 2)):
        with app.test_request_context():
            person = db.session.get(User, people[index].id)
            started = time.perf_counter()
            account_closure.close_account(person, person, mode, password="bench-password")
            db.session.commit()
            figures[f"close ({mode}) s"] = time.perf_counter() - started
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{directory}/bench.db"
        results = [run(url, n, f"{directory}/reports-{n}") for n in SIZES]
    columns = ["posts", "stream events", "their posts", "copy s", "copy KB", "close (keep) s", "close (erase) s"]
    print(" | ".join(columns))
    for figures in results:
        print(" | ".join(f"{figures[c]:.2f}" if isinstance(figures[c], float) else f"{figures[c]:,}"
                         for c in columns))
    base = results[0]
    for figures in results[1:]:
        print(f"{figures['posts']:,} posts vs {base['posts']:,}: "
              + ", ".join(f"{c} x{figures[c] / base[c]:.1f}" for c in ("copy s", "close (keep) s", "close (erase) s")))


if __name__ == "__main__":
    main()
