"""Applying edit blocks to file contents, and saying why one did not apply.

`apply_edit_blocks` applies blocks in order: exact match first, then increasingly tolerant of
whitespace drift (trailing spaces, a uniform indentation offset, blank lines at the edges, a
SEARCH wrapped in its file name and fence lines), but it never guesses between two
candidates. A block that does not apply fails with a reason, the nearest lines of the file
("did you mean") and a note when its REPLACE text is already there, which is what the
generator needs on revise (as aider's editblock_coder does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from counterpoint.core.edits import EditBlock
from counterpoint.core.pathnames import to_posix

__all__ = ["EditOutcome", "FailedEdit", "apply_edit_blocks", "locate_search"]


@dataclass(frozen=True)
class FailedEdit:
    block: EditBlock
    reason: str
    """A sentence for humans (and for the generator on the next round)."""
    nearest: str = ""
    """The lines of the file most like the SEARCH text, with a little context ('' if none)."""
    nearest_line: int = 0
    """The 1-based line of the file where `nearest` starts (0 if none)."""


@dataclass
class EditOutcome:
    files: dict[str, str | None]
    """Resulting content of every file any block touched (its input if all its blocks failed)."""
    applied: list[EditBlock]
    failed: list[FailedEdit]


_SIMILAR = 0.6
"""How alike (difflib ratio of stripped lines) the nearest lines must be to be shown."""
_CONTEXT = 2
"""Lines of context shown around the nearest lines."""
_NEAREST_MAX_LINES = 5000


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


def _locate(
    lines: list[str], search: list[str], replace: list[str]
) -> tuple[list[int], list[str], int] | None:
    result = _match(lines, search, replace)
    if result is None:
        trimmed, trimmed_replace = _trim_blank_edges(search, replace)
        if trimmed and trimmed != search:
            result = _match(lines, trimmed, trimmed_replace)
    return result


def _unwrap(lines: list[str], path: str) -> list[str]:
    """Lines without a leading file-name line and a fence around them (aider's
    strip_quoted_wrapping): the model quoted the block's header inside SEARCH or REPLACE."""
    name = to_posix(path).rsplit("/", 1)[-1]
    if lines and name and lines[0].strip().strip("`*#: ").endswith(name):
        lines = lines[1:]
    if len(lines) >= 2 and lines[0].lstrip().startswith(("```", "~~~")) and lines[-1].strip() in (
        "```",
        "~~~",
    ):
        lines = lines[1:-1]
    return lines


def _apply_one(doc: _Doc, block: EditBlock) -> FailedEdit | None:
    """Apply one block to doc in place; return why it failed, or None."""
    search = _block_lines(block.search)
    replace = _block_lines(block.replace)
    result = _locate(doc.lines, search, replace)
    if result is None:
        bare_search, bare_replace = _unwrap(search, block.path), _unwrap(replace, block.path)
        if bare_search and bare_search != search:
            result = _locate(doc.lines, bare_search, bare_replace)
            search = bare_search
    if result is None:
        return _not_found(doc, block, search, replace)
    starts, new_lines, length = result
    if len(starts) > 1:
        return FailedEdit(
            block,
            f"SEARCH text matches {len(starts)} places in {block.path} "
            f"({_line_list(starts)}); add more context",
        )
    start = starts[0]
    doc.lines[start : start + length] = new_lines
    return None


def locate_search(content: str, search: str, path: str = "") -> int | None:
    """The 1-based line of `content` where a block's SEARCH text would apply, found as
    `apply_edit_blocks` finds it (same tolerance); None when nowhere or in several places."""
    lines = _Doc.of(content).lines
    wanted = _block_lines(search)
    if not wanted:
        return None
    result = _locate(lines, wanted, wanted)
    if result is None and path:
        bare = _unwrap(wanted, path)
        if bare and bare != wanted:
            result = _locate(lines, bare, bare)
    if result is None or len(result[0]) != 1:
        return None
    return result[0][0] + 1


def _not_found(doc: _Doc, block: EditBlock, search: list[str], replace: list[str]) -> FailedEdit:
    reason = f"SEARCH text not found in {block.path}"
    if replace and _locate(doc.lines, replace, replace) is not None:
        reason += "; its REPLACE text is already there (was this edit made already?)"
    start, end = _nearest(doc.lines, search)
    if end == 0:
        return FailedEdit(block, reason)
    reason += f"; the nearest lines are {start + 1}-{end}"
    shown_from, shown_to = max(0, start - _CONTEXT), min(len(doc.lines), end + _CONTEXT)
    while shown_from < start and not doc.lines[shown_from].strip():
        shown_from += 1  # context starts and ends at a line with text
    while shown_to > end and not doc.lines[shown_to - 1].strip():
        shown_to -= 1
    shown = doc.lines[shown_from:shown_to]
    return FailedEdit(block, reason, "".join(line + "\n" for line in shown), shown_from + 1)


def _nearest(lines: list[str], search: list[str]) -> tuple[int, int]:
    """(start, end) of the window of the file most like `search`, or (0, 0) below `_SIMILAR`.

    Compares the stripped text of each window as long as SEARCH (difflib, like aider's
    find_similar_lines); files beyond `_NEAREST_MAX_LINES` are not searched.
    """
    wanted = "\n".join(s.strip() for s in search)
    if not wanted.strip() or not lines or len(lines) > _NEAREST_MAX_LINES:
        return 0, 0
    bare = [line.strip() for line in lines]
    size = min(len(search), len(bare))
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(wanted)
    best, best_start = _SIMILAR, -1
    for start in range(len(bare) - size + 1):
        matcher.set_seq1("\n".join(bare[start : start + size]))
        if matcher.real_quick_ratio() <= best or matcher.quick_ratio() <= best:
            continue
        ratio = matcher.ratio()
        if ratio > best:
            best, best_start = ratio, start
    if best_start < 0:
        return 0, 0
    return best_start, best_start + size


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
        failure: FailedEdit | None
        if not block.search.strip():
            reason = _apply_empty_search(docs, doc, block)
            failure = None if reason is None else FailedEdit(block, reason)
        elif doc is None:
            failure = FailedEdit(block, f"{block.path} does not exist (an empty SEARCH creates a file)")
        else:
            failure = _apply_one(doc, block)
        if failure is None:
            applied.append(block)
        else:
            failed.append(failure)
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
