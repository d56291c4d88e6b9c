"""KeyBar: the screen's keys on the bottom line, as Textual's Footer shows them, in one widget.

Textual's Footer mounts a widget per key and mounts them all again whenever the bindings
change, which focus moving is enough for: a screen opening did it twice, about 100 ms of
opening the apply screen (bench_apply_screen). KeyBar draws the same line (each key in the
footer-key colours, then what it does; keys whose action cannot run now dimmed; the command
palette's key at the right end) as one Text, drawn again when the bindings change. A click on
a key presses it, as in the Footer.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widget import Widget


class _Key(NamedTuple):
    key: str
    start: int
    end: int
    enabled: bool


_ENABLED = Style()
_DISABLED = Style(dim=True)


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeyBar > .key-bar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .key-bar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    """
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description"}

    def __init__(self, *, show_command_palette: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.show_command_palette = show_command_palette
        self._keys: list[_Key] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, lambda _screen: self.refresh())

    def render(self) -> Text:
        """The keys that fit whole, in binding order; the palette's key kept at the right."""
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        shown: list[tuple[Binding, bool]] = []
        seen: set[str] = set()
        palette: tuple[Binding, bool] | None = None
        for key, active in self.screen.active_bindings.items():
            if key == self.app.COMMAND_PALETTE_BINDING:
                if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
                    palette = (active.binding, active.enabled)
            elif active.binding.show and active.binding.action not in seen:
                seen.add(active.binding.action)  # one entry per action (j and down both move)
                shown.append((active.binding, active.enabled))
        pieces = [(binding, enabled, f" {self.app.get_key_display(binding)} ", f"{binding.description} ")
                  for binding, enabled in shown]
        right = None
        if palette is not None:
            right = (*palette, f" {self.app.get_key_display(palette[0])} ", f"{palette[0].description} ")
        room = self.size.width - (len(right[2]) + len(right[3]) if right else 0)
        text = Text(no_wrap=True, overflow="crop", end="")
        self._keys = []

        def add(binding: Binding, enabled: bool, label: str, description: str) -> None:
            start = text.cell_len
            dim = _ENABLED if enabled else _DISABLED
            text.append(label, key_style + dim)
            text.append(description, description_style + dim)
            self._keys.append(_Key(binding.key, start, text.cell_len, enabled))

        for piece in pieces:
            if text.cell_len + len(piece[2]) + len(piece[3]) > room:
                break
            add(*piece)
        if right is not None and room >= text.cell_len:
            text.append(" " * (room - text.cell_len))
            add(*right)
        return text

    def on_click(self, event: events.Click) -> None:
        for found in self._keys:
            if found.start <= event.x < found.end:
                if found.enabled:
                    self.app.simulate_key(found.key)
                else:
                    self.app.bell()
                return
