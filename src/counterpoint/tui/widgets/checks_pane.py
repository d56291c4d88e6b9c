"""ChecksPane: the repository's checks on the round's proposal, as a tab beside the reviewers.

A status line (▶ running with elapsed time, then pass/fail counts and ✓/✗ per check, new
failures and the ones already failing on the base), the new failures (each a finding of
reviewer `check:NAME`: `enter` on one jumps to its cluster in the findings table), and the
checks' output — live while they run (the session keeps it, the events come throttled), the
end of it once they are done. Check output is hostile: plain Text, control characters shown
as escapes, only the last `OUTPUT_LINES` lines drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from counterpoint.core import glyphs
from counterpoint.core.safe_text import visible
from counterpoint.tui.checks_view import status_text
from counterpoint.tui.theme import theme_color
from counterpoint.tui.widgets.findings_table import location_label

if TYPE_CHECKING:
    from counterpoint.core.session import RoundState

__all__ = ["ChecksPane", "OUTPUT_LINES"]

OUTPUT_LINES = 200
"""Lines of output drawn (the tail): the pane's cost does not grow with a chatty check."""


def output_tail(r: RoundState, lines: int = OUTPUT_LINES) -> str:
    """The checks' output: what streamed so far while they run, else their final output."""
    if r.checks_running or r.checks is None:
        parts = [(name, "".join(pieces)) for name, pieces in r.check_output.items()]
    else:
        parts = [(res.name, res.output) for res in r.checks.results]
    several = len(parts) > 1
    text = "\n".join((f"── {name} ──\n" if several else "") + out for name, out in parts if out or several)
    return "\n".join(text.splitlines()[-lines:])


class ChecksPane(Vertical):
    """The checks of one round; `show(r, ...)` redraws it from the session state."""

    DEFAULT_CSS = """
    ChecksPane { height: 1fr; border: round $panel-lighten-2; }
    ChecksPane:focus-within { border: round $accent; }
    ChecksPane > #checks-status { height: auto; max-height: 4; padding: 0 1; }
    ChecksPane > #checks-failures { height: auto; max-height: 8; border: none; padding: 0; }
    ChecksPane > #checks-failures.-empty { display: none; }
    ChecksPane > VerticalScroll { height: 1fr; padding: 0 1; }
    ChecksPane #checks-output { color: $text-muted; }
    """

    class FailureChosen(Message):
        """The human chose a failure: show its finding (`finding_id`)."""

        def __init__(self, finding_id: str) -> None:
            super().__init__()
            self.finding_id = finding_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[object, ...] | None = None
        self._last: tuple[RoundState, list[str], bool, str] | None = None
        self.border_title = "Checks"

    def compose(self) -> ComposeResult:
        yield Static(id="checks-status")
        yield OptionList(id="checks-failures", classes="-empty")
        with VerticalScroll():
            yield Static(id="checks-output")

    def _colour(self, variable: str) -> Style:
        return Style(color=theme_color(self.app, variable).rich_color)

    @property
    def failures(self) -> OptionList:
        return self.query_one("#checks-failures", OptionList)

    def status(self) -> str:
        return str(self.query_one("#checks-status", Static).render())

    def output(self) -> str:
        return str(self.query_one("#checks-output", Static).render())

    def show(self, r: RoundState, *, names: list[str], sandboxed: bool, elapsed: str = "") -> None:
        running = names if r.checks_running else []
        ready = r.checks
        status = status_text(ready, self._colour, running=running, elapsed=elapsed,
                             sandboxed=sandboxed if ready is None else ready.sandboxed)
        if ready is not None and not running:
            for result in ready.results:
                for title in result.preexisting:
                    status.append(f"\n  already failing on the base: {visible(title, newlines=False)}", style="dim")
        self.query_one("#checks-status", Static).update(status)
        self._last = (r, names, sandboxed, elapsed)
        findings = [] if running or ready is None else list(ready.findings)
        width = self.failures.content_size.width or self.content_size.width or 60
        key = (r.number, tuple(f.id for f in findings), width)
        if key != self._shown:
            self._shown = key
            mark = glyphs.check_status("failed")
            options = []
            for f in findings:
                prompt = Text(no_wrap=True, overflow="ellipsis")
                prompt.append(f"{mark.glyph} {visible(f.reviewer.removeprefix('check:'), newlines=False)}  ",
                              style=self._colour(mark.variable))
                prompt.append(location_label(f.path, f.start_line, f.end_line), style="underline")
                prompt.append(f"  {visible(f.title, newlines=False)}")
                prompt.truncate(max(10, width - 1), overflow="ellipsis")  # one line per failure
                options.append(Option(prompt, id=f.id))
            failures = self.failures
            was = failures.highlighted_option.id if failures.highlighted_option is not None else None
            failures.clear_options()
            failures.add_options(options)
            failures.set_class(not options, "-empty")
            ids = [f.id for f in findings]
            if was in ids:  # redrawn for another width: the same failure stays highlighted
                failures.highlighted = ids.index(was)
        scroll = self.query_one(VerticalScroll)
        at_end = scroll.scroll_y >= scroll.max_scroll_y
        self.query_one("#checks-output", Static).update(Text(visible(output_tail(r))))
        if at_end:
            scroll.call_after_refresh(scroll.scroll_end, animate=False)

    def on_resize(self) -> None:
        if self._last is not None:
            r, names, sandboxed, elapsed = self._last
            self.show(r, names=names, sandboxed=sandboxed, elapsed=elapsed)

    def focus_failures(self) -> None:
        failures = self.failures
        if failures.option_count:
            failures.focus()
            if failures.highlighted is None:
                failures.highlighted = 0
        else:
            self.query_one(VerticalScroll).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.FailureChosen(event.option.id))
