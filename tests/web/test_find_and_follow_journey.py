"""Issue 13's journey, through the app as a stakeholder meets it: Sofia responded last week;
Bruno replies quoting her; the next morning's digest (what the timer's `flask notifications
send-digests` sends) mails it to her (a real SMTP server, read back); its link, followed,
shows Bruno's reply; and a search for "childcare" in the consultation finds every response
about it that she may read, and nothing else (not a response a moderator hid, not one
elsewhere)."""
from __future__ import annotations

from datetime import timedelta

from forum.models import Notification, NotificationKind
from forum.models.base import utcnow
from forum.services import moderation, notification_mail
from tests.factories import login
from tests.mail import links, part, path_of
from tests.web.page import parse


def test_told_by_mail_of_a_quoting_reply_then_finding_every_childcare_response(
        client, db, smtp, make_user, make_consultation, make_post):
    sofia = make_user(display_name="Sofia Marino", preferred_language="en")
    bruno = make_user(display_name="Bruno Keller")
    consultation = make_consultation(title="Early years in rural areas")
    elsewhere = make_consultation(title="Public transport")
    moderator = consultation.owner
    last_week = utcnow() - timedelta(days=7)
    hers = make_post(sofia, consultation=consultation, created_at=last_week,
                     body="Childcare opening hours do not fit shift work.")
    about_childcare = [
        hers,
        make_post(consultation=consultation, body="A childcare voucher helped our members most."),
        make_post(consultation=consultation, body="Rural CHILDCARE needs transport too."),
        make_post(consultation=consultation, body="Our childcare centres close at four."),
    ]
    make_post(consultation=consultation, body="Schools, not crèches, are our concern.")
    make_post(consultation=elsewhere, body="Childcare near stations would help commuters.")
    hidden = make_post(consultation=consultation, body="Childcare is a scam run by [spam link].")
    moderation.hide_post(moderator, hidden, "Spam")
    sofia.last_digest_at = last_week
    db.session.commit()

    login(client, bruno)
    response = client.post(f"/consultations/{consultation.id}/posts/{hers.id}/reply",
                           data={"body": "Shift workers need 6am openings: I agree.", "quote": "y"})
    assert response.status_code == 302
    notice = db.session.scalars(db.select(Notification).where(Notification.user_id == sofia.id)).one()
    assert notice.kind is NotificationKind.QUOTE and notice.actor_id == bruno.id

    # Her daily digest falls due at 08:00 in her time zone: tomorrow's holds today's notices.
    smtp.clear()
    db.session.commit()
    assert notification_mail.send_digests(utcnow() + timedelta(days=1)) == 1
    message = smtp.one()
    assert message["To"] == sofia.email
    text = part(message, "plain")
    assert "Bruno Keller quoted your post" in text
    [link] = [url for url in links(text) if f"/consultations/{consultation.id}/posts/" in url]

    client.post("/logout")
    login(client, sofia)
    page = parse(client.get(path_of(link)))
    assert "Shift workers need 6am openings: I agree." in page.one("main").text()

    results = parse(client.get(f"/search?q=childcare&consultation={consultation.id}"))
    hits = results.find_all("li", class_="search-hit")
    found = " ".join(hit.one("h3").one("a").get("href") for hit in hits)
    assert len(hits) == len(about_childcare) == 4
    assert all(f"/posts/{post.id}" in found for post in about_childcare)
    assert "scam" not in results.one("main").text()
    assert "commuters" not in results.one("main").text()
    assert "4 results for “childcare”" in results.one("p", class_="result-count").text()
