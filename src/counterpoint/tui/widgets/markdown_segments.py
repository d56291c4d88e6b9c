"""Cutting streamed Markdown into pieces that render alone as they render together (see
`markdown_log.MarkdownLog`), and running rendering steps for a while or to the end.

A run of lines that start with `EMBED` is a piece of its own that is not Markdown (each
such piece's first line starts with EMBED twice); `MarkdownLog.render_embedded` draws it.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from typing import TypeVar

__all__ = ["EMBED", "SEGMENT_CHARS", "block_boundaries", "cut_segments", "finish", "joined_tight",
           "run_for"]

SEGMENT_CHARS = 600
"""About how much text one segment holds; the live (last) segment stays under twice that."""
EMBED = "\x1a"
"""First character of each line of an embedded block (see `MarkdownLog.render_embedded`)."""

T = TypeVar("T")


def run_for(steps: Iterator[object], seconds: float) -> bool:
    """Advance `steps` for about `seconds`; True once they are exhausted."""
    deadline = time.perf_counter() + seconds
    for _ in steps:
        if time.perf_counter() >= deadline:
            return False
    return True


def finish(steps: Generator[None, None, T]) -> T:
    """Run `steps` to the end at once; their return value."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def _bullet(line: str) -> str | None:
    """The marker of a top-level bullet item's first line (`- x`, `* x`, `+ x`), else None."""
    if line[:1] and line[:1] in "-*+" and line[1:2] == " " and line[2:3].strip():
        if not set(line.strip()) <= {line[0], " "}:  # `- - -` is a rule, not an item
            return line[0]
    return None


def joined_tight(before: str, after: str) -> bool:
    """`before` and `after` were cut between two items of one bullet list: drawn one under
    the other, without the blank line Rich puts between two blocks."""
    if not before.endswith("\n"):
        return False
    last = before[before.rfind("\n", 0, len(before) - 1) + 1 :]
    marker = _bullet(last)
    return marker is not None and _bullet(after) == marker


def block_boundaries(text: str) -> list[int]:
    """Offsets where a Markdown block starts after a blank line, outside fenced code, where
    an embedded block starts or ends, and between two one-line items of a top-level bullet
    list: where the text can be cut into pieces that render alone as they render together
    (a review's 5,000 findings are one list: cut there, the growing end of a long list is
    rendered alone, not the whole list each frame; see `joined_tight`)."""
    out: list[int] = []
    fence: str | None = None
    offset = 0
    previous_blank = False
    previous_embedded = False
    previous_bullet: str | None = None
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        embedded = line.startswith(EMBED)
        if embedded or previous_embedded:
            if (embedded != previous_embedded or line.startswith(EMBED * 2)) and offset:
                out.append(offset)
            previous_embedded = embedded
            if embedded:
                fence = None  # an embedded block ends any fence left open before it
                previous_blank = False
                previous_bullet = None
                offset += len(line)
                continue
        bullet = _bullet(line) if fence is None else None
        if fence is None:
            after_blank = previous_blank and stripped and offset and not line[:1].isspace()
            if after_blank or (bullet is not None and bullet == previous_bullet):
                out.append(offset)
            if stripped.startswith(("```", "~~~")):
                fence = stripped[:3]
        elif stripped.startswith(fence) and not stripped.strip(fence[0]):
            fence = None
        previous_blank = not stripped
        previous_bullet = bullet
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
