"""Live events are sent once the whole transaction commits: never when a savepoint inside it
is released (SQLAlchemy calls the commit hooks then too), never after a rollback."""
from forum.services import events


def test_releasing_a_savepoint_sends_nothing_and_a_rollback_drops_it(db):
    sent = []
    events.on_commit(lambda: sent.append("first"))
    with db.session.begin_nested():
        pass
    assert sent == []
    db.session.rollback()
    assert sent == []


def test_what_was_queued_is_sent_at_the_real_commit(db):
    sent = []
    events.on_commit(lambda: sent.append("second"))
    with db.session.begin_nested():
        pass
    db.session.commit()
    assert sent == ["second"]
