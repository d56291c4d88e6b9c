"""Hostile model text through every pane, dialog and toast of the TUI.

A generator, a reviewer and a provider's error message carry Textual markup (`[/]`,
`[@click=app.quit]`, `[@click=app.screenshot(...)]`), an OSC 52 clipboard sequence, a C1
CSI and a bidi override; the generator also creates a file whose name holds ESC and `[/]`.
The app is driven through the failed step's toast and pane, a retry, the panes, the
findings table and detail, the note dialog, the diff screen's file list, the apply screen
and the undo toast. It must stay up, run no action (nothing written outside the
repository), and no control character from the model may reach what the app writes to its
driver: a capturing driver records every byte a real terminal would get.
"""

from __future__ import annotations

import pytest
from textual.drivers import headless_driver

from counterpoint.config import load_settings
from counterpoint.tui.app import make_app
from counterpoint.tui.panes import ReviewerPane
from counterpoint.tui.review_stream import finding_line
from counterpoint.tui.startup import RunStart
from counterpoint.tui.screens.apply import ApplyScreen
from counterpoint.tui.screens.dialogs import NoteScreen
from counterpoint.tui.screens.diff import DiffScreen
from counterpoint.tui.screens.workbench import WorkbenchScreen
from counterpoint.tui.widgets import DetailPane
from counterpoint.workspace import Workspace

from support.hostile import EVIL_FILE, cassettes
from support.tui import workers_done

SIZE = (160, 60)


class CapturingDriver(headless_driver.HeadlessDriver):
    """The headless driver, but the app renders to it as to a terminal and it keeps the bytes."""

    written: list[str] = []

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        CapturingDriver.written.append(data)


@pytest.fixture
def capture(monkeypatch):
    CapturingDriver.written = []
    monkeypatch.setattr(headless_driver, "HeadlessDriver", CapturingDriver)
    return CapturingDriver.written


async def until(pilot, condition, *, tries: int = 100) -> None:
    """Pause until `condition()` holds (a loaded machine draws late); fail if it never does."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the condition never held")


def _no_model_control(written: list[str]) -> None:
    out = "".join(written)
    assert out, "the app wrote nothing to its driver: the capture does not work"
    for raw in ("\x1b]52", "\x9b", "\u202e", "\x1b[2J", "\x7f"):
        assert raw not in out, f"{raw!r} reached the terminal"


async def test_hostile_text_never_drives_the_terminal_or_the_app(git_repo, tmp_path, capture):
    outside = tmp_path / "outside"
    outside.mkdir()
    generator, reviewer = cassettes(tmp_path, outside, fail_first=True)
    app = make_app(
        RunStart(Workspace.open(git_repo), "Add sub()", generator, [reviewer]),
        settings=load_settings(git_repo), frozen=True,
    )
    async with app.run_test(size=SIZE, notifications=True) as pilot:  # toasts drawn too
        await workers_done(app, pilot)
        r = app.orch.session.current
        assert r.errors, "the first generation fails with the hostile message"
        await until(pilot, lambda: "Step failed" in "".join(capture))  # the toast was drawn
        await pilot.press("t")  # retry
        await workers_done(app, pilot)
        assert r.proposal is not None and r.aligned and r.clusters
        assert [f.path for f in r.changeset.files] == [EVIL_FILE]
        assert isinstance(app.screen, WorkbenchScreen)
        shown = "".join(capture)
        assert "\\x1b]52" in shown  # the hostile text was drawn, as visible escapes
        for pane in app.screen.query(ReviewerPane):  # a title stays on its list line
            assert not any(line.startswith(("FORGED", "## Applied")) for line in pane.shown_text.splitlines())
        await pilot.click("FindingsTable", offset=(30, 1))
        detail = app.screen.query_one(DetailPane)
        for y in range(0, int(detail.max_scroll_y) + 2, 2):  # every section of it gets drawn
            detail.scroll_to(y=y, animate=False)
            await pilot.pause(0.02)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NoteScreen)
        await pilot.click(".dialog-title", offset=(40, 0))
        await pilot.press("escape")
        await pilot.press("d")
        await workers_done(app, pilot)
        assert isinstance(app.screen, DiffScreen)
        await pilot.press("escape")
        await pilot.press("A")
        await workers_done(app, pilot)
        assert isinstance(app.screen, ApplyScreen)
        await pilot.press("y")
        await workers_done(app, pilot)
        assert (git_repo / EVIL_FILE).is_file()
        await pilot.press("escape")
        before = len(capture)
        await pilot.press("U")  # the undo toast names the restored files
        await until(pilot, lambda: "Undone" in "".join(capture[before:]))  # drawn
        await pilot.pause(0.2)
        assert app.is_running and app.return_code is None
    assert not list(outside.iterdir()), "an action ran: a file was written outside the repository"
    _no_model_control(capture)


def test_a_streamed_finding_is_one_inert_list_line():
    line = finding_line({"severity": "high\n# big", "category": "x\x1b[2J", "path": "a\nb.py",
                         "start_line": 1, "end_line": 2, "title": "t\u202e\n## Applied"})
    assert line.endswith("\n") and line.count("\n") == 1
    assert "\x1b" not in line and "\u202e" not in line
    assert "\\x1b[2J" in line and "\\u202e" in line
