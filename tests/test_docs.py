"""docs/architecture.md keeps step with the code: its map names every module of forum/ and
lists only what exists, and its Permissions section names every access_* function."""
from __future__ import annotations

import re
from pathlib import Path

import forum.permissions

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
FORUM = ROOT / "forum"


def module_map() -> dict[str, str]:
    """The map at the top of architecture.md: {"forum/services/": "the rules: accounts, ...", ...}.
    An entry starts at the line's beginning; its description runs on over indented lines."""
    block = ARCHITECTURE.read_text(encoding="utf-8").split("```")[1]
    entries: dict[str, str] = {}
    key = None
    for line in block.strip("\n").splitlines():
        if line and not line[0].isspace():
            key, description = re.match(r"(\S.*?)(?:\s{2,}(.*))?$", line).groups()
            entries[key] = description or ""
        elif key is not None:
            entries[key] += " " + line.strip()
    return entries


def test_the_map_lists_only_what_exists():
    missing = []
    for key in module_map():
        first, *others = [part.strip() for part in key.split(",")]
        base = (ROOT / first).parent
        for part in [first] + [str((base / other).relative_to(ROOT)) for other in others]:
            if part.startswith(("forum/", "tests/", "bench/", "migrations/", "wsgi")) and not (ROOT / part).exists():
                missing.append(part)
    assert missing == []


def test_the_map_names_every_module_of_forum():
    entries = module_map()
    unnamed = []
    for path in sorted(FORUM.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if path.parent == FORUM:
            named = any(path.name in [part.strip().split("/")[-1] for part in key.split(",")] for key in entries)
        elif path.name == "__init__.py":
            named = f"{relative.parent}/" in entries
        else:
            description = entries.get(f"{relative.parent}/", "")
            named = re.search(rf"\b{re.escape(path.stem)}\b", description) is not None
        if not named:
            unnamed.append(str(relative))
    assert unnamed == [], "add these modules to the map in docs/architecture.md"


def test_every_access_function_is_described():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    functions = [name for name in dir(forum.permissions) if name.startswith("access_")]
    assert functions  # the check looks at something
    assert [name for name in functions if f"`{name}`" not in text] == []
