"""The plan step's keys in the workbench: `enter` approves the plan that waits, `p` edits it.

With a planner the round pauses at its plan (`Orchestrator.hold_plan`, set by the app). The
keys exist only while the plan waits (`plan_waits`); approving drives the round on, editing
opens `PlanScreen` and journals the saved text as the plan (`Orchestrator.edit_plan`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from counterpoint.tui.app import CounterpointApp
    from counterpoint.workflow.orchestrator import Orchestrator


def plan_waits(app: CounterpointApp, orch: Orchestrator | None) -> bool:
    """The current round's plan waits for the human, and no step is running."""
    r = orch.session.current if orch is not None else None
    return r is not None and r.plan_pending and not app.busy


def approve_plan(app: CounterpointApp, orch: Orchestrator) -> None:
    """The generator starts, following the plan as shown."""
    if plan_waits(app, orch):
        orch.approve_plan()
        app.drive()


def edit_plan(app: CounterpointApp, orch: Orchestrator) -> None:
    """The plan in an editable dialog; the saved text becomes the plan (not approved yet)."""
    r = orch.session.current
    if r is None or r.plan is None or not plan_waits(app, orch):
        return
    from counterpoint.tui.panes import plan_author
    from counterpoint.tui.screens.dialogs import PlanScreen

    def save(text: str | None) -> None:
        if text is None or not plan_waits(app, orch):
            return
        if not text.strip():
            app.notify("An empty plan is not saved; the plan stays as it was.", severity="warning")
            return
        orch.edit_plan(text)

    app.push_screen(PlanScreen(r.plan, plan_author(r)), save)
