"""The Italian catalogue is complete: every string the code and templates mark for
translation has a non-fuzzy Italian translation with the same placeholders."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "forum" / "translations" / "it" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
METHODS = [("forum/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
# The same keywords as `make messages` (Makefile): with plurals, and with a context.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2), "lazy_pgettext": ((1, "c"), 2), "plural_forms": (1, 2)}


def source_messages() -> set[tuple]:
    """(context, id) of every marked string; an id is a (singular, plural) pair for plurals."""
    found = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map=METHODS, keywords=KEYWORDS):
        found.add((context, message if isinstance(message, str) else tuple(message)))
    return found


@pytest.fixture(scope="module")
def catalogue():
    with CATALOGUE.open("rb") as f:
        return {(m.context, m.id if isinstance(m.id, str) else tuple(m.id)): m for m in read_po(f) if m.id}


def test_every_marked_string_is_translated_into_italian(catalogue):
    messages = source_messages()
    assert len(messages) > 200  # the extraction really found the strings
    missing = sorted(str(m) for m in messages
                     if m not in catalogue or catalogue[m].fuzzy
                     or not all(catalogue[m].string if isinstance(catalogue[m].string, tuple)
                                else [catalogue[m].string]))
    assert missing == [], f"not translated into Italian (run `make messages` and translate): {missing}"


def test_translations_keep_their_placeholders(catalogue):
    wrong = []
    for key, message in catalogue.items():
        ids = key[1] if isinstance(key[1], tuple) else (key[1],)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for translated in strings:
            found = set(PLACEHOLDER.findall(translated))
            # A singular form may spell out the number ("una risposta"); nothing else may go.
            if found - expected or (expected - found) - {"%(num)d"}:
                wrong.append((key, translated))
    assert wrong == []
