"""The demo's check (the sample's own pytest suite) as a reviewer voice, and the apply gate."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys

from counterpoint.config import load_settings
from counterpoint.headless import HeadlessPrinter, run_headless
from counterpoint.workflow.check_step import Checks
from counterpoint.workflow.checks import CheckRunner
from counterpoint.workflow.launch import provider_factory, start_session
from counterpoint.workflow.sandbox import find_sandbox
from counterpoint.workspace import Workspace


def test_demo_json_checks_confirm_a_models_finding_and_round_2_passes(tmp_path) -> None:
    # Round 2 makes the fixes of the accepted findings: all of them, the check's included.
    proc = subprocess.run([sys.executable, "-m", "counterpoint", "demo", "--headless", "--json", "--accept", "all"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    names = [e["event"] for e in events]
    assert names.count("checks_started") == 2 and names.count("checks_ready") == 2
    assert "check_output" in names
    ready = [e for e in events if e["event"] == "checks_ready"]
    assert [r["results"][0]["status"] for r in ready] == ["failed", "passed"]
    assert ready[0]["results"][0]["new_failures"] == 2
    assert set(ready[0]["results"][0]) >= {"name", "status", "new_failures", "preexisting_failures", "seconds"}
    summary = events[-1]
    assert [c["round"] for c in summary["checks"]] == [1, 2]
    round1 = [c for c in summary["clusters"] if c["round"] == 1]
    confirmed = [c for c in round1 if c["confirmed"]]
    assert len(confirmed) == 1
    reviewers = {f["reviewer"] for f in confirmed[0]["findings"]}
    assert "check:tests" in reviewers and len(reviewers) >= 2
    assert confirmed[0]["path"] == "payments_webhooks/webhooks.py"
    unflagged = [c for c in round1 if {f["reviewer"] for f in c["findings"]} == {"check:tests"}]
    assert len(unflagged) == 1 and not unflagged[0]["confirmed"]
    assert unflagged[0]["findings"][0]["rationale"]
    assert not any(c["confirmed"] for c in summary["clusters"] if c["round"] == 2)


def _round_1_session(demo):
    workspace = Workspace.open(demo.repo)
    orch = start_session(
        workspace=workspace, task=demo.task, generator=demo.generator, reviewers=demo.reviewers,
        make_provider=provider_factory(load_settings(None), base_dir=demo.repo, speed=0),
    )
    orch.checks = Checks(demo.checks, CheckRunner(workspace.root, demo.checks, find_sandbox()))
    return orch


def test_headless_apply_writes_only_when_the_selections_checks_pass(demo) -> None:
    before = subprocess.run(["git", "status", "--porcelain"], cwd=demo.repo, capture_output=True, text=True).stdout
    orch = _round_1_session(demo)
    err = io.StringIO()
    printer = HeadlessPrinter(as_json=False, out=io.StringIO(), err=err)
    code = asyncio.run(run_headless(orch, rounds=1, accept="none", apply=True, commit=False, printer=printer))
    assert code == 1
    assert "not applied: the selection's checks do not pass: tests failed (2 new failures)" in err.getvalue()
    assert orch.session.applied == []
    assert subprocess.run(["git", "status", "--porcelain"], cwd=demo.repo, capture_output=True, text=True).stdout == before
    gate = orch.session.current.selection_checks
    assert gate is not None and not gate.passed and gate.selection

    orch = _round_1_session(demo)
    code = asyncio.run(run_headless(orch, rounds=1, accept="none", apply=True, commit=False,
                                    printer=HeadlessPrinter(as_json=False, out=io.StringIO(), err=io.StringIO()),
                                    apply_failing=True))
    assert orch.session.applied, "--apply-failing writes anyway"


def test_demo_says_when_its_checks_are_skipped_for_want_of_pytest(tmp_path, monkeypatch) -> None:
    import importlib.util

    from counterpoint.workflow import demo as demo_module

    real = importlib.util.find_spec
    monkeypatch.setattr(
        demo_module.importlib.util, "find_spec", lambda name, *a: None if name == "pytest" else real(name, *a)
    )
    setup = demo_module.prepare_demo(dest=tmp_path)
    assert setup.checks == []
    assert "has no pytest" in setup.checks_skipped and sys.executable in setup.checks_skipped
