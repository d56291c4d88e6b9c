"""The task screen's defaults follow the product's rule: generator and reviewer from two model
families, only models whose provider is usable listed, and a way to type any other."""

from textual.widgets import Select, SelectionList

from counterpoint.config import load_settings
from counterpoint.tui.app import make_app
from counterpoint.tui.screens.task import TaskScreen
from counterpoint.tui.startup import TaskStart
from counterpoint.workflow.model_choice import spec_family
from counterpoint.workspace import Workspace


async def _task_screen(app, pilot) -> TaskScreen:
    for _ in range(100):
        if isinstance(app.screen, TaskScreen):
            break
        await pilot.pause(0.02)
    assert isinstance(app.screen, TaskScreen)
    await pilot.pause()
    return app.screen


async def test_two_keys_preselect_two_families_and_a_same_family_pick_warns(git_repo, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-oai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant")
    app = make_app(TaskStart(Workspace.open(git_repo)), settings=load_settings(git_repo), frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _task_screen(app, pilot)
        generator = screen.query_one("#generator", Select).value
        reviewers = screen.query_one("#reviewers", SelectionList)
        assert generator == "anthropic:claude-opus-5-5" and reviewers.selected == ["openai:gpt-5.5"]
        assert spec_family(str(generator)) != spec_family(reviewers.selected[0])
        assert str(screen.query_one("#task-warning").render()) == ""
        reviewers.deselect("openai:gpt-5.5")
        reviewers.select("anthropic:claude-sonnet-5")
        await pilot.pause()
        warning = str(screen.query_one("#task-warning").render())
        assert "same model family (anthropic)" in warning and "anthropic:claude-sonnet-5" in warning


async def test_no_key_says_how_to_configure_and_a_typed_spec_is_offered(git_repo):
    app = make_app(TaskStart(Workspace.open(git_repo)), settings=load_settings(git_repo), frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _task_screen(app, pilot)
        assert screen.choices == []
        notice = str(screen.query_one("#task-warning").render())
        assert "ANTHROPIC_API_KEY" in notice and "[providers.NAME]" in notice and "Another model" in notice
        extra = screen.query_one("#extra-model")
        extra.value = "ollama:qwen3:8b"
        await extra.action_submit()
        await pilot.pause()
        assert screen.choices == ["ollama:qwen3:8b"]
        assert [o.value for o in screen.query_one("#reviewers", SelectionList).options] == ["ollama:qwen3:8b"]
        assert "ANTHROPIC_API_KEY" not in str(screen.query_one("#task-warning").render())
