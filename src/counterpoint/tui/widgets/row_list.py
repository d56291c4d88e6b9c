"""RowList: rows of rich Text drawn with Textual's line API, a cursor and a range anchor.

Only the visible rows are drawn, each row's Text built once (`row_text`, cached until
`refresh_rows`), so a list of thousands of hunks opens and moves its cursor in constant
time. The apply screen's hunk list and preview are RowLists.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


class RowList(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    RowList {
        background: $surface;
        color: $foreground;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", show=False),
        Binding("k,up", "cursor_up", "Up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=False, repaint=False)

    class Moved(Message):
        def __init__(self, rows: RowList, cursor: int) -> None:
            super().__init__()
            self.rows = rows
            self.cursor = cursor

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.count = 0
        self.range_start: int | None = None
        """Where a range (v) started; the range is range_start..cursor."""
        self._texts: dict[int, Text] = {}
        self._base: Style | None = None
        """`rich_style` (costly to compute), kept until the CSS changes."""

    def on_mount(self) -> None:
        # the subclasses' on_mount run too: Textual dispatches handlers along the MRO
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.theme_changed())

    # -- to override -------------------------------------------------------------------
    def theme_changed(self) -> None:
        """The theme changed: styles built from it are stale."""
        self.refresh_rows()

    def row_text(self, row: int) -> Text:
        raise NotImplementedError

    def row_style(self, row: int) -> Style | None:
        """A background for the row (the cursor, the range)."""
        if row == self.cursor and self.has_focus:
            return Style(reverse=True)
        if row == self.cursor:
            return Style(bold=True, underline=True)
        if self.range_start is not None and min(self.range_start, self.cursor) <= row <= max(self.range_start, self.cursor):
            return Style(bgcolor="grey30")
        return None

    # -- content -----------------------------------------------------------------------
    def set_count(self, count: int) -> None:
        self.count = count
        self._texts.clear()
        size = Size(self.size.width, count)
        if size != self.virtual_size:
            self.virtual_size = size
        self.set_reactive(RowList.cursor, max(0, min(self.cursor, count - 1)))
        self.refresh()

    def refresh_rows(self, *rows: int) -> None:
        """Build these rows' text again (all rows when none is given) and redraw them."""
        if not rows:
            self._texts.clear()
            self.refresh()
            return
        for row in rows:
            self._texts.pop(row, None)
            self._refresh_row(row)

    def _refresh_row(self, row: int) -> None:
        y = row - self.scroll_offset.y
        if 0 <= y < self.size.height:
            self.refresh_line(y)

    def selected_range(self) -> range:
        if self.range_start is None:
            return range(self.cursor, self.cursor + 1)
        return range(min(self.range_start, self.cursor), max(self.range_start, self.cursor) + 1)

    # -- drawing -----------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        row = y + self.scroll_offset.y
        width = self.size.width
        base = self._base
        if base is None:
            base = self._base = self.rich_style
        if row >= self.count:
            return Strip.blank(width, base)
        text = self._texts.get(row)
        if text is None:
            text = self._texts[row] = self.row_text(row)
        extra = self.row_style(row)
        segments = list(text.render(self.app.console))
        strip = Strip(segments).crop(self.scroll_offset.x, self.scroll_offset.x + width)
        strip = strip.extend_cell_length(width, base).apply_style(base)
        if extra is not None:
            strip = Strip([Segment(s.text, (s.style or Style()) + extra, s.control) for s in strip])
        return strip

    # -- cursor ------------------------------------------------------------------------
    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, self.count - 1)) if self.count else 0

    def watch_cursor(self, old: int, new: int) -> None:
        if self.range_start is not None:
            self.refresh()  # the range moved
        else:
            self._refresh_row(old)
            self._refresh_row(new)
        self.scroll_to(y=_visible_top(self.scroll_offset.y, new, self.size.height), animate=False)
        self.post_message(self.Moved(self, new))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base = None
        self.refresh()

    def on_focus(self) -> None:
        self._refresh_row(self.cursor)

    def on_blur(self) -> None:
        self._refresh_row(self.cursor)

    def on_click(self, event: events.Click) -> None:
        self.cursor = event.y + self.scroll_offset.y

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.count)

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_page_down(self) -> None:
        self.cursor += max(1, self.size.height - 1)

    def action_page_up(self) -> None:
        self.cursor -= max(1, self.size.height - 1)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = self.count - 1


def _visible_top(top: int, row: int, height: int) -> int:
    if height <= 0:
        return top
    if row < top:
        return row
    if row >= top + height:
        return row - height + 1
    return top
