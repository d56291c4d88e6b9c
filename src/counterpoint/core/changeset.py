"""The ChangeSet: a proposal as per-file old/new text, hunks and a unified diff.

Hunks are computed here (difflib's SequenceMatcher on lines) so that the human can pick
them one by one: `ChangeSet.select` rebuilds each file with only the chosen hunks applied
(`core/selection.py` does it, and chooses lines within hunks too).
A line that has no final newline is followed in `Hunk.lines` by the standard
``\\ No newline at end of file`` marker line, exactly as it appears in the diff.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Literal

__all__ = ["Hunk", "FileChange", "ChangeSet", "NO_NEWLINE"]

NO_NEWLINE = "\\ No newline at end of file"
_AUTOJUNK_ABOVE = 2000
"""Lines (old + new) in a gap between anchors above which difflib's popular-line heuristic
is turned on (it keeps SequenceMatcher fast at the cost of a less minimal diff)."""


@dataclass(frozen=True)
class Hunk:
    id: str
    """Stable: the same path and change give the same id; unique within a ChangeSet."""
    path: str
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: tuple[str, ...]
    """Body lines, each starting with ' ', '-' or '+' (or the '\\ No newline' marker)."""

    @property
    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_count} +{self.new_start},{self.new_count} @@"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path,
            "old_start": self.old_start,
            "old_count": self.old_count,
            "new_start": self.new_start,
            "new_count": self.new_count,
            "lines": list(self.lines),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Hunk:
        return cls(
            id=d["id"],
            path=d["path"],
            old_start=int(d["old_start"]),
            old_count=int(d["old_count"]),
            new_start=int(d["new_start"]),
            new_count=int(d["new_count"]),
            lines=tuple(d["lines"]),
        )


@dataclass(frozen=True)
class FileChange:
    path: str
    old: str | None
    """None = the file is created."""
    new: str | None
    """None = the file is deleted."""
    hunks: tuple[Hunk, ...]

    @property
    def status(self) -> Literal["added", "modified", "deleted"]:
        if self.old is None:
            return "added"
        if self.new is None:
            return "deleted"
        return "modified"

    @property
    def added(self) -> int:
        return sum(1 for h in self.hunks for line in h.lines if line.startswith("+"))

    @property
    def removed(self) -> int:
        return sum(1 for h in self.hunks for line in h.lines if line.startswith("-"))

    def diff(self) -> str:
        """Unified diff of this file, accepted by `git apply`."""
        # git's extended header: the only way to say "create/delete an empty file".
        out = [f"diff --git a/{self.path} b/{self.path}"]
        if self.status == "added":
            out.append("new file mode 100644")
        elif self.status == "deleted":
            out.append("deleted file mode 100644")
        if all(not h.lines for h in self.hunks):
            return "".join(line + "\n" for line in out)
        out.append("--- /dev/null" if self.old is None else f"--- a/{self.path}")
        out.append("+++ /dev/null" if self.new is None else f"+++ b/{self.path}")
        for hunk in self.hunks:
            out.append(hunk.header)
            out.extend(hunk.lines)
        return "".join(line + "\n" for line in out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "old": self.old,
            "new": self.new,
            "hunks": [h.to_dict() for h in self.hunks],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FileChange:
        return cls(
            path=d["path"],
            old=d["old"],
            new=d["new"],
            hunks=tuple(Hunk.from_dict(h) for h in d["hunks"]),
        )


@dataclass(frozen=True)
class ChangeSet:
    files: tuple[FileChange, ...]
    """Sorted by path; only files whose content differs."""

    @classmethod
    def from_contents(
        cls,
        base: Mapping[str, str | None],
        new: Mapping[str, str | None],
        context: int = 3,
    ) -> ChangeSet:
        """Compare `new` with `base` (None = missing); paths absent from `new` are unchanged."""
        changes: list[FileChange] = []
        for path in sorted(new):
            old_text = base.get(path)
            new_text = new[path]
            if old_text == new_text:
                continue
            hunks = tuple(_hunks(path, old_text, new_text, context))
            changes.append(FileChange(path=path, old=old_text, new=new_text, hunks=hunks))
        return cls(files=tuple(changes))

    def file(self, path: str) -> FileChange | None:
        for change in self.files:
            if change.path == path:
                return change
        return None

    @property
    def hunks(self) -> list[Hunk]:
        return [h for change in self.files for h in change.hunks]

    def hunk(self, hunk_id: str) -> Hunk | None:
        for h in self.hunks:
            if h.id == hunk_id:
                return h
        return None

    def diff(self) -> str:
        return "".join(change.diff() for change in self.files)

    def select(self, hunk_ids: Collection[str]) -> dict[str, str | None]:
        """New content per file with ONLY the chosen hunks applied to the old content.

        Files with no chosen hunk are omitted. A created or deleted file is created or
        deleted when its (single) hunk is chosen.
        """
        from counterpoint.core.selection import apply_selection, changed_lines

        chosen = set(hunk_ids)
        return apply_selection(self, {h.id: changed_lines(h) for h in self.hunks if h.id in chosen})

    def since(self, previous: ChangeSet) -> ChangeSet:
        """What changed between the previous round's proposal and this one.

        Both proposals are assumed to start from the same base. For a path only this one
        touches, the previous proposal left it at this one's old content; for a path only
        the previous one touched, this one reverts it to the previous one's old content.
        """
        before: dict[str, str | None] = {}
        after: dict[str, str | None] = {}
        mine = {c.path: c for c in self.files}
        theirs = {c.path: c for c in previous.files}
        for path in sorted(set(mine) | set(theirs)):
            if path in theirs:
                before[path] = theirs[path].new
                after[path] = mine[path].new if path in mine else theirs[path].old
            else:
                before[path] = mine[path].old
                after[path] = mine[path].new
        return ChangeSet.from_contents(before, after)

    def to_dict(self) -> dict[str, Any]:
        return {"files": [change.to_dict() for change in self.files]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChangeSet:
        return cls(files=tuple(FileChange.from_dict(f) for f in d["files"]))


# --------------------------------------------------------------------------------------------


def _split(text: str | None) -> list[str]:
    """Lines with their "\\n" kept (only "\\n" splits); a last line may lack it."""
    if not text:
        return []
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def _body(sign: str, line: str) -> list[str]:
    if line.endswith("\n"):
        return [sign + line[:-1]]
    return [sign + line, NO_NEWLINE]


def _range_start(start: int, count: int) -> int:
    """Unified diff convention: an empty range names the line before it."""
    return start if count == 0 else start + 1


def _hunks(path: str, old: str | None, new: str | None, context: int) -> list[Hunk]:
    a, b = _split(old), _split(new)
    if not a and not b:
        # An empty file created or deleted: one hunk with no lines, so it can be chosen.
        return [_make_hunk(path, 0, 0, 0, 0, [], {})]
    hunks: list[Hunk] = []
    seen: dict[str, int] = {}
    for group in _group(_opcodes(a, b), context):
        i1, j1 = group[0][1], group[0][3]
        i2, j2 = group[-1][2], group[-1][4]
        lines: list[str] = []
        for tag, g1, g2, h1, h2 in group:
            if tag == "equal":
                for line in a[g1:g2]:
                    lines += _body(" ", line)
                continue
            for line in a[g1:g2]:
                lines += _body("-", line)
            for line in b[h1:h2]:
                lines += _body("+", line)
        hunks.append(
            _make_hunk(
                path,
                _range_start(i1, i2 - i1),
                i2 - i1,
                _range_start(j1, j2 - j1),
                j2 - j1,
                lines,
                seen,
            )
        )
    return hunks


Opcode = tuple[str, int, int, int, int]


def _opcodes(a: list[str], b: list[str]) -> list[Opcode]:
    """Line opcodes (difflib's shape), patience-style for speed and readable hunks.

    The common head and tail are skipped; lines that occur exactly once on both sides are
    matched in order (longest increasing run) as anchors; SequenceMatcher diffs the gaps
    between anchors, which are small in practice. Without the anchors SequenceMatcher is
    quadratic in repeated lines (blank lines, "return") on large files.
    """
    head = 0
    limit = min(len(a), len(b))
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
        tail += 1
    codes: list[Opcode] = [("equal", 0, head, 0, head)]
    i, j = head, head
    for ai, bj in _anchors(a, b, head, len(a) - tail, len(b) - tail):
        codes += _gap(a, b, i, ai, j, bj)
        codes.append(("equal", ai, ai + 1, bj, bj + 1))
        i, j = ai + 1, bj + 1
    codes += _gap(a, b, i, len(a) - tail, j, len(b) - tail)
    codes.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    merged: list[Opcode] = []
    for code in codes:
        if code[1] == code[2] and code[3] == code[4]:
            continue
        if merged and merged[-1][0] == code[0] == "equal":
            last = merged[-1]
            merged[-1] = ("equal", last[1], code[2], last[3], code[4])
        else:
            merged.append(code)
    return merged


def _anchors(
    a: list[str], b: list[str], start: int, a_end: int, b_end: int
) -> list[tuple[int, int]]:
    """Pairs of lines unique on both sides, in the longest order-preserving run."""
    count_a: dict[str, int] = {}
    for k in range(start, a_end):
        count_a[a[k]] = count_a.get(a[k], 0) + 1
    where_b: dict[str, int] = {}
    count_b: dict[str, int] = {}
    for k in range(start, b_end):
        count_b[b[k]] = count_b.get(b[k], 0) + 1
        where_b[b[k]] = k
    pairs = [
        (k, where_b[a[k]])
        for k in range(start, a_end)
        if count_a[a[k]] == 1 and count_b.get(a[k]) == 1
    ]
    # longest increasing subsequence on the b index (patience sorting)
    tails: list[int] = []
    tail_at: list[int] = []
    previous: list[int] = [-1] * len(pairs)
    for n, (_, bj) in enumerate(pairs):
        pos = bisect.bisect_left(tails, bj)
        if pos == len(tails):
            tails.append(bj)
            tail_at.append(n)
        else:
            tails[pos] = bj
            tail_at[pos] = n
        previous[n] = tail_at[pos - 1] if pos else -1
    run: list[tuple[int, int]] = []
    n = tail_at[-1] if tail_at else -1
    while n != -1:
        run.append(pairs[n])
        n = previous[n]
    run.reverse()
    return run


def _gap(a: list[str], b: list[str], i1: int, i2: int, j1: int, j2: int) -> list[Opcode]:
    if i1 == i2 and j1 == j2:
        return []
    if i1 == i2:
        return [("insert", i1, i2, j1, j2)]
    if j1 == j2:
        return [("delete", i1, i2, j1, j2)]
    matcher = SequenceMatcher(
        None, a[i1:i2], b[j1:j2], autojunk=(i2 - i1) + (j2 - j1) > _AUTOJUNK_ABOVE
    )
    return [
        (tag, x1 + i1, x2 + i1, y1 + j1, y2 + j1)
        for tag, x1, x2, y1, y2 in matcher.get_opcodes()
    ]


def _group(opcodes: list[Opcode], n: int) -> list[list[Opcode]]:
    """difflib's get_grouped_opcodes, on a precomputed opcode list."""
    codes = [c for c in opcodes if not (c[0] == "equal" and c[1] == c[2] and c[3] == c[4])]
    if not codes:
        return []
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = tag, max(i1, i2 - n), i2, max(j1, j2 - n), j2
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)
    nn = n + n
    groups: list[list[Opcode]] = []
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > nn:
            group.append((tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - n), max(j1, j2 - n)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _make_hunk(
    path: str,
    old_start: int,
    old_count: int,
    new_start: int,
    new_count: int,
    lines: list[str],
    seen: dict[str, int],
) -> Hunk:
    digest = hashlib.sha1("\n".join([path, *lines]).encode("utf-8")).hexdigest()[:12]
    n = seen.get(digest, 0) + 1
    seen[digest] = n
    hunk_id = digest if n == 1 else f"{digest}-{n}"
    return Hunk(
        id=hunk_id,
        path=path,
        old_start=old_start,
        old_count=old_count,
        new_start=new_start,
        new_count=new_count,
        lines=tuple(lines),
    )

