"""Hostile model text through the headless view and the exports, as a user runs them.

A real `counterpoint run --headless` in a git repository on replay cassettes whose proposal,
file name, finding title, rationale, suggestion, reply and a reviewer's error message carry
terminal control (OSC 52, C1 CSI, bidi override, DEL) and newlines that would forge a line
or a "## Applied" section. The text summary, the stderr progress, `--json` and the Markdown
and JSON exports must show all of it inertly; `--json` and the JSON export lose nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.hostile import EVIL_FILE, FORGED, assert_inert, cassettes, failing_reviewer, hostile


def cp(*args, cwd):
    return subprocess.run([sys.executable, "-m", "counterpoint", *args], cwd=cwd, capture_output=True,
                          text=True, env=dict(os.environ), timeout=120)


def _args(tmp_path, *, failing: bool = False):
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    generator, reviewer = cassettes(tmp_path, outside, fail_first=False)
    args = ["--generator", generator, "--reviewer", reviewer, "--apply"]
    if failing:  # the round stops at the failed review: its error, no findings
        args += ["--reviewer", failing_reviewer(tmp_path, outside)]
    return outside, args


ESCAPED = "\\x1b]52;c;aGlqYWNr\\x07\\x9b2J \\u202etxt.exe\\x7f \\x1b[2J "
"""How a one-line field shows the start of `hostile()`."""
FORGED_SHOWN = "x[/]\\n## Applied\\n\\nFORGED line"
"""... and the end of `hostile() + FORGED`."""


def test_headless_text_summary_and_progress_are_inert(git_repo, tmp_path):
    outside, args = _args(tmp_path)
    proc = cp("run", "Add sub()", *args, "--headless", cwd=git_repo)
    assert proc.returncode == 0, proc.stderr
    assert_inert(proc.stdout)
    assert_inert(proc.stderr)
    lines = proc.stdout.splitlines()
    title = next(line for line in lines if "Title \\x1b" in line)  # on the line it belongs to
    assert ESCAPED in title and FORGED_SHOWN in title
    assert len([line for line in lines if line.startswith("Applied ")]) == 1
    undone = cp("undo", cwd=git_repo)  # names the restored files: a model chose them
    assert undone.returncode == 0, undone.stderr
    assert_inert(undone.stdout + undone.stderr)
    assert "restored 1 files" in undone.stdout and "evil\\x1b]52;c;aGlqYWNr\\x07[/]x.py" in undone.stdout

    outside, args = _args(tmp_path, failing=True)
    proc = cp("run", "Add sub()", *args, "--headless", cwd=git_repo)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert_inert(proc.stdout)
    assert_inert(proc.stderr)
    progress = next(line for line in proc.stderr.splitlines() if " failed (server): " in line)
    assert ESCAPED in progress and progress.endswith(FORGED_SHOWN)
    error = next(line for line in proc.stdout.splitlines() if ": server: " in line)
    assert ESCAPED in error and error.endswith(FORGED_SHOWN)
    assert not list(outside.iterdir())


def test_headless_json_escapes_c1_and_loses_nothing(git_repo, tmp_path):
    outside, args = _args(tmp_path)
    proc = cp("run", "Add sub()", *args, "--headless", "--json", cwd=git_repo)
    assert_inert(proc.stdout)
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    summary = events[-1]
    finding = summary["clusters"][0]["findings"][0]
    assert finding["title"] == f"Title {hostile(outside)}{FORGED}"  # lossless
    assert summary["applied"]["files"] == [EVIL_FILE]

    session_id = summary["session_id"]
    exported = cp("export", session_id, "--format", "json", cwd=git_repo)
    assert exported.returncode == 0, exported.stderr
    assert_inert(exported.stdout)
    assert json.loads(exported.stdout)["clusters"][0]["findings"][0]["title"] == finding["title"]

    report = cp("export", session_id, "--format", "markdown", cwd=git_repo)
    assert report.returncode == 0, report.stderr
    assert_inert(report.stdout)
    lines = report.stdout.splitlines()
    assert lines.count("## Applied") == 1  # the forged sections stay inside their fields
    heading = next(line for line in lines if line.startswith("### 1. "))
    assert ESCAPED in heading and heading.endswith(FORGED_SHOWN)
    suggestion = lines.index("Suggestion:")  # several lines: quoted, each inside the quote
    assert lines[suggestion + 2].startswith("> Do \\x1b]52") and lines[suggestion + 5] == "> FORGED line"
