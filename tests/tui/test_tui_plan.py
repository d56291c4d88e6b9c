"""The plan step in the workbench: with a planner, the round pauses after the plan; `enter`
approves it and the generator starts, `p` edits it first. What the generator is sent is read
at the loopback fake model server (real SDKs); a resumed session comes back to the approval
point with the edited plan."""

from __future__ import annotations

import json

import pytest
from textual.widgets import TextArea

from counterpoint.config import load_settings
from counterpoint.core.journal import read_journal
from counterpoint.tui.app import make_app
from counterpoint.tui.panes import GeneratorPane
from counterpoint.tui.screens.dialogs import PlanScreen
from counterpoint.tui.screens.workbench import WorkbenchScreen
from counterpoint.tui.startup import ResumeStart, RunStart
from counterpoint.workflow.launch import journal_path
from counterpoint.workspace import Workspace
from support.fake_models import (
    TASK,
    fake_env,
    model_of,
    script_generate,
    script_respond,
    script_reviews,
    write_config,
)
from support.tui import workers_done

SIZE = (120, 40)
GENERATOR = "anthropic:claude-opus-5-5"
REVIEWERS = ["openai:gpt-5.5"]
PLANNER = "anthropic:claude-sonnet-5"
PLAN = "1. Check both arguments of add are numbers.\n2. Add mul next to add.\x1b]52;c;aGk=\x07\n"
MINE = "1. Only add mul."


@pytest.fixture
def server(model_server, git_repo, tmp_path, monkeypatch):
    config = write_config(tmp_path / "cp.toml")
    for name, value in fake_env(model_server, config=config).items():
        monkeypatch.setenv(name, value)
    model_server.script({"text": PLAN}, model=model_of(PLANNER))
    script_generate(model_server, GENERATOR)
    script_reviews(model_server, REVIEWERS)
    script_respond(model_server, GENERATOR)
    return model_server


def new_app(repo):
    start = RunStart(Workspace.open(repo), TASK, GENERATOR, list(REVIEWERS), PLANNER, base_dir=repo)
    return make_app(start, settings=load_settings(repo), frozen=True)


def sent_to(server, spec: str) -> list[str]:
    return [json.dumps(r.body) for r in server.requests if r.model == model_of(spec)]


def keys_shown(app) -> set[str]:
    return {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}


def journal(app, name: str) -> list:
    return [e for e in read_journal(journal_path(app.orch.session.id)).events if e.event == name]


async def at_the_plan(app, pilot, server) -> None:
    await workers_done(app, pilot)
    r = app.orch.session.current
    assert r.plan_pending and r.proposal is None
    assert [r.model for r in server.requests] == [model_of(PLANNER)]  # the generator waits
    assert {"approve_plan", "edit_plan"} <= keys_shown(app)
    pane = app.screen.query_one(GeneratorPane)
    assert "waits for your approval" in str(pane.status(r))
    assert "enter: approve" in str(pane.extra(r))
    assert "approve the plan" in str(app.screen.query_one("#findings").border_title)


async def test_enter_approves_the_plan_and_the_generator_follows_it(server, git_repo):
    app = new_app(git_repo)
    async with app.run_test(size=SIZE) as pilot:
        await at_the_plan(app, pilot, server)
        pane = app.screen.query_one(GeneratorPane)
        assert "Check both arguments of add are numbers." in pane.shown_text
        await pilot.press("enter")
        await workers_done(app, pilot)
        r = app.orch.session.current
        assert r.aligned and r.plan_approved and r.plan_source == "planner"
        (generate,) = [b for b in sent_to(server, GENERATOR) if "# Plan to follow" in b][:1]
        assert "Check both arguments of add are numbers." in generate
        assert len(sent_to(server, PLANNER)) == 1
        assert not {"approve_plan", "edit_plan"} & keys_shown(app)  # gone once approved
        assert [e.source for e in journal(app, "plan_approved")] == ["planner"]


