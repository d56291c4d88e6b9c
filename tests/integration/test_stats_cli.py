"""`counterpoint stats` and `export --format github-review` on a real session's journal."""

import csv
import io
import json

from tests.integration.test_cli import cp, events, session_args  # noqa: F401  (fixture)


def test_stats_formats_and_filters(git_repo, session_args):  # noqa: F811
    proc = cp("run", "Validate add", *session_args, "--rounds", "2", "--accept", "consensus",
              "--headless", "--json", cwd=git_repo)
    assert proc.returncode == 0, proc.stderr
    summary = events(proc.stdout)[-1]
    verdicts = [c["verdict"] for c in summary["clusters"]]
    raised = sum(len(c["findings"]) for c in summary["clusters"])
    accepted = sum(len(c["findings"]) for c in summary["clusters"] if c["verdict"] == "accepted")
    assert "accepted" in verdicts and "pending" in verdicts

    board = json.loads(cp("stats", "--json", cwd=git_repo, check=True).stdout)
    assert board["sessions"] == 1
    assert sum(r["raised"] for r in board["models"]) == raised
    assert sum(r["accepted"] for r in board["models"]) == accepted
    for row in board["models"]:  # pending counts in the denominator
        assert row["acceptance"] == round(row["accepted"] / row["raised"], 4)
    assert board["families"]["same"]["reviews"] + board["families"]["cross"]["reviews"] == 4

    text = cp("stats", cwd=git_repo, check=True).stdout
    assert text.startswith("1 sessions") and "Calibration" in text
    md = cp("stats", "--format", "markdown", cwd=git_repo, check=True).stdout
    assert md.startswith("# Counterpoint scoreboard")
    rows = list(csv.reader(io.StringIO(cp("stats", "--format", "csv", cwd=git_repo,
                                          check=True).stdout)))
    assert rows[0][0] == "table" and any(r[0] == "calibration" for r in rows)

    here = json.loads(cp("stats", "--json", "--repo", ".", cwd=git_repo, check=True).stdout)
    assert here["sessions"] == 1
    assert json.loads(cp("stats", "--json", "--repo", "elsewhere", cwd=git_repo,
                         check=True).stdout)["sessions"] == 0
    assert json.loads(cp("stats", "--json", "--since", "2999-01-01", cwd=git_repo,
                         check=True).stdout)["sessions"] == 0
    one = json.loads(cp("stats", "--json", "--model", "ollama:qwen3-coder", cwd=git_repo,
                        check=True).stdout)
    assert {r["model"] for r in one["models"]} <= {"ollama:qwen3-coder"}
    bad = cp("stats", "--since", "yesterday-ish", cwd=git_repo)
    assert bad.returncode == 2 and "--since" in bad.stderr and "Traceback" not in bad.stderr

    review = json.loads(cp("export", summary["session_id"], "--format", "github-review",
                           cwd=git_repo, check=True).stdout)
    assert set(review) == {"body", "comments"}
    assert len(review["comments"]) == sum(1 for v in verdicts if v == "accepted")
    assert all(c["path"] == "app.py" and c["side"] == "RIGHT" for c in review["comments"])
