"""The test session compiles the translation catalogues itself (tests/catalogues.py)."""
from __future__ import annotations

import os
import shutil

from babel.support import Translations

from tests.catalogues import TRANSLATIONS, compile_catalogues


def test_the_session_has_compiled_every_catalogue():
    """Whatever state the checkout was in, the app under test reads up-to-date catalogues."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime, mo


def test_a_missing_catalogue_is_compiled_and_translates(tmp_path):
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, copy, ignore=shutil.ignore_patterns("*.mo"))
    mo = copy / "it" / "LC_MESSAGES" / "messages.mo"

    assert compile_catalogues(copy) == [mo]

    italian = Translations.load(str(copy), ["it"])
    assert italian.gettext("Consultations") == "Consultazioni"
    assert list(copy.glob("it/LC_MESSAGES/.*")) == []  # nothing half-written left behind


def test_a_catalogue_is_compiled_again_only_when_its_po_is_newer(tmp_path):
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, copy, ignore=shutil.ignore_patterns("*.mo"))
    mo = copy / "it" / "LC_MESSAGES" / "messages.mo"
    po = mo.with_suffix(".po")
    compile_catalogues(copy)

    assert compile_catalogues(copy) == []  # up to date: left alone

    earlier = po.stat().st_mtime - 10
    os.utime(mo, (earlier, earlier))  # the .po was edited after the .mo was made
    assert compile_catalogues(copy) == [mo]
    assert mo.stat().st_mtime >= po.stat().st_mtime
