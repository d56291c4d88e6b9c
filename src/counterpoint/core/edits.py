"""Edit blocks: parsing a generator's proposal and applying it to file contents.

A proposal is Markdown: an explanation, then edit blocks in aider's SEARCH/REPLACE convention::

    path/to/file.py
    ```python
    <<<<<<< SEARCH
    old lines, copied exactly
    =======
    new lines
    >>>>>>> REPLACE
    ```

`EditStreamParser` turns streamed text into `EditBlock`s as they complete (it only ever looks
at whole lines, so any chunking of the same text gives the same blocks). `apply_edit_blocks`
applies blocks to file contents: exact match first, then increasingly tolerant of
whitespace drift, but it never guesses between two candidates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "EditBlock",
    "FailedEdit",
    "EditOutcome",
    "EditStreamParser",
    "parse_edit_blocks",
    "apply_edit_blocks",
]


@dataclass(frozen=True)
class EditBlock:
    index: int
    """0-based order within the proposal text."""
    path: str
    """As written on the line before the fence, stripped of Markdown decoration."""
    search: str
    """Text between ``<<<<<<< SEARCH`` and ``=======`` ('' = create file / append to empty)."""
    replace: str
    """Text between ``=======`` and ``>>>>>>> REPLACE``."""
    language: str | None
    """The fence's info string, e.g. "python"."""


@dataclass(frozen=True)
class FailedEdit:
    block: EditBlock
    reason: str
    """A sentence for humans (and for the generator on the next round)."""


@dataclass
class EditOutcome:
    files: dict[str, str | None]
    """Resulting content of every file any block touched (its input if all its blocks failed)."""
    applied: list[EditBlock]
    failed: list[FailedEdit]


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

_SEARCH_RE = re.compile(r"^<{5,9} ?SEARCH>?\s*$", re.IGNORECASE)
_DIVIDER_RE = re.compile(r"^={5,9}\s*$")
_REPLACE_RE = re.compile(r"^>{5,9} ?REPLACE<?\s*$", re.IGNORECASE)
_FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([^\s`~]*)[^`]*$")
_CLOSING_FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*$")
_DECORATION = "*`_\"'"

_OUTSIDE, _SEARCH, _REPLACE = "outside", "search", "replace"
_LOOKBACK = 3
"""How many recent lines may hold a block's path and opening fence (path, blank, fence)."""


def _fence(line: str) -> tuple[str, str | None] | None:
    """(fence chars, language) when the line opens or closes a code fence."""
    m = _FENCE_RE.match(line)
    if not m:
        return None
    return m.group(1), (m.group(2) or None)


def _path_from_line(line: str) -> str | None:
    """The file path on a line like ``app/x.py``, `` `app/x.py` ``, ``**app/x.py**:``."""
    s = line.strip()
    if not s or _fence(s) or _SEARCH_RE.match(s) or _DIVIDER_RE.match(s) or _REPLACE_RE.match(s):
        return None
    s = s.lstrip("#").strip()
    quoted = False
    while True:
        before = s
        s = s.rstrip(":").strip()
        if len(s) >= 2 and s[0] == s[-1] and s[0] in _DECORATION:
            quoted = quoted or s[0] == "`"
            s = s[1:-1].strip()
        if s == before:
            break
    if not s or s.endswith((".", ",", ";", "!", "?")):
        return None
    if any(ch.isspace() for ch in s) and not quoted:
        return None  # a sentence, not a path
    return s


@dataclass
class _Open:
    """A block being read."""

    path: str | None
    language: str | None
    line: int
    search: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)


