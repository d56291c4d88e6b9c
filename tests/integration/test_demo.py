"""The offline demo, headless, as `make demo`'s newcomer would run it without a UI."""

import json
import os
import subprocess
import sys
from pathlib import Path


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "counterpoint", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=180)


def test_demo_headless_json_shows_every_kind_of_disagreement(tmp_path):
    proc = run("demo", "--headless", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    summary = lines[-1]
    assert summary["event"] == "summary" and summary["rounds"] == 2
    round1 = [c for c in summary["clusters"] if c["round"] == 1]
    assert {"consensus", "solo", "severity-split"} <= {c["agreement"] for c in round1}
    assert any(c["stance"] == "dispute" and c["contested"] for c in round1)
    solo_security = [c for c in round1 if c["agreement"] == "solo" and c["category"] == "security"]
    assert solo_security and solo_security[0]["stance"] == "dispute"
    # round 1 has exactly one failed edit, shown with its reason; round 2 has none
    failed = summary["failed_edits"]
    assert [f["round"] for f in failed] == [1] and failed[0]["reason"]
    assert summary["applied"] is None  # nothing written without --apply
    assert all(u["input_tokens"] > 0 for u in summary["usage"].values())


def test_demo_accept_consensus_apply_keeps_the_sample_tests_green(tmp_path):
    proc = run("demo", "--headless", "--json", "--accept", "consensus", "--apply", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.splitlines()[-1])
    repo = Path(summary["repo_path"])
    assert summary["applied"]["files"] and summary["applied"]["undo_id"]
    accepted = [c for c in summary["clusters"] if c["verdict"] == "accepted"]
    assert accepted and all(c["agreement"] == "consensus" for c in accepted)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True,
                            text=True).stdout
    assert status.strip(), "the apply wrote nothing"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                           cwd=repo, capture_output=True, text=True, timeout=120, env=env)
    assert tests.returncode == 0, tests.stdout[-2000:]
    assert " passed" in tests.stdout
