"""The generator's proposal as its pane shows it while it streams: the prose as Markdown, each
edit block as a diff (see `widgets.edit_diff`), never the raw SEARCH/REPLACE markers.

`ProposalStream` feeds the core's streaming edit parser (`core.edits.EditStreamParser`) only
the text that is new, keeps what the parser has decided (prose, finished blocks, reports of
blocks it could not read) as text that only grows, and adds what is not decided yet (the
block being read, the lines that may still be a block's header) after it: the pane's text
changes only at its end, so the log lays out only its end (`MarkdownLog.rewrite`).

With a way to read the files (`Read`), each block is numbered from the line where its SEARCH
text applies in the file as the blocks before it left it (`core.edit_apply`, as the
proposal is applied).

Model text is made inert here: prose through `visible` (so it can never hold the log's
EMBED marker), block fields in `edit_diff`.
"""

from __future__ import annotations

from collections.abc import Callable

from counterpoint.core.edit_apply import apply_edit_blocks, locate_search
from counterpoint.core.edits import EditBlock, EditStreamParser
from counterpoint.core.safe_text import visible
from counterpoint.tui.widgets.edit_diff import encode_edit, encode_note

__all__ = ["ProposalStream", "Read"]

Read = Callable[[str], "str | None"]
"""A file's text as the proposal's blocks edit it (None: missing or unreadable)."""


class ProposalStream:
    """One proposal's pane text, built as the proposal streams."""

    def __init__(self, read: Read | None = None) -> None:
        self._read = read
        self._start("")

    def _start(self, raw: str) -> None:
        self._raw = ""
        self._parser = EditStreamParser()
        self._parts: list[str] = []
        self._text = ""
        self._joined = 0
        self._shown_prose = 0
        """How much of the parser's explanation is in `_parts`."""
        self._placed = 0
        """How many of the parser's `sequence` are in `_parts`."""
        self._closed = False
        self._files: dict[str, str | None] = {}
        """Files as the finished blocks left them (read when a block first names them)."""
        self._found: tuple[str, str, int | None] | None = None
        """The open block's (path, SEARCH, line found), looked up once."""

    @property
    def raw(self) -> str:
        """The proposal's text taken in so far."""
        return self._raw

    def text(self, raw: str, *, done: bool) -> str:
        """The pane's text for the proposal's text so far (`done`: it is complete)."""
        if not raw.startswith(self._raw) or (self._closed and len(raw) != len(self._raw)):
            self._start(raw)
        parser = self._parser
        if len(raw) > len(self._raw):
            parser.feed(raw[len(self._raw) :])
            self._raw = raw
        if done and not self._closed:
            parser.close()
            self._closed = True
        explanation = parser.explanation
        for at, item in parser.sequence[self._placed :]:
            self._prose(explanation[self._shown_prose : at])
            if isinstance(item, EditBlock):
                first = self._first_line(item.path, item.search)
                self._parts.append(encode_edit(item.path, item.search, item.replace, first_line=first))
                self._apply(item)
            else:
                self._parts.append(encode_note(item))
        self._placed = len(parser.sequence)
        self._prose(explanation[self._shown_prose :])
        if self._joined < len(self._parts):
            self._text += "".join(self._parts[self._joined :])
            self._joined = len(self._parts)
        if self._closed:
            return self._text
        pending = parser.pending()
        if pending.block is None:
            return self._text + visible(pending.text)
        b = pending.block
        first = self._first_line(b.path, b.search) if b.in_replace else None
        return self._text + encode_edit(b.path, b.search, b.replace, first_line=first, open_=True)

    def _prose(self, text: str) -> None:
        self._shown_prose += len(text)
        if text:
            self._parts.append(visible(text))
            if not text.endswith("\n"):
                self._parts.append("\n")  # a block drawn after it starts a line

    def _file(self, path: str) -> str | None:
        if path not in self._files:
            self._files[path] = self._read(path) if self._read is not None else None
        return self._files[path]

    def _first_line(self, path: str | None, search: str) -> int | None:
        """Where the SEARCH text applies in the file (once per block, and per file state)."""
        if self._read is None or path is None or not search.strip():
            return None
        found = self._found
        if found is None or found[:2] != (path, search):
            content = self._file(path)
            line = locate_search(content, search, path) if content is not None else None
            self._found = found = (path, search, line)
        return found[2]

    def _apply(self, block: EditBlock) -> None:
        """The file as this block leaves it, for the next block's numbers."""
        if self._read is None:
            return
        content = self._file(block.path)
        if content is not None or not block.search.strip():
            outcome = apply_edit_blocks({block.path: content}, [block])
            if outcome.applied:
                self._files[block.path] = outcome.files[block.path]
