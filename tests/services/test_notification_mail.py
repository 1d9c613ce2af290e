"""forum/services/notification_mail.py: immediate mails and digests, sent to a real SMTP server
(tests/mail.py) and read back. What a notice says comes from notifications.describe (helper
B's module): the tests compare the mails with describe's own words, not with fixed text."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from forum import mail
from forum.extensions import db as _db
from forum.models import Notification, NotificationKind, User
from forum.services import notification_mail, notifications
from tests.mail import part, unsubscribe_link

# 2030-06-10 is a Monday; Brussels and Rome are UTC+2 in June: 08:00 there is 06:00 UTC.
MONDAY = datetime(2030, 6, 10, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2030, 6, day, hour, minute, tzinfo=UTC)


def notice(user: User, kind: NotificationKind = NotificationKind.REPLY, *, post=None, when: datetime | None = None,
           **fields) -> Notification:
    notification = Notification(user_id=user.id, kind=kind, post_id=post.id if post is not None else None,
                                consultation_id=post.consultation_id if post is not None else None, **fields)
    if when is not None:
        notification.created_at = notification.updated_at = when
    _db.session.add(notification)
    _db.session.flush()
    return notification


def described(notification: Notification) -> notifications.Described:
    """What the mail must say: describe() in the recipient's language, as the job calls it."""
    with mail.for_recipient(notification.user), mail.site_context():
        return notifications.describe(notification)


@pytest.fixture
def reader(make_user):
    """A person with a confirmed address, Brussels time, daily digest, account from May."""
    user = make_user(email="reader@example.org", display_name="Rea Reader")
    user.created_at = datetime(2030, 5, 1, tzinfo=UTC)
    return user


# --- At once ------------------------------------------------------------------------------

def test_a_mention_is_mailed_at_once_as_text_and_html_with_unsubscribe_headers(db, smtp, reader, make_post):
    post = make_post(body="What about childcare, @reader?")
    mention = notice(reader, NotificationKind.MENTION, post=post, actor_id=post.author_id)
    expected = described(mention)

    notification_mail.send_immediate(mention.id)

    message = smtp.one()
    assert message["To"] == "reader@example.org"
    assert message["From"] == "Plenary <no-reply@plenary.example>"
    assert message["Subject"] == expected.text
    assert message["Content-Language"] == "en"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe/" in unsubscribe_link(message)
    assert message.get_content_type() == "multipart/mixed"
    text, html = part(message, "plain"), part(message, "html")
    link = mail.public_url(expected.url)
    assert expected.text in text and link in text
    assert '<html lang="en"' in html and f'href="{link}"' in html
    assert mention.emailed_at is not None

    notification_mail.send_immediate(mention.id)  # a retried job: nothing twice
    assert len(smtp.messages) == 1


@pytest.mark.parametrize("case", ["unverified", "immediate off", "read", "already mailed", "not immediate",
                                  "no longer visible"])
def test_no_immediate_mail_when_it_should_not_go(db, smtp, reader, make_post, monkeypatch, case):
    kind = NotificationKind.REPLY if case == "not immediate" else NotificationKind.MODERATION
    now = datetime.now(UTC)
    item = notice(reader, kind, post=make_post(), reason="Off topic",
                  read_at=now if case == "read" else None, emailed_at=now if case == "already mailed" else None)
    if case == "unverified":
        reader.email_verified_at = None
    if case == "immediate off":
        reader.email_immediate = False
    if case == "no longer visible":
        real = notifications.describe
        monkeypatch.setattr(notifications, "describe",
                            lambda n: notifications.Described(real(n).text, "/", "", visible=False))

    notification_mail.send_immediate(item.id)

    assert smtp.messages == []
    assert item.emailed_at == (now if case == "already mailed" else None)


def test_a_moderation_notice_carries_its_reason(db, smtp, reader, make_post):
    item = notice(reader, NotificationKind.MODERATION, post=make_post(author=reader), action="hide",
                  reason="Personal data in the second paragraph")
    notification_mail.send_immediate(item.id)
    message = smtp.one()
    assert "Personal data in the second paragraph" in part(message, "plain")
    assert "Personal data in the second paragraph" in part(message, "html")


