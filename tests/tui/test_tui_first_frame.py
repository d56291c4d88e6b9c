"""`counterpoint demo` paints the workbench before the demo repository exists.

With `demo_sample=NAME` the app's first screen is the workbench's shell (header and the
panes' places), and the sample repository is copied and committed, and the session
started, only after the first frame (`CounterpointApp.on_ready`). These tests hold the
preparation on a gate to look at the shell, then let it run and check that the real
workbench takes its place: the same session as with a prepared demo.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from counterpoint import cli
from counterpoint.config import load_settings
from counterpoint.tui import startup
from counterpoint.tui.app import CounterpointApp, make_app
from counterpoint.tui.startup import DemoStart
from counterpoint.tui.panes import GeneratorPane, ReviewerPane
from counterpoint.tui.screens.workbench import Pending, WorkbenchScreen
from counterpoint.tui.widgets import DetailPane, FindingsTable
from counterpoint.workflow.demo import DemoError, prepare_demo

from support.tui import workers_done

SIZE = (120, 40)


@pytest.fixture
def gate(tmp_path, monkeypatch):
    """Hold the demo's preparation until the test opens the gate; record the thread it ran in."""
    opened = threading.Event()
    ran_in: list[threading.Thread] = []

    def prepare(sample: str):
        ran_in.append(threading.current_thread())
        if not opened.wait(10):
            raise RuntimeError("the test never opened the gate")
        return prepare_demo(sample, dest=tmp_path / "demo")

    monkeypatch.setattr(startup, "prepare_demo_with_imports", prepare)
    return opened, ran_in


def lazy_app() -> CounterpointApp:
    return make_app(DemoStart(sample="payments-webhooks"), settings=load_settings(None), frozen=True)


async def settle(app: CounterpointApp, pilot) -> None:
    await workers_done(app, pilot, ready=lambda app: app.orch is not None and app.workbench.ready)


async def test_shell_first_then_the_session_fills_it(gate, tmp_path):
    opened, ran_in = gate
    app = lazy_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        # the shell: the workbench itself, its header naming the repository, its places
        assert isinstance(screen, WorkbenchScreen) and screen is app.workbench
        assert not screen.ready and app.orch is None
        assert "payments-webhooks@main" in str(screen.header_text())
        titles = {w.id: w.border_title for w in screen.query(Pending)}
        assert titles == {
            "generator-pane": "Generator", "reviewers-pending": "Reviewers",
            "findings": "Findings", "detail": "Detail",
        }
        assert not screen.query(GeneratorPane) and not screen.query(FindingsTable)
        # the preparation runs off the event loop
        assert ran_in and ran_in[0] is not threading.main_thread()
        # workbench keys wait for the session: pressing them changes nothing and breaks nothing
        await pilot.press("a", "d", "R", "A", "bracketleft")
        assert app.screen is screen and app.orch is None and not screen.ready

        opened.set()
        await settle(app, pilot)
        assert app.screen is screen and screen.ready
        assert not screen.query(Pending)
        r = app.orch.session.current
        assert r.aligned and r.clusters and r.proposal is not None
        assert app.orch.workspace.root == (tmp_path / "demo" / "payments-webhooks").resolve()
        # the real parts, where the placeholders were
        assert screen.query_one("#generator-pane") is screen.query_one(GeneratorPane)
        assert [p.reviewer for p in screen.query(ReviewerPane)] == r.reviewers
        table = screen.query_one(FindingsTable)
        assert {c.id for c in table.clusters} == {c.id for c in r.clusters}
        assert screen.query_one("#detail") is screen.query_one(DetailPane)
        assert app.focused is table
        header = str(screen.header_text())
        assert "payments-webhooks@main" in header and "round 1" in header
        # and its keys work now
        await pilot.press("a")
        assert table.current_cluster.verdict == "accepted"
    # the sample repository was committed on the branch the shell announced
    head = subprocess.run(
        ["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=tmp_path / "demo" / "payments-webhooks", capture_output=True, text=True, check=True
    )
    assert head.stdout.strip() == startup.DEMO_BRANCH


async def test_quit_while_the_demo_is_prepared(gate):
    opened, _ = gate
    app = lazy_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("q")
        opened.set()
    assert app.return_code == 0 and app.orch is None


async def test_a_demo_that_cannot_be_prepared_exits_2_with_the_reason(monkeypatch, capsys):
    def broken(sample: str):
        raise DemoError(f"cannot copy {sample}: disk full")

    monkeypatch.setattr(startup, "prepare_demo_with_imports", broken)
    app = lazy_app()
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):
            await pilot.pause()
            if app._exit:
                break
    assert app.return_code == 2
    assert "counterpoint: cannot copy payments-webhooks: disk full" in capsys.readouterr().err


def test_a_demo_start_needs_a_demo_or_a_sample():
    with pytest.raises(ValueError, match="sample"):
        DemoStart()


def test_cli_refuses_an_unknown_sample_before_the_screen(capsys):
    assert cli.main(["demo", "--sample", "no-such-sample"]) == 2
    err = capsys.readouterr().err
    assert "no sample named 'no-such-sample'" in err and "payments-webhooks" in err


def test_tui_app_module_does_not_import_the_heavy_parts():
    """What the first frame must not wait for: the findings model (pydantic), the streaming
    panes, the findings table, the orchestrator and git."""
    code = (
        "import sys, counterpoint.cli, counterpoint.tui.app, counterpoint.workflow.demo\n"
        "heavy = ['pydantic', 'counterpoint.core.findings', 'counterpoint.tui.panes',\n"
        "         'counterpoint.tui.widgets', 'counterpoint.workflow.orchestrator', 'git',\n"
        "         'counterpoint.tui.screens.task', 'textual.widgets._data_table', 'markdown_it']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    src = Path(cli.__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "[]"
