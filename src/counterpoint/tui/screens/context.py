"""The workbench's context screen: what the session sends about the repository, and the
human's say in it for the next round (the same list as the task screen's)."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Static

from counterpoint.tui.widgets import context_list

Choice = tuple[list[str], list[str]]
"""(files added, files dropped)."""


class ContextScreen(ModalScreen[Choice | None]):
    """Shows the context the session sends; `ctrl+d` drops or keeps the highlighted file, the
    input adds one, `ctrl+s` uses the list from the next round on, `esc` leaves it as it was.
    `preview(added, dropped)` chooses the context for a list (in a thread)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+d", "toggle_file", "Drop / keep file"),
        Binding("ctrl+s", "save", "Use from the next round"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, bundle: Any, added: list[str], dropped: list[str], preview: Any) -> None:
        super().__init__()
        self.bundle = bundle
        self.added, self.dropped = list(added), list(dropped)
        self._first = (list(added), list(dropped))
        self.preview = preview

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="context-dialog"):
            yield Label(Text("Context: what every model is sent about the repository"), classes="dialog-title")
            yield DataTable(id="context-files", cursor_type="row", zebra_stripes=False)
            yield Input(placeholder="add a file to the context: its path, then enter", id="context-add")
            yield Static("", id="context-total")
            yield Static(Text("ctrl+d drops or keeps the highlighted file. Changes apply from the next "
                              "round (R): the context is chosen again, so the models' cached prompt "
                              "starts anew."), id="context-help")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Use from the next round  ctrl+s", id="save", variant="primary")
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*context_list.COLUMNS)
        self._show(self.bundle)
        table.focus()

    def _show(self, bundle: Any) -> None:
        self.bundle = bundle
        context_list.fill(self.query_one(DataTable), self.query_one("#context-total", Static),
                          bundle, self.added, self.dropped)

    async def _refresh(self) -> None:
        try:
            bundle = await asyncio.to_thread(self.preview, list(self.added), list(self.dropped))
        except Exception as exc:  # a repository that cannot be read: say so, keep the list
            self.query_one("#context-total", Static).update(Text(f"The context could not be chosen: {exc}"))
            return
        self._show(bundle)

    def action_toggle_file(self) -> None:
        path = context_list.highlighted(self.query_one(DataTable))
        if path is not None:
            context_list.toggle(path, self.added, self.dropped)
            self.run_worker(self._refresh(), group="context", exclusive=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = event.value.strip()
        if path:
            context_list.add(path, self.added, self.dropped)
            event.input.value = ""
            self.run_worker(self._refresh(), group="context", exclusive=True)

    def action_save(self) -> None:
        changed = (self.added, self.dropped) != self._first
        self.dismiss((self.added, self.dropped) if changed else None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()
