"""What the human chose to write: whole hunks, or some changed lines of a hunk.

A selection maps a hunk id to the indices (into `Hunk.lines`) of its chosen changed lines
('-' and '+' lines); a hunk that is absent is dropped. Applying a partial hunk follows
`git add -p`'s edit rule: an unchosen '-' line stays in the file, an unchosen '+' line is not
added, context stays. `split` cuts a hunk where unchanged lines separate its changes, as
`git add -p`'s `s` does; the pieces are ranges of the parent's lines, so a split hunk is
still chosen line by line on its parent and what is written is what is shown chosen.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cached_property

from counterpoint.core.changeset import NO_NEWLINE, ChangeSet, FileChange, Hunk, _split

__all__ = [
    "Piece",
    "Selection",
    "apply_selection",
    "changed_lines",
    "full_selection",
    "split",
    "whole",
]

Selection = Mapping[str, Collection[int]]
"""hunk id → indices of its chosen changed lines; a hunk absent (or with none) is dropped."""


def changed_lines(hunk: Hunk) -> list[int]:
    """Indices of the hunk's '-' and '+' lines (the ones that can be chosen)."""
    return [k for k, line in enumerate(hunk.lines) if line[:1] in ("-", "+")]


def full_selection(changeset: ChangeSet) -> dict[str, frozenset[int]]:
    """Every changed line of every hunk chosen."""
    return {h.id: frozenset(changed_lines(h)) for h in changeset.hunks}


@dataclass(frozen=True)
class Piece:
    """A part of a hunk: `hunk.lines[start:end]`, with its own header's line numbers."""

    hunk: Hunk
    start: int
    end: int
    old_start: int
    new_start: int

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.end == len(self.hunk.lines)

    @property
    def id(self) -> str:
        return self.hunk.id if self.whole else f"{self.hunk.id}:{self.start}"

    @cached_property
    def changed(self) -> list[int]:
        lines = self.hunk.lines
        return [k for k in range(self.start, self.end) if lines[k][:1] in ("-", "+")]

    @property
    def header(self) -> str:
        lines = self.hunk.lines[self.start : self.end]
        old = sum(1 for line in lines if line[:1] in (" ", "-"))
        new = sum(1 for line in lines if line[:1] in (" ", "+"))
        return f"@@ -{self.old_start},{old} +{self.new_start},{new} @@"

    def numbers(self) -> list[tuple[int | None, int | None]]:
        """(old line number, new line number) of each of the piece's lines."""
        old, new = self.old_start, self.new_start
        out: list[tuple[int | None, int | None]] = []
        for line in self.hunk.lines[self.start : self.end]:
            sign = line[:1]
            if sign == " ":
                out.append((old, new))
                old, new = old + 1, new + 1
            elif sign == "-":
                out.append((old, None))
                old += 1
            elif sign == "+":
                out.append((None, new))
                new += 1
            else:
                out.append((None, None))
        return out


def whole(hunk: Hunk) -> Piece:
    old = hunk.old_start if hunk.old_count else hunk.old_start + 1
    new = hunk.new_start if hunk.new_count else hunk.new_start + 1
    return Piece(hunk, 0, len(hunk.lines), old, new)


def split(piece: Piece) -> list[Piece]:
    """The piece cut between runs of changes separated by unchanged lines; each part keeps
    the unchanged lines before its changes (the first also those before, the last those
    after; the unchanged lines between two runs are shared out). A piece with one run of
    changes comes back as it is."""
    lines = piece.hunk.lines
    cuts: list[int] = []
    k = piece.start
    seen_change = False
    while k < piece.end:
        if lines[k][:1] in ("-", "+"):
            seen_change = True
            k += 1
            continue
        if lines[k][:1] == " " and seen_change:
            run_end = k
            while run_end < piece.end and lines[run_end][:1] == " ":
                run_end += 1
            if run_end < piece.end:  # more changes follow: the unchanged lines are shared out
                cuts.append(k + (run_end - k + 1) // 2)
                seen_change = False
            k = run_end
            continue
        k += 1
    if not cuts:
        return [piece]
    bounds = [piece.start, *cuts, piece.end]
    parts: list[Piece] = []
    old, new = piece.old_start, piece.new_start
    for a, b in zip(bounds, bounds[1:], strict=False):
        parts.append(Piece(piece.hunk, a, b, old, new))
        for line in lines[a:b]:
            if line[:1] in (" ", "-"):
                old += 1
            if line[:1] in (" ", "+"):
                new += 1
    return parts


def apply_selection(changeset: ChangeSet, chosen: Selection) -> dict[str, str | None]:
    """New content per file with only the chosen lines applied to the old content (None =
    the file is deleted). Files with nothing chosen are omitted."""
    result: dict[str, str | None] = {}
    for change in changeset.files:
        picked = {h.id: set(chosen.get(h.id, ())) for h in change.hunks}
        if not any(picked.values()) and not _empty_file_chosen(change, chosen):
            continue
        if all(picked[h.id] >= set(changed_lines(h)) for h in change.hunks):
            result[change.path] = change.new
        else:
            result[change.path] = _apply_lines(change, picked)
    return result


def _empty_file_chosen(change: FileChange, chosen: Selection) -> bool:
    """An empty file created or deleted has one hunk with no lines: chosen when listed."""
    return any(not h.lines and h.id in chosen for h in change.hunks)


def _apply_lines(change: FileChange, picked: Mapping[str, set[int]]) -> str:
    old = _split(change.old)
    out: list[str] = []
    pos = 0
    for hunk in sorted(change.hunks, key=lambda h: h.old_start):
        start = hunk.old_start if hunk.old_count == 0 else hunk.old_start - 1
        out.extend(old[pos:start])
        pos = start
        chosen = picked[hunk.id]
        lines = hunk.lines
        for k, line in enumerate(lines):
            sign = line[:1]
            if sign == " ":
                out.append(old[pos])
                pos += 1
            elif sign == "-":
                if k not in chosen:
                    out.append(old[pos])
                pos += 1
            elif sign == "+" and k in chosen:
                missing = k + 1 < len(lines) and lines[k + 1] == NO_NEWLINE
                out.append(line[1:] + ("" if missing else "\n"))
    out.extend(old[pos:])
    # A line without its newline (the file's last) that is no longer last gets one.
    return "".join(
        line if line.endswith("\n") or k == len(out) - 1 else line + "\n"
        for k, line in enumerate(out)
    )

