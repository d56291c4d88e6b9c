"""SVG snapshots of the Counterpoint TUI (pytest-textual-snapshot), at 120×40 and 80×24.

Every snapshot runs the real app on the scripted demo (instant replay cassettes) in a fresh
copy of the sample repository. What could move between runs is frozen:

- the clock: `frozen=True` hides elapsed times and stops the once-a-second tick;
- temp paths: the demo repository lives under `tmp_path`, but only its name
  (`payments-webhooks`) is ever on screen; session and undo ids never are (no snapshot is
  taken after an apply);
- toasts: they expire on a wall-clock timer, so they are cleared before the screenshot;
- the cursor blink: `snap_compare` turns it off;
- "mid-stream": the reviewers' providers stop after a fixed number of chunks and wait on
  an event that is never set, so the screenshot always shows the same partial reviews.

`snap_compare` runs its own event loop, so every test here is a plain `def`.
Regenerate with `pytest tests/tui/test_tui_snapshots.py --snapshot-update` and look at the
SVGs under tests/tui/__snapshots__/test_tui_snapshots/ before committing them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from counterpoint.config import load_settings
from counterpoint.providers.base import ModelRequest, TextDelta
from counterpoint.providers.registry import make_provider
from counterpoint.tui.app import make_app
from counterpoint.tui.startup import TaskStart
from counterpoint.tui.panes import StreamPane
from counterpoint.tui.screens.apply import ApplyScreen
from counterpoint.tui.screens.dialogs import HelpScreen, NoteScreen
from counterpoint.tui.screens.diff import DiffScreen
from counterpoint.tui.screens.task import TaskScreen
from counterpoint.tui.screens.workbench import WorkbenchScreen
from counterpoint.tui.widgets import DetailPane, FindingsTable
from counterpoint.workflow.demo import DemoSetup
from counterpoint.workspace import Workspace

from support.tui import demo_app, workers_done

SIZES = {"120x40": (120, 40), "80x24": (80, 24)}


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def size(request) -> tuple[int, int]:
    return SIZES[request.param]


# -- holding a stream mid-way ---------------------------------------------------------------
class HeldProvider:
    """A provider that passes on `limit` chunks of a `role`'s stream, then waits forever.

    Every other role (and every other request) streams through untouched.
    """

    def __init__(self, inner: Any, role: str, limit: int, reached: asyncio.Event) -> None:
        self.inner = inner
        self.role = role
        self.limit = limit
        self.reached = reached

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def stream(self, request: ModelRequest) -> AsyncIterator[Any]:
        sent = 0
        async for item in self.inner.stream(request):
            if request.role == self.role and isinstance(item, TextDelta):
                if sent == self.limit:
                    self.reached.set()
                    await asyncio.Event().wait()  # held until the app exits (cancelled)
                sent += 1
            yield item


class Held:
    """The demo's provider factory, with `role` held after `limit` chunks for `specs`."""

    def __init__(self, demo: DemoSetup, specs: list[str], role: str, limit: int) -> None:
        self.settings = load_settings(None)
        self.base = demo.repo
        self.specs = set(specs)
        self.role = role
        self.limit = limit
        self.held: list[asyncio.Event] = []

    def __call__(self, spec: str, speed: float | None = None) -> Any:
        inner = make_provider(spec, self.settings, speed=None, base_dir=self.base)
        if spec not in self.specs:
            return inner
        reached = asyncio.Event()
        self.held.append(reached)
        return HeldProvider(inner, self.role, self.limit, reached)

    async def wait(self, pilot: Pilot) -> None:
        """Until every held stream has reached its hold point."""
        for _ in range(500):
            if len(self.held) == len(self.specs) and all(e.is_set() for e in self.held):
                return
            await pilot.pause(0.02)
        raise AssertionError("the held streams never reached their hold point")


# -- waiting for a stable screen ------------------------------------------------------------
async def settle(pilot: Pilot) -> None:
    """Wait until no step runs and every posted refresh has been drawn."""
    await workers_done(pilot.app, pilot)
    await quiet(pilot)


async def quiet(pilot: Pilot) -> None:
    """Streams drained into their Markdown, layout and scrolling at rest, no toast on screen.

    Markdown mounts its blocks in batches and an anchored pane scrolls after the layout
    that follows, so "at rest" means: the same scroll offsets and virtual sizes on three
    pauses in a row.
    """
    app = pilot.app
    last, same = None, 0
    for _ in range(200):
        await pilot.pause(0.02)
        screen = app.screen
        panes = [p for under in app.screen_stack for p in under.query(StreamPane)]
        drained = all(p.settled for p in panes)
        busy = app.pacer.pending
        shape = [
            (w.scroll_offset, w.virtual_size, w.size)
            for under in app.screen_stack
            for w in under.query("*")
            if w.is_scrollable
        ]
        same = same + 1 if shape == last and drained and not busy else 0
        last = shape
        if same >= 3:
            break
    app.clear_notifications()
    for under in app.screen_stack:  # a modal shows the screen below it
        for widget in under.query("*"):
            if widget.is_scrollable:
                # a scrollbar can keep the thumb of a layout pass before the last one
                widget.vertical_scrollbar.refresh()
                widget.horizontal_scrollbar.refresh()
    await pilot.pause()