class EditStreamParser:
    """Feed model text as it streams; blocks complete as text arrives.

    The parser works on whole lines: a chunk's trailing partial line waits for the next
    chunk (or `close()`), so the cost of `feed` is proportional to the new text and any
    chunking of the same text yields the same blocks. Lines that may turn out to be a block's
    path or opening fence are held back from `explanation` until that is decided.
    """

    def __init__(self) -> None:
        self.blocks: list[EditBlock] = []
        self.malformed: list[str] = []
        self._explanation: list[str] = []
        self._explanation_text = ""
        self._explanation_joined = 0
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
        if self._open is not None:
            where = self._describe(self._open)
            if self._state == _SEARCH:
                self.malformed.append(f"{where} never reached its ======= divider")
            else:
                self.malformed.append(f"{where} never closed with >>>>>>> REPLACE")
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
        if self._state == _SEARCH:
            self._in_search(body)
        elif self._state == _REPLACE:
            self._in_replace(body)
        else:
            self._outside(body, raw)

    def _in_search(self, body: str) -> None:
        assert self._open is not None
        if _DIVIDER_RE.match(body):
            self._state = _REPLACE
        elif _SEARCH_RE.match(body):
            self.malformed.append(
                f"{self._describe(self._open)} has a second <<<<<<< SEARCH at line "
                f"{self._line_no} before its ======= divider"
            )
            self._start(self._open.path, self._open.language, self._line_no)
        else:
            self._open.search.append(body + "\n")

    def _in_replace(self, body: str) -> None:
        assert self._open is not None
        if _REPLACE_RE.match(body):
            self._finish()
        elif _SEARCH_RE.match(body):
            self.malformed.append(
                f"{self._describe(self._open)} never closed with >>>>>>> REPLACE "
                f"(a new <<<<<<< SEARCH started at line {self._line_no})"
            )
            self._start(self._open.path, self._open.language, self._line_no)
        else:
            self._open.replace.append(body + "\n")

    def _outside(self, body: str, raw: str) -> None:
        if _SEARCH_RE.match(body):
            self._header(body)
            return
        if self._open_fence is not None:
            # Between a block's REPLACE marker and its closing fence.
            if not body.strip():
                return
            closing = _CLOSING_FENCE_RE.match(body)
            if closing and closing.group(1)[0] == self._open_fence[0]:
                self._open_fence = None
                return
            self._open_fence = None
        if _REPLACE_RE.match(body):
            self.malformed.append(f">>>>>>> REPLACE at line {self._line_no} has no block to close")
            return
        self._held.append((self._line_no, body + ("\n" if raw.endswith("\n") else "")))
        if len(self._held) > _LOOKBACK:
            self._commit_held(len(self._held) - _LOOKBACK)

    def _header(self, marker: str) -> None:
        """A SEARCH marker outside a block: find its path (and fence) in the held lines."""
        path: str | None = None
        language: str | None = None
        fence: str | None = None
        first_used = len(self._held)
        seen_fence = seen_path = False
        for i in range(len(self._held) - 1, -1, -1):
            line = self._held[i][1].rstrip("\n")
            if not line.strip():
                continue
            found = _fence(line)
            if found and not seen_fence:
                fence, language = found
                seen_fence = True
                first_used = i
                continue
            candidate = None if seen_path else _path_from_line(line)
            if candidate is not None:
                path = candidate
                seen_path = True
                first_used = i
                continue
            break
        start_line = self._held[first_used][0] if first_used < len(self._held) else self._line_no
        self._commit_held(first_used)
        self._held.clear()
        if path is None:
            # Another section in the same fence, or a block that relies on the previous
            # block's path (aider does the same).
            path = self._last_path
            if fence is None and self._open_fence is not None:
                language = self._fence_language
        if fence is not None:
            self._open_fence = fence
            self._fence_language = language
        self._start(path, language, start_line)

    def _start(self, path: str | None, language: str | None, line: int) -> None:
        self._open = _Open(path=path, language=language, line=line)
        self._state = _SEARCH

    def _finish(self) -> None:
        block = self._open
        assert block is not None
        self._open = None
        self._state = _OUTSIDE
        if block.path is None:
            self.malformed.append(
                f"edit block at line {block.line} has no file path on the line before its fence"
            )
            return
        self._last_path = block.path
        done = EditBlock(
            index=len(self.blocks),
            path=block.path,
            search="".join(block.search),
            replace="".join(block.replace),
            language=block.language,
        )
        self.blocks.append(done)
        self._new.append(done)

    def _commit_held(self, count: int) -> None:
        for _, text in self._held[:count]:
            self._explanation.append(text)
        del self._held[:count]

    @staticmethod
    def _describe(block: _Open) -> str:
        name = block.path if block.path is not None else "an unnamed file"
        return f"block for {name} at line {block.line}"


