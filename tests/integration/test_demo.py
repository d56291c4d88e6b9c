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
    # its scripted reviews pass the reviewer quality gate: none is asked again, none weak
    assert summary["weak_reviews"] == []
    assert not [e for e in lines if e["event"] == "review_retried"]


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


def test_demo_headless_ends_with_its_repository_and_the_resume_line(tmp_path):
    proc = run("demo", "--headless", "--json", "--no-checks", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.splitlines()[-1])  # stdout stays JSON lines only
    tail = proc.stderr.splitlines()[-2:]
    assert tail == [f"demo repository: {summary['repo_path']}",
                    f"resume it with: counterpoint resume {summary['session_id']}"]
    plain = run("demo", "--headless", "--no-checks", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    last = plain.stdout.splitlines()[-2:]
    assert last[0].startswith("demo repository: ") and Path(last[0].split(": ", 1)[1]).is_dir()
    assert last[1].startswith("resume it with: counterpoint resume ")
    session_id = last[1].rsplit(" ", 1)[1]
    resumed = run("resume", session_id, "--headless", "--json", "--no-checks", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr


def test_quitting_the_demo_tui_prints_its_repository_and_the_resume_line(monkeypatch, capsys, tmp_path):
    from types import SimpleNamespace

    import counterpoint.tui.app as app_module
    from counterpoint.cli import main

    orch = SimpleNamespace(workspace=SimpleNamespace(root=tmp_path / "payments-webhooks"),
                           session=SimpleNamespace(id="20260101-000000-abcd"))
    fake = SimpleNamespace(run=lambda: 0, orch=orch, return_code=None)
    monkeypatch.setattr(app_module, "make_app", lambda *a, **k: fake)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == [f"demo repository: {tmp_path / 'payments-webhooks'}",
                        "resume it with: counterpoint resume 20260101-000000-abcd"]