def then(*steps: Callable[[Pilot], Awaitable[None]]) -> Callable[[Pilot], Awaitable[None]]:
    async def run(pilot: Pilot) -> None:
        for step in steps:
            await step(pilot)

    return run


def keys(*pressed: str) -> Callable[[Pilot], Awaitable[None]]:
    async def run(pilot: Pilot) -> None:
        await pilot.press(*pressed)
        await pilot.pause()

    return run


def on_screen(kind: type) -> Callable[[Pilot], Awaitable[None]]:
    async def run(pilot: Pilot) -> None:
        for _ in range(50):
            if isinstance(pilot.app.screen, kind):
                break
            await pilot.pause(0.02)
        assert isinstance(pilot.app.screen, kind), pilot.app.screen
        await pilot.pause()

    return run


# -- the snapshots --------------------------------------------------------------------------
def test_task_screen(snap_compare, git_repo, size):
    app = make_app(TaskStart(Workspace.open(git_repo)), settings=load_settings(git_repo), frozen=True)

    async def typed(pilot: Pilot) -> None:
        await on_screen(TaskScreen)(pilot)
        await pilot.press(*"Add sub()")

    assert snap_compare(app, terminal_size=size, run_before=typed)


# What is held mid-stream: (specs of the demo, role, chunks let through before the hold).
# 300 review chunks: both reviewers have streamed their summary and their first finding.
MID_STREAM = {
    "generator": (lambda d: [d.generator], "generator", 900),
    "reviewers": (lambda d: list(d.reviewers), "reviewer", 300),
}


@pytest.mark.parametrize("held_step", list(MID_STREAM))
def test_workbench_mid_stream(snap_compare, demo, size, held_step):
    specs, role, limit = MID_STREAM[held_step]
    held = Held(demo, specs(demo), role, limit)
    app = demo_app(demo, make_provider=held)

    async def streaming(pilot: Pilot) -> None:
        await held.wait(pilot)
        r = pilot.app.orch.session.current
        assert not r.aligned and not r.reviews
        assert (r.proposal is None) == (held_step == "generator")
        await quiet(pilot)

    assert snap_compare(app, terminal_size=size, run_before=streaming)


def test_workbench_after_review(snap_compare, demo, size):
    assert snap_compare(demo_app(demo), terminal_size=size, run_before=settle)


def test_detail_pane_after_triage(snap_compare, demo, size):
    """The second finding, accepted and annotated: rationale, reply, code and note."""

    async def noted(pilot: Pilot) -> None:
        await pilot.press("j", "a", "n")
        await on_screen(NoteScreen)(pilot)
        await pilot.press(*"only behind the balancer")
        await pilot.press("ctrl+s")
        await quiet(pilot)
        detail = pilot.app.screen.query_one(DetailPane)
        assert detail.cluster is not None and detail.cluster.note == "only behind the balancer"
        detail.scroll_end(animate=False)  # the generator's reply, the code and the note
        await quiet(pilot)

    assert snap_compare(demo_app(demo), terminal_size=size, run_before=then(settle, noted))


def test_diff_view(snap_compare, demo, size):
    run = then(settle, keys("j", "d"), on_screen(DiffScreen), quiet)
    assert snap_compare(demo_app(demo), terminal_size=size, run_before=run)


def test_apply_screen(snap_compare, demo, size):
    run = then(settle, keys("a", "A"), on_screen(ApplyScreen), quiet)
    assert snap_compare(demo_app(demo), terminal_size=size, run_before=run)


def test_apply_screen_line_mode(snap_compare, demo, size):
    """The preview in line mode (at 80x24 it takes the list's place): the flagged hunk's
    findings, numbered highlighted lines, one added line left out."""
    run = then(settle, keys("A"), on_screen(ApplyScreen), keys("j", "a", "j", "space"), quiet)
    assert snap_compare(demo_app(demo), terminal_size=size, run_before=run)


def test_help_screen(snap_compare, demo, size):
    run = then(settle, keys("question_mark"), on_screen(HelpScreen), quiet)
    assert snap_compare(demo_app(demo), terminal_size=size, run_before=run)


@pytest.mark.parametrize("theme", ["counterpoint-light", "counterpoint-high-contrast"])
def test_themes(snap_compare, demo, size, theme):
    async def themed(pilot: Pilot) -> None:
        pilot.app.theme = theme
        await quiet(pilot)
        assert pilot.app.theme == theme
        assert pilot.app.screen.query_one(FindingsTable).row_count > 0

    assert snap_compare(demo_app(demo), terminal_size=size, run_before=then(settle, themed))
