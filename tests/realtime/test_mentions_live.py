"""A room's live message carries the same HTML as the page: its mentions as links
(forum.services.mentions.render_post at write time; forum/realtime/messages.py sends it)."""
from __future__ import annotations

from forum.services import events


def test_a_live_room_message_links_the_person_it_mentions(db, make_event, user_client, connect):
    event = make_event(rooms=1, moderators=1, participants=1)
    [amina] = event.test_participants
    moderator = event.test_moderators[1][0]
    room = event.breakout_rooms[0]
    db.session.commit()
    stream = events.room_stream(room)
    writer, reader = connect(user_client(amina)), connect(user_client(moderator))
    assert writer.join(stream)["ok"] and reader.join(stream)["ok"]

    ack = writer.post(stream, f"Thanks @{moderator.handle} and @nobody.here", client_key="m1")

    assert ack["ok"], ack
    link = f'<a class="mention" href="/people/{moderator.id}" rel="nofollow ugc noopener">@{moderator.handle}</a>'
    [seen] = [e for e in reader.events() if e["type"] == "post.created"]
    assert seen["post"]["body_html"] == f"<p>Thanks {link} and @nobody.here</p>\n"
    assert seen["post"]["id"] == ack["post"]["id"]
