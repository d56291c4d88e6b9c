"""The checks in the TUI (Pilot): the consent dialog, and the apply screen's gate.

Real git repositories in temp dirs, a real pytest project (a configured `[[checks]]` running
this Python's pytest), the real bubblewrap sandbox; the models are scripted cassettes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from counterpoint.config import checks_enabled, load_settings
from counterpoint.core.journal import read_journal
from counterpoint.providers.replay import write_cassette
from counterpoint.tui.app import make_app
from counterpoint.tui.screens.apply import ApplyScreen
from counterpoint.tui.screens.consent import CONSENT_QUESTION, ApplyFailingScreen, ConsentScreen
from counterpoint.tui.screens.workbench import WorkbenchScreen
from counterpoint.tui.startup import ChecksFlags, RunStart
from counterpoint.workflow.launch import journal_path
from counterpoint.workspace import Workspace

from conftest import git
from support.tui import demo_app, workers_done

SIZE = (120, 40)
PKG = "def add(a, b):\n    return a + b\n\n\ndef div(a, b):\n    return a / b\n"
TESTS = "from pkg import add, div\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\ndef test_div():\n    assert div(4, 2) == 2\n"


def _project(repo: Path) -> Path:
    (repo / "pkg").mkdir()
    (repo / "pkg" / "__init__.py").write_text(PKG)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_pkg.py").write_text(TESTS)
    (repo / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\naddopts = "-p no:cacheprovider"\n')
    (repo / ".counterpoint.toml").write_text(
        f'[[checks]]\nname = "tests"\ncommand = "{sys.executable} -m pytest -q"\nformat = "text"\n'
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "project")
    return repo


def _cassettes(tmp_path: Path) -> tuple[str, str]:
    """A proposal that breaks div() (its test fails), one reviewer finding on it."""
    proposal = (
        "Make div integer division.\n\npkg/__init__.py\n```python\n<<<<<<< SEARCH\n    return a / b\n=======\n"
        "    return a // 0\n>>>>>>> REPLACE\n```\n"
    )
    review = {
        "summary": "Broken.", "verdict": "needs-changes",
        "findings": [{"path": "pkg/__init__.py", "start_line": 6, "end_line": 6, "severity": "high",
                      "category": "correctness", "title": "div divides by zero", "rationale": "a // 0 raises.",
                      "suggestion": None, "confidence": 0.9}],
    }
    gen = tmp_path / "gen.json"
    write_cassette(gen, "openai:gpt-5.5", [
        {"role": "generator", "text": proposal},
        {"role": "responder", "text": "", "data": {"responses": []}},
    ], scripted=True)
    rev = tmp_path / "rev.json"
    write_cassette(rev, "anthropic:claude-opus-5-5", [
        {"role": "reviewer", "text": json.dumps(review), "data": review},
    ], scripted=True)
    return f"replay:{gen}", f"replay:{rev}"


def _app(repo: Path, tmp_path: Path, flags: ChecksFlags | None = None):
    generator, reviewer = _cassettes(tmp_path)
    return make_app(RunStart(Workspace.open(repo), "Integer div", generator, [reviewer]),
                    settings=load_settings(repo), frozen=True, checks=flags)


def _journal(app, name: str) -> list:
    return [e for e in read_journal(journal_path(app.orch.session.id)).events if e.event == name]


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def _until_consent(app, pilot) -> ConsentScreen:
    for _ in range(200):
        if isinstance(app.screen, ConsentScreen):
            return app.screen
        await pilot.pause(0.02)
    raise AssertionError(f"no consent dialog: {app.screen!r}")


# -- consent ------------------------------------------------------------------------------
async def test_consent_allow_is_remembered_and_the_round_runs_its_checks(git_repo, tmp_path):
    repo = _project(git_repo)
    assert checks_enabled(load_settings(repo)).ask
    app = _app(repo, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await _until_consent(app, pilot)
        assert CONSENT_QUESTION in str(dialog.query_one(".dialog-title").render())
        shown = " ".join(str(s.render()) for s in dialog.query("Static"))
        assert "tests" in shown and "-m pytest -q" in shown
        assert app.orch.session.current.proposal is None  # it asks before the round runs
        await pilot.press("a")
        await workers_done(app, pilot, ready=lambda a: a.orch.session.current.aligned)
        assert isinstance(app.screen, WorkbenchScreen)
        r = app.orch.session.current
        assert r.checks is not None and [x.status for x in r.checks.results] == ["failed"]
        assert any(c.confirmed for c in r.clusters)
    decision = checks_enabled(load_settings(repo))
    assert decision.enabled and decision.reason.startswith("your consent of ")

    again = _app(repo, tmp_path / "again")  # the next session: no dialog, checks on
    async with again.run_test(size=SIZE) as pilot:
        await workers_done(again, pilot, ready=lambda a: a.orch.session.current.aligned)
        assert isinstance(again.screen, WorkbenchScreen)
        assert again.orch.checks is not None and again.orch.session.current.checks is not None


async def test_consent_not_now_runs_no_checks_and_never_is_remembered(git_repo, tmp_path):
    repo = _project(git_repo)
    app = _app(repo, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _until_consent(app, pilot)
        await pilot.press("n")
        await workers_done(app, pilot, ready=lambda a: a.orch.session.current.aligned)
        assert app.orch.checks is None and app.orch.session.current.checks is None
        assert _journal(app, "checks_started") == []
    assert checks_enabled(load_settings(repo)).ask  # not now: asked again next time

    never = _app(repo, tmp_path / "never")
    async with never.run_test(size=SIZE) as pilot:
        await _until_consent(never, pilot)
        await pilot.press("N")
        await workers_done(never, pilot, ready=lambda a: a.orch.session.current.aligned)
        assert never.orch.checks is None and _journal(never, "checks_started") == []
    decision = checks_enabled(load_settings(repo))
    assert not decision.enabled and not decision.ask

    unasked = _app(repo, tmp_path / "unasked")
    async with unasked.run_test(size=SIZE) as pilot:
        await workers_done(unasked, pilot, ready=lambda a: a.orch.session.current.aligned)
        assert isinstance(unasked.screen, WorkbenchScreen) and unasked.orch.checks is None


async def test_without_a_sandbox_the_dialog_says_the_checks_will_not_run(git_repo, tmp_path, monkeypatch):
    repo = _project(git_repo)
    bin_dir = tmp_path / "bin"  # git, but no bwrap, on PATH
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to("/usr/bin/git")
    monkeypatch.setenv("PATH", str(bin_dir))
    app = _app(repo, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await _until_consent(app, pilot)
        sandbox = _text(dialog, "#consent-sandbox")
        assert "No sandbox" in sandbox and "bubblewrap" in sandbox and "--checks-unsandboxed" in sandbox
        await pilot.press("a")
        await workers_done(app, pilot, ready=lambda a: a.orch.session.current.aligned)
        r = app.orch.session.current
        assert r.checks is not None and r.checks.problem and "bubblewrap" in r.checks.problem
        assert r.checks.results == []
        assert (repo / "pkg" / "__init__.py").read_text() == PKG


# -- the apply gate -----------------------------------------------------------------------
async def _open_apply(app, pilot) -> ApplyScreen:
    await workers_done(app, pilot, ready=lambda a: a.orch.session.current.aligned)
    await pilot.press("A")
    await pilot.pause()
    assert isinstance(app.screen, ApplyScreen)
    return app.screen


async def _press_apply(app, pilot, screen: ApplyScreen) -> None:
    await pilot.press("y")
    for _ in range(1500):
        await pilot.pause(0.02)
        if screen._checking is None and not any(w.group == "apply-checks" and w.is_running for w in app.workers):
            break
    await pilot.pause()


async def test_apply_is_blocked_while_the_selections_checks_fail_unless_confirmed(demo):
    repo = demo.repo
    app = demo_app(demo, checks=ChecksFlags())  # the demo's own pytest suite
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_apply(app, pilot)
        assert "Checks (tests) run on exactly the chosen hunks and lines when you press y" in _text(screen, "#apply-checks")
        await _press_apply(app, pilot, screen)
        assert isinstance(app.screen, ApplyFailingScreen)
        why = str(app.screen.query_one(".dialog-title").render())
        assert "do not pass" in why
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        assert git(repo, "status", "--porcelain") == ""  # nothing written
        status = _text(screen, "#apply-checks")
        assert "✗ tests failed" in status and "2 new failures" in status
        assert "Not applied" in _text(screen, "#apply-result")
        assert _journal(app, "applied") == []
        selection = [e for e in _journal(app, "checks_ready") if e.selection is not None]
        assert len(selection) == 1 and not selection[0].passed

        await _press_apply(app, pilot, screen)
        assert isinstance(app.screen, ApplyFailingScreen)
        await pilot.press("W")  # explicitly: write anyway
        await pilot.pause()
        assert app.screen is screen and len(_journal(app, "applied")) == 1
        assert git(repo, "status", "--porcelain") != ""
        await pilot.press("U")
        await pilot.pause()
        assert git(repo, "status", "--porcelain") == ""


async def test_apply_writes_when_the_selections_checks_pass(demo):
    repo = demo.repo
    app = demo_app(demo, checks=ChecksFlags())
    async with app.run_test(size=SIZE) as pilot:
        await workers_done(app, pilot, ready=lambda a: a.orch.session.current.aligned)
        for _ in app.orch.session.current.clusters:  # accept every finding, the checks' too
            await pilot.press("a", "j")
        assert all(c.verdict == "accepted" for c in app.orch.session.current.clusters)
        await pilot.press("R")  # round 2 fixes what round 1 broke
        screen = await _open_apply(app, pilot)
        assert screen.round.number == 2
        await _press_apply(app, pilot, screen)
        assert app.screen is screen  # no dialog: the checks pass
        assert "✓ tests passed" in _text(screen, "#apply-checks")
        (applied,) = _journal(app, "applied")
        assert git(repo, "status", "--porcelain") != ""
        assert "wrote" in _text(screen, "#apply-result") and applied.undo_id in _text(screen, "#apply-result")


# -- the checks tab -------------------------------------------------------------------------
def _cluster_of(r, finding_id: str):
    return next(c for c in r.clusters if any(f.id == finding_id for f in c.findings))


async def test_checks_tab_shows_counts_and_failures_enter_jumps_and_C_reruns(demo):
    from counterpoint.tui.widgets import FindingsTable
    from counterpoint.tui.widgets.checks_pane import ChecksPane

    app = demo_app(demo, checks=ChecksFlags())
    async with app.run_test(size=SIZE) as pilot:
        await workers_done(app, pilot, ready=lambda a: a.orch.session.current.aligned)
        screen = app.screen
        r = app.orch.session.current
        await pilot.press("c")
        pane = screen.query_one(ChecksPane)
        assert screen.query_one("#reviewer-tabs").active == "tab-checks"
        status = pane.status()
        assert "0 passed · 1 failed" in status and "✗ tests failed" in status and "2 new failures" in status
        assert "failed" in pane.output()  # pytest's own summary line
        failures = pane.failures
        assert failures.option_count == 2 and app.focused is failures
        assert [failures.get_option_at_index(k).id for k in range(2)] == [f.id for f in r.checks.findings]

        # enter on a failure: its cluster in the findings table, its detail below
        await pilot.press("down", "enter")
        second = r.checks.findings[1]
        table = screen.query_one(FindingsTable)
        assert app.focused is table and table.current_cluster.id == _cluster_of(r, second.id).id
        detail = " ".join(t.plain for t in screen.query_one("#detail-findings").content.renderables)
        assert "✗ check:tests failed" in detail and visible_title(second) in detail

        # the confirmed mark, in the table and the detail pane
        confirmed = next(c for c in r.clusters if c.confirmed)
        assert str(table.get_row(confirmed.id)[0]).endswith(" ✓")
        assert not any(str(table.get_row(c.id)[0]).endswith("✓") for c in r.clusters if not c.confirmed)
        table.select_cluster(confirmed.id)
        await pilot.pause()
        assert "✓ confirmed by a check" in str(screen.query_one("#detail-header").render())

        # C reruns them; the round is aligned again and verdicts stay
        await pilot.press("a")  # accept the confirmed cluster
        first_run = r.checks
        answered_before = {f.id: f.stance for c in r.clusters for f in c.findings}
        assert any(answered_before[f.id] != "none" for f in first_run.findings)  # the generator answered
        await pilot.press("C")
        await workers_done(app, pilot, ready=lambda a: a.orch.session.current.checks is not None)
        assert r.checks is not first_run and [x.status for x in r.checks.results] == ["failed"]
        started = [e for e in _journal(app, "checks_started") if e.selection is None]
        assert len(started) == 2 and len(_journal(app, "clusters_ready")) == 2
        again = next(c for c in r.clusters if c.confirmed)
        assert again.verdict == "accepted" and again.title == confirmed.title
        answered = {f.id: f.stance for c in r.clusters for f in c.findings}
        assert [answered[f.id] for f in r.checks.findings] == [answered_before[f.id] for f in first_run.findings]
        assert "0 passed · 1 failed" in pane.status()


def visible_title(finding) -> str:
    return finding.title.splitlines()[0]


async def test_checks_tab_shows_live_output_and_elapsed_time_while_they_run(git_repo, tmp_path):
    from counterpoint.tui.widgets.checks_pane import ChecksPane

    repo = _project(git_repo)
    (repo / ".counterpoint.toml").write_text(
        f'[[checks]]\nname = "tests"\ncommand = "printf \'warming-up [red]markup[/red] \\\\033[2J\\\\n\'; sleep 3; '
        f'{sys.executable} -m pytest -q"\n'
        'format = "text"\n'
    )
    git(repo, "commit", "-qam", "slow check")
    generator, reviewer = _cassettes(tmp_path)
    app = make_app(RunStart(Workspace.open(repo), "Integer div", generator, [reviewer]),
                   settings=load_settings(repo), frozen=False, checks=ChecksFlags(checks=True))
    async with app.run_test(size=SIZE) as pilot:
        pane = None
        for _ in range(400):
            await pilot.pause(0.05)
            found = app.screen.query(ChecksPane)
            pane = found.first() if found else None
            if pane is not None and "warming-up" in pane.output() and "running" in pane.status():
                break
        assert pane is not None and "▶ running tests" in pane.status(), pane and pane.status()
        assert "warming-up" in pane.output()
        assert "[red]markup[/red] \\x1b[2J" in pane.output()  # hostile output: no markup, no terminal control
        assert "▶ checks" in str(app.screen.header_text())
        await pilot.pause(1.2)
        assert "s" in pane.status().split("·")[-1]  # the elapsed seconds tick
        await workers_done(app, pilot, ready=lambda a: a.orch.session.current.aligned)
        assert "0 passed · 1 failed" in pane.status() and pane.failures.option_count == 1
