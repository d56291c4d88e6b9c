"""Edit blocks: parsing a generator's proposal (applying them is `core.edit_apply`).

A proposal is Markdown: an explanation, then edit blocks in aider's SEARCH/REPLACE convention::

    path/to/file.py
    ```python
    <<<<<<< SEARCH
    old lines, copied exactly
    =======
    new lines
    >>>>>>> REPLACE
    ```

Models write it in many ways, and the parser takes each the way its author meant:

- the path on the line before the fence, inside the fence, in a fence of its own
  (DeepSeek-Coder), on the fence line (```` ```python:app/x.py ````), labelled
  (``File: app/x.py``), decorated (``**`app/x.py`**:``), or named in a sentence ending in a
  colon (``Update `app/x.py`:``); a block without one reuses the previous block's path;
  one-word prose (``Next:``) is not a path;
- blocks indented inside a list item (the markers' indentation is taken off the content);
- ``=======`` then ``>>>>>>> REPLACE`` (the double divider) or ``=======`` alone as the
  terminator: the divider never ends up in the text;
- with `known_paths`, a basename or mangled name (``file1_py``) of exactly one known file is
  that file.

What cannot be recovered is reported in `malformed` with the reason: a block that never closes
is reported (it never lends its path or swallows the next block's path line).

How a block's file and fence are found in the lines before its SEARCH marker is
`core.edit_headers`. `EditStreamParser` works on whole lines, so any chunking of the same text gives the same
blocks, explanation and reports. For a view of the stream as it arrives, `sequence` says where
each block or report stands in the explanation, and `pending()` what is not decided yet (the
lines that may still become a block's header, or the block being read).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from counterpoint.core.edit_headers import (
    CLOSING_FENCE_RE,
    DIVIDER_RE,
    LOOKBACK,
    REPLACE_RE,
    SEARCH_RE,
    find_header,
    resolve_path,
)

__all__ = ["EditBlock", "EditStreamParser", "OpenEdit", "Pending", "parse_edit_blocks"]


@dataclass(frozen=True)
class EditBlock:
    index: int
    """0-based order within the proposal text."""
    path: str
    """As the model named the file, stripped of Markdown decoration (or the known file)."""
    search: str
    """Text between ``<<<<<<< SEARCH`` and ``=======`` ('' = create file / append to empty)."""
    replace: str
    """Text between ``=======`` and ``>>>>>>> REPLACE``."""
    language: str | None
    """The fence's info string, e.g. "python"."""


@dataclass(frozen=True)
class OpenEdit:
    """The block being read, as far as it has arrived."""

    path: str | None
    """As named so far (the previous block's when it names none; None when unknown)."""
    language: str | None
    search: str
    replace: str
    in_replace: bool
    """Its ======= divider has arrived: `search` is complete."""


@dataclass(frozen=True)
class Pending:
    """What the stream holds that is not decided yet (see `EditStreamParser.pending`)."""

    text: str
    """Text outside blocks not in `explanation` yet: lines that may be a block's path or
    fence, and the last partial line (unless it may be a marker)."""
    block: OpenEdit | None


def _may_be_marker(partial: str) -> bool:
    """A partial line that may still turn into a SEARCH, divider or REPLACE marker."""
    stripped = partial.strip()
    return bool(stripped) and stripped[0] in "<=>" and stripped.startswith(stripped[0] * min(5, len(stripped)))


_OUTSIDE, _SEARCH, _REPLACE, _DIVIDED = "outside", "search", "replace", "divided"


@dataclass
class _Open:
    """A block being read."""

    path: str | None
    language: str | None
    line: int
    indent: str
    search: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)
    divider: str = ""
    """The ``=======`` line met in REPLACE, until it is clear whether it ended the block."""
    after_divider: list[str] = field(default_factory=list)
    """The lines after it meanwhile (with their newlines)."""


