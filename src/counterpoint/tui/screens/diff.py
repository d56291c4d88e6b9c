"""The diff screen: the files of a round's changeset and the diff, flagged lines marked.

Two comparisons, toggled with `t`: the proposal against the repository, and this round's
proposal against the round it revises (`ChangeSet.since`). Enter (or a click) on a flagged
line dismisses the screen with that cluster's id, so the workbench selects the finding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Static

from counterpoint.tui.key_bar import KeyBar
from counterpoint.tui.widgets import DiffFiles, DiffView

if TYPE_CHECKING:
    from counterpoint.core.changeset import ChangeSet
    from counterpoint.core.findings import Cluster


class DiffScreen(Screen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,d", "close", "Back"),
        Binding("t", "toggle_compare", "vs repo / vs previous round"),
        Binding("tab", "focus_next", "Files / diff", show=False),
    ]

    def __init__(
        self,
        *,
        round_no: int,
        changeset: ChangeSet,
        previous: ChangeSet | None,
        previous_no: int | None,
        clusters: list[Cluster],
        jump: tuple[str, int] | None = None,
    ) -> None:
        super().__init__()
        self.round_no = round_no
        self.changeset = changeset
        self.previous = previous
        self.previous_no = previous_no
        self.clusters = clusters
        self.jump = jump
        self.compare_previous = False

    def compose(self) -> ComposeResult:
        yield Static("", id="diff-title")
        with Horizontal(id="diff-body"):
            yield DiffFiles(id="diff-files")
            yield DiffView(id="diff-view")
        yield KeyBar()

    def on_mount(self) -> None:
        self._show()
        view = self.query_one(DiffView)
        view.focus()
        if self.jump is not None:
            view.jump_to(*self.jump)

    @property
    def shown(self) -> ChangeSet:
        if self.compare_previous and self.previous is not None:
            return self.changeset.since(self.previous)
        return self.changeset

    def _show(self) -> None:
        changeset = self.shown
        self.query_one(DiffFiles).show(changeset)
        view = self.query_one(DiffView)
        view.show(changeset)
        view.set_flags(self.clusters)
        if self.compare_previous and self.previous is not None:
            what = f"round {self.round_no} vs round {self.previous_no}"
        else:
            what = f"round {self.round_no} proposal vs repository"
        files = len(changeset.files)
        flagged = len(view.flagged_rows)
        hint = "" if self.previous is not None else " · no previous round to compare"
        self.query_one("#diff-title", Static).update(
            f" Diff · {what} · {files} files · {flagged} flagged lines{hint}"
        )

    def action_toggle_compare(self) -> None:
        if self.previous is None:
            self.notify("This round revises nothing: there is no previous proposal to compare.")
            return
        self.compare_previous = not self.compare_previous
        self._show()

    def action_close(self) -> None:
        self.dismiss(None)

    @on(DiffFiles.FileSelected)
    def _file_selected(self, event: DiffFiles.FileSelected) -> None:
        view = self.query_one(DiffView)
        if event.first_new_line is None or not view.jump_to(event.path, event.first_new_line):
            view.jump_to_file(event.path)
        view.focus()

    @on(DiffView.LineSelected)
    def _line_selected(self, event: DiffView.LineSelected) -> None:
        if event.cluster_id is not None:
            self.dismiss(event.cluster_id)