def test_a_reason_of_several_lines_stays_out_of_the_subject_and_is_said_once(db, smtp, reader, make_user,
                                                                            make_post):
    """A moderator's reason may run over lines (moderation._reason is multiline): in the
    Subject header it made Flask-Mail refuse the message (BadHeaderError), so the notice
    was never mailed at once. The subject is the sentence; the body gives the reason once."""
    from forum.services import moderation

    moderator = make_user("admin")
    post = make_post(author=reader)
    moderation.hide_post(moderator, post, "Personal data.\n\nPlease remove the phone number.")
    _db.session.commit()  # the notice's job, then its mail's job, run after the commit

    (item,) = _db.session.scalars(select(Notification).where(Notification.user_id == reader.id,
                                                             Notification.kind == NotificationKind.MODERATION))
    message = smtp.one()
    assert "\n" not in message["Subject"] and "Personal data" not in message["Subject"]
    assert message["Subject"] == described(item).headline
    assert part(message, "plain").count("Please remove the phone number.") == 1
    assert part(message, "html").count("Please remove the phone number.") == 1
    assert item.emailed_at is not None


def test_an_italian_reader_gets_italian_mail(db, smtp, make_user, make_post):
    reader = make_user(email="lettrice@example.org", preferred_language="it", timezone="Europe/Rome")
    item = notice(reader, NotificationKind.MENTION, post=make_post())
    expected = described(item)

    notification_mail.send_immediate(item.id)

    message = smtp.one()
    assert message["Content-Language"] == "it"
    assert message["Subject"] == expected.text
    assert '<html lang="it"' in part(message, "html")


def test_the_password_reset_mail_is_in_the_readers_language(app, db, smtp, make_user):
    """A string the Italian catalogue has (the reset mail's text): proof that the job renders
    in the recipient's language, not the default one."""
    from forum.services import accounts

    reader = make_user(email="lettrice@example.org", preferred_language="it", display_name="Lia")
    accounts.send_password_reset(reader.id)
    message = smtp.one()
    text = part(message, "plain")
    assert "Gentile Lia," in text and "per scegliere una nuova password" in text
    assert message["Content-Language"] == "it"
    assert message["List-Unsubscribe"] is None  # an account's own mail: no list to leave


# --- Digests ------------------------------------------------------------------------------

def test_a_daily_digest_is_due_at_eight_in_the_readers_time_zone(db, reader):
    reader.last_digest_at = at(9, 6, 5)
    assert notification_mail.digest_due_at(reader, at(10, 5, 59)) == at(9, 6)   # 07:59 in Brussels
    assert notification_mail.digest_due_at(reader, at(10, 6)) == at(10, 6)     # 08:00 in Brussels
    assert not notification_mail.digest_is_due(reader, at(10, 5, 59))
    assert notification_mail.digest_is_due(reader, at(10, 6, 15))
    reader.timezone = "America/New_York"  # UTC-4 in June: 08:00 there is 12:00 UTC
    assert notification_mail.digest_due_at(reader, at(10, 11)) == at(9, 12)
    reader.digest_frequency = "never"
    assert notification_mail.digest_due_at(reader, at(10, 11)) is None


def test_a_weekly_digest_is_due_on_monday_at_eight(db, reader):
    reader.digest_frequency = "weekly"
    reader.last_digest_at = at(3, 6)  # the Monday before
    for day in range(4, 10):  # Tuesday .. Sunday: not due
        assert not notification_mail.digest_is_due(reader, at(day, 20))
    assert not notification_mail.digest_is_due(reader, at(10, 5, 59))
    assert notification_mail.digest_is_due(reader, at(10, 6))
    assert notification_mail.digest_due_at(reader, at(13, 12)) == at(10, 6)


def test_a_new_account_waits_for_its_first_due_moment(db, reader):
    reader.created_at = at(10, 9)  # Monday 11:00 in Brussels, after that day's 08:00
    assert not notification_mail.digest_is_due(reader, at(10, 23))
    assert notification_mail.digest_is_due(reader, at(11, 6))


