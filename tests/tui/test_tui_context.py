"""The task screen's context list: path, tokens and why; add and drop files before the round."""

from textual.widgets import DataTable, Input, TextArea

from conftest import git
from counterpoint.config import load_settings
from counterpoint.tui.app import make_app
from counterpoint.tui.screens.task import TaskScreen
from counterpoint.tui.startup import TaskStart
from counterpoint.workspace import Workspace

SIZE = (120, 50)


def _rows(table: DataTable) -> dict[str, tuple[str, str]]:
    return {
        str(key.value): (str(table.get_row(key)[1]), str(table.get_row(key)[2]))
        for key in table.rows
    }


async def test_context_list_shows_adds_and_drops_files(git_repo):
    (git_repo / "tax.py").write_text("def vat_rate(country):\n    return 0.2\n")
    (git_repo / "notes.md").write_text("Remember the rounding rules.\n")
    (git_repo / ".env").write_text("TOKEN=1\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "more")
    starts = []

    def hook(message):
        if isinstance(message, TaskScreen.Start):
            starts.append(message)

    app = make_app(TaskStart(Workspace.open(git_repo)), settings=load_settings(git_repo), frozen=True)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TaskScreen)
        screen.query_one("#task-text", TextArea).insert("Fix `vat_rate` for Germany")
        await pilot.press("ctrl+r")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        table = screen.query_one("#context-files", DataTable)
        rows = _rows(table)
        assert rows["tax.py"][1] == "defines vat_rate"
        assert int(rows["tax.py"][0]) > 0
        assert ".env" not in rows
        # drop tax.py: it stays listed as dropped
        table.focus()
        table.move_cursor(row=table.get_row_index("tax.py"))
        await pilot.press("ctrl+d")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert _rows(table)["tax.py"] == ("—", "dropped by you")
        # add notes.md, and try .env: the rules still apply
        adder = screen.query_one("#context-add", Input)
        for path in ("notes.md", ".env"):
            adder.value = path
            await adder.action_submit()
            await screen.workers.wait_for_complete()
            await pilot.pause()
        rows = _rows(table)
        assert rows["notes.md"][1] == "added by you"
        assert rows[".env"] == ("—", "not sent: secret-looking name")
        screen.action_start()  # no models picked: the Start message is not sent
        await pilot.pause()
    assert screen.context_files == ["notes.md", ".env"] and screen.context_dropped == ["tax.py"]


def test_start_message_carries_the_context_choices():
    message = TaskScreen.Start(task="t", generator="g", reviewers=["r"], planner=None,
                               context_files=["a.py"], context_dropped=["b.py"])
    assert message.context_files == ["a.py"] and message.context_dropped == ["b.py"]
