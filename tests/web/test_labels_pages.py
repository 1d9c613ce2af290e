"""Pages name codes, never print them: with every room phase, event and consultation status,
organisation type, registration kind and moderation action on the pages, in English and in
Italian, no stored code reaches what a person reads (page text and the strings sent to
scripts), and the names are the translated ones."""
from __future__ import annotations

import json
import re

import pytest
from flask_babel import force_locale

from forum.i18n import label
from forum.models import EventMember
from forum.models.events import MemberRole, RoomPhase
from forum.models.users import ORGANISATION_TYPES
from forum.services import audit
from tests.factories import login
from tests.test_labels import CODES
from tests.web.page import parse

# Codes that are single English words: an Italian page must not contain them at all.
WORD_CODES = sorted({code for kind, codes in CODES.items() if kind not in ("country", "moderation_action")
                     for code in codes if re.fullmatch(r"[a-z]+", code)})
# Codes no language writes: no page may contain them.
COMPOUND_CODES = sorted({code for kind, codes in CODES.items() if kind != "country"
                         for code in codes if not re.fullmatch(r"[a-z]+", code)})
COUNTRIES = ("IT", "DE", "FR")


def visible_text(response) -> str:
    """What a person reads: the main content's text, and the strings given to the scripts."""
    assert response.status_code == 200, response.status_code
    page = parse(response)
    texts = [page.one("main").text()]
    for script in page.find_all("script", type="application/json"):
        def walk(value):
            if isinstance(value, dict):
                for item in value.values():
                    yield from walk(item)
            elif isinstance(value, str):
                yield value
        texts.extend(walk(json.loads(script.raw_text())))
    return "\n".join(texts)


def raw_codes(text: str, language: str) -> list[str]:
    found = [code for code in COMPOUND_CODES if code in text]
    if language == "it":
        found += [code for code in WORD_CODES if re.search(rf"\b{code}\b", text, re.IGNORECASE)]
    return found


@pytest.fixture
def scene(db, make_user, make_event, make_consultation):
    """An organiser (and admin) in the given language, an event with a room in every phase,
    a participant of every organisation type, an observer, a moderation log with every
    action; events and consultations in every status."""
    def build(language: str):
        organiser = make_user("organiser", display_name="Orsola Rinaldi", organisation="Comune",
                              preferred_language=language)
        organiser.is_admin = True
        event = make_event(owner=organiser, rooms=len(RoomPhase), moderators=0, title="Assemblea")
        for room, phase in zip(event.breakout_rooms, RoomPhase, strict=True):
            room.phase = phase
            room.title = f"Sala {room.position}"
        for n, code in enumerate(ORGANISATION_TYPES):
            person = make_user(display_name=f"Persona {n}", organisation="Ente", organisation_type=code,
                               country=COUNTRIES[n % len(COUNTRIES)])
            db.session.add(EventMember(event_id=event.id, user_id=person.id, role=MemberRole.PARTICIPANT,
                                       room_id=event.breakout_rooms[n % 2].id if n % 3 else None))
        watcher = make_user(display_name="Vittoria Conti", organisation="Ente", country="IT")
        db.session.add(EventMember(event_id=event.id, user_id=watcher.id, role=MemberRole.OBSERVER))
        room = event.breakout_rooms[0]
        for action in CODES["moderation_action"]:
            details = {"from": "open", "to": "wrap_up"} if action == "room.phase" else {}
            audit.log(organiser, action, room=room, event=event, target_user=watcher, **details)
        drafts = [make_event(owner=organiser, moderators=0, status=status, title=f"Incontro {status[0]}")
                  for status in ("draft", "ended")]
        consultations = [make_consultation(owner=organiser, status=status, visibility=visibility,
                                           title=f"Domanda {n}")
                         for n, (status, visibility) in enumerate(
                             [("draft", "members"), ("open", "public"), ("closed", "members")])]
        db.session.flush()
        return organiser, event, drafts, consultations
    return build


@pytest.mark.parametrize("language", ["en", "it"])
def test_no_page_shows_a_raw_code(client, scene, language):
    organiser, event, drafts, consultations = scene(language)
    login(client, organiser)
    paths = ["/events/", f"/events/{event.id}", f"/events/{event.id}/people", f"/events/{event.id}/edit",
             f"/events/{event.id}/log", "/", "/admin/users"]
    paths += [f"/events/{e.id}" for e in drafts] + [f"/events/{e.id}/edit" for e in drafts]
    paths += [f"/events/{event.id}/rooms/{room.id}" for room in event.rooms]
    paths += [f"/consultations/{c.id}" for c in consultations]
    paths += [f"/consultations/{c.id}/edit" for c in consultations]
    shown = {path: raw_codes(visible_text(client.get(path)), language) for path in paths}
    assert {path: codes for path, codes in shown.items() if codes} == {}


@pytest.mark.parametrize("language", ["en", "it"])
def test_the_reported_places_show_translated_names(client, scene, language):
    organiser, event, drafts, _ = scene(language)
    login(client, organiser)
    with force_locale(language):
        names = {kind: {code: label(kind, code) for code in CODES[kind]} for kind in CODES}

    show = visible_text(client.get(f"/events/{event.id}"))
    phase = {"en": "Phase:", "it": "Fase:"}[language]
    for code in CODES["room_phase"]:
        assert f"{phase} {names['room_phase'][code]}" in show
    assert names["event_status"]["published"] in parse(client.get(f"/events/{event.id}")).one(
        "span", class_="badge").text()
    assert names["event_status"]["published"][0].isupper()

    people = parse(client.get(f"/events/{event.id}/people"))
    mix = people.one("table", class_="participation").text()
    for code in ORGANISATION_TYPES:
        assert names["organisation_type"][code] in mix
    for code in COUNTRIES:
        assert names["country"][code] in mix
    members = people.find_all("table")[1].text()
    assert names["member_role"]["observer"] in members and names["member_role"]["participant"] in members

    log = visible_text(client.get(f"/events/{event.id}/log"))
    for code in CODES["moderation_action"]:
        assert names["moderation_action"][code] in log
    assert f"{names['room_phase']['open']} → {names['room_phase']['wrap_up']}" in log

    index = visible_text(client.get("/events/"))
    assert names["event_status"]["draft"] in index and names["event_status"]["ended"] in index


def test_presence_and_new_posts_are_counted_in_the_readers_plural_forms(client, make_event, make_consultation,
                                                                        make_user):
    """The scripts get each plural form of the reader's language, not one form for every number."""
    reader = make_user("organiser", preferred_language="it")
    event = make_event(owner=reader)
    login(client, reader)
    room = parse(client.get(f"/events/{event.id}/rooms/{event.plenary.id}"))
    strings = json.loads(room.by_id("room-strings").raw_text())
    assert strings["here_now"] == {"one": "{n} presente ora", "other": "{n} presenti ora"}
    assert strings["slow_mode"]["one"] == "Modalità lenta: un messaggio ogni {n} secondo"
    consultation = parse(client.get(f"/consultations/{make_consultation().id}"))
    strings = json.loads(consultation.by_id("live-strings").raw_text())
    assert strings["here_now"]["one"] == "{n} presente ora"
    assert strings["new_posts"] == {"one": "{n} nuovo contributo: mostralo", "other": "{n} nuovi contributi: mostrali"}
