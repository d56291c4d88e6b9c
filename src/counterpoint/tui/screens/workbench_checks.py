"""The workbench's checks tab: shown when the session has checks (or the round on screen
has their results), beside the reviewers' tabs.

`c` shows it with its failures focused; `enter` on a failure jumps to the cluster it joined
in the findings table (the detail pane then shows the failure); `C` (the app's
`rerun_checks`) runs the checks again. The pane itself is `widgets/checks_pane.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.content import Content
from textual.screen import Screen

if TYPE_CHECKING:
    from textual.widgets import TabbedContent

    from counterpoint.core.session import RoundState
    from counterpoint.tui.widgets import FindingsTable
    from counterpoint.tui.widgets.checks_pane import ChecksPane
    from counterpoint.workflow.orchestrator import Orchestrator


class ChecksTab(Screen[None]):
    """The checks' part of `WorkbenchScreen` (its base class)."""

    orch: Orchestrator | None
    checks_clock: Callable[[int], str]

    if TYPE_CHECKING:  # provided by WorkbenchScreen

        @property
        def viewed(self) -> RoundState | None: ...
        @property
        def findings_table(self) -> FindingsTable: ...
        def select_cluster(self, cluster_id: str) -> bool: ...

    async def add_checks_tab(self, tabs: TabbedContent) -> bool:
        """After the reviewers' tabs: the checks' (when there are checks); whether it was added."""
        if not self.has_checks:
            return False
        from textual.widgets import TabPane

        from counterpoint.tui.widgets.checks_pane import ChecksPane

        await tabs.add_pane(TabPane(Content("Checks"), ChecksPane(id="checks-pane"), id="tab-checks"))
        return True

    def checks_header(self, r: RoundState, text: Text) -> None:
        """The header's "▶ checks 12s" while the round's checks run."""
        if r.checks_running:
            elapsed = self.checks_clock(r.number)
            text.append(" · ▶ checks" + (f" {elapsed}" if elapsed else ""), style="italic")

    @property
    def has_checks(self) -> bool:
        """The session runs checks, or the round on screen has their results."""
        r = self.viewed
        return self.orch is not None and (self.orch.checks is not None or (r is not None and r.checks is not None))

    def checks_pane(self) -> ChecksPane | None:
        from counterpoint.tui.widgets.checks_pane import ChecksPane

        found = self.query(ChecksPane)
        return found.first() if found else None

    def _show_checks(self, r: RoundState) -> None:
        pane = self.checks_pane()
        if pane is None or self.orch is None:
            return
        checks = self.orch.checks
        elapsed = self.checks_clock(r.number) if r.checks_running else ""
        pane.show(r, names=checks.names if checks else [], sandboxed=checks.sandboxed if checks else True,
                  elapsed=elapsed)

    def action_checks(self) -> None:
        """The checks' tab, its failures focused (enter on one shows its finding)."""
        from textual.widgets import TabbedContent

        pane = self.checks_pane()
        if pane is None:
            return
        self.query_one(TabbedContent).active = "tab-checks"
        pane.focus_failures()

    def on_checks_pane_failure_chosen(self, event: ChecksPane.FailureChosen) -> None:
        """Jump to the cluster the chosen failure belongs to."""
        r = self.viewed
        cluster = next((c for c in r.clusters if any(f.id == event.finding_id for f in c.findings)), None) if r else None
        if cluster is None:
            self.notify("This failure is not aligned into the findings yet.", severity="warning")
            return
        self.select_cluster(cluster.id)
        self.findings_table.focus()

