"""Streamed Markdown drawn with the line API: one widget, however long the answer.

Textual's `Markdown` widget mounts a widget per block, and the compositor walks every one
of them on each reflow: a 20k-token proposal (hundreds of blocks in two panes) makes every
frame, and so every key press, wait. `MarkdownLog` keeps the text as segments cut at
blank lines outside fenced code (`cut_segments`), renders each finished segment once per
width with Rich's Markdown (fenced code highlighted by language with Pygments) when it
first comes into view, caches the lines as `Strip`s, and re-renders only the growing last
segment as text arrives, at most once per frame. Rendering goes block by block through a
cache, so the growing segment costs only its last block, and it happens when the log lays
out, never while the compositor draws (which only copies the lines of the last layout). A segment not seen yet counts with an
estimated height, corrected when it is rendered (keeping the reader's place), so a frame
costs the same at the first token and the twenty-thousandth. While the view is at the
bottom it follows the stream; scrolled up, it stays where the reader is.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from typing import TYPE_CHECKING

from rich.markdown import Markdown as RichMarkdown
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

if TYPE_CHECKING:
    from textual.theme import Theme
    from textual.timer import Timer

SEGMENT_CHARS = 600
"""About how much text one segment holds; the live (last) segment stays under twice that."""

FRAME = 1 / 20
IDLE = 0.3
"""Seconds without new text after which unseen segments are rendered, to exact heights."""
BLOCK_CACHE = 256
"""Rendered Markdown blocks kept for reuse (the tail's, as it grows and is cut)."""
REFINE_PAUSE = 0.01
"""Seconds between two steps of that rendering."""


def block_boundaries(text: str) -> list[int]:
    """Offsets where a Markdown block starts after a blank line, outside fenced code:
    where the text can be cut into pieces that render alone as they render together."""
    out: list[int] = []
    fence: str | None = None
    offset = 0
    previous_blank = False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if fence is None:
            if previous_blank and stripped and offset and not line[:1].isspace():
                out.append(offset)
            if stripped.startswith(("```", "~~~")):
                fence = stripped[:3]
        elif stripped.startswith(fence) and not stripped.strip(fence[0]):
            fence = None
        previous_blank = not stripped
        offset += len(line)
    return out


def cut_segments(text: str, size: int = SEGMENT_CHARS) -> list[str]:
    """`text` cut at block boundaries into pieces of about `size` characters (a piece with
    no boundary inside may be longer). Always at least one piece; they join to `text`."""
    pieces: list[str] = []
    start = 0
    for boundary in block_boundaries(text):
        if boundary - start >= size:
            pieces.append(text[start:boundary])
            start = boundary
    pieces.append(text[start:])
    return pieces


class MarkdownLog(ScrollView, can_focus=True):
    _last_layout = 0.0
    """When a streaming log last laid out (perf_counter), across all logs (see `_on_frame`)."""

    DEFAULT_CSS = """
    MarkdownLog { height: 1fr; padding: 0 1; background: $surface; scrollbar-gutter: stable; overflow-x: hidden; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(name=name, id=id, classes=classes)
        self._done: list[str] = []
        """Finished segments: rendered once per width."""
        self._tail = ""
        self._width = 0
        self._rendered: dict[int, list[Strip]] = {}
        """Lines of finished segments at `_width`, by segment index."""
        self._blocks: LRUCache[tuple[str, int, bool], list[Strip]] = LRUCache(BLOCK_CACHE)
        """Rendered Markdown blocks (see `_render_markdown`)."""
        self._estimates: dict[int, int] = {}
        """Estimated heights of finished segments at `_width`, by segment index."""
        self._drawn: LRUCache[tuple[int, int, int, Style], tuple[Strip, Strip]] = LRUCache(1024)
        """Lines as last drawn (cropped and styled), by source line (see `render_line`)."""
        self._frame: tuple[int, Style] = (0, Style())
        """The width and style of the frame being drawn (see `render_lines`)."""
        self._tail_lines: list[Strip] | None = None
        self._shown_tail: list[Strip] = []
        """The tail's lines as last laid out (what is drawn until the next layout)."""
        self._starts: list[int] = [0]
        """First line of each finished segment, then of the tail."""
        self._pending: Timer | None = None
        self._heights: list[int] = []
        self._follow = True
        """At the bottom: keep showing the newest text."""
        self._refining = False
        self._idle: Timer | None = None
        self._fixing = False

    # -- the text ----------------------------------------------------------------------
    @property
    def source(self) -> str:
        return "".join(self._done) + self._tail

    def update(self, text: str) -> None:
        """Show `text` from scratch, laid out at once (not at the next frame)."""
        if self._pending is not None:
            self._pending.stop()
            self._pending = None
        *self._done, self._tail = cut_segments(text)
        self._rendered.clear()
        self._estimates.clear()
        self._tail_lines = None
        self._relayout()
        self.flush()

    def append(self, fragment: str) -> None:
        """Add text at the end, as a stream does."""
        if not fragment:
            return
        self._tail += fragment
        if len(self._tail) >= 2 * SEGMENT_CHARS:
            *finished, self._tail = cut_segments(self._tail)
            self._done.extend(finished)
        self._tail_lines = None
        if self._pending is None and self.is_attached:
            # Lay out at most once per frame however fast text arrives.
            self._pending = self.set_timer(FRAME, self._on_frame)

    def _on_frame(self) -> None:
        # Several logs streaming at once take turns, half a frame apart: a key pressed
        # meanwhile then waits for one log's layout, not for all of them back to back.
        wait = MarkdownLog._last_layout + FRAME / 2 - time.perf_counter()
        if wait > 0:
            self._pending = self.set_timer(wait, self._on_frame)
            return
        MarkdownLog._last_layout = time.perf_counter()
        self._flush()

    def _flush(self) -> None:
        self._pending = None
        self._relayout()
        # Use a pause in the stream (a slow model, a held one) to make heights exact.
        if self._idle is not None:
            self._idle.stop()
        self._idle = self.set_timer(IDLE, self._start_refine)

    def flush(self) -> None:
        """The stream ended: lay out now, then render the segments still counted with an
        estimated height, a few per frame, so the layout ends exact (and the same however
        the text arrived)."""
        if self._pending is not None:
            self._pending.stop()
            self._flush()
        self._start_refine()

    def _start_refine(self) -> None:
        if self._idle is not None:
            self._idle.stop()
            self._idle = None
        if not self._refining and self.is_attached:
            self._refining = True
            self.call_after_refresh(self._refine)

    def _refine(self) -> None:
        if not self.is_attached:
            self._refining = False
            return
        budget = time.perf_counter() + 0.004
        todo = [i for i in range(len(self._done)) if i not in self._rendered]
        for index in todo:
            self._segment_lines(index)
            if time.perf_counter() > budget:
                break
        self._relayout()
        if len(self._rendered) < len(self._done):
            # A short pause between steps, so a key or a frame never waits behind a run of
            # them (after-refresh callbacks of every pane would run back to back).
            self.set_timer(REFINE_PAUSE, self._refine)
        else:
            self._refining = False

    @property
    def settled(self) -> bool:
        """Nothing waits to be laid out or rendered."""
        return (
            self._pending is None
            and self._idle is None
            and not self._fixing
            and not self._refining
        )

    # -- layout ------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def _on_theme_changed(self, _theme: Theme) -> None:
        self._rendered.clear()
        self._tail_lines = None
        self._relayout()
        self._start_refine()

    def on_resize(self) -> None:
        self._relayout()  # a new width re-renders; a new height keeps a follower at the end

    def _render_markdown(self, text: str, width: int) -> list[Strip]:
        """`text` block by block (cut where a block starts after a blank line), each block's
        lines cached: the live tail re-renders only its last, growing block each frame, and
        a segment that leaves the tail finds its blocks already rendered."""
        dark = self.app.current_theme.dark if self.is_attached else True
        lines: list[Strip] = []
        for block in cut_segments(text, 0):
            if lines:
                lines.append(Strip([]))  # Rich separates blocks with one blank line
            key = (block, width, dark)
            rendered = self._blocks.get(key)
            if rendered is None:
                rendered = self._blocks[key] = self._render_block(block, width, dark)
            lines += rendered
        return lines

    def _render_block(self, text: str, width: int, dark: bool) -> list[Strip]:
        markdown = RichMarkdown(
            text, code_theme="monokai" if dark else "friendly", hyperlinks=False
        )
        console = self.app.console
        options = console.options.update(width=width, height=None, highlight=False)
        lines = [Strip(line) for line in console.render_lines(markdown, options, pad=False)]
        # Alone, a list or a quote starts with a blank line that Rich merges with the one
        # between blocks when they render together: drop it, so blocks joined with one blank
        # line draw what the whole text draws. A code block's blank line is its padding: kept.
        if lines and not lines[0].text.strip() and not text.lstrip().startswith(("```", "~~~")):
            return lines[1:]
        return lines

    def _segment_lines(self, index: int) -> list[Strip]:
        lines = self._rendered.get(index)
        if lines is None:
            # A blank line after each finished segment: Rich separates blocks with one.
            lines = self._render_markdown(self._done[index], self._width) + [Strip([])]
            self._rendered[index] = lines
            # Heights may lag the text by a frame (appended, not laid out yet): fix them.
            known = self._heights[index] if index < len(self._heights) else None
            if len(lines) != known and not self._fixing:
                self._fixing = True
                self.call_after_refresh(self._relayout)
        return lines

    def _estimate(self, index: int) -> int:
        """Lines a segment will take, before it is rendered: its text wrapped at the width,
        plus the padding Rich gives code blocks and the blank line after it."""
        known = self._estimates.get(index)
        if known is None:
            text = self._done[index]
            wrap = max(1, self._width - 2)
            lines = sum(max(1, -(-len(line) // wrap)) for line in text.splitlines())
            self._estimates[index] = known = lines + text.count("```") + 1
        return known

    def _render_bottom(self) -> None:
        """Render the finished segments a follower will see, here rather than when the
        compositor first draws them: the frame then only copies lines, so a key pressed
        during a stream waits for one pane's work at a time, not for all of it at once."""
        shown = len(self._tail_strips())
        height = self.scrollable_content_region.height
        index = len(self._done) - 1
        while index >= 0 and shown < height:
            shown += len(self._segment_lines(index))
            index -= 1

    def _tail_strips(self) -> list[Strip]:
        if self._tail_lines is None:
            self._tail_lines = (
                self._render_markdown(self._tail, self._width) if self._tail.strip() else []
            )
        return self._tail_lines

    def _relayout(self) -> None:
        self._fixing = False
        if not self.is_attached:
            return
        width = max(1, self.scrollable_content_region.width)
        if width != self._width:
            self._width = width
            self._rendered.clear()
            self._estimates.clear()
            self._tail_lines = None
            if self._pending is None:  # not streaming: make the new width exact too
                self.call_after_refresh(self._start_refine)
        following = self._follow
        old_starts = self._starts
        if following:
            self._render_bottom()
        self._heights = [
            len(self._rendered[i]) if i in self._rendered else self._estimate(i)
            for i in range(len(self._done))
        ]
        starts = [0]
        for height in self._heights:
            starts.append(starts[-1] + height)
        self._starts = starts
        self._shown_tail = self._tail_strips()
        total = starts[-1] + len(self._shown_tail)
        self.virtual_size = Size(width, total)
        if following:
            self.scroll_to(
                y=max(0, total - self.scrollable_content_region.height),
                animate=False,
                force=True,  # the scrollbar may appear only at the next layout
            )
        else:
            # Segments above the reader changed height (rendered at last): keep the place.
            top = bisect_right(old_starts, self.scroll_y) - 1
            if 0 <= top < len(starts) and top < len(old_starts):
                shift = starts[top] - old_starts[top]
                if shift:
                    self.scroll_to(y=self.scroll_y + shift, animate=False, force=True)
        self._follow = following
        self.refresh()
        self.call_after_refresh(self._sync_scrollbar)

    def _sync_scrollbar(self) -> None:
        """A scrollbar shown after the scroll happened still has the old thumb position
        (Textual moves it only when `scroll_y` changes while the bar is shown)."""
        if self.is_attached and self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # The reader scrolled: follow the stream again only once back at the bottom.
        self._follow = new_value >= self.max_scroll_y

    def _line(self, index: int) -> Strip | None:
        # Drawn as last laid out: text appended since waits for the next layout (a frame
        # later), so the compositor never renders Markdown itself.
        segment = bisect_right(self._starts, index) - 1
        offset = index - self._starts[segment]
        laid_out = len(self._starts) - 1
        lines = self._segment_lines(segment) if segment < laid_out else self._shown_tail
        return lines[offset] if 0 <= offset < len(lines) else None

    def render_lines(self, crop: Region) -> list[Strip]:
        # Once per frame, not once per line: the width and the style every line is drawn in.
        self._frame = (self.scrollable_content_region.width, self.rich_style)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width, style = self._frame
        strip = self._line(scroll_y + y)
        if strip is None:
            return Strip.blank(width, style)
        # A follower's lines move up a row or more a frame but stay the same lines: draw
        # each once (the entry keeps its source line, so an id is never reused meanwhile).
        key = (id(strip), scroll_x, width, style)
        entry = self._drawn.get(key)
        if entry is None or entry[0] is not strip:
            entry = (strip, strip.crop_extend(scroll_x, scroll_x + width, style).apply_style(style))
            self._drawn[key] = entry
        return entry[1]