def test_the_daily_digest_batches_the_days_notices_once(db, smtp, reader, make_post, make_consultation):
    childcare = make_consultation(title="Childcare in rural areas")
    transport = make_consultation(title="Public transport")
    first = notice(reader, post=make_post(consultation=childcare), when=at(9, 10))
    second = notice(reader, post=make_post(consultation=transport), when=at(9, 12))
    third = notice(reader, post=make_post(consultation=childcare), when=at(9, 15))
    read = notice(reader, post=make_post(consultation=childcare), when=at(9, 16), read_at=at(9, 17))
    late = notice(reader, post=make_post(consultation=transport), when=at(10, 6, 5))  # after 08:00
    reader.last_digest_at = at(9, 6, 10)

    assert notification_mail.send_digests(at(10, 5, 45)) == 0  # 07:45 in Brussels: not yet
    assert smtp.messages == []

    assert notification_mail.send_digests(at(10, 6, 15)) == 1
    message = smtp.one()
    assert message["To"] == reader.email
    assert message["Subject"] == "3 new notifications on Plenary"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = part(message, "plain"), part(message, "html")
    for item in (first, second, third):
        assert mail.public_url(described(item).url) in text
        assert f'href="{mail.public_url(described(item).url)}"' in html
    for left_out in (read, late):
        assert mail.public_url(described(left_out).url) not in text
    # Grouped by consultation, the group of the newest notice first, its notices newest first.
    assert text.index("Childcare in rural areas") < text.index("Public transport")
    assert text.index(described(third).url) < text.index(described(first).url)
    assert html.count("<h2") == 2
    assert reader.last_digest_at == at(10, 6, 15)
    assert all(n.emailed_at is not None for n in (first, second, third))
    assert read.emailed_at is None and late.emailed_at is None

    assert notification_mail.send_digests(at(10, 6, 30)) == 0  # the next run: nothing twice
    assert notification_mail.send_digests(at(10, 23)) == 0
    smtp.clear()
    assert notification_mail.send_digests(at(11, 6, 15)) == 1  # the next morning: the late one
    message = smtp.one()
    assert message["Subject"] == "1 new notification on Plenary"
    assert mail.public_url(described(late).url) in part(message, "plain")


def test_a_weekly_reader_gets_one_digest_on_monday(db, smtp, reader, make_post):
    reader.digest_frequency = "weekly"
    reader.last_digest_at = at(3, 6)
    items = [notice(reader, post=make_post(), when=at(day, 12)) for day in (4, 6, 9)]
    for day in range(4, 10):
        assert notification_mail.send_digests(at(day, 22)) == 0
    assert notification_mail.send_digests(at(10, 6, 1)) == 1
    text = part(smtp.one(), "plain")
    assert all(mail.public_url(described(n).url) in text for n in items)
    assert "weekly digest" in text


def test_mentions_wait_for_their_own_mail_unless_it_is_off_or_lost(db, smtp, reader, make_post):
    reader.last_digest_at = at(9, 6)
    recent = notice(reader, NotificationKind.MENTION, post=make_post(), when=at(10, 5, 30))  # its mail is on its way
    lost = notice(reader, NotificationKind.MENTION, post=make_post(), when=at(9, 20))  # never mailed: a lost job
    assert notification_mail.send_digests(at(10, 6, 15)) == 1
    assert recent.emailed_at is None and lost.emailed_at is not None

    smtp.clear()
    reader.email_immediate = False  # no mail at once: mentions go in the digest
    fresh = notice(reader, NotificationKind.MENTION, post=make_post(), when=at(11, 5, 30))
    assert notification_mail.send_digests(at(11, 6, 15)) == 1
    assert recent.emailed_at is not None and fresh.emailed_at is not None


@pytest.mark.parametrize("case", ["never", "unverified"])
def test_no_digest_for_never_or_an_unconfirmed_address(db, smtp, reader, make_post, case):
    if case == "never":
        reader.digest_frequency = "never"
    else:
        reader.email_verified_at = None
    item = notice(reader, post=make_post(), when=at(9, 12))
    assert notification_mail.send_digests(at(10, 6, 15)) == 0
    assert smtp.messages == [] and item.emailed_at is None


def test_an_endorsement_batch_that_grows_after_its_mail_is_mailed_again(db, smtp, reader, make_post):
    reader.last_digest_at = at(9, 6)
    batch = notice(reader, NotificationKind.ENDORSEMENT, post=make_post(author=reader), when=at(9, 12))
    assert notification_mail.send_digests(at(10, 6, 15)) == 1
    batch.count, batch.updated_at = 3, at(10, 14)  # two more endorsements, still unread
    _db.session.flush()
    assert notification_mail.send_digests(at(11, 6, 15)) == 1
    assert notification_mail.send_digests(at(12, 6, 15)) == 0


