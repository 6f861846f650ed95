"""Architecture and typing gates, run with the tests: the import-linter contracts of
pyproject.toml (SpiffWorkflow only in engine.bpmn; no web framework below engine.api and
engine.web; routers without SQL) hold, and mypy finds no error anywhere in engine/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT

BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=PROJECT, capture_output=True, text=True, timeout=600, check=False
    )


def test_the_import_contracts_hold():
    result = run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_the_linter_sees_a_broken_contract(tmp_path):
    """The same tool, told that routers may not import services (they all do), reports it:
    the contracts above are checked against the real import graph."""
    config = tmp_path / "broken.ini"
    config.write_text(
        "[importlinter]\nroot_package = engine\n\n"
        "[importlinter:contract:routers]\nname = routers without services\n"
        "type = forbidden\nsource_modules = engine.api.routes\n"
        "forbidden_modules = engine.services\n"
    )
    result = run(str(BIN / "lint-imports"), "--no-cache", "--config", str(config))
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "engine.api.routes" in result.stdout


def test_mypy_finds_no_error_in_the_engine():
    result = run(str(BIN / "mypy"), "engine/")
    assert result.returncode == 0, result.stdout[-4000:]
