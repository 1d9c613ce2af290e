"""The compiled translation catalogues (.mo) the app reads, made from the .po files in the
repository. They are not committed (see .gitignore) and `make translations` builds them; the
test session builds them too (tests/conftest.py), so that `pytest` works straight after
`pip install -e '.[test]'`, and never runs on catalogues older than their .po."""
from __future__ import annotations

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[1] / "forum" / "translations"


def compile_catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile each <locale>/LC_MESSAGES/*.po under `directory` into the .mo next to it when
    that is missing or older than the .po (fuzzy entries left out, as `pybabel compile` does).
    Returns the .mo files written. Each is written whole under another name and then renamed,
    so a server starting meanwhile never reads half a catalogue."""
    written = []
    for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        partial = mo.with_name(f".{mo.name}.{os.getpid()}.partial")
        with partial.open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
        os.replace(partial, mo)
        written.append(mo)
    return written
