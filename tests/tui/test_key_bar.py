"""The key bar: the screen's keys on the bottom line, whole keys only, clickable."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from counterpoint.tui.key_bar import KeyBar


class Keys(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "accept", "Accept"),
        Binding("j,down", "down", "Down"),
        Binding("x", "locked", "Locked"),
        Binding("z", "hidden", "Hidden", show=False),
        Binding("l", "long", "A key with a rather long description"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.done: list[str] = []
        self.bells = 0

    def compose(self) -> ComposeResult:
        yield Static("body")
        yield KeyBar()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "locked" else True  # shown, but cannot run now

    def bell(self) -> None:
        self.bells += 1

    def action_accept(self) -> None:
        self.done.append("accept")

    def action_down(self) -> None:
        self.done.append("down")

    def action_locked(self) -> None:
        self.done.append("locked")


def line(app: App[None]) -> str:
    bar = app.query_one(KeyBar)
    return "".join(segment.text for segment in bar.render_line(0))


async def test_the_keys_one_entry_per_action_hidden_ones_left_out_and_the_palette_at_the_right():
    app = Keys()
    async with app.run_test(size=(100, 5)) as pilot:
        await pilot.pause()
        text = line(app)
        assert text.startswith(" a Accept  j Down  x Locked  l A key with a rather long description ")
        assert text.count("Down") == 1  # j and down: one entry
        assert "Hidden" not in text
        assert text.rstrip().endswith("^p palette") and len(text) == 100
        dim = {s.text.strip(): bool(s.style and s.style.dim) for s in app.query_one(KeyBar).render_line(0)}
        assert dim["x"] and dim["Locked"]  # the key that cannot run now is dimmed
        assert not dim["a"] and not dim["Accept"]


async def test_a_click_on_a_key_presses_it_and_a_disabled_one_only_rings():
    app = Keys()
    async with app.run_test(size=(100, 5)) as pilot:
        await pilot.pause()
        text = line(app)
        await pilot.click(KeyBar, offset=(text.index("Accept"), 0))
        await pilot.click(KeyBar, offset=(text.index("Down"), 0))
        await pilot.click(KeyBar, offset=(text.index("Locked"), 0))
        await pilot.pause()
        assert app.done == ["accept", "down"] and app.bells == 1


async def test_a_narrow_bar_shows_whole_keys_only_and_keeps_the_palette():
    app = Keys()
    async with app.run_test(size=(50, 5)) as pilot:
        await pilot.pause()
        text = line(app)
        assert text.startswith(" a Accept  j Down  x Locked ")
        assert "A key with" not in text and "rather" not in text  # not cut mid-key
        assert text.rstrip().endswith("^p palette") and len(text) == 50
