"""Two Counterpoint processes on one repository or one session, for real: the repository
lock serialises applies and undos, the session lock refuses a second writer by pid, and
kill -9 in the middle of an apply is rolled back by the next command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from support.fake_models import cp
from tests.conftest import git
from tests.support.cassettes import tiny_session

HOLD_REPO = """
import sys, time
from pathlib import Path
from counterpoint.workspace.lock import locked
with locked(Path(sys.argv[1]), "apply"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""

HOLD_SESSION = """
import sys, time
from pathlib import Path
from counterpoint.core.journal import Journal
with Journal(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""

SLOW_APPLY = """
import sys
from counterpoint.workspace import Workspace
root, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = [f"data/f{n:03}.txt" for n in range(count)]
with Workspace.open(root) as ws:
    base = {name: ws.read_text(name) for name in names}
    ws.apply({name: "new\\n" * size for name in names}, base, session_id="s", round=1)
"""


def python(script: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    return proc


def wait_held(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "held", proc.stderr.read() if proc.stderr else ""


def test_an_undo_waits_for_the_apply_holding_the_repository(git_repo, tmp_path):
    gen, (a, b) = tiny_session(tmp_path)
    applied = cp("run", "Validate add", "--generator", gen, "--reviewer", a, "--reviewer", b,
                 "--apply", "--headless", cwd=git_repo)
    assert "applied 1 files" in applied.stderr, applied.stderr
    holder = python(HOLD_REPO, str(git_repo.resolve()), "3")
    try:
        wait_held(holder)
        started = time.monotonic()
        undone = cp("undo", cwd=git_repo)
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
    assert undone.returncode == 0, undone.stderr
    assert waited >= 2.0, f"the undo did not wait for the lock ({waited:.1f} s)"
    assert (git_repo / "app.py").read_text() == "def add(a, b):\n    return a + b\n"


def test_a_second_writer_of_a_session_is_refused_naming_the_pid(git_repo, tmp_path,
                                                                counterpoint_home):
    gen, (a, b) = tiny_session(tmp_path)
    ran = cp("run", "Validate add", "--generator", gen, "--reviewer", a, "--reviewer", b,
             "--headless", cwd=git_repo)
    assert ran.returncode in (0, 1), ran.stderr
    (journal,) = sorted((counterpoint_home / "sessions").glob("*.jsonl"))
    before = journal.read_bytes()
    holder = python(HOLD_SESSION, str(journal), "20")
    try:
        wait_held(holder)
        second = cp("resume", journal.stem, "--headless", cwd=git_repo)
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 2, second.stderr
    assert f"session {journal.stem} is in use by pid {holder.pid}" in second.stderr
    assert "Traceback" not in second.stderr
    assert journal.read_bytes() == before  # the second one wrote nothing
    # the holder is gone (killed): its lock went with it
    again = cp("resume", journal.stem, "--headless", cwd=git_repo)
    assert "in use" not in again.stderr and again.returncode in (0, 1), again.stderr


def test_kill_9_during_an_apply_is_rolled_back_by_the_next_command(git_repo):
    count, size = 40, 400_000
    data = git_repo / "data"
    data.mkdir()
    for n in range(count):
        (data / f"f{n:03}.txt").write_text(f"old {n}\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "data")
    original = {p.name: p.read_bytes() for p in data.iterdir()}

    applying = python(SLOW_APPLY, str(git_repo), str(count), str(size))
    deadline = time.monotonic() + 60
    saw_temp = False
    while time.monotonic() < deadline and applying.poll() is None:
        names = os.listdir(data)
        changed = sum(1 for n in names if not n.startswith(".")
                      and (data / n).stat().st_size > 100)
        saw_temp = any(n.endswith(".counterpoint") for n in names)
        if changed >= 2 and (saw_temp or changed > count // 2):
            break
    os.kill(applying.pid, signal.SIGKILL)
    applying.wait()
    assert applying.returncode == -signal.SIGKILL, "the apply finished before it was killed"
    current = {p.name: p.read_bytes() for p in data.iterdir() if not p.name.startswith(".")}
    assert current != original  # mixed: some files new, some old
    # What the kill left, not what the last look before it saw (a temp file is renamed in µs).
    left_temp = any(n.endswith(".counterpoint") for n in os.listdir(data))

    nxt = cp("config", cwd=git_repo)
    assert "an apply was interrupted" in nxt.stderr and "rolled it back" in nxt.stderr, nxt.stderr
    assert ("temp file" in nxt.stderr) == left_temp, nxt.stderr
    assert {p.name: p.read_bytes() for p in data.iterdir()} == original  # no temp file left
    assert git(git_repo, "status", "--porcelain") == ""
    undo = cp("undo", cwd=git_repo)
    assert undo.returncode == 2 and "nothing to undo" in undo.stderr, undo.stderr
