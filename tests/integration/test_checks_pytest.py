"""Checks on a real pytest project in a temp repository: baseline subtraction, cache."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from conftest import git
from counterpoint.paths import scratch_dir
from counterpoint.workflow.checks import CheckRunner, CheckSpec, failure_findings
from counterpoint.workflow.sandbox import find_sandbox

PKG = "def add(a, b):\n    return a + b\n\n\ndef div(a, b):\n    return a / b\n"
TESTS = (
    "from pkg import add, div\n\n\n"
    "def test_add():\n    assert add(1, 2) == 3\n\n\n"
    "def test_div():\n    assert div(4, 2) == 2\n\n\n"
    "def test_known_broken():\n    assert False, 'broken before any proposal'\n"
)


def _project(root: Path) -> Path:
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text(PKG)
    (root / "tests").mkdir()
    (root / "tests" / "test_pkg.py").write_text(TESTS)
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\naddopts = "-p no:cacheprovider"\n')
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "project")
    return root


def test_only_failures_the_proposal_brings_are_charged(git_repo: Path, counterpoint_home: Path) -> None:
    repo = _project(git_repo)
    spec = CheckSpec("tests", f"{sys.executable} -m pytest -q")
    runner = CheckRunner(repo, [spec], find_sandbox())
    broken = {"pkg/__init__.py": PKG.replace("return a / b", "return a // 0")}
    (outcome,) = asyncio.run(runner.evaluate(broken))
    assert outcome.status == "failed", outcome.output
    assert [f.key for f in outcome.new] == ["tests.test_pkg::test_div"]
    assert [f.key for f in outcome.preexisting] == ["tests.test_pkg::test_known_broken"]
    (finding,) = failure_findings(1, [outcome], broken, safe_path=lambda p: p)
    assert finding.reviewer == "check:tests"
    assert (finding.path, finding.start_line) == ("pkg/__init__.py", 6)
    assert "ZeroDivisionError" in finding.rationale

    cached = list((counterpoint_home / "checks").iterdir())
    assert len(cached) == 1 and cached[0].name.startswith(runner.trees.tree_id())
    (fixed,) = asyncio.run(runner.evaluate({"pkg/__init__.py": PKG + "\n# tidy\n"}))
    assert fixed.status == "passed" and fixed.new == [] and len(fixed.preexisting) == 1
    assert (repo / "pkg" / "__init__.py").read_text() == PKG
    assert list(scratch_dir().glob("*/")) == []