async def test_p_edits_the_plan_then_enter_sends_the_edited_plan(server, git_repo):
    app = new_app(git_repo)
    async with app.run_test(size=SIZE) as pilot:
        await at_the_plan(app, pilot, server)
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PlanScreen)
        area = app.screen.query_one(TextArea)
        assert "\x1b" not in area.text and "\\x1b]52;c;aGk=\\x07" in area.text  # hostile: shown, inert
        area.clear()
        await pilot.press(*_keys(MINE))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, WorkbenchScreen)
        await workers_done(app, pilot)
        r = app.orch.session.current
        assert r.plan == MINE and r.plan_pending and r.plan_source == "human"
        assert [model_of(PLANNER)] == [q.model for q in server.requests]  # still only the planner
        assert "edited by you" in app.screen.query_one(GeneratorPane).shown_text
        await pilot.press("enter")
        await workers_done(app, pilot)
        assert app.orch.session.current.aligned
        generate = sent_to(server, GENERATOR)[0]
        assert MINE in generate and "Check both arguments" not in generate
        reviews = sent_to(server, REVIEWERS[0])
        assert reviews and all(MINE in body for body in reviews)  # the reviewers see it too
        assert [e.text for e in journal(app, "plan_edited")] == [MINE]
        assert [(e.text, e.source) for e in journal(app, "plan_approved")] == [(MINE, "human")]


async def test_escape_in_the_plan_dialog_keeps_the_plan(server, git_repo):
    app = new_app(git_repo)
    async with app.run_test(size=SIZE) as pilot:
        await at_the_plan(app, pilot, server)
        await pilot.press("p")
        await pilot.pause()
        app.screen.query_one(TextArea).clear()
        await pilot.press("x", "escape")
        await pilot.pause()
        r = app.orch.session.current
        assert r.plan == PLAN and r.plan_pending and journal(app, "plan_edited") == []


async def test_resume_before_approval_comes_back_to_the_edited_plan(server, git_repo):
    app = new_app(git_repo)
    async with app.run_test(size=SIZE) as pilot:
        await at_the_plan(app, pilot, server)
        await pilot.press("p")
        await pilot.pause()
        app.screen.query_one(TextArea).clear()
        await pilot.press(*_keys(MINE), "ctrl+s")
        await pilot.pause()
        session_id = app.orch.session.id
        await pilot.press("q")
    assert app.return_code == 0

    again = make_app(ResumeStart(session_id), settings=load_settings(git_repo), frozen=True)
    async with again.run_test(size=SIZE) as pilot:
        await at_the_plan(again, pilot, server)  # the planner is not asked again
        r = again.orch.session.current
        assert r.plan == MINE and r.plan_source == "human"
        assert "edited by you" in again.screen.query_one(GeneratorPane).shown_text
        await pilot.press("enter")
        await workers_done(again, pilot)
        assert again.orch.session.current.aligned
        assert MINE in sent_to(server, GENERATOR)[0]


def _keys(text: str) -> list[str]:
    names = {" ": "space", ".": "full_stop"}
    return [names.get(c, c) for c in text]


async def test_enter_is_the_focused_widgets_when_no_plan_waits(model_server, git_repo, tmp_path, monkeypatch):
    """Without a plan waiting, enter is not taken: it presses the focused Retry button."""
    config = write_config(tmp_path / "cp.toml")
    for name, value in fake_env(model_server, config=config).items():
        monkeypatch.setenv(name, value)
    model_server.script({"fault": "500"}, model=model_of(GENERATOR))
    script_generate(model_server, GENERATOR)
    script_reviews(model_server, REVIEWERS)
    script_respond(model_server, GENERATOR)
    start = RunStart(Workspace.open(git_repo), TASK, GENERATOR, list(REVIEWERS), None, base_dir=git_repo)
    app = make_app(start, settings=load_settings(git_repo), frozen=True)
    async with app.run_test(size=SIZE) as pilot:
        await workers_done(app, pilot)
        r = app.orch.session.current
        assert r.errors and not {"approve_plan", "edit_plan"} & keys_shown(app)
        app.screen.query_one(GeneratorPane).query_one(".retry").focus()
        await pilot.press("enter")
        await workers_done(app, pilot)
        assert not r.errors and r.aligned


async def test_at_80x24_the_waiting_plan_says_which_keys(server, git_repo):
    """The status line is hidden at 80x24: the one-line hint under the plan says the keys."""
    app = new_app(git_repo)
    async with app.run_test(size=(80, 24)) as pilot:
        await at_the_plan(app, pilot, server)
        hint = app.screen.query_one(GeneratorPane).query_one(".pane-extra")
        assert hint.display and hint.region.height == 1 and hint.region.width > 0
        assert "enter: approve · p: edit the plan" in str(hint.render())
        await pilot.press("enter")
        await workers_done(app, pilot)
        assert app.orch.session.current.aligned
