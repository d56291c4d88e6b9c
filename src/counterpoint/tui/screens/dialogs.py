"""Small dialogs: the note and plan editors, the export format picker and the help screen."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from counterpoint.core.safe_text import visible
from counterpoint.export import EXPORT_FORMATS


class NoteScreen(ModalScreen[str | None]):
    """Edit the note on a cluster. Dismisses with the text ("" clears it) or None (cancel)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save note"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, title: str, note: str | None) -> None:
        super().__init__()
        self._title = title
        self._note = note or ""

    def heading(self) -> Text:
        # A finding's title is model text: plain Text, never markup.
        return Text(f"Note on: {visible(self._title, newlines=False)}")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.heading(), classes="dialog-title")
            yield TextArea(self._note, id="note-text", soft_wrap=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save  ctrl+s", id="save", variant="primary")
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()


class PlanScreen(NoteScreen):
    """Edit the plan before the generator follows it. Dismisses with the text or None.

    The plan is model text: it is edited as shown, its control characters as visible escapes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save the plan"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, plan: str, by: str) -> None:
        super().__init__(by, visible(plan))

    def heading(self) -> Text:
        return Text(f"The plan · {visible(self._title, newlines=False)}")


class ExportScreen(ModalScreen[str | None]):
    """Pick an export format; dismisses with "markdown", "json", "sarif" or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, folder: str) -> None:
        super().__init__()
        self._folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Export the session's findings", classes="dialog-title")
            yield OptionList(
                *(Option(f"{f.name:<13} {f.description}", id=f.name) for f in EXPORT_FORMATS),
                id="export-formats",
            )
            yield Static(Text(visible(f"Written to {self._folder} (never into your repository).")), classes="dim")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every key, generated from the bindings of the screens and widgets that use them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close help"),
    ]

    def __init__(self, sections: Iterable[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        self._sections = [(title, list(bindings)) for title, bindings in sections]

    @staticmethod
    def rows(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
        """(keys, description) per binding, keys shown the way the footer shows them."""
        out: list[tuple[str, str]] = []
        for binding in bindings:
            if isinstance(binding, Binding):
                keys, description = binding.key, binding.description or binding.action
            else:
                keys, description = binding[0], binding[2] if len(binding) > 2 else binding[1]
            shown = ", ".join(_key_label(k.strip()) for k in keys.split(","))
            if out and out[-1][1] == description:  # one action bound twice (j, then down)
                shown = f"{out.pop()[0]}, {shown}"
            out.append((shown, description))
        return out

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Label("Keys", classes="dialog-title")
            with VerticalScroll():
                for title, bindings in self._sections:
                    table = Table.grid(padding=(0, 2))
                    table.add_column(style="bold", min_width=14)
                    table.add_column()
                    for keys, description in self.rows(bindings):
                        table.add_row(keys, description)
                    yield Static(Text(title, style="bold underline"))
                    yield Static(table, classes="help-table")
            yield Static("Mouse: click rows, tabs and buttons; the footer keys are clickable.", classes="dim")

    def action_close(self) -> None:
        self.dismiss(None)


_KEY_NAMES = {
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "question_mark": "?",
    "escape": "esc",
    "enter": "enter",
}


def _key_label(key: str) -> str:
    return _KEY_NAMES.get(key, key)
