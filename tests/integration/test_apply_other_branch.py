"""An apply on another branch than the session's goes ahead (the files are the same) but
says so."""

from __future__ import annotations

from support.fake_models import cp, events
from tests.conftest import git
from tests.support.cassettes import tiny_session


def test_apply_on_another_branch_says_so(git_repo, tmp_path):
    gen, (a, b) = tiny_session(tmp_path)
    ran = cp("run", "Validate add", "--generator", gen, "--reviewer", a, "--reviewer", b,
             "--headless", cwd=git_repo)
    assert ran.returncode in (0, 1), ran.stderr
    git(git_repo, "checkout", "-qb", "feature")
    applied = cp("resume", "--last", "--apply", "--headless", "--json", cwd=git_repo)
    assert "the session ran on branch main, the working tree is now on feature" in applied.stderr
    assert [e for e in events(applied.stdout) if e["event"] == "applied"], applied.stderr
    # on the session's own branch: no note
    git(git_repo, "checkout", "-q", "main")
    (git_repo / "app.py").write_text("def add(a, b):\n    return a + b\n")
    again = cp("resume", "--last", "--apply", "--headless", cwd=git_repo)
    assert "the session ran on branch" not in again.stderr, again.stderr
