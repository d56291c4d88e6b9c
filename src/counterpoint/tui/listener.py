"""The orchestrator's listener in the TUI: step clocks, toasts, and what each event makes dirty.

It runs on the app's event loop for every event (a stream's `Delta`s come a few dozen a second,
`workflow/steps.py` `PendingText`), so it only
notes what changed; the workbench redraws at most once per frame (`pacing.py`). Imported when
a session starts, not before the first frame (it loads the typed events, hence pydantic).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from counterpoint.core.events import (
    Applied,
    CheckOutput,
    ChecksReady,
    ChecksStarted,
    ClustersReady,
    Delta,
    Event,
    NoteSet,
    PlanApproved,
    PlanEdited,
    PlanReady,
    ProposalReady,
    ResponseReady,
    ReviewReady,
    RolesSwapped,
    RoundFinished,
    RoundStarted,
    StepFailed,
    StepStarted,
    ToolUsed,
    Undone,
    UsageRecorded,
    VerdictSet,
)
from counterpoint.tui.messages import (
    DIRTY_CHECKS,
    DIRTY_CLUSTERS,
    DIRTY_ROUNDS,
    DIRTY_STEPS,
    DIRTY_STREAMS,
    DIRTY_USAGE,
)

if TYPE_CHECKING:
    from counterpoint.tui.app import CounterpointApp

_STEP_OUTPUT = frozenset({DIRTY_STREAMS, DIRTY_STEPS})

EVENT_DIRTY: dict[type[Event], frozenset[str]] = {
    Delta: frozenset({DIRTY_STREAMS}),
    ToolUsed: frozenset({DIRTY_STREAMS}),
    ChecksStarted: frozenset({DIRTY_CHECKS}),
    CheckOutput: frozenset({DIRTY_CHECKS}),
    ChecksReady: frozenset({DIRTY_CHECKS, DIRTY_STEPS}),
    StepStarted: _STEP_OUTPUT,
    StepFailed: _STEP_OUTPUT,
    PlanReady: _STEP_OUTPUT,
    PlanEdited: _STEP_OUTPUT,
    PlanApproved: _STEP_OUTPUT,
    ProposalReady: _STEP_OUTPUT,
    ReviewReady: _STEP_OUTPUT,
    ResponseReady: frozenset({DIRTY_STREAMS, DIRTY_STEPS, DIRTY_CLUSTERS}),
    ClustersReady: frozenset({DIRTY_CLUSTERS, DIRTY_STEPS}),
    VerdictSet: frozenset({DIRTY_CLUSTERS}),
    NoteSet: frozenset({DIRTY_CLUSTERS}),
    UsageRecorded: frozenset({DIRTY_USAGE}),
    RoundStarted: frozenset({DIRTY_ROUNDS, DIRTY_STREAMS, DIRTY_CLUSTERS}),
    RoundFinished: frozenset({DIRTY_ROUNDS}),
    RolesSwapped: frozenset({DIRTY_ROUNDS}),
    Applied: frozenset({DIRTY_ROUNDS}),
    Undone: frozenset({DIRTY_ROUNDS}),
}
"""Which parts of the workbench an event invalidates (others: none)."""


class SessionListener:
    """Called with every event of the app's session."""

    def __init__(self, app: CounterpointApp) -> None:
        self.app = app
        self.started: dict[tuple[int, str, str], float] = {}
        """When each running step (round, step, model) started, for its clock."""
        self.checks_started: dict[int, float] = {}
        """When each round's checks (on its proposal) started."""

    def __call__(self, event: Event) -> None:
        app = self.app
        if isinstance(event, StepStarted):
            self.started[(event.round, event.step, event.model)] = time.monotonic()
        elif isinstance(event, StepFailed) and event.kind != "cancelled":
            app.notify(
                f"{event.step} · {event.model}: {event.kind}: {event.message}\nPress t to retry.",
                title="Step failed",
                severity="error",
            )
        elif isinstance(event, ChecksStarted) and event.selection is None:
            self.checks_started[event.round] = time.monotonic()
        elif isinstance(event, ChecksReady) and event.selection is None:
            self._checks_ready(event)
        elif isinstance(event, ClustersReady):
            contested = sum(1 for c in event.clusters if c.contested)
            app.notify(f"Round {event.round}: {len(event.clusters)} findings, {contested} contested.")
        app.pacer.mark(EVENT_DIRTY.get(type(event), frozenset()))

    def _checks_ready(self, event: ChecksReady) -> None:
        if event.problem:
            self.app.notify(f"Round {event.round}: the checks did not run: {event.problem}",
                            title="Checks", severity="error")
            return
        failed = [r for r in event.results if r.status != "passed"]
        if failed:
            names = ", ".join(f"{r.name} {r.status}" for r in failed)
            self.app.notify(f"Round {event.round}: checks {names} (c shows them).", title="Checks", severity="warning")

    def checks_elapsed(self, round_no: int) -> str:
        """Seconds the round's running checks have taken ("" when they started elsewhere)."""
        if round_no not in self.checks_started:
            return ""
        return f"{time.monotonic() - self.checks_started[round_no]:.0f}s"

    def elapsed(self, key: tuple[int, str, str]) -> str:
        """Seconds the running step `key` has taken ("" when it started elsewhere)."""
        if key not in self.started:
            return ""
        return f"{time.monotonic() - self.started[key]:.0f}s"
