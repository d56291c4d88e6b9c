"""A `--commit` that fails after the files were written says so: the apply stands (its
files, its `applied` event and undo id), only the commit is missing."""

from __future__ import annotations

import pytest

from support.fake_models import cp, events
from tests.conftest import git
from tests.support.cassettes import tiny_session

ORIGINAL = "def add(a, b):\n    return a + b\n"


def no_identity(repo) -> None:
    git(repo, "config", "--unset", "user.name")
    git(repo, "config", "--unset", "user.email")
    git(repo, "config", "user.useConfigOnly", "true")


def merge_in_progress(repo) -> None:
    (repo / "notes.txt").write_text("base\n")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-qm", "notes")
    git(repo, "checkout", "-qb", "other")
    (repo / "notes.txt").write_text("theirs\n")
    git(repo, "commit", "-qam", "theirs")
    git(repo, "checkout", "-q", "main")
    (repo / "notes.txt").write_text("ours\n")
    git(repo, "commit", "-qam", "ours")
    merged = cp_git(repo, "merge", "other")
    assert merged.returncode != 0 and (repo / ".git" / "MERGE_HEAD").exists()


def cp_git(repo, *args):
    import subprocess

    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)


@pytest.mark.parametrize("breaks", [no_identity, merge_in_progress])
def test_failed_commit_reports_the_files_as_applied(breaks, git_repo, tmp_path):
    gen, (a, b) = tiny_session(tmp_path)
    breaks(git_repo)
    env = {"GIT_CONFIG_GLOBAL": str(tmp_path / "no-global"), "GIT_CONFIG_NOSYSTEM": "1"}
    proc = cp("run", "Validate add", "--generator", gen, "--reviewer", a, "--reviewer", b,
              "--apply", "--commit", "--headless", "--json", cwd=git_repo, env=env)
    assert proc.returncode == 1
    assert "not applied" not in proc.stderr and "Traceback" not in proc.stderr
    assert "applied 1 file" in proc.stderr and "did not commit" in proc.stderr, proc.stderr
    evs = events(proc.stdout)
    (applied,) = [e for e in evs if e["event"] == "applied"]
    summary = evs[-1]
    assert summary["applied"] == {"files": ["app.py"], "undo_id": applied["undo_id"], "commit": None}
    assert (git_repo / "app.py").read_text() != ORIGINAL  # written, as reported
    undone = cp("undo", cwd=git_repo, env=env)
    assert undone.returncode == 0, undone.stderr
    assert (git_repo / "app.py").read_text() == ORIGINAL
