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


def sample_tests(repo):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf"],
                          cwd=repo, capture_output=True, text=True, timeout=120, env=env)


def test_demo_accept_all_apply_keeps_the_sample_tests_green(tmp_path):
    proc = run("demo", "--headless", "--json", "--accept", "all", "--apply", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.splitlines()[-1])
    repo = Path(summary["repo_path"])
    assert summary["applied"]["files"] and summary["applied"]["undo_id"]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True,
                            text=True).stdout
    assert status.strip(), "the apply wrote nothing"
    tests = sample_tests(repo)
    assert tests.returncode == 0, tests.stdout[-2000:]
    assert " passed" in tests.stdout


def round_two(lines):
    return [e for e in lines if e["event"] == "proposal_ready" and e["round"] == 2][0]


def test_demo_round_two_fixes_only_what_the_policy_accepted(tmp_path):
    """--accept consensus makes only the consensus fix; --accept all makes every fix (the
    check's finding that nobody else raised included: round 2 fixes the broken test)."""
    trees = {}
    for policy in ("consensus", "all"):
        (tmp_path / policy).mkdir()
        proc = run("demo", "--headless", "--json", "--accept", policy, "--apply", "--apply-failing",
                   cwd=tmp_path / policy)
        assert proc.returncode == 0, proc.stderr
        lines = [json.loads(line) for line in proc.stdout.splitlines()]
        repo = Path(lines[-1]["repo_path"])
        diff = subprocess.run(["git", "diff"], cwd=repo, capture_output=True, text=True).stdout
        trees[policy] = (lines, repo, diff)

    lines, repo, diff = trees["consensus"]
    assert diff != trees["all"][2]
    text = round_two(lines)["text"]
    consensus = [c for c in lines[-1]["clusters"] if c["round"] == 1 and c["agreement"] == "consensus"]
    left = [c for c in lines[-1]["clusters"] if c["round"] == 1 and c["verdict"] == "pending"]
    assert consensus and left
    assert "r1-a2 / r1-b1" in text and "r1-a1 —" not in text  # the consensus fix, not the solo one
    head = text.split("<<<<<<< SEARCH")[0]
    assert "because you did not accept them" in head
    assert all(c["title"] in head for c in left)
    app = (repo / "payments_webhooks" / "app.py").read_text()
    assert "self.storage.transaction()" in (repo / "payments_webhooks" / "webhooks.py").read_text()
    assert "trusted_proxies" not in app and "Retry-After" not in app and "webhook_limiter" not in app
    red = [c for c in lines[-1]["clusters"] if c["round"] == 2 and c["agreement"] == "solo"
           and "test_webhooks_do_not_use_up_the_lookup_limit" in c["title"]]
    assert red and red[0]["stance"] == "agree"  # the generator says why it is still red
    answer = next(e for e in lines if e["event"] == "response_ready" and e["round"] == 2)
    assert any("you did not accept r1-check1" in a["reply"] for a in answer["responses"])
    failed = sample_tests(repo)
    assert "FAILED tests/test_app.py::test_webhooks_do_not_use_up_the_lookup_limit" in failed.stdout
    assert failed.stdout.count("FAILED ") == 1, failed.stdout[-2000:]

    lines, repo, diff = trees["all"]
    app = (repo / "payments_webhooks" / "app.py").read_text()
    assert "trusted_proxies" in app and "Retry-After" in app and "webhook_limiter" in app
    assert "did not accept" not in round_two(lines)["text"]
    assert sample_tests(repo).returncode == 0


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
