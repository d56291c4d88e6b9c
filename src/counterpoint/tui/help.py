"""The help screen's sections and the command palette's entries, both from the key bindings."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

_KEY_LABELS = {"left_square_bracket": "[", "right_square_bracket": "]", "question_mark": "?"}


def help_sections() -> list[tuple[str, list[BindingType]]]:
    from counterpoint.tui.app import CounterpointApp
    from counterpoint.tui.screens.apply import ApplyScreen
    from counterpoint.tui.screens.dialogs import NoteScreen, PlanScreen
    from counterpoint.tui.screens.diff import DiffScreen
    from counterpoint.tui.screens.task import TaskScreen
    from counterpoint.tui.screens.workbench import WorkbenchScreen
    from counterpoint.tui.widgets import DiffView

    palette = [Binding("ctrl+p", "command_palette", "Command palette (every action)")]
    return [
        ("Workbench", list(WorkbenchScreen.BINDINGS)),
        ("Everywhere", [*CounterpointApp.BINDINGS, *palette]),
        ("Diff screen", [*DiffScreen.BINDINGS, *DiffView.BINDINGS]),
        ("Apply screen", list(ApplyScreen.BINDINGS)),
        ("Task screen", list(TaskScreen.BINDINGS)),
        ("Note dialog", list(NoteScreen.BINDINGS)),
        ("Plan dialog", list(PlanScreen.BINDINGS)),
    ]


def binding_commands(app: App[Any], screen: Screen[Any]) -> Iterable[SystemCommand]:
    """A palette entry per binding of `screen` and of `app`, with its key."""
    seen: set[str] = set()
    for binding in [*getattr(screen, "BINDINGS", []), *app.BINDINGS]:
        if not isinstance(binding, Binding) or binding.action in seen:
            continue
        seen.add(binding.action)
        target: App[Any] | Screen[Any] = app if binding in app.BINDINGS else screen
        key = binding.key.split(",")[0]
        yield SystemCommand(
            binding.description,
            f"key: {_KEY_LABELS.get(key, key)}",
            partial(target.run_action, binding.action),
        )
