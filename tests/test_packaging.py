"""The package metadata: the licence as an SPDX expression with its file (PEP 639), so that
building Plenary (`pip install -e .`, which `make run` does) prints no setuptools warning."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
