"""Retention of login records (forum/services/retention.py, `flask privacy purge`): the address
blanked after PRIVACY_IP_RETENTION_DAYS, the record deleted after PRIVACY_LOGIN_RETENTION_DAYS."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from forum.models import LoginRecord
from forum.models.base import utcnow
from forum.services import accounts, retention


def records(db):
    return sorted((r.ip_address, r.user_agent) for r in db.session.scalars(select(LoginRecord)))


def test_addresses_then_records_go_after_their_periods(app, db, make_user):
    person = make_user()
    now = utcnow()
    for days, name in ((1, "fresh"), (31, "old"), (181, "ancient")):
        db.session.add(LoginRecord(user_id=person.id, at=now - timedelta(days=days), ip_address="192.0.2.1",
                                   user_agent=name))
    db.session.flush()

    assert retention.purge(now) == retention.Purged(addresses_blanked=1, logins_deleted=1)
    assert records(db) == [("", "old"), ("192.0.2.1", "fresh")]
    assert retention.purge(now) == retention.Purged(addresses_blanked=0, logins_deleted=0)  # nothing twice
    app.config.update(PRIVACY_IP_RETENTION_DAYS=0, PRIVACY_LOGIN_RETENTION_DAYS=10)
    assert retention.purge(now) == retention.Purged(addresses_blanked=1, logins_deleted=1)
    assert records(db) == [("", "fresh")]


def test_the_command_prints_what_it_did(app, db, make_user):
    person = make_user()
    accounts.authenticate(person.email, person.test_password, ip_address="198.51.100.4", user_agent="Old browser")
    record = db.session.scalars(select(LoginRecord)).one()
    record.at = utcnow() - timedelta(days=45)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert result.output == "1 login address(es) blanked, 0 login record(s) deleted.\n"
    db.session.expire_all()
    assert records(db) == [("", "Old browser")]


def test_a_login_record_keeps_only_printable_text_within_its_columns(db, make_user):
    person = make_user()
    accounts.authenticate(person.email, person.test_password, ip_address="2001:db8::1\n",
                          user_agent="Mozilla/5.0 \x00\x1b[31m" + "x" * 400)
    record = db.session.scalars(select(LoginRecord)).one()
    assert record.ip_address == "2001:db8::1"
    assert record.user_agent.startswith("Mozilla/5.0 [31m") and len(record.user_agent) == 300
    assert accounts.authenticate(person.email, "wrong password") is None
    assert len(accounts.recent_logins(person)) == 1
