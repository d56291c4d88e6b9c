"""Workspace.commit: exactly the applied files, with trailers naming the models."""

from __future__ import annotations

import subprocess

import pytest

from conftest import git
from counterpoint.workspace import Workspace, WorkspaceError

APP = "def add(a, b):\n    return a + b\n"
NEW_APP = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"


@pytest.fixture
def ws(git_repo):
    workspace = Workspace.open(git_repo)
    yield workspace
    workspace.close()


def apply(ws, changes):
    return ws.apply(changes, {p: ws.read_text(p) for p in changes}, session_id="sess-7", round=1)


def trailers(repo) -> list[str]:
    body = git(repo, "log", "-1", "--format=%B")
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"], input=body, cwd=repo,
        capture_output=True, text=True, check=True,
    ).stdout
    return parsed.splitlines()


def test_commit_with_trailers(ws, git_repo):
    (git_repo / "old.py").write_text("old\n")
    git(git_repo, "add", "old.py")
    git(git_repo, "commit", "-qm", "add old")
    record = apply(ws, {"app.py": NEW_APP, "pkg/new.py": "n\n", "old.py": None})
    sha = ws.commit(
        record,
        "Add sub()\n\nAsked for by the user.",
        generator="openai:gpt-5.5",
        reviewers=["anthropic:claude-opus-5-5", "ollama:qwen3"],
    )
    assert sha == git(git_repo, "rev-parse", "HEAD").strip()
    assert git(git_repo, "log", "-1", "--format=%B") == (
        "Add sub()\n\nAsked for by the user.\n\n"
        "Generated-by: openai:gpt-5.5\n"
        "Reviewed-by: anthropic:claude-opus-5-5\n"
        "Reviewed-by: ollama:qwen3\n"
        "Counterpoint-Session: sess-7\n\n"
    )
    assert trailers(git_repo) == [
        "Generated-by: openai:gpt-5.5",
        "Reviewed-by: anthropic:claude-opus-5-5",
        "Reviewed-by: ollama:qwen3",
        "Counterpoint-Session: sess-7",
    ]
    changed = git(git_repo, "show", "--name-status", "--format=", "HEAD").split("\n")
    assert sorted(filter(None, changed)) == ["A\tpkg/new.py", "D\told.py", "M\tapp.py"]
    assert ws.dirty_files() == []
    assert ws.undo_records()[0].commit == sha


def test_commit_only_the_applied_files(ws, git_repo):
    (git_repo / "staged.py").write_text("user's staged work\n")
    git(git_repo, "add", "staged.py")
    (git_repo / "scratch.txt").write_text("untracked\n")
    record = apply(ws, {"app.py": NEW_APP})
    ws.commit(record, "Change app", generator="g:m", reviewers=[])
    files = git(git_repo, "show", "--name-only", "--format=", "HEAD").split()
    assert files == ["app.py"]
    status = git(git_repo, "status", "--porcelain")
    assert "A  staged.py" in status  # still staged, not committed
    assert "?? scratch.txt" in status
    assert trailers(git_repo) == ["Generated-by: g:m", "Counterpoint-Session: sess-7"]


def test_commit_on_an_unborn_branch(tmp_path):
    repo = tmp_path / "fresh"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "T")
    with Workspace.open(repo) as ws:
        assert ws.head is None
        record = ws.apply({"README.md": "# hi\n"}, {"README.md": None}, session_id="s0", round=1)
        sha = ws.commit(record, "First", generator="a:b", reviewers=["c:d"])
        assert ws.head == sha
        assert ws.branch == "main"
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["README.md"]


def test_commit_without_git_identity_says_how_to_set_it(ws, git_repo, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    git(git_repo, "config", "--unset", "user.name")
    git(git_repo, "config", "--unset", "user.email")
    git(git_repo, "config", "user.useConfigOnly", "true")
    head = ws.head
    record = apply(ws, {"app.py": NEW_APP})
    with pytest.raises(WorkspaceError) as info:
        ws.commit(record, "msg", generator="g:m", reviewers=[])
    assert "user.name" in str(info.value) and "user.email" in str(info.value)
    assert ws.head == head
    assert git(git_repo, "diff", "--cached", "--name-only") == ""  # nothing left staged


def test_commit_refuses_twice_empty_message_and_undone(ws, git_repo):
    record = apply(ws, {"app.py": NEW_APP})
    with pytest.raises(WorkspaceError, match="message is empty"):
        ws.commit(record, "  \n", generator="g", reviewers=[])
    ws.commit(record, "ok", generator="g", reviewers=[])
    with pytest.raises(WorkspaceError, match="already committed"):
        ws.commit(record, "again", generator="g", reviewers=[])
    second = apply(ws, {"app.py": APP})
    ws.undo(second.undo_id)
    with pytest.raises(WorkspaceError, match="already undone"):
        ws.commit(second, "undone", generator="g", reviewers=[])


def test_commit_failure_from_a_hook_is_a_workspace_error(ws, git_repo):
    hook = git_repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'lint failed: tabs found' >&2\nexit 1\n")
    hook.chmod(0o755)
    record = apply(ws, {"app.py": NEW_APP})
    with pytest.raises(WorkspaceError, match="lint failed"):
        ws.commit(record, "msg", generator="g", reviewers=[])


def test_trailer_values_stay_on_one_line(ws, git_repo):
    record = apply(ws, {"app.py": NEW_APP})
    ws.commit(record, "msg", generator="evil\nSigned-off-by: someone", reviewers=["a\nb"])
    assert trailers(git_repo) == [
        "Generated-by: evil Signed-off-by: someone",
        "Reviewed-by: a b",
        "Counterpoint-Session: sess-7",
    ]


def test_commit_with_glob_like_file_names(ws, git_repo):
    (git_repo / "[ab].py").write_text("x\n")
    (git_repo / "a.py").write_text("a\n")
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-qm", "more")
    record = apply(ws, {"[ab].py": "y\n"})
    (git_repo / "a.py").write_text("a changed, not part of the apply\n")
    ws.commit(record, "glob", generator="g", reviewers=[])
    assert git(git_repo, "show", "--name-only", "--format=", "HEAD").split() == ["[ab].py"]


def test_commit_leaves_out_ignored_new_files(ws, git_repo):
    (git_repo / ".gitignore").write_text("*.log\n")
    git(git_repo, "add", ".gitignore")
    git(git_repo, "commit", "-qm", "ignore logs")
    record = apply(ws, {"app.py": NEW_APP, "debug.log": "noise\n"})
    ws.commit(record, "msg", generator="g", reviewers=[])
    assert git(git_repo, "show", "--name-only", "--format=", "HEAD").split() == ["app.py"]
    assert (git_repo / "debug.log").exists()
    only_ignored = apply(ws, {"trace.log": "t\n"})
    with pytest.raises(WorkspaceError, match="nothing to commit"):
        ws.commit(only_ignored, "msg", generator="g", reviewers=[])
