"""What exports must never say: quoted words under the quoter's name, the words of a deleted
or hidden post through a quote of it, the organisation of
someone who chose not to be named, a hidden or deleted first post's subject or author, the
credit of an erased message; and cells a spreadsheet would run."""
from __future__ import annotations

import csv
import io
import json

import pytest

from forum.exports import data
from forum.exports import report as reports
from forum.exports.digest import plain_text
from forum.exports.scope import organisation_label, resolve
from forum.rendering import render_markdown
from forum.services import moderation, posts, rooms
from tests.factories import login


def test_quotes_within_quotes_are_left_out_of_the_digests_text():
    html = render_markdown("> outer words by Bob\n> > inner words by Ann\n> more of Bob\n\nmy own text")
    assert plain_text(html) == "my own text"


QUOTED_SECRET = "Flibbertigibbet lives at number 12, ring twice."


@pytest.mark.parametrize("change", ["delete", "hide"])
def test_a_quote_gives_away_nothing_of_a_deleted_or_hidden_post(make_user, make_consultation, make_post, db, change):
    consultation = make_consultation()
    source = make_post(make_user(display_name="Ann"), consultation=consultation, body=QUOTED_SECRET)
    reply = posts.create_post(make_user(), consultation, parent=source, quote=True,
                              body="Quoting this because it matters for the whole neighbourhood here.")
    if change == "delete":
        posts.delete_post(source.author, source)
    else:
        moderation.hide_post(consultation.owner, source, "Personal details")
    moderators = resolve(consultation.owner, "consultation", consultation.id)
    public = resolve(None, "consultation", consultation.id, public=True)

    rows = list(csv.DictReader(io.StringIO("".join(data.csv_chunks(public)), newline="")))
    records = json.loads("".join(data.json_chunks(public)))["posts"]
    markdown = reports.render_markdown(reports.build_report(public))
    for export in ("".join(data.csv_chunks(public)), json.dumps(records, ensure_ascii=False), markdown):
        assert "Flibbertigibbet" not in export
    # The quote is exported as what it is, a reference; the quoted post's own row says what
    # may be read of it (deleted: no text; hidden: not in the public export at all).
    [quoting] = [r for r in rows if r["post_id"] == str(reply.id)]
    assert quoting["quoted_post_id"] == str(source.id)
    assert [r["quoted_post_id"] for r in records if r["post_id"] == reply.id] == [source.id]
    if change == "delete":  # nothing to read even in the moderators' view
        for export in ("".join(data.csv_chunks(moderators)), "".join(data.json_chunks(moderators)),
                       reports.render_markdown(reports.build_report(moderators))):
            assert "Flibbertigibbet" not in export


def test_no_organisation_for_someone_not_named_even_on_its_behalf(make_user, make_consultation, make_post, db):
    user = make_user(organisation="Discreet Foundation")
    user.named_in_reports = False
    post = make_post(author=user, on_behalf_of_organisation=True)
    assert organisation_label(user, post) == ""
    user.named_in_reports = True
    assert organisation_label(user, post) == "Discreet Foundation"


def test_a_thread_whose_first_post_is_hidden_is_named_by_its_number(make_consultation, make_post, db):
    consultation = make_consultation()
    root = make_post(consultation=consultation, subject="Names a person")
    moderation.hide_post(consultation.owner, root, "Personal details")
    scope = resolve(consultation.owner, "thread", root.id)
    assert scope.title == f"Thread {root.id}"
    assert "Names a person" not in scope.title


def test_a_takeaway_no_longer_credits_an_erased_message(make_event, db):
    event = make_event(rooms=1, moderators=1, participants=1)
    room, author = event.breakout_rooms[0], event.test_participants[0]
    moderator = event.test_moderators[1][0]
    message = posts.post_in_room(author, room, body="Evening classes with childcare help parents.")
    takeaway = rooms.add_takeaway(moderator, room, "Childcare with evening classes.", source_post=message)
    assert takeaway.credited == author
    posts.delete_post(author, message)
    assert takeaway.credited is None
    assert rooms.takeaways(room)[0].credited is None


def test_cells_a_spreadsheet_would_run_are_made_text():
    for value in ("=1+1", "  =HYPERLINK(\"x\")", "\uff1dSUM(A1)", "@cmd", "+1", "-2+3"):
        assert data._csv_cell(value).startswith("'"), value
    assert data._csv_cell(-5) == -5 and data._csv_cell("Housing") == "Housing"


def test_the_summary_of_a_members_only_consultation_is_never_cached(client, make_consultation, db):
    consultation = make_consultation(visibility="members")
    db.session.commit()
    login(client, consultation.owner)
    response = client.get(f"/consultations/{consultation.id}/summary")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    public = make_consultation()
    db.session.commit()
    waiting = client.get(f"/consultations/{public.id}/summary")
    assert waiting.headers["Cache-Control"] == "private, no-store"  # "being prepared" is nobody's copy
    assert "no-store" not in client.get(f"/consultations/{public.id}/summary").headers.get("Cache-Control", "")
