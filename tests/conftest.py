import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def counterpoint_home(tmp_path_factory, monkeypatch):
    """Every test gets its own COUNTERPOINT_HOME and no real API settings."""
    home = tmp_path_factory.mktemp("cphome")
    monkeypatch.setenv("COUNTERPOINT_HOME", str(home))
    monkeypatch.setenv("COUNTERPOINT_CONFIG", str(home / "no-config.toml"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))  # the user's config.toml too
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "OPENAI_")):
            monkeypatch.delenv(name)
    return home


def git(cwd, *args) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def git_repo(tmp_path):
    """A real git repository with one committed file."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "Test")
    (repo / "app.py").write_text("def add(a, b):\n    return a + b\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo
