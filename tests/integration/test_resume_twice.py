"""Resume after resume: a step cut off by a crash, re-run by a resume that crashed too, is
counted once, so the next resume replays the right exchanges; resuming a finished session
that was resumed before is not an error."""

from __future__ import annotations

import json

from support.fake_models import cp, events, journal_files
from tests.support.cassettes import tiny_session

HEADLESS = ["--accept", "consensus", "--headless", "--json"]


def cut_after_review_start(journal, round_no: int, times: int) -> None:
    """The journal as two crashes leave it: cut after round `round_no`'s first review
    started, and that start written once more by a resume that crashed as well."""
    lines = journal.read_text().splitlines(keepends=True)
    for n, line in enumerate(lines):
        event = json.loads(line)
        if event["event"] == "step_started" and event["step"] == "review" and event["round"] == round_no:
            journal.write_text("".join(lines[: n + 1]) + line * (times - 1))
            return
    raise AssertionError("no review started in that round")


def test_resume_after_two_crashes_rebuilds_the_same_session(git_repo, tmp_path, counterpoint_home):
    gen, (a, b) = tiny_session(tmp_path)
    args = ["run", "Validate add", "--generator", gen, "--reviewer", a, "--reviewer", b, "--rounds", "2", *HEADLESS]
    whole = cp(*args, cwd=git_repo)
    expected = events(whole.stdout)[-1]
    assert expected["rounds"] == 2 and expected["errors"] == [], whole.stderr
    (journal,) = journal_files(counterpoint_home)
    cut_after_review_start(journal, round_no=2, times=2)

    resumed = cp("resume", "--last", *HEADLESS, cwd=git_repo)
    assert resumed.stdout, resumed.stderr
    summary = events(resumed.stdout)[-1]
    assert "Traceback" not in resumed.stderr, resumed.stderr
    assert summary["errors"] == [], summary["errors"]
    assert len(summary["clusters"]) == len(expected["clusters"])
    assert [c["title"] for c in summary["clusters"]] == [c["title"] for c in expected["clusters"]]

    # The session is finished now; resuming it once more is fine, and changes nothing.
    again = cp("resume", "--last", *HEADLESS, cwd=git_repo)
    assert again.returncode == resumed.returncode, again.stderr
    assert "Traceback" not in again.stderr and "cannot rewind" not in again.stderr
    assert events(again.stdout)[-1]["clusters"] == summary["clusters"]
