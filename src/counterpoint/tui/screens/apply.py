"""The apply screen: choose hunks, or lines within hunks, reading each with its findings;
comment on a hunk for the next revision; write; undo.

Like lazygit's staging panel and `git add -p`: the hunks on one side (`space` toggles one,
`v` a range, `s` splits one where unchanged lines separate its changes), the highlighted
hunk's lines on the other, numbered and highlighted by language, with the findings that
flag it; `a` switches to line mode, where `space` toggles the line (or the range) under the
preview's cursor. `tab` moves between list and preview (at 80 columns they take turns).
What is written is exactly what is shown chosen; the undo point covers it. The choice and
the comments are recorded in the session (resume restores them) and the next revision is
told which hunks the human dropped.

Nothing is written until the human confirms; contested clusters still pending are named
first. A conflict (a file changed since the proposal) writes nothing and is shown per file.

With checks, `y` first runs them on exactly the chosen hunks and lines (in a scratch tree,
`Orchestrator.check_selection`) and shows ✓/✗ per check under the counter (`show_checks`);
it writes when they pass. When they fail (or could not run) nothing is written unless the
human confirms explicitly in a dialog (`W`: write anyway), as `--apply-failing` does headless.
`apply_blocked()` says why applying is refused right now (the checks are still running).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar, Literal

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Button, Static

from counterpoint.core import glyphs
from counterpoint.core.safe_text import visible
from counterpoint.tui.apply_state import ApplyChoice
from counterpoint.tui.checks_view import status_text
from counterpoint.tui.key_bar import KeyBar
from counterpoint.tui.theme import theme_color
from counterpoint.tui.widgets.findings_table import location_label
from counterpoint.tui.widgets.hunk_views import HunkList, HunkPreview
from counterpoint.tui.widgets.row_list import RowList

if TYPE_CHECKING:
    from counterpoint.workflow.orchestrator import Orchestrator

PENDING_SHOWN = 8
"""At most this many pending contested findings are named above the hunks (the box shows no
more; the rest are counted, and a screen of 2,000 hunks does not lay out hundreds of lines)."""
COMPACT_WIDTH = 100
"""Below this width the list and the preview take turns (tab) instead of sitting side by side."""


class ApplyScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,ctrl+s", "apply", "Apply selected"),
        Binding("U,ctrl+z", "undo", "Undo last apply"),
        Binding("space", "toggle_choice", "Toggle"),
        Binding("a", "switch_mode", "Hunk/line mode"),
        Binding("v", "range", "Range"),
        Binding("s", "split", "Split hunk"),
        Binding("c", "comment", "Comment"),
        Binding("tab", "switch_side", "List/preview"),
        Binding("plus", "select_all", "All"),
        Binding("minus", "select_none", "None"),
        Binding("escape,q", "close", "Back"),
    ]

    def __init__(self, orch: Orchestrator) -> None:
        super().__init__()
        self.orch = orch
        self._checking: float | None = None
        """When the selection's checks started (monotonic), while they run."""
        self.round = orch.session.last_proposal_round
        self.result: str | None = None
        r = self.round
        self.choice = ApplyChoice(
            r.changeset if r else None, r.clusters if r else (), r.selection if r else None
        )
        self.mode: Literal["hunk", "line"] = "hunk"
        self._recorded = self._snapshot()

    def compose(self) -> ComposeResult:
        r = self.round
        title = f" Apply · round {r.number} proposal" if r else " Apply · nothing proposed yet"
        yield Static(title, id="apply-title")
        with Vertical(id="apply-body"):
            yield Static(self._pending_text(), id="apply-pending")
            yield Static("", id="apply-progress")
            yield Static("", id="apply-checks")
            with Horizontal(id="apply-main"):
                yield HunkList(self.choice, id="apply-hunks")
                yield HunkPreview(self.choice, id="apply-preview")
            yield Static("", id="apply-result")
            with Horizontal(id="apply-buttons"):
                yield Button("Apply selected  y", id="apply", variant="success", compact=True)
                yield Button("Undo last apply  U", id="undo", variant="warning", compact=True)
                yield Button("Back  esc", id="back", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#apply-checks").display = False
        checks = self.orch.checks
        if checks is not None:
            hint = Text(f"Checks ({visible(', '.join(checks.names), newlines=False)}) run on exactly the chosen "
                        "hunks and lines when you press y; nothing is written unless they pass.", style="dim")
            if not checks.sandboxed:
                hint.append("  NOT SANDBOXED (--checks-unsandboxed)", style=self._colour("warning"))
            self.show_checks(hint)
        self._layout(self.app.size.width)
        self.hunks.focus()
        self.preview.show(self.hunks.piece)
        self._show_progress()
        self._show_undo_state()
        if self.round is not None and self.round.changeset is None:
            self.query_one("#apply-pending", Static).display = False

    @property
    def hunks(self) -> HunkList:
        return self.query_one(HunkList)

    @property
    def preview(self) -> HunkPreview:
        return self.query_one(HunkPreview)

    # -- the checks' hooks -------------------------------------------------------------
    def show_checks(self, text: Text | None) -> None:
        """The selection's check status (✓/✗ per check) under the counter; None hides it."""
        line = self.query_one("#apply-checks", Static)
        line.display = text is not None
        line.update(text or "")

    def apply_blocked(self) -> str | None:
        """Why applying the selection is refused now (None: it is not)."""
        if self._checking is not None:
            return "the selection's checks are still running"
        return None

    def _colour(self, variable: str) -> Style:
        return Style(color=theme_color(self.app, variable).rich_color)

    def _show_running(self) -> None:
        if self._checking is None or self.orch.checks is None:
            return
        frozen = getattr(self.app, "frozen", False)
        elapsed = "" if frozen else f"{time.monotonic() - self._checking:.0f}s"
        text = Text("Checks of the selection: ", style="bold")
        text.append_text(status_text(None, self._colour, running=self.orch.checks.names, elapsed=elapsed,
                                     sandboxed=self.orch.checks.sandboxed))
        self.show_checks(text)

    async def _check_then_write(self, ordered: list[str], lines: dict[str, list[int]]) -> None:
        """The checks on exactly the chosen hunks and lines; write when they pass, else ask."""
        from counterpoint.tui.screens.consent import ApplyFailingScreen

        self._checking = time.monotonic()
        timer = self.set_interval(1.0, self._show_running)
        self._show_running()
        try:
            gate = await self.orch.check_selection(ordered, lines=lines)
        finally:
            self._checking = None
            timer.stop()
        if gate is None:
            self.show_checks(None)
            self._write(ordered, lines)
            return
        text = Text("Checks of the selection: ", style="bold")
        text.append_text(status_text(gate, self._colour, sandboxed=gate.sandboxed))
        self.show_checks(text)
        if gate.passed:
            self._write(ordered, lines)
            return

        def answered(write: bool | None) -> None:
            if write:
                self._write(ordered, lines)
            else:
                self._say(Text("Not applied: the selection's checks do not pass (y, then W, writes anyway).",
                               style="bold"))

        self._say(Text("The selection's checks do not pass: write anyway (W) or not (esc)?", style="bold"))
        self.app.push_screen(ApplyFailingScreen(status_text(gate, self._colour)), answered)

    # -- content -----------------------------------------------------------------------
    def _pending_text(self) -> Text:
        r = self.round
        if r is None:
            return Text("There is no proposal to apply yet.")
        pending = [c for c in r.clusters if c.contested and c.verdict == "pending"]
        if not pending:
            return Text("No contested finding is pending.", style="dim")
        noun = "finding is" if len(pending) == 1 else "findings are"
        text = Text(f"{glyphs.CONTESTED.glyph} {len(pending)} contested {noun} still pending:\n", style="bold")
        for c in pending[:PENDING_SHOWN]:
            mark = glyphs.agreement(c.agreement)
            text.append(f"  {mark.label}  {glyphs.severity(c.severity).word:<8} ")
            text.append(f"{location_label(c.path, c.start_line, c.end_line)}  {visible(c.title, newlines=False)}\n")
        if len(pending) > PENDING_SHOWN:
            text.append(f"  … and {len(pending) - PENDING_SHOWN} more\n", style="dim")
        text.append("Apply anyway, or go back (esc) and triage them first.", style="italic")
        return text

    def _show_progress(self) -> None:
        chosen, total, some = self.choice.counts()
        text = Text()
        text.append(f"{chosen} of {total} hunks chosen", style="bold")
        if some:
            text.append(f" ({some} in part)")
        mode = "line mode: space toggles the line" if self.mode == "line" else "hunk mode: space toggles the hunk"
        text.append(f"  ·  {mode}  ·  a switches", style="dim")
        comments = len(self.choice.comments)
        if comments:
            text.append(f"  ·  ✎ {comments} comment{'s' if comments != 1 else ''}", style="dim")
        self.query_one("#apply-progress", Static).update(text)

    def _show_undo_state(self) -> None:
        self.query_one("#undo", Button).disabled = self.orch.session.last_applied is None

    def _say(self, text: Text | str) -> None:
        self.query_one("#apply-result", Static).update(text)

    def _changed(self, *rows: int) -> None:
        """The choice changed for these list rows (all when none given)."""
        self.hunks.refresh_rows(*rows)
        self.preview.refresh_rows()
        self._show_progress()

    # -- layout ------------------------------------------------------------------------
    def on_resize(self, event: Resize) -> None:
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        compact = width < COMPACT_WIDTH
        self.set_class(compact, "-compact")
        if compact:
            self._show_side(self.focused is self.preview)

    def _show_side(self, preview: bool) -> None:
        self.set_class(preview, "-preview")
        (self.preview if preview else self.hunks).focus()

    def on_row_list_moved(self, event: RowList.Moved) -> None:
        if event.rows is self.hunks:
            self.preview.show(self.hunks.piece)

    # -- actions ------------------------------------------------------------------------
    def action_toggle_choice(self) -> None:
        if self.mode == "line":
            self._toggle_lines()
            return
        hunks = self.hunks
        rows = hunks.selected_range()
        pieces = [self.choice.pieces[k] for k in rows if k < len(self.choice.pieces)]
        if not pieces:
            return
        on = any(self.choice.state(p) != "all" for p in pieces)
        for piece in pieces:
            if (self.choice.state(piece) != "all") == on:
                self.choice.toggle_piece(piece)
        hunks.range_start = None
        self._changed(*self._rows_of(pieces))

    def _toggle_lines(self) -> None:
        preview = self.preview
        piece = preview.piece
        if piece is None:
            return
        lines = [preview.line_index(row) for row in preview.selected_range()]
        changed = [k for k in lines if k is not None and k in piece.changed]
        if not changed:
            self._say(Text("An unchanged line is always kept: choose a + or - line.", style="dim"))
            return
        chosen = self.choice.chosen[piece.hunk.id]
        self.choice.set_lines(piece.hunk.id, changed, not all(k in chosen for k in changed))
        preview.range_start = None
        self._changed(*self._rows_of([piece]))

    def _rows_of(self, pieces: list) -> list[int]:
        """The list rows that show the pieces' hunks (a split hunk's parts share lines)."""
        ids = {p.hunk.id for p in pieces}
        return [k for k, p in enumerate(self.choice.pieces) if p.hunk.id in ids]

    def action_switch_mode(self) -> None:
        self.mode = "hunk" if self.mode == "line" else "line"
        self.hunks.range_start = self.preview.range_start = None
        if self.has_class("-compact"):
            self._show_side(self.mode == "line")
        else:
            (self.preview if self.mode == "line" else self.hunks).focus()
        self.hunks.refresh()
        self.preview.refresh()
        self._show_progress()

    def action_range(self) -> None:
        rows = self.preview if self.mode == "line" else self.hunks
        rows.range_start = None if rows.range_start is not None else rows.cursor
        rows.refresh()
        if rows.range_start is not None:
            self._say(Text("Range: move to its other end, then space toggles it (v again cancels).", style="dim"))

    def action_split(self) -> None:
        hunks = self.hunks
        if not self.choice.pieces:
            return
        parts = self.choice.split_at(hunks.cursor)
        if parts == 1:
            self._say(Text("This hunk has one run of changes: it cannot be split further.", style="dim"))
            return
        hunks.set_count(len(self.choice.pieces))
        hunks.refresh_rows()
        self.preview.show(hunks.piece)
        self._show_progress()
        self._say(Text(f"Split into {parts} hunks."))

    def action_comment(self) -> None:
        from counterpoint.tui.screens.dialogs import NoteScreen

        piece = self.hunks.piece
        if piece is None:
            return
        hunk_id = piece.hunk.id

        def done(text: str | None) -> None:
            if text is None:
                return
            self.choice.set_comment(hunk_id, text)
            self.preview.show(self.hunks.piece)
            self._changed(*self._rows_of([piece]))

        title = f"hunk {visible(piece.hunk.path, newlines=False)} {piece.header} (goes to the next revision)"
        self.app.push_screen(NoteScreen(title, self.choice.comments.get(hunk_id)), done)

    def action_switch_side(self) -> None:
        preview = self.focused is not self.preview
        if self.has_class("-compact"):
            self._show_side(preview)
        else:
            (self.preview if preview else self.hunks).focus()

    def action_select_all(self) -> None:
        self.choice.set_all(True)
        self._changed()

    def action_select_none(self) -> None:
        self.choice.set_all(False)
        self._changed()

    def _snapshot(self) -> tuple[object, ...]:
        return (self.choice.selection(), self.choice.splits(), dict(self.choice.comments))

    def _record(self) -> None:
        """The choice into the session (the journal), when it changed."""
        from counterpoint.workflow.orchestrator import SessionError

        snapshot = self._snapshot()
        if snapshot == self._recorded or self.round is None:
            return
        try:
            self.orch.set_selection(self.choice.selection(), self.choice.splits(), self.choice.comments)
        except SessionError:
            return
        self._recorded = snapshot

    def action_apply(self) -> None:
        chosen = self.choice.chosen_ids()
        if not chosen:
            self._say(Text("No hunk selected: nothing to apply.", style="bold"))
            return
        blocked = self.apply_blocked()
        if blocked:
            self._say(Text(f"Not applied: {visible(blocked)}", style="bold"))
            return
        self._record()
        ordered = [h for h in self.choice.hunks if h in chosen]
        lines = self.choice.partial()
        if self.orch.checks is None:
            self._write(ordered, lines)
            return
        self._say(Text("Running the checks on the selection before writing…", style="dim"))
        self.run_worker(self._check_then_write(ordered, lines), name="apply-checks", group="apply-checks",
                        exit_on_error=False)

    def _write(self, ordered: list[str], lines: dict[str, list[int]]) -> None:
        from counterpoint.workflow.orchestrator import SessionError
        from counterpoint.workspace import ApplyConflict, WorkspaceError

        try:
            applied = self.orch.apply(ordered, lines=lines)
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
        note = self.orch.branch_note()
        if note:
            text.append(f"\nNote: {visible(note, newlines=False)}", style="bold")
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

    def action_close(self) -> None:
        self._record()
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        {"apply": self.action_apply, "undo": self.action_undo, "back": self.action_close}[
            event.button.id or "back"
        ]()
