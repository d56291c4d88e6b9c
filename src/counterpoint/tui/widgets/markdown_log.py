"""Streamed Markdown drawn with the line API: one widget, however long the answer.

Textual's `Markdown` widget mounts a widget per block, and the compositor walks every one
of them on each reflow: a 20k-token proposal (hundreds of blocks in two panes) makes every
frame, and so every key press, wait. `MarkdownLog` keeps the text as segments cut at
blank lines outside fenced code (`cut_segments`), renders each finished segment once per
width with Rich's Markdown (fenced code highlighted by language with Pygments) when it
first comes into view, caches the lines as `Strip`s, and re-renders only the growing last
segment as text arrives, at most once per frame. Rendering goes block by block through a
cache, so the growing segment costs only its last block. It happens before the log lays
out, a few blocks per step with the event loop free in between, never while the
compositor draws (which copies the lines of the last layout). A segment not seen yet
counts with an estimated height, corrected when it is rendered (keeping the reader's
place), so a frame costs the same at the first token and the twenty-thousandth. While the
view is at the bottom it follows the stream; scrolled up, it stays where the reader is.

A run of lines that start with `EMBED` is a block of its own that is not Markdown (each
such block's first line starts with EMBED twice): a subclass draws it (`render_embedded`;
the generator pane's edit blocks drawn as diffs, `edit_diff.ProposalLog`). How the text is
cut is `markdown_segments`.
EMBED is a control character, so model text (shown through `visible`) never holds it. The
end of the text may be rewritten (`rewrite`) as a stream's undecided part is decided.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

from rich.markdown import Markdown as RichMarkdown
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from counterpoint.core.safe_text import visible
from counterpoint.tui.widgets.markdown_segments import (
    EMBED,
    SEGMENT_CHARS,
    cut_segments,
    finish,
    joined_tight,
    run_for,
)

if TYPE_CHECKING:
    from textual.theme import Theme
    from textual.timer import Timer


FRAME = 1 / 20
"""Seconds between two layouts of a streaming log (several logs take turns, half of it apart)."""
IDLE = 0.3
"""Seconds without new text after which unseen segments are rendered, to exact heights."""
BLOCK_CACHE = 256
"""Rendered Markdown blocks kept for reuse (the tail's, as it grows and is cut)."""
REFINE_PAUSE = 0.01
"""Seconds between two steps of that rendering."""
STEP = 0.004
"""Seconds of rendering in one step, after which the event loop gets a turn (a step ends
after the block that crosses it)."""
STEP_PAUSE = 0.001
"""Seconds between two steps of rendering a frame."""

class MarkdownLog(ScrollView, can_focus=True):
    _last_layout = 0.0
    """When a streaming log last laid out (perf_counter), across all logs (see `_on_frame`)."""

    DEFAULT_CSS = """
    MarkdownLog { height: 1fr; padding: 0 1; background: $surface; scrollbar-gutter: stable; overflow-x: hidden; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._done: list[str] = []
        """Finished segments: rendered once per width."""
        self._done_chars = 0
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
        self._incoming = ""
        """Text appended since the last frame took it in (see `_on_frame`)."""
        self._work: Iterator[None] | None = None
        """The frame's rendering under way, a step at a time (see `_step`)."""
        self._ended = False
        """The stream ended: refine as soon as the last frame is laid out."""
        self._refine: Iterator[None] | None = None
        """Rendering every segment still at an estimated height (see `_start_refine`)."""
        self._refine_timer: Timer | None = None
        self._idle: Timer | None = None
        self._fixing = False
        """A relayout is due or under way: segments rendered meanwhile need no other."""

    # -- the text ----------------------------------------------------------------------
    @property
    def source(self) -> str:
        return "".join(self._done) + self._tail + self._incoming

    def update(self, text: str) -> None:
        """Show `text` from scratch, laid out at once (not at the next frame)."""
        if self._pending is not None:
            self._pending.stop()
            self._pending = None
        self._stop_refine()
        self._work = None
        self._incoming = ""
        self._ended = False
        *self._done, self._tail = cut_segments(text)
        self._done_chars = len(text) - len(self._tail)
        self._rendered.clear()
        self._estimates.clear()
        self._tail_lines = None
        self._relayout()
        self._start_refine()

    def append(self, fragment: str) -> None:
        """Add text at the end, as a stream does: laid out at the next frame."""
        if not fragment:
            return
        self._incoming += fragment
        if not self.is_attached:
            self._take_incoming()  # nothing on screen to pace
        elif self._pending is None:
            # Lay out at most once per frame however fast text arrives.
            self._pending = self.set_timer(FRAME, self._on_frame)

    def rewrite(self, keep: int, fragment: str) -> bool:
        """Replace what follows the first `keep` characters of the text with `fragment`, as
        `append` does (laid out at the next frame). False, changing nothing, when that
        reaches into finished segments (`update` then)."""
        at = keep - self._done_chars
        if at < 0:
            return False
        if at < len(self._tail):
            self._tail = self._tail[:at]
            self._incoming = ""
            self._tail_lines = None
            if self._work is not None:
                self._work = self._bottom()  # it was rendering the old tail
        else:
            self._incoming = self._incoming[: at - len(self._tail)]
        self._incoming += fragment
        if not self.is_attached:
            self._take_incoming()
        elif self._pending is None:
            self._pending = self.set_timer(FRAME, self._on_frame)
        return True

    def flush(self) -> None:
        """The stream ended: once what arrived is laid out (at the next frame), render the
        segments still counted with an estimated height, a step at a time, so the layout
        ends exact (and the same however the text arrived)."""
        if self._pending is None:
            self._start_refine()
        else:
            self._ended = True

    def _take_incoming(self) -> None:
        self._tail += self._incoming
        self._incoming = ""
        if len(self._tail) >= 2 * SEGMENT_CHARS:
            *finished, self._tail = cut_segments(self._tail)
            self._done.extend(finished)
            self._done_chars += sum(map(len, finished))
        self._tail_lines = None

    def _on_frame(self) -> None:
        # Several logs streaming at once take turns, half a frame apart: a key pressed
        # meanwhile then waits for one log's layout, not for all of them back to back.
        wait = MarkdownLog._last_layout + FRAME / 2 - time.perf_counter()
        if wait > 0:
            self._pending = self.set_timer(wait, self._on_frame)
            return
        MarkdownLog._last_layout = time.perf_counter()
        self._stop_refine()
        self._take_incoming()
        # A follower's view is rendered first, a few blocks per step (`_step`); what is
        # drawn meanwhile is the last layout, and text arriving meanwhile waits its frame.
        self._work = self._bottom() if self._follow else None
        self._step()

    def _step(self) -> None:
        if self._work is not None and not run_for(self._work, STEP):
            self._pending = self.set_timer(STEP_PAUSE, self._step)
            return
        self._work = None
        self._pending = None
        self._relayout()  # renders nothing new for a follower: all of it is cached now
        if self._incoming:
            self._pending = self.set_timer(FRAME, self._on_frame)
        else:
            # The stream ended, or pauses (a slow model, a held one): make heights exact.
            if self._idle is not None:
                self._idle.stop()
            self._idle = self.set_timer(REFINE_PAUSE if self._ended else IDLE, self._start_refine)
            self._ended = False

    def _start_refine(self) -> None:
        if self._idle is not None:
            self._idle.stop()
            self._idle = None
        if self._refine is None and self.is_attached and len(self._rendered) < len(self._done):
            self._refine = self._unrendered()
            self._refine_timer = self.set_timer(REFINE_PAUSE, self._refine_step)

    def _stop_refine(self) -> None:
        if self._idle is not None:
            self._idle.stop()
            self._idle = None
        if self._refine_timer is not None:
            self._refine_timer.stop()
            self._refine_timer = None
        self._refine = None

    def _refine_step(self) -> None:
        self._refine_timer = None
        if self._refine is None or not self.is_attached:
            self._refine = None
            return
        self._fixing = True  # the relayout below counts what this renders
        finished = run_for(self._refine, STEP)
        self._relayout()
        if finished:
            self._refine = None
        else:
            # A short pause between steps, so a key or a frame never waits behind a run of them.
            self._refine_timer = self.set_timer(REFINE_PAUSE, self._refine_step)

    def _unrendered(self) -> Iterator[None]:
        """Render every finished segment not rendered yet, a block at a time."""
        for index in range(len(self._done)):
            if index not in self._rendered:
                yield from self._segment(index)

    @property
    def settled(self) -> bool:
        """Nothing waits to be laid out or rendered."""
        return (
            self._pending is None
            and self._idle is None
            and not self._fixing
            and self._refine is None
            and not self._incoming
        )

    # -- layout ------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def _on_theme_changed(self, _theme: Theme) -> None:
        self._blocks.clear()  # embedded blocks are drawn in the theme's colours
        self._forget_rendered()
        self._relayout()
        self._start_refine()

    def on_resize(self) -> None:
        self._relayout()  # a new width re-renders; a new height keeps a follower at the end

    def _forget_rendered(self) -> None:
        """New width or theme: rendered lines are stale, and so is rendering under way."""
        self._rendered.clear()
        self._tail_lines = None
        if self._work is not None:
            self._work = self._bottom()
        if self._refine is not None:
            self._refine = self._unrendered()

    def _rendering(self, text: str, width: int) -> Generator[None, None, list[Strip]]:
        """`text` block by block (cut where a block starts after a blank line), each block's
        lines cached: the live tail re-renders only its last, growing block each frame, and
        a segment that leaves the tail finds its blocks already rendered. Yields after each
        block it had to render (a step boundary); returns the lines."""
        dark = self.app.current_theme.dark if self.is_attached else True
        lines: list[Strip] = []
        previous = ""
        for block in cut_segments(text, 0):
            if lines and not joined_tight(previous, block):
                lines.append(Strip([]))  # Rich separates blocks with one blank line
            previous = block
            key = (block, width, dark)
            rendered = self._blocks.get(key)
            if rendered is None:
                rendered = self._blocks[key] = self._render_block(block, width, dark)
                yield
            lines += rendered
        return lines

    def _render_markdown(self, text: str, width: int) -> list[Strip]:
        return finish(self._rendering(text, width))

    def render_embedded(self, text: str, width: int) -> list[Strip]:
        """Lines of an embedded block (its lines start with EMBED): plain text unless a
        subclass draws it."""
        console = self.app.console
        options = console.options.update(width=width, height=None, highlight=False)
        plain = Text(visible(text.replace(EMBED, "")).rstrip("\n"))
        return [Strip(line) for line in console.render_lines(plain, options, pad=False)]

    def _render_block(self, text: str, width: int, dark: bool) -> list[Strip]:
        if text.startswith(EMBED):
            return self.render_embedded(text, width)
        # Model text: control characters become visible escapes before Rich sees them.
        markdown = RichMarkdown(
            visible(text), code_theme="monokai" if dark else "friendly", hyperlinks=False
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

    def _segment(self, index: int) -> Generator[None, None, list[Strip]]:
        lines = self._rendered.get(index)
        if lines is None:
            # A blank line after a segment that ends a block: Rich separates blocks with one
            # (not after one cut between two items of a list).
            segment = self._done[index]
            lines = yield from self._rendering(segment, self._width)
            following = self._done[index + 1] if index + 1 < len(self._done) else self._tail
            lines = list(lines) if joined_tight(segment, following) else lines + [Strip([])]
            self._rendered[index] = lines
            # Drawn outside a layout (scrolled to), at another height than laid out: fix it.
            known = self._heights[index] if index < len(self._heights) else None
            if len(lines) != known and not self._fixing:
                self._fixing = True
                self.call_after_refresh(self._relayout)
        return lines

    def _segment_lines(self, index: int) -> list[Strip]:
        return finish(self._segment(index))

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

    def _bottom(self) -> Generator[None, None, None]:
        """Render what a follower will see (the tail, then finished segments upward until
        the view is full) before the layout that shows it, never while the compositor
        draws. A step at a time (see `_rendering`), so a key pressed during a stream waits
        for a block's rendering at most, not for a whole view of them."""
        self._fixing = True  # the layout that follows counts these at their height
        if self._tail_lines is None:
            tail = self._tail
            self._tail_lines = (yield from self._rendering(tail, self._width)) if tail.strip() else []
        shown = len(self._tail_lines)
        height = self.scrollable_content_region.height
        index = len(self._done) - 1
        while index >= 0 and shown < height:
            shown += len((yield from self._segment(index)))
            index -= 1

    def _tail_strips(self) -> list[Strip]:
        if self._tail_lines is None:
            self._tail_lines = (
                self._render_markdown(self._tail, self._width) if self._tail.strip() else []
            )
        return self._tail_lines

    def _relayout(self) -> None:
        if not self.is_attached:
            self._fixing = False
            return
        self._fixing = True  # this layout counts the segments it renders at their height
        width = max(1, self.scrollable_content_region.width)
        if width != self._width:
            self._width = width
            self._estimates.clear()
            self._forget_rendered()
            if self._pending is None:  # not streaming: make the new width exact too
                self.call_after_refresh(self._start_refine)
        following = self._follow
        old_starts = self._starts
        if following:
            finish(self._bottom())
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
        self._fixing = False
        self.refresh()
        self.call_after_refresh(self._sync_scrollbar)

    def _sync_scrollbar(self, again: bool = True) -> None:
        """A scrollbar shown after the scroll happened still has the old thumb position
        (Textual moves it only when `scroll_y` changes while the bar is shown)."""
        if not self.is_attached:
            return
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y
        elif again and self.virtual_size.height > self.scrollable_content_region.height:
            self.call_after_refresh(self._sync_scrollbar, False)  # the bar shows at the next layout

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
