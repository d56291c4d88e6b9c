"""End to end in a real terminal: `counterpoint demo` inside tmux, driven with send-keys.

The app runs as the user runs it (`python -m counterpoint demo --speed 50`) on a private
tmux server (its own socket under tmp_path, so neither a running tmux nor its environment
is touched) in a 120×40 window. The test reads the screen with `capture-pane`, triages
(rejects one finding, annotates one, accepts the consensus one), applies (round 1's proposal
fails the demo's own pytest suite, so the apply screen asks and the test writes anyway), checks the undo
id on screen and the files in the demo repository, undoes, checks the files are restored,
and quits. The demo repository is found through the session journal in COUNTERPOINT_HOME.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from counterpoint.core.changeset import ChangeSet
from counterpoint.core.journal import read_journal
from counterpoint.core.selection import apply_selection

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (the end-to-end test drives the app inside tmux)"
)]

WIDTH, HEIGHT = 120, 40
TIMEOUT = 30.0
"""Seconds to wait for any one thing to appear on screen."""


class Terminal:
    """One tmux session on a private server: send keys, read the screen."""

    def __init__(self, socket: Path, env: dict[str, str]) -> None:
        self.socket = socket
        self.env = env
        self.session = "cp-e2e"
        self.status_file = socket.with_name("exit-status")

    def tmux(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True, text=True, env=self.env, timeout=10, check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def start(self, command: list[str], cwd: Path) -> None:
        env_flags = [f"-e{name}={self.env[name]}" for name in PASSED_ENV if name in self.env]
        # The shell records the app's exit status in a file: tmux's own #{pane_dead_status}
        # stays empty when its server misses the SIGCHLD (seen under load: the app a zombie
        # for 30 s, the pane dead, no status).
        self.tmux(
            "-f", "/dev/null", "new-session", "-d", "-s", self.session,
            "-x", str(WIDTH), "-y", str(HEIGHT), "-c", str(cwd), *env_flags,
            " ".join(_quote(part) for part in command) + f"; echo $? > {_quote(str(self.status_file))}",
        )
        # keep a pane that exited, so a crash can still be read
        self.tmux("set-option", "-t", self.session, "remain-on-exit", "on")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", self.session, *(["-l"] if literal else []), *keys)
        time.sleep(0.05)

    def exit_status(self) -> str | None:
        """The app's exit status once it has ended, else None."""
        try:
            return self.status_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    def wait_for(self, what: str | Callable[[str], bool], timeout: float = TIMEOUT) -> str:
        """Poll the screen until `what` (a regex, or a predicate) matches; return the screen."""
        test = what if callable(what) else (lambda text: re.search(what, text) is not None)
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if test(text):
                return text
            if self.exit_status() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"never saw {what!r} on screen; last screen:\n{text}")

    def kill(self) -> None:
        self.tmux("kill-server", check=False)


PASSED_ENV = (
    "COUNTERPOINT_HOME", "COUNTERPOINT_CONFIG", "XDG_CONFIG_HOME", "TMPDIR", "PATH",
    "PYTHONPATH", "TERM", "LANG", "LC_ALL",
)


def _quote(part: str) -> str:
    return part if re.fullmatch(r"[\w./:=+-]+", part) else "'" + part.replace("'", "'\\''") + "'"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def _journal(home: Path):
    files = sorted((home / "sessions").glob("*.jsonl"))
    assert len(files) == 1, files
    return read_journal(files[0])


def _table_rows(screen: str) -> list[str]:
    """The findings table's rows as shown (between its header line and its bottom border)."""
    lines = screen.splitlines()
    top = next(i for i, line in enumerate(lines) if re.search(r"Findings \d+ ·", line))
    rows = []
    for line in lines[top + 2 :]:  # skip the title border and the column header
        if line.lstrip().startswith("╰"):
            break
        if line.strip("│ "):
            rows.append(line)
    return rows


