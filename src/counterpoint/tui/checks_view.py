"""How the checks' state reads on screen: one line of ✓/✗ per check, for the checks pane and
the apply screen. Text objects only: check output, names and messages are never markup, and
their control characters show as escapes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text

from counterpoint.core import glyphs
from counterpoint.core.safe_text import visible

if TYPE_CHECKING:
    from counterpoint.core.events import CheckResult, ChecksReady

Colour = Callable[[str], Style | str]
"""A theme variable's style (the widgets pass theirs; plain text passes `lambda _: ""`)."""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def counts(ready: ChecksReady) -> tuple[int, int]:
    """(checks passed, checks not passed)."""
    passed = sum(1 for r in ready.results if r.status == "passed")
    return passed, len(ready.results) - passed


def result_text(result: CheckResult, colour: Colour) -> Text:
    mark = glyphs.check_status(result.status)
    text = Text()
    text.append(f"{mark.glyph} {visible(result.name, newlines=False)} {mark.word}", style=colour(mark.variable))
    if result.new_failures:
        text.append(f" · {_plural(result.new_failures, 'new failure')}", style="bold")
    if result.preexisting_failures:
        text.append(f" · {result.preexisting_failures} already failing", style="dim")
    if result.message:
        text.append(f" · {visible(result.message, newlines=False)}")
    text.append(f" · {result.seconds:.1f} s", style="dim")
    return text


def status_text(
    ready: ChecksReady | None,
    colour: Colour,
    *,
    running: Sequence[str] = (),
    elapsed: str = "",
    sandboxed: bool = True,
) -> Text:
    """`running` names the checks under way (then `ready` is the last finished run, if any)."""
    text = Text()
    if running:
        mark = glyphs.check_status("running")
        text.append(f"{mark.glyph} running {visible(', '.join(running), newlines=False)}", style=colour(mark.variable))
        if elapsed:
            text.append(f" · {elapsed}", style="dim")
    elif ready is None:
        text.append("not run yet", style="dim")
    elif ready.problem:
        mark = glyphs.check_status("error")
        text.append(f"{mark.glyph} not run: ", style=colour(mark.variable))
        text.append(visible(ready.problem, newlines=False))
    else:
        passed, failed = counts(ready)
        text.append(f"{passed} passed · {failed} failed", style="bold")
        for result in ready.results:
            text.append("   ")
            text.append_text(result_text(result, colour))
    if not sandboxed:
        text.append("  · NOT SANDBOXED (--checks-unsandboxed)", style=colour("warning"))
    return text
