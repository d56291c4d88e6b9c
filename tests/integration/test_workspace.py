"""Workspace: opening a repository, its properties, path safety and reading files."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import git
from counterpoint.workspace import NotAGitRepo, UnsafePath, Workspace, WorkspaceError


@pytest.fixture
def ws(git_repo):
    workspace = Workspace.open(git_repo)
    yield workspace
    workspace.close()


# ------------------------------------------------------------------ opening


def test_not_a_git_repo_names_the_path(tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    with pytest.raises(NotAGitRepo) as info:
        Workspace.open(folder)
    message = str(info.value)
    assert str(folder) in message
    assert "git init" in message
    assert isinstance(info.value, WorkspaceError)


def test_missing_folder_is_not_a_git_repo(tmp_path):
    with pytest.raises(NotAGitRepo, match="no such folder"):
        Workspace.open(tmp_path / "nowhere")


def test_bare_repository_is_refused(tmp_path):
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    with pytest.raises(NotAGitRepo, match="bare"):
        Workspace.open(bare)


def test_open_from_a_subdirectory_finds_the_root(git_repo):
    sub = git_repo / "pkg" / "deep"
    sub.mkdir(parents=True)
    with Workspace.open(sub) as ws:
        assert ws.root == git_repo.resolve()
        assert ws.name == "repo"
        assert ws.read_text("app.py") == "def add(a, b):\n    return a + b\n"


def test_branch_and_head(ws, git_repo):
    assert ws.branch == "main"
    assert ws.head == git(git_repo, "rev-parse", "HEAD").strip()
    git(git_repo, "checkout", "-q", "-b", "feature/x")
    assert ws.branch == "feature/x"
    git(git_repo, "checkout", "-q", "--detach")
    assert ws.branch == ws.head[:7]


def test_unborn_branch(tmp_path):
    repo = tmp_path / "fresh"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "trunk")
    with Workspace.open(repo) as ws:
        assert ws.head is None
        assert ws.branch == "trunk"
        assert ws.list_files() == []


def test_workspace_does_not_import_textual():
    code = "import sys, counterpoint.workspace; assert 'textual' not in sys.modules; assert 'rich' not in sys.modules"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


# ------------------------------------------------------------- path safety


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/etc/passwd", "absolute"),
        ("C:\\Windows\\win.ini", "absolute"),
        ("c:/x.py", "absolute"),
        ("\\\\server\\share\\x", "absolute"),
        ("~/x.py", "~"),
        ("~root/x", "~"),
        ("../outside.py", "'..'"),
        ("src/../app.py", "'..'"),
        ("src\\..\\..\\x", "'..'"),
        (".git/config", ".git"),
        (".git", ".git"),
        (".GIT/hooks/pre-commit", ".git"),
        ("sub/.git/config", ".git"),
        (".git./config", ".git"),
        ("a\x00b", "NUL"),
        ("", "empty"),
        ("   ", "empty"),
        ("./", "root"),
    ],
)
def test_unsafe_paths_are_refused(ws, path, why):
    with pytest.raises(UnsafePath) as info:
        ws.safe_path(path)
    assert why in str(info.value)
    with pytest.raises(UnsafePath):
        ws.read_text(path)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("app.py", "app.py"),
        ("./app.py", "app.py"),
        ("src\\pkg\\mod.py", "src/pkg/mod.py"),
        ("src//pkg/./mod.py", "src/pkg/mod.py"),
        (".github/workflows/ci.yml", ".github/workflows/ci.yml"),
        (".gitignore", ".gitignore"),
        ("docs/my.git.notes", "docs/my.git.notes"),
    ],
)
def test_safe_paths_are_normalised(ws, path, expected):
    assert ws.safe_path(path) == expected


def test_symlinked_dir_pointing_outside_is_refused(ws, git_repo, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\n")
    (git_repo / "linked").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePath) as info:
        ws.safe_path("linked/secret.txt")
    assert "linked" in str(info.value) and "outside the repository" in str(info.value)
    with pytest.raises(UnsafePath):
        ws.safe_path("linked/new_file.py")  # not existing yet, but would land outside
    with pytest.raises(UnsafePath):
        ws.read_text("linked/secret.txt")


def test_symlinked_file_pointing_outside_is_refused(ws, git_repo, tmp_path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("x\n")
    (git_repo / "link.txt").symlink_to(target)
    with pytest.raises(UnsafePath, match="outside the repository"):
        ws.safe_path("link.txt")


def test_symlink_into_dot_git_is_refused(ws, git_repo):
    (git_repo / "gitdata").symlink_to(git_repo / ".git", target_is_directory=True)
    with pytest.raises(UnsafePath, match=".git"):
        ws.safe_path("gitdata/config")


def test_symlink_staying_inside_is_allowed(ws, git_repo):
    (git_repo / "real").mkdir()
    (git_repo / "real" / "m.py").write_text("x = 1\n")
    (git_repo / "alias").symlink_to(git_repo / "real", target_is_directory=True)
    assert ws.safe_path("alias/m.py") == "alias/m.py"
    assert ws.read_text("alias/m.py") == "x = 1\n"


# ----------------------------------------------------------------- reading


def test_read_text_normalises_crlf_and_reports_missing(ws, git_repo):
    (git_repo / "win.txt").write_bytes(b"one\r\ntwo\r\n")
    assert ws.read_text("win.txt") == "one\ntwo\n"
    assert ws.read_text("nope.py") is None
    assert ws.read_text("nodir/nope.py") is None
    assert ws.read_text("app.py/below") is None  # a file where a folder would be


def test_read_text_refuses_folders_and_binary(ws, git_repo):
    (git_repo / "pkg").mkdir()
    with pytest.raises(WorkspaceError, match="directory"):
        ws.read_text("pkg")
    (git_repo / "blob.bin").write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(WorkspaceError, match="not UTF-8"):
        ws.read_text("blob.bin")


def test_read_files_keys_by_normalised_path(ws, git_repo):
    (git_repo / "src").mkdir()
    (git_repo / "src" / "m.py").write_text("m\n")
    assert ws.read_files(["./app.py", "src\\m.py", "gone.py"]) == {
        "app.py": "def add(a, b):\n    return a + b\n",
        "src/m.py": "m\n",
        "gone.py": None,
    }
    with pytest.raises(UnsafePath):
        ws.read_files(["app.py", "../x"])


def test_list_files_tracked_and_untracked_not_ignored(ws, git_repo, tmp_path):
    (git_repo / ".gitignore").write_text("*.log\nbuild/\n")
    (git_repo / "debug.log").write_text("noise\n")
    (git_repo / "build").mkdir()
    (git_repo / "build" / "out.py").write_text("x\n")
    (git_repo / "src").mkdir()
    (git_repo / "src" / "new.py").write_text("y\n")
    (tmp_path / "far.txt").write_text("far\n")
    (git_repo / "far_link.txt").symlink_to(tmp_path / "far.txt")
    assert ws.list_files() == [".gitignore", "app.py", "src/new.py"]


def test_list_files_skips_tracked_files_deleted_from_disk(ws, git_repo):
    (git_repo / "app.py").unlink()
    assert ws.list_files() == []


def test_is_ignored(ws, git_repo):
    (git_repo / ".gitignore").write_text("*.log\nsecret/\n")
    assert ws.is_ignored("x.log")
    assert ws.is_ignored("secret/key.pem")
    assert not ws.is_ignored("app.py")
    assert not ws.is_ignored("[weird]*.py")  # literal path, not a glob
    with pytest.raises(UnsafePath):
        ws.is_ignored("../x.log")


def test_dirty_files(ws, git_repo):
    assert ws.dirty_files() == []
    (git_repo / "app.py").write_text("changed\n")
    (git_repo / "new dir").mkdir()
    (git_repo / "new dir" / "ünïcode file.py").write_text("n\n")
    (git_repo / "staged.py").write_text("s\n")
    git(git_repo, "add", "staged.py")
    assert ws.dirty_files() == ["app.py", "new dir/ünïcode file.py", "staged.py"]


# A property check: whatever a model writes, an accepted path is relative, clean and
# outside .git, and normalising it again changes nothing.
from hypothesis import given, settings, strategies as st  # noqa: E402

from counterpoint.workspace.safety import normalise  # noqa: E402

_parts = st.sampled_from(["a", "b.py", "..", ".", "", ".git", ".GiT", "~", "C:", "x y", "\\", "/", "\x00", "git~1"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_parts, max_size=6).map("/".join))
def test_normalise_property(path):
    try:
        rel = normalise(path)
    except UnsafePath:
        return
    parts = rel.split("/")
    assert not rel.startswith("/") and "\\" not in rel and "\x00" not in rel
    assert all(p not in ("", ".", "..") for p in parts)
    assert all(p.lower().rstrip(". ") not in (".git", "git~1") for p in parts)
    assert not rel.startswith("~")
    assert normalise(rel) == rel
