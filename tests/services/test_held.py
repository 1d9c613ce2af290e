"""forum.services.held: under gevent, a held transaction's statements keep the process to
themselves until it commits or rolls back; the server's own mode (gevent monkey-patching)
cannot be set up in the test process, so a small program runs it in a subprocess."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.postgres

PROGRAM = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()

    import json, sys
    import gevent
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session
    from forum.services import held

    engine = create_engine(sys.argv[1])
    ticks = 0

    def ticker():  # another greenlet: counts how often it gets to run
        global ticks
        while True:
            ticks += 1
            gevent.sleep(0)

    gevent.spawn(ticker)
    gevent.sleep(0)

    def ran_during(session, statements=5):
        before = ticks
        for _ in range(statements):
            session.execute(text("SELECT pg_sleep(0.002)"))
        return ticks - before

    found = {}
    with Session(engine) as session:
        found["cooperative"] = ran_during(session)
        held.hold(session)
        found["held"] = ran_during(session)
        found["lock_timeout"] = session.execute(text("SHOW lock_timeout")).scalar_one()
        session.commit()
        found["after_commit"] = ran_during(session)
        held.hold(session)
        session.rollback()
        found["after_rollback"] = ran_during(session)
        found["lock_timeout_after"] = session.execute(text("SHOW lock_timeout")).scalar_one()
    print(json.dumps(found))
""")


def test_a_held_transaction_lets_no_other_greenlet_run_until_it_ends(fresh_postgres_database):
    with fresh_postgres_database() as url:
        result = subprocess.run([sys.executable, "-c", PROGRAM, url], cwd=ROOT, capture_output=True, text=True,
                                timeout=120)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["cooperative"] > 0  # the ticker runs while a statement waits: the comparison holds
    assert found["held"] == 0
    assert found["lock_timeout"] == "5s"  # a mistake in a held section fails rather than stops the process
    assert found["after_commit"] > 0 and found["after_rollback"] > 0
    assert found["lock_timeout_after"] == "0"  # SET LOCAL: the transaction's only
