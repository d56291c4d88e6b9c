"""The apply screen: pick files and hunks, see what is still contested, write, undo.

Nothing is written until the human confirms; contested clusters still pending are named
first. A conflict (a file changed since the proposal) writes nothing and is shown per file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, SelectionList, Static
from textual.widgets.selection_list import Selection

from counterpoint.core.safe_text import visible
from counterpoint.tui import glyphs
from counterpoint.tui.widgets.findings_table import location_label

if TYPE_CHECKING:
    from counterpoint.workflow.orchestrator import Orchestrator


class ApplyScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,ctrl+s", "apply", "Apply selected"),
        Binding("U,ctrl+z", "undo", "Undo last apply"),
        Binding("space", "toggle_hunk", "Toggle hunk", show=False),
        Binding("plus", "select_all", "All"),
        Binding("minus", "select_none", "None"),
        Binding("escape,q", "close", "Back"),
    ]

    def __init__(self, orch: Orchestrator) -> None:
        super().__init__()
        self.orch = orch
        self.round = orch.session.last_proposal_round
        self.result: str | None = None

    def compose(self) -> ComposeResult:
        r = self.round
        title = f" Apply · round {r.number} proposal" if r else " Apply · nothing proposed yet"
        yield Static(title, id="apply-title")
        with Vertical(id="apply-body"):
            yield Static(self._pending_text(), id="apply-pending")
            yield SelectionList[str](*self._selections(), id="apply-hunks")
            yield Static("", id="apply-result")
            with Horizontal(id="apply-buttons"):
                yield Button("Apply selected  y", id="apply", variant="success", compact=True)
                yield Button("Undo last apply  U", id="undo", variant="warning", compact=True)
                yield Button("Back  esc", id="back", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()
        self._show_undo_state()

    # -- content ------------------------------------------------------------------------
    def _selections(self) -> list[Selection[str]]:
        r = self.round
        if r is None or r.changeset is None:
            return []
        out: list[Selection[str]] = []
        for change in r.changeset.files:
            for n, hunk in enumerate(change.hunks, start=1):
                added = sum(1 for line in hunk.lines if line.startswith("+"))
                removed = sum(1 for line in hunk.lines if line.startswith("-"))
                prompt = Text()
                prompt.append(f"{change.status[0].upper()} {visible(change.path, newlines=False)}", style="bold")
                prompt.append(f"  hunk {n}/{len(change.hunks)} {visible(hunk.header, newlines=False)}  ")
                prompt.append(f"+{added} -{removed}", style="dim")
                out.append(Selection(prompt, hunk.id, True))
        return out

    def _pending_text(self) -> Text:
        r = self.round
        if r is None:
            return Text("There is no proposal to apply yet.")
        pending = [c for c in r.clusters if c.contested and c.verdict == "pending"]
        if not pending:
            return Text("No contested finding is pending.", style="dim")
        noun = "finding is" if len(pending) == 1 else "findings are"
        text = Text(f"⚑ {len(pending)} contested {noun} still pending:\n", style="bold")
        for c in pending:
            mark = glyphs.agreement(c.agreement)
            text.append(f"  {mark.label}  {glyphs.severity(c.severity).word:<8} ")
            text.append(f"{location_label(c.path, c.start_line, c.end_line)}  {visible(c.title, newlines=False)}\n")
        text.append("Apply anyway, or go back (esc) and triage them first.", style="italic")
        return text

    def _show_undo_state(self) -> None:
        self.query_one("#undo", Button).disabled = self.orch.session.last_applied is None

    def _say(self, text: Text | str) -> None:
        self.query_one("#apply-result", Static).update(text)

    # -- actions ------------------------------------------------------------------------
    def action_apply(self) -> None:
        from counterpoint.workflow.orchestrator import SessionError
        from counterpoint.workspace import ApplyConflict, WorkspaceError

        chosen = list(self.query_one(SelectionList).selected)
        if not chosen:
            self._say(Text("No hunk selected: nothing to apply.", style="bold"))
            return
        try:
            applied = self.orch.apply(chosen)
        except ApplyConflict as exc:
            text = Text("Nothing was written: these files changed since the proposal:\n", style="bold")
            for path, reason in sorted(exc.conflicts.items()):
                text.append(f"  ✗ {visible(path, newlines=False)}: {visible(reason, newlines=False)}\n")
            self._say(text)
            return
        except (SessionError, WorkspaceError) as exc:
            self._say(Text(f"Not applied: {visible(str(exc))}", style="bold"))
            return
        files = visible(", ".join(applied.files), newlines=False)
        text = Text(f"✔ wrote {len(applied.files)} files: {files}\n", style="bold")
        text.append(f"undo point {applied.undo_id} — press U (or ctrl+z) to undo")
        self.result = applied.undo_id
        self._say(text)
        self._show_undo_state()

    def action_undo(self) -> None:
        from counterpoint.workflow.orchestrator import SessionError
        from counterpoint.workspace import WorkspaceError

        try:
            undone = self.orch.undo()
        except (SessionError, WorkspaceError) as exc:
            self._say(Text(f"Not undone: {visible(str(exc))}", style="bold"))
            return
        files = visible(", ".join(undone.files), newlines=False)
        self._say(Text(f"↶ restored {len(undone.files)} files from {undone.undo_id}: {files}"))
        self._show_undo_state()

    def action_toggle_hunk(self) -> None:
        self.query_one(SelectionList).action_select()

    def action_select_all(self) -> None:
        self.query_one(SelectionList).select_all()

    def action_select_none(self) -> None:
        self.query_one(SelectionList).deselect_all()

    def action_close(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        {"apply": self.action_apply, "undo": self.action_undo, "back": self.action_close}[
            event.button.id or "back"
        ]()
