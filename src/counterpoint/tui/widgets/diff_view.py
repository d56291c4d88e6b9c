"""DiffView: a unified diff of a ChangeSet drawn with Textual's line API.

A diff of 50 000 lines must scroll as smoothly as one of 50. So nothing here is a widget per
line: `show()` builds a compact *line index* once (one row per file header, hunk header and
diff line, in parallel arrays), and `render_line()` draws only the visible rows, caching the
resulting `Strip`s in an LRU keyed by (row, width, horizontal scroll, cursor, theme
generation). The approach follows Textualize/toolong's `log_lines.py`.

Syntax highlighting (Pygments, chosen by file name) is computed lazily, one hunk at a time,
the first time a row of that hunk is drawn; the old side (context + removed lines) and the
new side (context + added lines) are lexed separately so multi-line constructs stay right.

Flags: `set_flags(clusters)` marks the NEW lines each cluster covers with the cluster's
agreement glyph in the gutter (glyph *and* colour, see `counterpoint.core.glyphs`).

The row model is `diff_rows.LineIndex`, the styles and lexing `diff_style`, the file list
beside the diff `diff_files.DiffFiles` (re-exported here).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from counterpoint.core import glyphs
from counterpoint.core.changeset import ChangeSet
from counterpoint.tui.widgets.diff_files import DiffFiles
from counterpoint.tui.widgets.diff_rows import SIGN, LineIndex, RowKind
from counterpoint.tui.widgets.diff_style import (
    HIGHLIGHT_LIMIT,
    Palette,
    SyntaxStyles,
    build_palette,
    lex_rows,
    lexer_for,
)

if TYPE_CHECKING:
    from textual.theme import Theme

    from counterpoint.core.findings import Cluster

__all__ = ["DiffView", "DiffFiles", "RowKind"]


class DiffView(ScrollView, can_focus=True):
    """A scrollable unified diff of a ChangeSet, with flagged lines marked in the gutter."""

    DEFAULT_CSS = """
    DiffView {
        background: $surface;
        color: $foreground;
    }
    DiffView:focus {
        background-tint: $foreground 2%;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", show=False),
        Binding("k,up", "cursor_up", "Up", show=False),
        Binding("pagedown,space", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("home,g", "first", "First line", show=False),
        Binding("end,G", "last", "Last line", show=False),
        Binding("n", "next_flag", "Next flagged"),
        Binding("p", "previous_flag", "Prev flagged"),
        Binding("f", "next_file", "Next file"),
        Binding("F", "previous_file", "Prev file"),
        Binding("enter", "select_line", "Go to finding", show=False),
        Binding("left,h", "scroll_left", "Scroll left", show=False),
        Binding("right,l", "scroll_right", "Scroll right", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, init=False, repaint=False)
    """The row under the cursor (clamped to the diff); a move redraws the two rows."""

    CACHE_SIZE = 2000
    """Strips kept (a few screens' worth at several widths)."""

    class LineSelected(Message):
        """Enter or a click on a flagged line: the screen jumps back to the finding."""

        def __init__(self, diff_view: DiffView, path: str, new_line: int | None, cluster_id: str | None) -> None:
            super().__init__()
            self.diff_view = diff_view
            self.path = path
            self.new_line = new_line
            self.cluster_id = cluster_id

        @property
        def control(self) -> DiffView:
            return self.diff_view

    def __init__(
        self,
        changeset: ChangeSet | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._index = LineIndex(ChangeSet(files=()))
        self._changeset = ChangeSet(files=())
        self._clusters: list[Cluster] = []
        self._flag_of: dict[int, Cluster] = {}
        self._flag_rows: list[int] = []
        self._generation = 0
        self._cache: LRUCache[tuple[int, int, int, bool, int], Strip] = LRUCache(self.CACHE_SIZE)
        self._palette: Palette | None = None
        self._syntax: SyntaxStyles | None = None
        self._tokens: LRUCache[int, dict[int, list[tuple[str, Style]]]] = LRUCache(64)
        if changeset is not None:
            self.show(changeset)

    # ----------------------------------------------------------------------------- public API

    @property
    def changeset(self) -> ChangeSet:
        return self._changeset

    @property
    def row_count(self) -> int:
        return len(self._index)

    @property
    def gutter_width(self) -> int:
        """Cells before the code: old number, new number, mark, sign."""
        return 2 * self._index.number_width + 5

    def show(self, changeset: ChangeSet) -> None:
        """Display a new ChangeSet; flags are re-applied to it, the cursor goes to the top."""
        self._changeset = changeset
        self._index = LineIndex(changeset)
        self.set_reactive(DiffView.cursor_row, 0)  # every line is redrawn anyway
        self._tokens.clear()
        self._apply_flags()
        self._invalidate()
        self.virtual_size = Size(self.gutter_width + self._index.code_width + 1, len(self._index))
        self.scroll_to(0, 0, animate=False, immediate=True)

    def set_flags(self, clusters: Sequence[Cluster]) -> None:
        """Mark the new lines each cluster covers. Earlier clusters win where ranges overlap."""
        self._clusters = list(clusters)
        self._apply_flags()
        self._invalidate()

    def jump_to(self, path: str, new_line: int) -> bool:
        """Put the cursor on NEW line `new_line` of `path`, near the top. False if not shown."""
        file_index = self._index.file_index(path)
        if file_index is None:
            return False
        row = self._index.row_of_new_line(file_index, new_line)
        if row is None:
            return False
        self._set_cursor(row, near_top=True)
        return True

    def jump_to_file(self, path: str) -> bool:
        """Put the cursor on a file's header row, at the top of the view."""
        file_index = self._index.file_index(path)
        if file_index is None:
            return False
        self._set_cursor(self._index.file_rows[file_index], near_top=True)
        return True

    def first_new_line(self, path: str) -> int | None:
        """The first NEW line number shown for `path` (None for a deleted or unknown file)."""
        file_index = self._index.file_index(path)
        if file_index is None:
            return None
        idx = self._index
        for row in range(idx.file_rows[file_index], idx.file_end(file_index)):
            if idx.kinds[row] in (RowKind.CONTEXT, RowKind.ADD):
                return idx.new_no[row]
        return None

    def line_at_cursor(self) -> tuple[str, int | None]:
        """(path, NEW line number) of the cursor row; the number is None on headers/removed lines."""
        return self.row_info(self.cursor_row)[:2]

    def row_info(self, row: int) -> tuple[str, int | None, str | None]:
        """(path, new line or None, flagging cluster id or None) for any row."""
        idx = self._index
        if not 0 <= row < len(idx):
            return ("", None, None)
        path = idx.paths[idx.file_of[row]]
        new = idx.new_no[row] if idx.kinds[row] in (RowKind.CONTEXT, RowKind.ADD) else None
        cluster = self._flag_of.get(row)
        return (path, new, cluster.id if cluster else None)

    @property
    def flagged_rows(self) -> list[int]:
        return list(self._flag_rows)

    # ------------------------------------------------------------------------------ internals

    def on_mount(self) -> None:
        # ScrollView.on_mount runs too: Textual dispatches handlers along the MRO.
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def _on_theme_changed(self, _theme: Theme) -> None:
        self._palette = None
        self._syntax = None
        self._tokens.clear()
        self._invalidate()

    def notify_style_update(self) -> None:
        """CSS changed (focus, theme, class): the base style may differ, redraw everything."""
        super().notify_style_update()
        if self._palette is not None and self._palette.base != self.rich_style:
            self._palette = None
            self._invalidate()

    def _invalidate(self) -> None:
        self._generation += 1
        self._cache.clear()
        self.refresh()

    def _apply_flags(self) -> None:
        idx = self._index
        flag_of: dict[int, Cluster] = {}
        for cluster in self._clusters:
            file_index = idx.file_index(cluster.path)
            if file_index is None:
                continue
            start, end = sorted((cluster.start_line, cluster.end_line))
            for line in range(start, end + 1):
                row = idx.row_of_new_line(file_index, line)
                if row is not None and row not in flag_of:
                    flag_of[row] = cluster
        self._flag_of = flag_of
        self._flag_rows = sorted(flag_of)

    def _get_palette(self) -> Palette:
        if self._palette is None:
            self._palette = build_palette(self)
        return self._palette

    def _row_tokens(self, row: int) -> list[tuple[str, Style]] | None:
        """Syntax tokens for a code row, lexing its whole hunk the first time."""
        idx = self._index
        hunk = idx.hunk_of[row]
        if hunk < 0:
            return None
        tokens = self._tokens.get(hunk)
        if tokens is None:
            tokens = self._lex_hunk(hunk)
            self._tokens[hunk] = tokens
        return tokens.get(row)

    def _lex_hunk(self, hunk: int) -> dict[int, list[tuple[str, Style]]]:
        idx = self._index
        first, end = idx.hunk_rows[hunk]
        lexer = lexer_for(idx.paths[idx.file_of[first - 1]])  # first - 1 is the hunk header
        if lexer is None or end - first > HIGHLIGHT_LIMIT:
            return {}
        if self._syntax is None:
            self._syntax = SyntaxStyles(self._get_palette().dark)
        kinds = idx.kinds
        new_side = [r for r in range(first, end) if kinds[r] in (RowKind.CONTEXT, RowKind.ADD)]
        old_side = [r for r in range(first, end) if kinds[r] == RowKind.REMOVE]
        out: dict[int, list[tuple[str, Style]]] = {}
        for rows in (new_side, old_side):
            if rows:
                lex_rows(lexer, self._syntax, [idx.text[r] for r in rows], rows, out)
        return out

    def _row_segments(self, row: int, is_cursor: bool, pal: Palette) -> list[Segment]:
        """Gutter and code of one row, unstyled by width (no cropping)."""
        idx = self._index
        kind = idx.kinds[row]
        text = idx.text[row]
        base = pal.base + pal.cursor_bg if is_cursor else pal.base
        if kind == RowKind.FILE:
            style = pal.base + pal.file + (pal.cursor_bg if is_cursor else Style())
            return [Segment(text, style)]
        if kind == RowKind.HUNK:
            return [Segment(" " * (self.gutter_width - 1), base), Segment(text, base + pal.hunk)]
        if kind == RowKind.META:
            return [Segment(" " * self.gutter_width, base), Segment(text, base + pal.meta)]

        if not is_cursor and kind == RowKind.ADD:
            base = base + pal.add_bg
        elif not is_cursor and kind == RowKind.REMOVE:
            base = base + pal.remove_bg
        width = idx.number_width
        old = idx.old_no[row]
        new = idx.new_no[row]
        numbers = f"{old if old else '':>{width}} {new if new else '':>{width}} "
        cluster = self._flag_of.get(row)
        if cluster is not None:
            mark = glyphs.agreement(cluster.agreement)
            mark_style = base + pal.flag_bg + pal.agreement.get(cluster.agreement, Style(bold=True))
            mark_segment = Segment(mark.glyph, mark_style)
        else:
            mark_segment = Segment(" ", base)
        sign_style = base
        if kind == RowKind.ADD:
            sign_style = base + pal.add_sign
        elif kind == RowKind.REMOVE:
            sign_style = base + pal.remove_sign
        segments = [
            Segment(numbers, base + pal.number),
            mark_segment,
            Segment(" ", base),
            Segment(SIGN.get(kind, " "), sign_style),
            Segment(" ", base),
        ]
        tokens = self._row_tokens(row)
        if tokens:
            segments.extend(Segment(part, base + style) for part, style in tokens)
        else:
            segments.append(Segment(text, base))
        return segments

    def _row_strip(self, row: int, width: int, scroll_x: int) -> Strip:
        is_cursor = row == self.cursor_row
        key = (row, width, scroll_x, is_cursor, self._generation)
        strip = self._cache.get(key)
        if strip is not None:
            return strip
        pal = self._get_palette()
        segments = self._row_segments(row, is_cursor, pal)
        kind = self._index.kinds[row]
        fill = pal.base
        if is_cursor:
            fill = pal.base + pal.cursor_bg
        elif kind == RowKind.ADD:
            fill = pal.base + pal.add_bg
        elif kind == RowKind.REMOVE:
            fill = pal.base + pal.remove_bg
        elif kind == RowKind.FILE:
            fill = pal.base + pal.file
        if kind == RowKind.FILE:
            strip = Strip(segments).crop_extend(0, width, fill)
        else:
            gutter = self.gutter_width
            whole = Strip(segments)
            head = whole.crop(0, gutter)
            body = whole.crop(gutter + scroll_x, gutter + scroll_x + max(0, width - gutter))
            strip = Strip.join([head, body]).crop_extend(0, width, fill)
        self._cache[key] = strip
        return strip

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.scrollable_content_region.width
        if row >= len(self._index) or row < 0:
            return Strip.blank(width, self.rich_style)
        return self._row_strip(row, width, scroll_x)

    # ------------------------------------------------------------------------------- movement

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(len(self._index) - 1, row))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh_line(old)
        self.refresh_line(new)

    def _set_cursor(self, row: int, *, near_top: bool = False) -> None:
        self.cursor_row = row
        if not len(self._index):
            return
        if near_top:
            self._scroll_near_top()
            if not self.size.height:
                self.call_after_refresh(self._scroll_near_top)
        else:
            self._scroll_cursor_into_view()

    def _scroll_near_top(self) -> None:
        self.scroll_to(y=max(0, self.cursor_row - 2), animate=False, immediate=True)

    def _scroll_cursor_into_view(self) -> None:
        top = round(self.scroll_y)
        page = self._page
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + page:
            self.scroll_to(y=self.cursor_row - page + 1, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        self._set_cursor(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self._set_cursor(self.cursor_row - 1)

    def action_page_down(self) -> None:
        page = self._page
        self.scroll_to(y=round(self.scroll_y) + page, animate=False, immediate=True)
        self._set_cursor(self.cursor_row + page)

    def action_page_up(self) -> None:
        page = self._page
        self.scroll_to(y=max(0, round(self.scroll_y) - page), animate=False, immediate=True)
        self._set_cursor(self.cursor_row - page)

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        self._set_cursor(len(self._index) - 1)

    def action_scroll_left(self) -> None:
        self.scroll_to(x=max(0, round(self.scroll_x) - 8), animate=False, immediate=True)

    def action_scroll_right(self) -> None:
        self.scroll_to(x=round(self.scroll_x) + 8, animate=False, immediate=True)

    def action_next_flag(self) -> None:
        """Next flagged line after the cursor (wraps around)."""
        rows = self._flag_rows
        if not rows:
            self.app.bell()
            return
        at = bisect.bisect_right(rows, self.cursor_row)
        self._set_cursor(rows[at] if at < len(rows) else rows[0], near_top=True)

    def action_previous_flag(self) -> None:
        rows = self._flag_rows
        if not rows:
            self.app.bell()
            return
        at = bisect.bisect_left(rows, self.cursor_row)
        self._set_cursor(rows[at - 1] if at > 0 else rows[-1], near_top=True)

    def action_next_file(self) -> None:
        starts = self._index.file_rows
        at = bisect.bisect_right(starts, self.cursor_row)
        if at < len(starts):
            self._set_cursor(starts[at], near_top=True)

    def action_previous_file(self) -> None:
        starts = self._index.file_rows
        at = bisect.bisect_left(starts, self.cursor_row)
        if at > 0:
            self._set_cursor(starts[at - 1], near_top=True)

    def action_select_line(self) -> None:
        self._post_selection(self.cursor_row)

    def _post_selection(self, row: int) -> None:
        path, new_line, cluster_id = self.row_info(row)
        if cluster_id is not None:
            self.post_message(self.LineSelected(self, path, new_line, cluster_id))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = round(self.scroll_y) + offset.y
        if 0 <= row < len(self._index):
            self._set_cursor(row)
            self._post_selection(row)
