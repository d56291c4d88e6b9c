"""What the apply screen holds: the pieces listed (hunks, or parts of split hunks), the lines
chosen in each hunk, the human's comments, and the findings that flag each piece.

Pure Python (no widgets) so the screen's logic is tested without a terminal; the choice is
recorded in the session (`Orchestrator.set_selection`) and restored from it on resume.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal

from counterpoint.core.selection import Piece, changed_lines, split, whole

if TYPE_CHECKING:
    from counterpoint.core.changeset import ChangeSet, Hunk
    from counterpoint.core.events import SelectionSet
    from counterpoint.core.findings import Cluster

Chosen = Literal["all", "some", "none"]


class ApplyChoice:
    """The pieces of a changeset and which of their changed lines are chosen."""

    def __init__(
        self,
        changeset: ChangeSet | None,
        clusters: Sequence[Cluster] = (),
        restored: SelectionSet | None = None,
    ) -> None:
        hunks = list(changeset.hunks) if changeset is not None else []
        self.hunks: dict[str, Hunk] = {h.id: h for h in hunks}
        self.status: dict[str, str] = {}
        if changeset is not None:
            for change in changeset.files:
                for h in change.hunks:
                    self.status[h.id] = change.status
        self.pieces: list[Piece] = [whole(h) for h in hunks]
        self.chosen: dict[str, set[int]] = {h.id: set(changed_lines(h)) for h in hunks}
        self._changes = {h: len(lines) for h, lines in self.chosen.items()}
        """How many changed lines each hunk has (its chosen lines are always among them)."""
        self.comments: dict[str, str] = {}
        self.empty_off: set[str] = set()
        """Empty files created or deleted (hunks with no lines) the human left out."""
        self._by_path: dict[str, list[Cluster]] = {}
        for c in clusters:
            self._by_path.setdefault(c.path, []).append(c)
        if restored is not None:
            self.restore(restored)

    def restore(self, selection: SelectionSet) -> None:
        """The choice recorded in the session (resume): lines, splits and comments."""
        for hunk_id in self.chosen:
            lines = set(changed_lines(self.hunks[hunk_id]))
            self.chosen[hunk_id] = set(selection.lines.get(hunk_id, ())) & lines
        self.empty_off = {h for h, hunk in self.hunks.items() if not hunk.lines and h not in selection.lines}
        pieces: list[Piece] = []
        for piece in self.pieces:  # `split` cuts a hunk at every run of changes at once
            pieces.extend(split(piece) if piece.hunk.id in selection.splits else [piece])
        self.pieces = pieces
        self.comments = {k: v for k, v in selection.comments.items() if k in self.hunks}

    # -- reading -----------------------------------------------------------------------
    def state(self, piece: Piece) -> Chosen:
        hunk_id = piece.hunk.id
        chosen = self.chosen[hunk_id]
        if piece.whole:  # no line to look at: the chosen lines are among the hunk's changes
            total, count = self._changes[hunk_id], len(chosen)
        else:
            total = len(piece.changed)
            count = sum(1 for k in piece.changed if k in chosen)
        if not total:  # an empty file created or deleted
            return "none" if hunk_id in self.empty_off else "all"
        return "all" if count == total else "some" if count else "none"

    def chosen_ids(self) -> set[str]:
        return {
            h for h, lines in self.chosen.items()
            if lines or (not self.hunks[h].lines and h not in self.empty_off)
        }

    def counts(self) -> tuple[int, int, int]:
        """(pieces chosen whole or in part, pieces in all, pieces chosen in part)."""
        states = [self.state(p) for p in self.pieces]
        some = states.count("some")
        return states.count("all") + some, len(states), some

    def selection(self) -> dict[str, list[int]]:
        """hunk id → its chosen changed lines, for every hunk chosen."""
        return {h: sorted(self.chosen[h]) for h in self.chosen_ids()}

    def partial(self) -> dict[str, list[int]]:
        """The hunks chosen in part only."""
        out: dict[str, list[int]] = {}
        for h, lines in self.chosen.items():
            every = changed_lines(self.hunks[h])
            if lines and len(lines) < len(every):
                out[h] = sorted(lines)
        return out

    def splits(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for piece in self.pieces:
            if not piece.whole:
                out.setdefault(piece.hunk.id, []).append(piece.start)
        return out

    def findings(self, piece: Piece) -> list[Cluster]:
        """The clusters whose lines meet the piece's lines (new side; old side for a deleted
        file)."""
        numbers = [n[1] if self.status.get(piece.hunk.id) != "deleted" else n[0] for n in piece.numbers()]
        lines = sorted(n for n in numbers if n is not None) or [piece.new_start]
        out = []
        for c in self._by_path.get(piece.hunk.path, ()):
            k = bisect.bisect_left(lines, c.start_line)
            if k < len(lines) and lines[k] <= c.end_line:
                out.append(c)
        return out

    # -- changing ----------------------------------------------------------------------
    def toggle_piece(self, piece: Piece) -> None:
        if not piece.changed:  # an empty file: chosen by its id alone
            self.empty_off ^= {piece.hunk.id}
        self.set_lines(piece.hunk.id, piece.changed, self.state(piece) != "all")

    def set_lines(self, hunk_id: str, lines: Iterable[int], on: bool) -> None:
        allowed = set(changed_lines(self.hunks[hunk_id]))
        target = self.chosen[hunk_id]
        for k in lines:
            if k in allowed:
                if on:
                    target.add(k)
                else:
                    target.discard(k)

    def set_all(self, on: bool) -> None:
        for hunk_id, hunk in self.hunks.items():
            self.chosen[hunk_id] = set(changed_lines(hunk)) if on else set()
        self.empty_off = set() if on else {h for h, hunk in self.hunks.items() if not hunk.lines}

    def split_at(self, index: int) -> int:
        """Split the piece at `index` in the list; how many pieces it became."""
        parts = split(self.pieces[index])
        self.pieces[index : index + 1] = parts
        return len(parts)

    def set_comment(self, hunk_id: str, text: str) -> None:
        if text:
            self.comments[hunk_id] = text
        else:
            self.comments.pop(hunk_id, None)

