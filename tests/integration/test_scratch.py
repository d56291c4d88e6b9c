"""Scratch trees on real git repositories: contents, the user's state untouched, cleanup."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from conftest import git
from counterpoint.paths import scratch_dir
from counterpoint.workspace.scratch import ScratchTrees, sweep_stale


def _state(repo: Path) -> tuple[bytes, str, str, str]:
    return (
        (repo / ".git" / "index").read_bytes(),
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        git(repo, "stash", "list"),
        git(repo, "rev-parse", "HEAD", "--abbrev-ref", "HEAD"),
    )


def test_scratch_tree_holds_the_working_tree_state_plus_the_proposal(git_repo: Path, counterpoint_home: Path) -> None:
    (git_repo / ".gitignore").write_text("build/\n.venv/\n")
    (git_repo / "lib.py").write_text("X = 1\n")
    (git_repo / "gone.py").write_text("old\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "more")
    (git_repo / "app.py").write_text("def add(a, b):\n    return a + b  # dirty edit\n")
    (git_repo / "staged.py").write_text("staged\n")
    git(git_repo, "add", "staged.py")
    (git_repo / "untracked.py").write_text("untracked\n")
    (git_repo / "build").mkdir()
    (git_repo / "build" / "out.txt").write_text("ignored\n")
    (git_repo / ".venv" / "bin").mkdir(parents=True)
    before = _state(git_repo)

    trees = ScratchTrees(git_repo)
    proposal = {"lib.py": "X = 2\n", "new/mod.py": "Y = 3\n", "gone.py": None}
    with trees.create(proposal) as tree:
        root = tree.root
        assert not root.is_relative_to(git_repo)
        assert (root / "app.py").read_text().endswith("# dirty edit\n")
        assert (root / "staged.py").read_text() == "staged\n"
        assert (root / "untracked.py").read_text() == "untracked\n"
        assert (root / "lib.py").read_text() == "X = 2\n"
        assert (root / "new" / "mod.py").read_text() == "Y = 3\n"
        assert not (root / "gone.py").exists()
        assert not (root / "build").exists()
        assert (root / ".venv").is_symlink() and (root / ".venv" / "bin").is_dir()
        assert tree.tmp.is_dir()
        assert tree.tree_id == trees.tree_id(proposal)
        assert tree.tree_id != trees.tree_id()
        (root / "lib.py").write_text("scribbled\n")
    assert not tree.home.exists()
    assert _state(git_repo) == before
    assert (git_repo / "lib.py").read_text() == "X = 1\n"
    assert not scratch_dir().exists()  # nothing left, not even an empty folder


def test_kill_9_during_a_check_leaves_nothing_after_the_next_start(git_repo: Path, counterpoint_home: Path) -> None:
    token = f"counterpoint-kill-test-{os.getpid()}"
    script = textwrap.dedent(
        f"""
        import asyncio
        from pathlib import Path
        from counterpoint.workflow.checks import CheckRunner, CheckSpec
        from counterpoint.workflow.sandbox import find_sandbox
        runner = CheckRunner(Path({str(git_repo)!r}), [CheckSpec("slow", "sleep 60 # {token}", format="text")], find_sandbox())
        asyncio.run(runner.evaluate({{"app.py": "changed\\n"}}))
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env=os.environ.copy())
    scratch = scratch_dir()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _sleeping(proc.pid):
        time.sleep(0.1)
    assert _sleeping(proc.pid), "the check never started"
    assert any(scratch.iterdir())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _running(token):
        time.sleep(0.1)
    assert not _running(token), f"the sandboxed check outlived Counterpoint: {_running(token)}"

    removed = sweep_stale()  # what the next start does (CheckRunner calls it)
    assert removed
    assert not scratch.exists() or [p for p in scratch.iterdir() if not p.name.startswith(".index")] == []


def _sleeping(root: int) -> bool:
    """The check's own command runs (not only bwrap, still setting up), under `root` (any
    other `sleep 60` on the machine is not it)."""
    return any(_cmdline(e) == b"sleep\x0060\x00" and root in _ancestors(int(e.name))
               for e in Path("/proc").iterdir() if e.name.isdigit())


def _ancestors(pid: int) -> list[int]:
    out: list[int] = []
    while pid > 1:
        try:
            stat = (Path("/proc") / str(pid) / "stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state: the parent
        out.append(pid)
    return out


def _cmdline(entry: Path) -> bytes:
    try:
        return (entry / "cmdline").read_bytes()
    except OSError:
        return b""


def _running(token: str) -> str:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmdline and b"sleep" in cmdline and b"-c" in cmdline and b"asyncio" not in cmdline:
            return cmdline.decode(errors="replace")
    return ""


def test_sweep_keeps_the_trees_a_living_process_holds(git_repo: Path) -> None:
    with ScratchTrees(git_repo).create() as tree:
        assert sweep_stale() == []
        assert tree.root.is_dir()


def test_scratch_trees_live_in_memory_in_a_private_folder(monkeypatch, tmp_path: Path) -> None:
    from counterpoint.paths import scratch_dir

    monkeypatch.delenv("COUNTERPOINT_SCRATCH")
    runtime = tmp_path / "run"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    chosen = scratch_dir()
    assert chosen.parent == runtime and (chosen.stat().st_mode & 0o777) == 0o700
    other = tmp_path / "other-home"
    monkeypatch.setenv("COUNTERPOINT_HOME", str(other))
    assert scratch_dir() != chosen  # one folder per COUNTERPOINT_HOME
    taken = runtime / next(iter(p.name for p in [scratch_dir()]))
    taken.chmod(0o755)  # readable by others: not private, so not used
    assert scratch_dir().parent != runtime
