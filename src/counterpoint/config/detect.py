"""Candidate checks for a repository that configures none: what its files say it uses.

Only files at the repository's root are read (never run): pytest's configuration or a
`tests/` folder, `package.json`'s test script, `go.mod`, `Cargo.toml`, a Makefile `test`
target. The candidates are offered, never run without the user's decision (`consent.py`).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from counterpoint.config.models import CheckSettings

_NPM_PLACEHOLDER = "no test specified"
_MAKE_TEST = re.compile(r"^test\s*:(?!=)", re.MULTILINE)
_PYTEST_SECTIONS = {"pytest.ini": "[pytest]", "tox.ini": "[pytest]", "setup.cfg": "[tool:pytest]"}


def _text(path: Path, limit: int = 1 << 20) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return ""


def _uses_pytest(root: Path) -> bool:
    for name, section in _PYTEST_SECTIONS.items():
        if section in _text(root / name):
            return True
    try:
        pyproject = tomllib.loads(_text(root / "pyproject.toml"))
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):
        pyproject = {}
    if "pytest" in pyproject.get("tool", {}):
        return True
    if (root / "conftest.py").is_file():
        return True
    tests = root / "tests"
    return tests.is_dir() and any(tests.rglob("test_*.py"))


def _python(root: Path) -> str:
    """The repository's own virtualenv when it has one, so its dependencies are there."""
    for venv in (".venv", "venv"):
        if (root / venv / "bin" / "python").exists():
            return f"{venv}/bin/python"
    return "python"


def _npm_test(root: Path) -> bool:
    try:
        package = json.loads(_text(root / "package.json") or "{}")
    except ValueError:
        return False
    scripts = package.get("scripts") if isinstance(package, dict) else None
    test = scripts.get("test") if isinstance(scripts, dict) else None
    return isinstance(test, str) and bool(test.strip()) and _NPM_PLACEHOLDER not in test


def _make_test(root: Path) -> bool:
    return any(_MAKE_TEST.search(_text(root / name))
               for name in ("GNUmakefile", "makefile", "Makefile"))


def detect_checks(repo_root: Path) -> tuple[CheckSettings, ...]:
    """The checks the repository's files suggest, most specific first."""
    root = Path(repo_root)
    found: list[CheckSettings] = []
    if _uses_pytest(root):
        found.append(CheckSettings(name="pytest", command=f"{_python(root)} -m pytest -q"))
    if _npm_test(root):
        found.append(CheckSettings(name="npm-test", command="npm test --silent"))
    if (root / "go.mod").is_file():
        found.append(CheckSettings(name="go-test", command="go test ./..."))
    if (root / "Cargo.toml").is_file():
        found.append(CheckSettings(name="cargo-test", command="cargo test"))
    if _make_test(root):
        found.append(CheckSettings(name="make-test", command="make test"))
    return tuple(found)