def test_notices_no_longer_visible_are_left_out(db, smtp, reader, make_post, monkeypatch):
    reader.last_digest_at = at(9, 6)
    shown = notice(reader, post=make_post(), when=at(9, 12))
    gone = notice(reader, post=make_post(), when=at(9, 13))
    real = notifications.describe
    monkeypatch.setattr(notifications, "describe", lambda n: notifications.Described(
        "SECRET", "/secret", "secret words", visible=False) if n.id == gone.id else real(n))
    assert notification_mail.send_digests(at(10, 6, 15)) == 1
    text = part(smtp.one(), "plain")
    assert "SECRET" not in text and "secret words" not in text and "/secret" not in text
    assert shown.emailed_at is not None and gone.emailed_at is None
    assert "1 new notification" in smtp.one()["Subject"]


def test_a_digest_lists_at_most_the_newest_and_counts_the_rest(app, db, smtp, reader, make_post):
    app.config["DIGEST_MAX_ITEMS"] = 2
    reader.last_digest_at = at(9, 6)
    post = make_post()
    items = [notice(reader, post=post, when=at(9, 10 + i)) for i in range(4)]
    assert notification_mail.send_digests(at(10, 6, 15)) == 1
    text = part(smtp.one(), "plain")
    assert "And 2 more notifications." in text
    assert all(n.emailed_at is not None for n in items)  # counted: not listed again tomorrow


def test_a_failing_mail_server_loses_nothing(app, db, smtp, reader, make_user, make_post):
    other = make_user(email="other@example.org")
    other.created_at = reader.created_at
    for person in (reader, other):
        person.last_digest_at = at(9, 6)
    items = [notice(person, post=make_post(), when=at(9, 12)) for person in (reader, other)]
    _db.session.commit()
    app.config["MAIL_PORT"] = 1  # nothing listens there

    with pytest.raises(notification_mail.DigestsInterrupted) as interrupted:
        notification_mail.send_digests(at(10, 6, 15))

    assert interrupted.value.sent == 0
    _db.session.expire_all()
    assert all(n.emailed_at is None for n in items)
    assert {p.last_digest_at for p in (reader, other)} == {at(9, 6)}
    app.config["MAIL_PORT"] = smtp.port  # back up: the next run sends both
    assert notification_mail.send_digests(at(10, 6, 30)) == 2
    assert sorted(m["To"] for m in smtp.messages) == ["other@example.org", "reader@example.org"]


def test_the_digest_command_sends_what_is_due_and_says_how_many(app, db, smtp, reader, make_post):
    reader.created_at = reader.last_digest_at = datetime.now(UTC) - timedelta(days=3)
    notice(reader, post=make_post(), when=datetime.now(UTC) - timedelta(days=2))
    _db.session.commit()

    result = app.test_cli_runner().invoke(args=["notifications", "send-digests"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "1 digest(s) sent."
    assert smtp.one()["To"] == reader.email
    again = app.test_cli_runner().invoke(args=["notifications", "send-digests"])
    assert again.output.splitlines()[0] == "0 digest(s) sent."


def test_the_notices_are_claimed_in_the_sending_transaction(db, smtp, reader, make_post):
    """What a digest marks as mailed is what it sent: read back from the database."""
    reader.last_digest_at = at(9, 6)
    item = notice(reader, post=make_post(), when=at(9, 12))
    notification_mail.send_digests(at(10, 6, 15))
    _db.session.expire_all()
    assert _db.session.scalar(select(Notification.emailed_at).where(Notification.id == item.id)) == at(10, 6, 15)


def test_a_digest_is_dated_in_the_readers_language_and_time_zone(db, smtp, make_user, make_post):
    reader = make_user(email="lettrice@example.org", preferred_language="it", timezone="Europe/Rome")
    reader.created_at, reader.last_digest_at = datetime(2030, 5, 1, tzinfo=UTC), at(9, 6)
    notice(reader, post=make_post(), when=at(9, 12, 30))
    assert notification_mail.send_digests(at(10, 6, 15)) == 1
    message = smtp.one()
    text, html = part(message, "plain"), part(message, "html")
    # Babel's Italian dates, in Rome's time (UTC+2 in June): 06:00 and 12:30 UTC.
    assert "9 giu 2030, 08:00" in text and "9 giu 2030, 14:30" in text
    assert '<html lang="it"' in html and message["Content-Language"] == "it"
