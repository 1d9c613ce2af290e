"""The package metadata. Every third-party package the code imports is declared in pyproject.toml: the application's
(forum/, wsgi.py, migrations/) among the main dependencies, the tests' (tests/) among those or
the `test` extra, the load scripts' (bench/) also in the `bench` extra. A package that only
arrives as a dependency of a dependency can disappear with that package's next release;
declaring it also gives it a version range of ours. The licence is an SPDX expression with its
file (PEP 639), so that building Plenary (`pip install -e .`, which `make run` does) prints no
setuptools warning."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OWN = {"forum", "tests", "bench", "wsgi", "migrations"}  # our own top-level modules


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(requirements: list[str]) -> set[str]:
    names = set()
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        assert match, f"unreadable requirement in pyproject.toml: {requirement!r}"
        names.add(normalise(match.group(1)))
    return names


def declared(*extras: str) -> set[str]:
    """The main dependencies and those of `extras`, normalised."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = requirement_names(project["dependencies"])
    for extra in extras:
        names |= requirement_names(project["optional-dependencies"][extra])
    return names


def imported_modules(paths: list[Path]) -> dict[str, set[str]]:
    """Absolute imports' top-level module names -> the files (relative to the root) importing them.
    Imports inside functions and `try` blocks count too: they run when that code does."""
    found: dict[str, set[str]] = {}
    files = [p for path in paths for p in ([path] if path.is_file() else sorted(path.rglob("*.py")))]
    for file in files:
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(file.relative_to(ROOT)))
    return found


def undeclared(paths: list[Path], allowed: set[str]) -> list[str]:
    """One line per third-party module imported under `paths` whose distribution is not in `allowed`."""
    distributions = packages_distributions()
    problems = []
    for module, files in sorted(imported_modules(paths).items()):
        if module in OWN or module in sys.stdlib_module_names or module == "__future__":
            continue
        providers = distributions.get(module)
        where = ", ".join(sorted(files)[:3]) + (" ..." if len(files) > 3 else "")
        if not providers and normalise(module) in allowed:
            continue  # declared under its own name in an extra that is not installed (bench)
        if not providers:
            problems.append(f"{module}: no installed distribution provides it (imported in {where})")
        elif not {normalise(p) for p in providers} & allowed:
            problems.append(f"{module}: from {' or '.join(sorted(set(providers)))}, not declared (imported in {where})")
    return problems


def test_the_application_imports_only_declared_dependencies():
    problems = undeclared([ROOT / "forum", ROOT / "wsgi.py", ROOT / "migrations"], declared())
    assert not problems, "declare in [project] dependencies of pyproject.toml:\n" + "\n".join(problems)


def test_the_tests_import_only_declared_dependencies():
    problems = undeclared([ROOT / "tests"], declared("test"))
    assert not problems, "declare in the `test` extra of pyproject.toml:\n" + "\n".join(problems)


def test_the_load_scripts_import_only_declared_dependencies():
    problems = undeclared([ROOT / "bench"], declared("test", "bench"))
    assert not problems, "declare in the `bench` extra of pyproject.toml:\n" + "\n".join(problems)


def test_the_check_finds_an_undeclared_import(tmp_path, monkeypatch):
    """The check itself: an import of an installed but undeclared package is reported, a
    declared one, the standard library, our own modules and relative imports are not."""
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    code = tmp_path / "code.py"
    code.write_text("import os\nimport forum.models\nfrom . import sibling\nimport flask\n"
                    "def later():\n    from pytest import fixture\n", encoding="utf-8")
    assert undeclared([code], {"flask"}) == [
        "pytest: from pytest, not declared (imported in code.py)"]
    code.write_text("import no_such_module_anywhere\n", encoding="utf-8")
    assert undeclared([code], set()) == [
        "no_such_module_anywhere: no installed distribution provides it (imported in code.py)"]


@pytest.mark.parametrize("requirement, name", [
    ("Flask>=3.1,<4", "flask"), ("psycopg[binary]>=3.1,<4", "psycopg"), ("markdown-it-py>=3.0", "markdown-it-py"),
    ("python_socketio[client] >= 5.11", "python-socketio"), ("Flask-SQLAlchemy", "flask-sqlalchemy"),
])
def test_requirement_names_are_read_as_pip_compares_them(requirement, name):
    assert requirement_names([requirement]) == {name}


def test_the_licence_is_an_spdx_expression_with_its_file():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "AGPL-3.0-or-later"
    files = project["project"]["license-files"]
    assert files and all(list(ROOT.glob(pattern)) for pattern in files)
    assert "SPDX-License-Identifier: AGPL-3.0-or-later" in (ROOT / "LICENSE").read_text()
    # Older setuptools refuse a string licence: the build must ask for one that reads it.
    assert any(r.replace(" ", "").startswith("setuptools>=") and int(r.split(">=")[1].split(".")[0]) >= 77
               for r in project["build-system"]["requires"])


def test_building_prints_no_licence_warning():
    build = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "-e", "."],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    output = build.stdout + build.stderr
    assert "licen" not in output.lower(), output