def test_demo_in_tmux_triage_apply_undo_quit(tmp_path, counterpoint_home):
    env = dict(os.environ)
    env.update(
        TMPDIR=str(tmp_path / "tmp"), TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8",
        PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
    )
    (tmp_path / "tmp").mkdir()
    term = Terminal(tmp_path / "tmux.sock", env)
    try:
        term.start([sys.executable, "-m", "counterpoint", "demo", "--speed", "50"], cwd=tmp_path)

        # -- the round runs and its findings are shown ------------------------------------
        screen = term.wait_for(
            lambda text: re.search(r"Findings \d+ · \d+ contested", text) is not None
            and any("consensus" in row for row in _table_rows(text))  # rows drawn, not just the title
        )
        assert "payments-webhooks@main" in screen
        rows = _table_rows(screen)
        consensus = next(i for i, row in enumerate(rows) if "consensus" in row)
        assert consensus > 1, rows  # contested findings come first
        started = next(e for e in _journal(counterpoint_home).events if e.event == "session_started")
        repo = Path(started.repo)
        assert repo.is_relative_to(tmp_path) and repo.name == "payments-webhooks"
        assert _git(repo, "status", "--porcelain") == ""

        # -- triage: reject the first, annotate the second, accept the consensus one -----
        term.keys("r")
        term.wait_for(r"· 0 accepted · 1 rejected")
        term.keys("j", "n")
        term.wait_for(r"Note on: ")
        term.keys("checked with the load balancer team", literal=True)
        term.keys("C-s")
        term.wait_for(lambda s: "Note on: " not in s and "Findings" in s)
        term.keys(*["j"] * (consensus - 1), "a")
        # tmux can capture a frame half drawn (the title line updated, the rows below not yet):
        # wait for the whole table, then check it.
        screen = term.wait_for(
            lambda s: "· 1 accepted · 1 rejected" in s and "✔ accepted" in "".join(_table_rows(s))
        )
        rows = _table_rows(screen)
        assert "✘ rejected" in rows[0] and "✔ accepted" in rows[consensus], "\n".join(rows)
        verdicts = [e for e in _journal(counterpoint_home).events if e.event in ("verdict_set", "note_set")]
        assert [getattr(e, "verdict", None) or e.note for e in verdicts] == [
            "rejected", "checked with the load balancer team", "accepted",
        ]

        # -- apply: the undo point is on screen and the files changed ----------------------
        term.keys("A")
        term.wait_for(r"Apply · round 1 proposal")
        term.keys("y")
        screen = term.wait_for(r"The selection's checks do not pass")
        assert "✗ tests failed" in screen
        assert _git(repo, "status", "--porcelain") == ""  # nothing written before the human says so
        term.keys("W")
        screen = term.wait_for(r"undo point \S+")
        applied = next(e for e in _journal(counterpoint_home).events if e.event == "applied")
        assert applied.undo_id in screen
        changed = {line[3:] for line in _git(repo, "status", "--porcelain").splitlines()}
        assert changed == set(applied.files) and changed
        diff = _git(repo, "diff")
        assert diff.count("\n+") > 10

        # -- undo: the files are restored -------------------------------------------------
        term.keys("U")
        term.wait_for(r"restored \d+ files from")
        assert _git(repo, "status", "--porcelain") == ""

        # -- line mode: leave the first hunk's first changed line out, apply, undo ---------
        term.keys("a")
        term.wait_for(r"line mode: space toggles the line")
        term.keys("space")
        term.wait_for(r"\(1 in part\)")
        term.keys("y")
        term.wait_for(r"The selection's checks do not pass")
        term.keys("W")
        screen = term.wait_for(r"undo point \S+")
        partial = [e for e in _journal(counterpoint_home).events if e.event == "applied"][-1]
        proposal = next(e for e in _journal(counterpoint_home).events if e.event == "proposal_ready")
        changeset = ChangeSet.from_contents(proposal.base, proposal.files)
        (hunk_id, chosen), = partial.lines.items()
        hunk = changeset.hunk(hunk_id)
        assert hunk is not None and hunk_id == changeset.hunks[0].id
        left_out = [k for k, line in enumerate(hunk.lines) if line[:1] in "+-" and k not in chosen]
        assert len(left_out) == 1, left_out
        selection = {h.id: [k for k, line in enumerate(h.lines) if line[:1] in "+-"] for h in changeset.hunks}
        selection[hunk_id] = chosen
        for path, text in apply_selection(changeset, selection).items():
            assert (repo / path).read_text() == text, path
        term.keys("U")
        term.wait_for(r"restored \d+ files from")
        assert _git(repo, "status", "--porcelain") == ""

        # -- quit -------------------------------------------------------------------------
        term.keys("Escape")
        term.wait_for(r"Findings \d+ · \d+ contested")
        term.keys("q")
        deadline = time.monotonic() + TIMEOUT
        while term.exit_status() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert term.exit_status() == "0", (term.exit_status(), term.screen())
        finished = [e for e in _journal(counterpoint_home).events if e.event == "session_finished"]
        assert finished and finished[-1].state == "quit"
    finally:
        term.kill()