def parse_edit_blocks(text: str) -> list[EditBlock]:
    """All edit blocks in a complete proposal (same as feeding it whole and closing)."""
    parser = EditStreamParser()
    parser.feed(text)
    parser.close()
    return parser.blocks


# --------------------------------------------------------------------------------------------
# Applying
# --------------------------------------------------------------------------------------------


@dataclass
class _Doc:
    """A file as lines without their newlines, plus whether the last line had one."""

    lines: list[str]
    final_newline: bool

    @classmethod
    def of(cls, text: str) -> _Doc:
        if text == "":
            return cls([], True)
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
            return cls(lines, True)
        return cls(lines, False)

    def text(self) -> str:
        if not self.lines:
            return ""
        return "\n".join(self.lines) + ("\n" if self.final_newline else "")


def _block_lines(text: str) -> list[str]:
    if text == "":
        return []
    text = text.replace("\r\n", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n")


def _find_all(hay_lines: list[str], needle_lines: list[str]) -> list[int]:
    """Every line index where needle_lines occur in hay_lines (overlaps included)."""
    hay = "\n" + "\n".join(hay_lines) + "\n"
    needle = "\n" + "\n".join(needle_lines) + "\n"
    found: list[int] = []
    pos = hay.find(needle)
    line = 0
    counted = 0
    while pos != -1:
        line += hay.count("\n", counted, pos)
        counted = pos
        found.append(line)
        pos = hay.find(needle, pos + 1)
    return found


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _reindent(file_part: list[str], search: list[str], replace: list[str]) -> list[str] | None:
    """REPLACE re-indented by the uniform offset between SEARCH and the file, else None."""
    pairs = [(f.rstrip(), s.rstrip()) for f, s in zip(file_part, search) if s.strip()]
    if not pairs:
        return None
    f0, s0 = _indent(pairs[0][0]), _indent(pairs[0][1])
    if f0.endswith(s0):  # the file is indented more by a prefix
        prefix = f0[: len(f0) - len(s0)]
        if all(f == prefix + s for f, s in pairs):
            return [prefix + r if r.strip() else r for r in replace]
    if s0.endswith(f0):  # the SEARCH is indented more by a prefix
        prefix = s0[: len(s0) - len(f0)]
        if all(s == prefix + f for f, s in pairs):
            return [r[len(prefix) :] if r.startswith(prefix) else r.lstrip() for r in replace]
    return None


def _trim_blank_edges(search: list[str], replace: list[str]) -> tuple[list[str], list[str]]:
    """Drop blank lines at SEARCH's edges, and as many matching blank lines at REPLACE's."""
    lead = 0
    while lead < len(search) and not search[lead].strip():
        lead += 1
    trail = 0
    while trail < len(search) - lead and not search[len(search) - 1 - trail].strip():
        trail += 1
    search = search[lead : len(search) - trail]
    r_lead = 0
    while r_lead < min(lead, len(replace)) and not replace[r_lead].strip():
        r_lead += 1
    replace = replace[r_lead:]
    r_trail = 0
    while r_trail < min(trail, len(replace)) and not replace[len(replace) - 1 - r_trail].strip():
        r_trail += 1
    return search, replace[: len(replace) - r_trail]


def _match(
    lines: list[str], search: list[str], replace: list[str]
) -> tuple[list[int], list[str], int] | None:
    """Try each tolerance level in turn; the first level with any match decides.

    Returns (match line indexes, the REPLACE lines to use for a single match, SEARCH length).
    """
    # 1. exact
    found = _find_all(lines, search)
    if found:
        return found, replace, len(search)
    # 2. trailing whitespace
    stripped = [line.rstrip() for line in lines]
    found = _find_all(stripped, [s.rstrip() for s in search])
    if found:
        return found, replace, len(search)
    # 3. uniform indentation offset (REPLACE re-indented by the same offset)
    bare = [line.strip() for line in stripped]
    candidates = _find_all(bare, [s.strip() for s in search])
    good: list[tuple[int, list[str]]] = []
    for start in candidates:
        redone = _reindent(lines[start : start + len(search)], search, replace)
        if redone is not None:
            good.append((start, redone))
    if good:
        return [start for start, _ in good], good[0][1], len(search)
    return None


def _apply_one(doc: _Doc, block: EditBlock) -> str | None:
    """Apply one block to doc in place; return a failure reason or None."""
    search = _block_lines(block.search)
    replace = _block_lines(block.replace)
    result = _match(doc.lines, search, replace)
    if result is None:
        trimmed, trimmed_replace = _trim_blank_edges(search, replace)
        if trimmed and trimmed != search:
            result = _match(doc.lines, trimmed, trimmed_replace)
    if result is None:
        return f"SEARCH text not found in {block.path}"
    starts, new_lines, length = result
    if len(starts) > 1:
        return (
            f"SEARCH text matches {len(starts)} places in {block.path} "
            f"({_line_list(starts)}); add more context"
        )
    start = starts[0]
    doc.lines[start : start + length] = new_lines
    return None


def _line_list(starts: list[int]) -> str:
    numbers = [str(s + 1) for s in starts]
    if len(numbers) == 2:
        return f"lines {numbers[0]} and {numbers[1]}"
    return "lines " + ", ".join(numbers[:-1]) + f" and {numbers[-1]}"


def apply_edit_blocks(
    files: Mapping[str, str | None], blocks: Sequence[EditBlock]
) -> EditOutcome:
    """Apply blocks in order to file contents ("\\n" line endings; None = missing file).

    A path absent from `files` counts as missing. A later block for the same file sees the
    earlier blocks' results. A block that matches nowhere, or in more than one place, fails
    with a reason; the other blocks still apply. A file without a final newline keeps it
    missing (the edit is line-based; the file's last-line state is preserved).
    """
    docs: dict[str, _Doc | None] = {}
    applied: list[EditBlock] = []
    failed: list[FailedEdit] = []
    for block in blocks:
        if block.path not in docs:
            original = files.get(block.path)
            docs[block.path] = None if original is None else _Doc.of(original)
        doc = docs[block.path]
        reason: str | None
        if not block.search.strip():
            reason = _apply_empty_search(docs, doc, block)
        elif doc is None:
            reason = f"{block.path} does not exist (an empty SEARCH creates a file)"
        else:
            reason = _apply_one(doc, block)
        if reason is None:
            applied.append(block)
        else:
            failed.append(FailedEdit(block=block, reason=reason))
    out: dict[str, str | None] = {}
    for path, doc in docs.items():
        out[path] = None if doc is None else doc.text()
    return EditOutcome(files=out, applied=applied, failed=failed)


def _apply_empty_search(
    docs: dict[str, _Doc | None], doc: _Doc | None, block: EditBlock
) -> str | None:
    """An empty SEARCH creates a missing file or fills an empty one; nothing else."""
    if doc is not None and doc.lines:
        return (
            f"SEARCH is empty but {block.path} already exists and is not empty "
            "(an empty SEARCH only creates a file or fills an empty one)"
        )
    docs[block.path] = _Doc.of(block.replace.replace("\r\n", "\n"))
    return None
