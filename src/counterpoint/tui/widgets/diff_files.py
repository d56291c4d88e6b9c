"""DiffFiles: the file list beside the diff, with status and +/- counts."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from counterpoint.core.changeset import ChangeSet
from counterpoint.core.safe_text import visible
from counterpoint.tui.widgets.diff_rows import STATUS_GLYPH, first_new_line

__all__ = ["DiffFiles"]


class DiffFiles(OptionList):
    """The files of a ChangeSet with status and +/- counts; choosing one posts FileSelected."""

    DEFAULT_CSS = """
    DiffFiles {
        width: auto;
        min-width: 24;
        max-width: 50%;
    }
    """

    class FileSelected(Message):
        """A file was chosen: the screen calls `DiffView.jump_to(path, first_new_line)`
        (or `jump_to_file(path)` when the file was deleted and has no new lines)."""

        def __init__(self, diff_files: DiffFiles, path: str, first_new_line: int | None) -> None:
            super().__init__()
            self.diff_files = diff_files
            self.path = path
            self.first_new_line = first_new_line

        @property
        def control(self) -> DiffFiles:
            return self.diff_files

    def __init__(
        self,
        changeset: ChangeSet | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._first_lines: dict[str, int | None] = {}
        if changeset is not None:
            self.show(changeset)

    def show(self, changeset: ChangeSet) -> None:
        self.clear_options()
        self._first_lines = {}
        options = []
        for change in changeset.files:
            glyph = STATUS_GLYPH.get(change.status, "?")
            # A model chose the path: plain Text (never markup), controls shown as escapes.
            prompt = Text(f"{glyph} {visible(change.path, newlines=False)}  +{change.added} -{change.removed}")
            options.append(Option(prompt, id=change.path))
            self._first_lines[change.path] = first_new_line(change)
        self.add_options(options)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        path = event.option.id
        if path is not None:
            self.post_message(self.FileSelected(self, path, self._first_lines.get(path)))
