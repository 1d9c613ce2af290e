"""How the consultation page behaves as responses pile up.

Fills a consultation with N responses (and one reply to every fifth), then renders its first
page through the app, and prints the server time and the number of SQL queries per page,
for each sort and for a topic filter. The query count must not grow with N.

    .venv/bin/python bench/consultation_page.py            # 100, 1,000 and 10,000 responses
    .venv/bin/python bench/consultation_page.py 50000      # other sizes
    DATABASE_URL=postgresql://postgres@127.0.0.1/bench .venv/bin/python bench/consultation_page.py

Without DATABASE_URL it uses a temporary SQLite file.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta

from sqlalchemy import event, insert

from forum import create_app
from forum.extensions import db
from forum.models import Post
from forum.models.base import utcnow
from forum.services import accounts
from forum.services import consultations as consultation_service

SIZES = [int(a) for a in sys.argv[1:]] or [100, 1_000, 10_000]
RUNS = 7


def build(n_responses: int) -> tuple[int, int]:
    db.drop_all()
    db.create_all()
    organiser = accounts.register("organiser@bench.example", "bench-password", accounts.Profile(
        "Organiser", "Bench", "eu_institution", "BE"))
    accounts.set_roles(None, organiser, organiser=True)
    authors = [accounts.register(f"user{i}@bench.example", "bench-password", accounts.Profile(
        f"User {i}", f"Organisation {i}", "ngo", "IT")) for i in range(50)]
    consultation = consultation_service.create_consultation(
        organiser, consultation_service.ConsultationInput(title="Bench", tags="#Bench"))
    topics = [consultation_service.add_topic(organiser, consultation,
                                             consultation_service.TopicInput(f"Topic {i}")) for i in range(3)]
    consultation_service.set_status(organiser, consultation, "open")
    db.session.commit()
    start = utcnow() - timedelta(days=30)
    rows = []
    for i in range(n_responses):
        rows.append(dict(consultation_id=consultation.id, topic_id=topics[i % 3].id, author_id=authors[i % 50].id,
                         subject="", body=f"Response {i}", body_html=f"<p>Response {i}</p>",
                         created_at=start + timedelta(seconds=i), endorsement_count=i % 17))
    for chunk in range(0, len(rows), 5000):
        db.session.execute(insert(Post), rows[chunk:chunk + 5000])
    db.session.execute(Post.__table__.update().where(Post.parent_id.is_(None)).values(thread_id=Post.id))
    replies = [dict(consultation_id=consultation.id, topic_id=topics[0].id, author_id=authors[1].id,
                    parent_id=pid, thread_id=pid, body="Reply", body_html="<p>Reply</p>",
                    created_at=start + timedelta(days=1, seconds=pid))
               for pid in db.session.scalars(db.select(Post.id).where(Post.id % 5 == 0))]
    if replies:
        db.session.execute(insert(Post), replies)
    db.session.commit()
    return consultation.id, topics[1].id


def measure(app, url: str) -> tuple[float, int]:
    statements = []

    def count(*args):
        statements.append(1)

    engine = db.engine
    client = app.test_client()
    client.get(url)  # warm caches (templates, statements)
    times = []
    for _ in range(RUNS):
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        t0 = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - t0)
        event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, response.status_code
    return statistics.median(times) * 1000, len(statements)


def main() -> None:
    url = os.environ.get("DATABASE_URL")
    tmp = None
    if not url:
        tmp = tempfile.NamedTemporaryFile(suffix=".db", delete=False)
        url = f"sqlite:///{tmp.name}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    print(f"database: {url.split('@')[-1]}")
    print(f"{'responses':>10} {'view':<24} {'median ms':>10} {'queries':>8}")
    with app.app_context():
        for n in SIZES:
            consultation_id, topic_id = build(n)
            views = {
                "newest, page 1": f"/consultations/{consultation_id}",
                "most endorsed, page 1": f"/consultations/{consultation_id}?sort=endorsed",
                "topic 2, oldest": f"/consultations/{consultation_id}?topic={topic_id}&sort=oldest",
                "newest, last page": f"/consultations/{consultation_id}?page=100000",
            }
            for name, view in views.items():
                ms, queries = measure(app, view)
                print(f"{n:>10,} {name:<24} {ms:>10.1f} {queries:>8}")
        db.drop_all()
    if tmp:
        os.unlink(tmp.name)


if __name__ == "__main__":
    main()
