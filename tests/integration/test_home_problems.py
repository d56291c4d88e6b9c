"""COUNTERPOINT_HOME that is a file, cannot be written, or fills up mid-session: a clear
message, exit 2, no traceback, and nothing lost (the working tree untouched, the journal
readable and the session resumable)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest

from support.fake_models import cp, events
from tests.support.cassettes import tiny_session

ORIGINAL = "def add(a, b):\n    return a + b\n"


def run_args(tmp_path):
    gen, (a, b) = tiny_session(tmp_path)
    return ["run", "Validate add", "--generator", gen, "--reviewer", a, "--reviewer", b,
            "--apply", "--headless", "--json"]


def unwritable(tmp_path):
    if os.geteuid() == 0:  # root writes through any mode bits: a folder nobody can create
        return "/proc/counterpoint-home"
    folder = tmp_path / "locked-home"
    folder.mkdir(mode=0o500)
    return str(folder)


def a_file(tmp_path):
    path = tmp_path / "home-file"
    path.write_text("not a folder\n")
    return str(path)


@pytest.mark.parametrize("home", [a_file, unwritable])
def test_a_home_that_cannot_be_written_exits_2_with_a_message(home, git_repo, tmp_path):
    where = home(tmp_path)
    proc = cp(*run_args(tmp_path), cwd=git_repo, env={"COUNTERPOINT_HOME": where})
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "COUNTERPOINT_HOME" in proc.stderr and where in proc.stderr, proc.stderr
    assert (git_repo / "app.py").read_text() == ORIGINAL


def test_a_full_disk_mid_session_exits_2_and_loses_nothing(git_repo, tmp_path, counterpoint_home):
    args = run_args(tmp_path)
    whole = cp(*args[:-2], "--headless", "--json", cwd=git_repo,
               env={"COUNTERPOINT_HOME": str(tmp_path / "measure")})
    size = sum(p.stat().st_size for p in (tmp_path / "measure" / "sessions").glob("*.jsonl"))
    (git_repo / "app.py").write_text(ORIGINAL)  # that run applied: back to the start
    assert whole.returncode in (0, 1) and size > 4000

    limit = size // 2  # RLIMIT_FSIZE: a write past it fails with EFBIG, as ENOSPC would

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run([sys.executable, "-m", "counterpoint", *args], cwd=git_repo,
                          capture_output=True, text=True, preexec_fn=small_disk, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "cannot write the session journal" in proc.stderr, proc.stderr
    assert (git_repo / "app.py").read_text() == ORIGINAL  # never applied
    # Space again: the session resumes from its journal and finishes.
    resumed = cp("resume", "--last", "--accept", "none", "--headless", "--json", cwd=git_repo)
    assert "Traceback" not in resumed.stderr and resumed.returncode in (0, 1), resumed.stderr
    summary = events(resumed.stdout)[-1]
    assert summary["event"] == "summary" and summary["clusters"] and summary["errors"] == []