class EditStreamParser:
    """Feed model text as it streams; blocks complete as text arrives.

    The parser works on whole lines: a chunk's trailing partial line waits for the next
    chunk (or `close()`), so the cost of `feed` is proportional to the new text and any
    chunking of the same text yields the same blocks. Lines that may turn out to be a block's
    path or opening fence are held back from `explanation` until that is decided.
    """

    def __init__(self, known_paths: Iterable[str] = ()) -> None:
        self.blocks: list[EditBlock] = []
        self.malformed: list[str] = []
        self.known_paths = tuple(known_paths)
        self._explanation: list[str] = []
        self._explanation_text = ""
        self._explanation_joined = 0
        self._explanation_chars = 0
        self.sequence: list[tuple[int, EditBlock | str]] = []
        """Every block and every report in the order they occurred, each with the length
        `explanation` had then: where it stands among the text outside blocks."""
        self._partial: list[str] = []
        self._line_no = 0
        self._state = _OUTSIDE
        self._held: list[tuple[int, str]] = []  # (line number, line with its newline)
        self._open: _Open | None = None
        self._open_fence: str | None = None  # fence chars of a block fence not yet closed
        self._fence_language: str | None = None
        self._last_path: str | None = None
        self._new: list[EditBlock] = []
        self._closed = False

    # -- public -------------------------------------------------------------------------------

    @property
    def explanation(self) -> str:
        """The text outside edit blocks so far (whole lines; everything after `close()`)."""
        if self._explanation_joined < len(self._explanation):
            self._explanation_text += "".join(self._explanation[self._explanation_joined :])
            self._explanation_joined = len(self._explanation)
        return self._explanation_text

    def pending(self) -> Pending:
        """What has arrived and is not decided yet: what a streaming view shows after
        `explanation` and the blocks in `sequence` (cost: the open block's size)."""
        partial = "".join(self._partial)
        if _may_be_marker(partial):
            partial = ""
        b = self._open
        if b is None:
            return Pending("".join(text for _, text in self._held) + partial, None)
        if partial and self._state != _DIVIDED:
            partial = self._content(partial.rstrip("\r"))
        else:
            partial = ""
        in_replace = self._state != _SEARCH
        search = "".join(b.search) + ("" if in_replace else partial)
        replace = "".join(b.replace) + (partial if in_replace else "")
        return Pending("", OpenEdit(b.path, b.language, search, replace, in_replace))

    def feed(self, chunk: str) -> list[EditBlock]:
        """Add streamed text; return the blocks this chunk completed, in order."""
        if self._closed:
            raise ValueError("EditStreamParser.feed() after close()")
        self._new = []
        start = 0
        newline = chunk.find("\n")
        while newline != -1:
            piece = chunk[start : newline + 1]
            if self._partial:
                self._partial.append(piece)
                piece = "".join(self._partial)
                self._partial = []
            self._line(piece)
            start = newline + 1
            newline = chunk.find("\n", start)
        if start < len(chunk):
            self._partial.append(chunk[start:])
        return self._new

    def close(self) -> list[EditBlock]:
        """End of stream: process the last partial line, flush, report an unfinished block."""
        if self._closed:
            return []
        self._new = []
        if self._partial:
            piece = "".join(self._partial)
            self._partial = []
            self._line(piece)
        if self._state == _DIVIDED:
            self._end_at_divider(self._line_no)
        if self._open is not None:
            where = self._describe(self._open)
            if self._state == _SEARCH:
                self._report(f"{where} never reached its ======= divider")
            else:
                self._report(f"{where} never closed with >>>>>>> REPLACE")
            self._open = None
        self._commit_held(len(self._held))
        self._state = _OUTSIDE
        self._closed = True
        return self._new

    # -- line handling ---------------------------------------------------------------------------

    def _line(self, raw: str) -> None:
        self._line_no += 1
        body = raw[:-1] if raw.endswith("\n") else raw
        if body.endswith("\r"):
            body = body[:-1]
        newline = "\n" if raw.endswith("\n") else ""
        if self._state == _SEARCH:
            self._in_search(body)
        elif self._state == _REPLACE:
            self._in_replace(body)
        elif self._state == _DIVIDED:
            self._after_divider(body, newline)
        else:
            self._outside(body, newline)

    def _content(self, body: str) -> str:
        assert self._open is not None
        indent = self._open.indent
        if indent and body.startswith(indent):
            body = body[len(indent) :]
        elif indent and not body.strip():
            body = ""
        return body + "\n"

    def _in_search(self, body: str) -> None:
        assert self._open is not None
        if DIVIDER_RE.match(body):
            self._state = _REPLACE
        elif SEARCH_RE.match(body):
            self._restart(body, self._open.search, "has a second <<<<<<< SEARCH at line {n} "
                          "before its ======= divider")
        elif REPLACE_RE.match(body):
            self._report(
                f"{self._describe(self._open)} reached >>>>>>> REPLACE at line {self._line_no} "
                "without an ======= divider"
            )
            self._open = None
            self._state = _OUTSIDE
        else:
            self._open.search.append(self._content(body))

    def _in_replace(self, body: str) -> None:
        assert self._open is not None
        if REPLACE_RE.match(body):
            self._finish()
        elif DIVIDER_RE.match(body):
            self._open.divider = body  # the end (double divider, as terminator) or text
            self._state = _DIVIDED
        elif SEARCH_RE.match(body):
            self._restart(body, self._open.replace, "never closed with >>>>>>> REPLACE "
                          "(a new <<<<<<< SEARCH started at line {n})")
        else:
            self._open.replace.append(self._content(body))

    def _after_divider(self, body: str, newline: str) -> None:
        """After ``=======`` in REPLACE: decide whether it ended the block."""
        b = self._open
        assert b is not None
        if REPLACE_RE.match(body):
            rest = [line.rstrip("\r\n") for line in b.after_divider]
            while rest and (not rest[-1].strip() or DIVIDER_RE.match(rest[-1])):
                rest.pop()
            if rest:  # text between the dividers: the first one was part of the text
                b.replace.append(self._content(b.divider))
                b.replace.extend(self._content(line) for line in rest)
            b.after_divider.clear()
            self._finish()
        elif SEARCH_RE.match(body):
            self._end_at_divider(self._line_no - 1)
            self._line(body + newline)
        else:
            b.after_divider.append(body + newline)

    def _end_at_divider(self, last: int) -> None:
        """``=======`` was the block's terminator: finish it, read what followed (up to line
        `last`) as text outside blocks."""
        b = self._open
        assert b is not None
        after = b.after_divider
        b.after_divider = []
        self._finish()
        self._line_no = last - len(after)
        for line in after:
            self._line(line)

    def _outside(self, body: str, newline: str) -> None:
        if SEARCH_RE.match(body):
            self._header(body)
            return
        if self._open_fence is not None:
            # Between a block's REPLACE marker and its closing fence.
            if not body.strip():
                return
            closing = CLOSING_FENCE_RE.match(body)
            if closing and closing.group(1).replace("/", "")[0] == self._open_fence[0]:
                self._open_fence = None
                return
            self._open_fence = None
        if REPLACE_RE.match(body):
            self._report(f">>>>>>> REPLACE at line {self._line_no} has no block to close")
            return
        self._held.append((self._line_no, body + newline))
        if len(self._held) > LOOKBACK:
            self._commit_held(len(self._held) - LOOKBACK)

    def _header(self, marker: str) -> None:
        """A SEARCH marker outside a block: find its path (and fence) in the held lines."""
        lines = [text.rstrip("\n") for _, text in self._held]
        header = find_header(lines, self.known_paths)
        first_used = len(self._held) - header.used
        start_line = self._held[first_used][0] if header.used else self._line_no
        self._commit_held(first_used)
        self._held.clear()
        path, language = header.path, header.language
        if path is None:
            # Another section in the same fence, or a block that relies on the previous
            # block's path (aider does the same).
            path = self._last_path
            if header.fence is None and self._open_fence is not None:
                language = self._fence_language
        if header.fence is not None:
            self._open_fence = header.fence
            self._fence_language = language
        self._start(path, language, start_line, marker)

    def _restart(self, marker: str, section: list[str], problem: str) -> None:
        """A SEARCH marker inside a block: report the block, start the next with its header."""
        old = self._open
        assert old is not None
        self._report(f"{self._describe(old)} {problem.format(n=self._line_no)}")
        tail = [line.rstrip("\n") for line in section[-LOOKBACK:]]
        header = find_header(tail, self.known_paths, in_block=True)
        path = header.path if header.path is not None else old.path
        language = header.language if header.fence is not None else old.language
        if header.fence is not None:
            self._open_fence = header.fence
            self._fence_language = language
        self._start(path, language, self._line_no - header.used, marker)

    def _start(self, path: str | None, language: str | None, line: int, marker: str) -> None:
        m = SEARCH_RE.match(marker)
        indent = m.group(1) if m else ""
        self._open = _Open(path=path, language=language, line=line, indent=indent)
        self._state = _SEARCH

    def _finish(self) -> None:
        block = self._open
        assert block is not None
        self._open = None
        self._state = _OUTSIDE
        if block.path is None:
            self._report(
                f"edit block at line {block.line} has no file path on the line before its fence"
            )
            return
        self._last_path = block.path
        search = "".join(block.search)
        path = block.path
        if self.known_paths and search.strip():
            path = resolve_path(path, self.known_paths)
        done = EditBlock(
            index=len(self.blocks),
            path=path,
            search=search,
            replace="".join(block.replace),
            language=block.language,
        )
        self.blocks.append(done)
        self.sequence.append((self._explanation_chars, done))
        self._new.append(done)

    def _commit_held(self, count: int) -> None:
        for _, text in self._held[:count]:
            self._explanation.append(text)
            self._explanation_chars += len(text)
        del self._held[:count]

    def _report(self, problem: str) -> None:
        self.malformed.append(problem)
        self.sequence.append((self._explanation_chars, problem))

    @staticmethod
    def _describe(block: _Open) -> str:
        name = block.path if block.path is not None else "an unnamed file"
        return f"block for {name} at line {block.line}"


def parse_edit_blocks(text: str, known_paths: Iterable[str] = ()) -> list[EditBlock]:
    """All edit blocks in a complete proposal (same as feeding it whole and closing)."""
    parser = EditStreamParser(known_paths)
    parser.feed(text)
    parser.close()
    return parser.blocks
