"""Every code a person may see has a name, in English and in Italian: `forum.i18n.label`.

The codes are taken from where they are defined (the enums, the organisation types, the
actions the services write to the moderation log), not from the label tables, so a new
code without a name fails here."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel import Locale
from flask_babel import force_locale

from forum.i18n import LABEL_KINDS, label, plural_forms, vocabularies
from forum.models.consultations import ConsultationStatus, Visibility
from forum.models.events import AssignmentMode, EventStatus, MemberRole, RoomPhase
from forum.models.opinion import BoardStatus, StatementStatus
from forum.models.polls import PollKind, PollStatus, ResultsShown
from forum.models.posts import PostStatus, Stance
from forum.models.preevent import PreEventKind
from forum.models.reports import ReportStatus
from forum.models.users import EU_COUNTRIES, ORGANISATION_TYPES

ROOT = Path(__file__).resolve().parents[1]


def logged_actions() -> set[str]:
    """The action codes the services pass to `audit.log`: literal arguments, and for an
    argument that is a parameter of a helper (`_room_changed(actor, room, "room.locked")`),
    the literals every call of the helper passes in its place."""
    found: set[str] = set()
    for path in (ROOT / "forum" / "services").glob("*.py"):
        tree = ast.parse(path.read_text())
        functions = {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
        calls = [c for c in ast.walk(tree) if isinstance(c, ast.Call)]
        for function in functions.values():
            for call in ast.walk(function):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "log" and isinstance(call.func.value, ast.Name)
                        and call.func.value.id == "audit" and len(call.args) >= 2):
                    continue
                action = call.args[1]
                if isinstance(action, ast.Constant):
                    found.add(action.value)
                    continue
                parameters = [a.arg for a in function.args.args]
                assert isinstance(action, ast.Name) and action.id in parameters, (
                    f"{path.name}:{call.lineno}: cannot tell which action this logs")
                index = parameters.index(action.id)
                for helper_call in calls:
                    if (isinstance(helper_call.func, ast.Name) and helper_call.func.id == function.name
                            and len(helper_call.args) > index):
                        found |= {c.value for c in ast.walk(helper_call.args[index])
                                  if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return found


CODES = {
    "room_phase": [m.value for m in RoomPhase],
    "event_status": [m.value for m in EventStatus],
    "consultation_status": [m.value for m in ConsultationStatus],
    "visibility": [m.value for m in Visibility],
    "assignment_mode": [m.value for m in AssignmentMode],
    "member_role": [m.value for m in MemberRole],
    "post_status": [m.value for m in PostStatus],
    "organisation_type": list(ORGANISATION_TYPES),
    "moderation_action": sorted(logged_actions()),
    "country": list(EU_COUNTRIES),
    "board_status": [m.value for m in BoardStatus],
    "statement_status": [m.value for m in StatementStatus],
    "poll_kind": [m.value for m in PollKind],
    "poll_status": [m.value for m in PollStatus],
    "results_shown": [m.value for m in ResultsShown],
    "stance": [m.value for m in Stance],
    "report_status": [m.value for m in ReportStatus],
    "preevent_kind": [m.value for m in PreEventKind],
}


def test_the_codes_were_found():
    assert set(CODES) == set(LABEL_KINDS)
    assert {"room.phase", "post.hidden", "post.pinned", "room.locked", "member.moved"} <= set(
        CODES["moderation_action"])


@pytest.mark.parametrize("kind", sorted(CODES))
def test_every_code_has_a_name_in_english_and_italian(app, kind):
    untranslated = []
    for code in CODES[kind]:
        with force_locale("en"):
            english = label(kind, code)
        with force_locale("it"):
            italian = label(kind, code)
        for name in (english, italian):
            if not name or name == code or "_" in name:
                untranslated.append((code, name))
        if kind == "country":  # some are the same in both languages (Malta)
            assert italian == Locale("it").territories[code]
        elif italian == english:
            untranslated.append((code, "same in Italian as in English: " + english))
    assert untranslated == []


def test_an_enum_member_and_its_code_have_the_same_name(app):
    with force_locale("it"):
        assert label("room_phase", RoomPhase.CLOSED) == label("room_phase", "closed") == "Chiusa"
        assert label("event_status", EventStatus.PUBLISHED) == "Pubblicato"
        assert label("organisation_type", "migrant_led") == "Organizzazione guidata da persone migranti"
        assert label("country", "DE") == "Germania"


def test_unknown_codes_are_shown_as_stored_and_unknown_kinds_fail(app):
    assert label("organisation_type", "retired_type") == "retired_type"
    assert label("room_phase", None) == ""
    with pytest.raises(KeyError):
        label("no_such_kind", "x")


def test_plural_forms_follow_the_language(app):
    with force_locale("it"):
        forms = plural_forms("%(num)s here now", "%(num)s here now")
    assert forms == {"one": "{n} presente ora", "other": "{n} presenti ora"}
    with force_locale("en"):
        assert plural_forms("%(num)s new post: show it", "%(num)s new posts: show them") == {
            "one": "{n} new post: show it", "other": "{n} new posts: show them"}


def test_plural_forms_serve_the_msgids_the_templates_use_with_a_whole_number(app):
    # "%(num)d" as in the server-rendered counts: one msgid for the page and its script.
    with force_locale("it"):
        assert plural_forms("Read %(num)d response", "Read %(num)d responses") == {
            "one": "Leggi {n} risposta", "other": "Leggi {n} risposte"}


def test_the_label_tables_hold_only_known_kinds():
    assert set(vocabularies()) | {"country"} == set(LABEL_KINDS)
