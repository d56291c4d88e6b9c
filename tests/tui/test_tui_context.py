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


async def test_workbench_context_screen_edits_what_the_next_round_sends(demo):
    from counterpoint.core.journal import read_journal
    from counterpoint.tui.screens.context import ContextScreen
    from counterpoint.workflow.launch import journal_path
    from support.tui import demo_app, workers_done

    app = demo_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await workers_done(app, pilot)
        orch = app.orch
        sent = [f.path for f in orch.context_bundle().files]
        await pilot.press("f")
        await workers_done(app, pilot)
        screen = app.screen
        assert isinstance(screen, ContextScreen)
        table = screen.query_one("#context-files", DataTable)
        assert [str(k.value) for k in table.rows][: len(sent)] == sent
        dropped = sent[0]
        table.move_cursor(row=table.get_row_index(dropped))
        await pilot.press("ctrl+d")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert _rows(table)[dropped] == ("—", "dropped by you")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, ContextScreen)
        assert orch.session.context_dropped == (dropped,)
        # the next round's requests no longer send it; the choice is journaled for resume
        r = orch.session.current
        assert f"### {dropped}\n" not in "".join(orch.conversation.generate(r).context)
        edits = [e for e in read_journal(journal_path(orch.session.id)).events if e.event == "context_edited"]
        assert [e.dropped for e in edits] == [[dropped]]
        from counterpoint.core.session import Session

        assert Session.from_events(read_journal(journal_path(orch.session.id)).events).context_dropped == (dropped,)
        # esc leaves the list as it was
        await pilot.press("f")
        await workers_done(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert orch.session.context_dropped == (dropped,)


async def test_the_context_list_says_it_is_being_chosen_while_it_is(git_repo):
    import threading

    from textual.widgets import Static

    from counterpoint.tui.screens.task import CHOOSING

    app = make_app(TaskStart(Workspace.open(git_repo)), settings=load_settings(git_repo), frozen=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        real, go = screen.preview, threading.Event()

        def slow(*args):  # a first index of a large repository
            go.wait(10)
            return real(*args)

        screen.preview = slow
        screen.query_one("#task-text", TextArea).insert("Fix `add`")
        await pilot.press("ctrl+r")
        await pilot.pause()
        total = screen.query_one("#context-total", Static)
        assert str(total.render()) == CHOOSING
        go.set()
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert "tokens" in str(total.render()) and "app.py" in _rows(screen.query_one("#context-files", DataTable))


async def test_the_first_context_of_a_session_is_chosen_off_the_ui_loop_and_announced(demo, monkeypatch):
    import threading

    from counterpoint.tui.screens.dialogs import HelpScreen
    from counterpoint.workflow import conversation
    from support.tui import demo_app, workers_done

    real, go, started = conversation.gather_context, threading.Event(), threading.Event()

    def slow(*args, announce=None, **kwargs):  # a first index of a large repository
        assert announce is not None
        announce(4673)
        started.set()
        go.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(conversation, "gather_context", slow)
    app = demo_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(100):
            if started.is_set():
                break
            await pilot.pause(0.05)
        assert started.is_set()
        await pilot.pause(0.1)
        messages = [n.message for n in app._notifications]
        assert any("Indexing 4673 files of this repository" in m for m in messages)
        await pilot.press("question_mark")  # the UI answers while the context is chosen
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert app.orch.session.current.proposal is None
        await pilot.press("escape")
        go.set()
        await workers_done(app, pilot, ready=lambda app: app.orch.session.current.proposal is not None)
        assert app.orch.session.current.proposal is not None
