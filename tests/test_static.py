"""The site's own scripts share one live-stream module (static/js/stream.js): it alone opens the
page's Socket.IO connection and joins, catches up and syncs streams (docs/realtime.md, "The
browser side"). A copy of that plumbing in another script would open a second connection and
apply events by rules of its own, so none may come back."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "static" / "js"
TEMPLATES = ROOT / "templates"
STREAM = "stream.js"

# A call of the Socket.IO client (io(...), window.io(...)) and an emit of the catch-up messages,
# however it is written: emit("join", ...), .emit('sync', ...), emit(`catch_up`, ...), emit(kind, ...)
# with the kind chosen at run time does not match, which is why stream.js names them itself.
OPENS_SOCKET = re.compile(r"(?<![\w$.])(?:window\s*\.\s*)?io\s*\(")
CATCH_UP = re.compile(r"""\bemit\s*\(\s*(["'`])(join|sync|catch_up)\1""")
KIND_EMIT = re.compile(r"""\.emit\s*\(\s*item\.kind\b""")


def own_scripts() -> list[Path]:
    return sorted(SCRIPTS.glob("*.js"))


def test_the_patterns_find_the_plumbing():
    """The patterns catch what a copy would say, and not lookalikes."""
    assert OPENS_SOCKET.search('var socket = window.io({ transports: ["websocket"] });')
    assert OPENS_SOCKET.search("const socket = io();")
    assert not OPENS_SOCKET.search("socket.io.on('reconnect_failed', f)")
    assert not OPENS_SOCKET.search("radio(3)")
    assert CATCH_UP.search('socket.timeout(10000).emit("join", {stream: s, last_seq: 4}, f)')
    assert CATCH_UP.search("socket.emit('sync', {stream})")
    assert CATCH_UP.search("socket.emit(`catch_up`, data)")
    assert not CATCH_UP.search('socket.emit("post", data)')


def test_only_the_stream_module_connects_and_catches_up():
    assert (SCRIPTS / STREAM).exists()
    offenders = []
    for script in own_scripts():
        if script.name == STREAM:
            continue
        text = script.read_text(encoding="utf-8")
        for pattern in (OPENS_SOCKET, CATCH_UP, KIND_EMIT):
            offenders += [f"{script.name}: {m.group(0)}" for m in pattern.finditer(text)]
    assert offenders == []


def test_the_stream_module_does_it():
    """stream.js really holds what the others may not (so the test above tests something)."""
    text = (SCRIPTS / STREAM).read_text(encoding="utf-8")
    assert OPENS_SOCKET.search(text)
    assert KIND_EMIT.search(text)  # join and sync, from its queue
    for export in ("connect", "follow", "announce", "showStatus"):
        assert re.search(rf"^export function {export}\(", text, re.M), export


@pytest.mark.parametrize("name", ["live.js", "room.js", "polls.js", "opinion.js", "bell.js"])
def test_live_scripts_import_the_module_and_load_as_modules(name):
    text = (SCRIPTS / name).read_text(encoding="utf-8")
    assert re.search(r'^import \{[^}]*\} from "\./stream\.js";$', text, re.M)
    # Loaded as <script type="module"> wherever a template loads it (an import in a classic
    # script is a syntax error: the page would silently not be live).
    tags = [m.group(0) for path in TEMPLATES.rglob("*.html")
            for m in re.finditer(rf"<script[^>]*js/{re.escape(name)}[^>]*>", path.read_text(encoding="utf-8"))]
    assert tags, f"no template loads {name}"
    assert all('type="module"' in tag for tag in tags), tags


def test_no_page_script_outside_the_module_keeps_a_copy_of_the_helpers():
    """The catch-up queue and the in-order applier live in stream.js only (no window globals)."""
    for script in own_scripts():
        text = script.read_text(encoding="utf-8")
        for old in ("plenaryCatchUp", "plenaryInOrder", "plenaryReloadPage", "plenaryWatchTyping",
                    "plenarySendTyping", "plenaryShowPresence"):
            assert old not in text, f"{script.name} still has {old}"


VENDOR = ROOT / "static" / "vendor"


def test_every_vendored_file_is_recorded_with_its_origin_version_and_licence():
    """static/vendor/README.md names every third-party file served, where it comes from, its
    version and its licence; a file nobody recorded cannot be updated or audited."""
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    recorded = {name for row in rows for name in re.findall(r"`([^`]+)`", row.split("|")[1])}
    licences = {name for row in rows for name in re.findall(r"`([^`]+)`", row.split("|")[4])}
    served = {str(path.relative_to(VENDOR)) for path in VENDOR.rglob("*") if path.is_file()} - {"README.md"}
    assert served - recorded - licences == set(), "record these in static/vendor/README.md"
    assert all(re.fullmatch(r"\s*\d+\.\d+\.\d+\s*", row.split("|")[3]) for row in rows)
    assert recorded <= served
