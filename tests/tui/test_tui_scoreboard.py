"""The scoreboard screen: `b` opens it from the workbench; a snapshot on known verdicts (the
sessions of tests/unit/test_scoreboard.py), at 120×40 and 80×24.
Regenerate with `pytest tests/tui/test_tui_scoreboard.py --snapshot-update` and look at the SVGs."""

from __future__ import annotations

import dataclasses

import pytest
from textual.pilot import Pilot

from counterpoint.core.scoreboard import compute
from counterpoint.tui.screens.scoreboard import ScoreboardScreen
from counterpoint.tui.screens.workbench import WorkbenchScreen

from support.tui import demo_app, workers_done
from unit.test_scoreboard import records

SIZES = {"120x40": (120, 40), "80x24": (80, 24)}


@pytest.mark.parametrize("size", list(SIZES))
def test_scoreboard_snapshot(snap_compare, demo, size):
    async def run(pilot: Pilot) -> None:
        await workers_done(pilot.app, pilot, ready=lambda app: isinstance(app.screen, WorkbenchScreen))
        pilot.app.clear_notifications()
        await pilot.app.push_screen(ScoreboardScreen(compute(records())))
        await pilot.pause()

    assert snap_compare(demo_app(demo), terminal_size=SIZES[size], run_before=run)


async def test_b_opens_the_scoreboard_of_the_saved_sessions_and_closes_it(demo):
    app = demo_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await workers_done(app, pilot, ready=lambda app: isinstance(app.screen, WorkbenchScreen))
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, ScoreboardScreen)
        board = app.screen.board
        assert board["sessions"] >= 1  # the demo session itself is journaled
        assert {r["model"] for r in board["models"]} >= set(app.orch.session.reviewers)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, WorkbenchScreen)


async def test_task_screen_shows_each_models_record_in_this_repository(git_repo):
    """A saved session in this repository (claude: 3 raised, 2 accepted, 1 rejected) puts the
    record next to the model's name in the task screen's lists."""
    from counterpoint.config import load_settings
    from counterpoint.core.events import ClustersReady, RoundStarted, VerdictSet
    from counterpoint.core.journal import Journal
    from counterpoint.paths import sessions_dir
    from counterpoint.tui.app import make_app
    from counterpoint.tui.screens.task import TaskScreen
    from counterpoint.tui.startup import TaskStart
    from counterpoint.workspace import Workspace

    from unit.test_scoreboard import CLAUDE, GPT4

    ws = Workspace.open(git_repo)
    session = records()[0].session
    rnd = session.rounds[0]
    sessions_dir().mkdir(parents=True, exist_ok=True)
    with Journal(sessions_dir() / "s1.jsonl") as journal:
        journal.append(session.meta.model_copy(update={"repo_name": ws.name, "repo": str(git_repo)}))
        journal.append(RoundStarted(round=1, generator=rnd.generator, reviewers=rnd.reviewers))
        for review in rnd.reviews.values():
            journal.append(review)
        journal.append(ClustersReady(round=1, clusters=rnd.clusters))
        for c in rnd.clusters:
            if c.verdict != "pending":
                journal.append(VerdictSet(round=1, cluster_id=c.id, verdict=c.verdict))
    settings = dataclasses.replace(load_settings(git_repo), reviewers=(CLAUDE, GPT4))
    app = make_app(TaskStart(ws), settings=settings, frozen=True)
    async with app.run_test(size=(160, 40)) as pilot:
        for _ in range(50):
            if isinstance(app.screen, TaskScreen):
                break
            await pilot.pause(0.02)
        screen = app.screen
        assert isinstance(screen, TaskScreen)
        assert screen.records[CLAUDE] == "3 raised · 67% accepted · 2/3 kept of decided"
        prompts = [str(o.prompt) for o in screen.query_one("#reviewers").options]
        assert any(p.startswith(CLAUDE) and "67% accepted" in p for p in prompts)
