"""The diff's row model: every row of a ChangeSet's unified diff in compact parallel arrays.

`LineIndex` is built once per `DiffView.show()` (one row per file header, hunk header and
diff line) and holds no widget state, so a 50,000-line diff costs a few arrays, not
objects per line. Row text is made safe for the terminal here, once: tabs expanded, and
control characters (a model wrote these files, and chose their names) shown as visible
escapes by `counterpoint.core.safe_text.visible`.
"""

from __future__ import annotations

from array import array

from counterpoint.core.changeset import NO_NEWLINE, ChangeSet, FileChange
from counterpoint.core.safe_text import visible

__all__ = ["RowKind", "LineIndex", "SIGN", "STATUS_GLYPH", "clean_line", "first_new_line"]


class RowKind:
    """Kinds of rows in the line index (stored in a bytearray)."""

    FILE = 0
    HUNK = 1
    CONTEXT = 2
    ADD = 3
    REMOVE = 4
    META = 5
    """"\\ No newline at end of file", or a note for an empty created/deleted file."""


SIGN = {RowKind.CONTEXT: " ", RowKind.ADD: "+", RowKind.REMOVE: "-"}
_KIND_OF_SIGN = {" ": RowKind.CONTEXT, "+": RowKind.ADD, "-": RowKind.REMOVE}
STATUS_GLYPH = {"added": "A", "modified": "M", "deleted": "D"}
_TAB_SIZE = 4


def clean_line(text: str) -> str:
    """Make a source line safe and cell-accurate for the terminal: tabs expanded, controls
    shown as visible escapes."""
    if "\t" in text:
        text = text.expandtabs(_TAB_SIZE)
    return visible(text, newlines=False)


class LineIndex:
    """Every row of the diff in parallel arrays; built once per `show()`."""

    def __init__(self, changeset: ChangeSet) -> None:
        self.kinds = bytearray()
        self.old_no = array("l")
        self.new_no = array("l")
        self.file_of = array("l")
        self.hunk_of = array("l")
        self.text: list[str] = []
        self.paths: list[str] = []
        self.file_rows: list[int] = []
        """First row (the header) of each file."""
        self.hunk_rows: list[tuple[int, int]] = []
        """(first body row, end row) of each hunk, indexed by hunk number."""
        self._new_rows: dict[int, dict[int, int]] = {}
        for file_index, change in enumerate(changeset.files):
            self._add_file(file_index, change)
        self.code_width = max((len(t) for t in self.text), default=0)
        numbers = max(max(self.old_no, default=0), max(self.new_no, default=0))
        self.number_width = max(3, len(str(numbers)))

    def __len__(self) -> int:
        return len(self.kinds)

    def _row(self, kind: int, old: int, new: int, file_index: int, hunk: int, text: str) -> None:
        self.kinds.append(kind)
        self.old_no.append(old)
        self.new_no.append(new)
        self.file_of.append(file_index)
        self.hunk_of.append(hunk)
        self.text.append(text)

    def _add_file(self, file_index: int, change: FileChange) -> None:
        """Append a file's rows. Works hunk by hunk with list comprehensions and bulk
        `extend`s: a per-row method call would make a 50,000-line index several times slower."""
        self.paths.append(change.path)
        header_row = len(self.kinds)
        self.file_rows.append(header_row)
        self._row(RowKind.FILE, 0, 0, file_index, -1, "")
        added = removed = 0
        for hunk in change.hunks:
            hunk_index = len(self.hunk_rows)
            self._row(RowKind.HUNK, 0, 0, file_index, hunk_index, hunk.header)
            first = len(self.kinds)
            if not hunk.lines:
                self._row(RowKind.META, 0, 0, file_index, hunk_index, f"(empty file {change.status})")
                self.hunk_rows.append((first, len(self.kinds)))
                continue
            lines = hunk.lines
            signs = [line[:1] for line in lines]
            kinds = [_KIND_OF_SIGN.get(sign, RowKind.META) for sign in signs]
            old_numbers: list[int] = []
            new_numbers: list[int] = []
            old, new = hunk.old_start, hunk.new_start
            for sign in signs:
                if sign == " ":
                    old_numbers.append(old)
                    new_numbers.append(new)
                    old += 1
                    new += 1
                elif sign == "-":
                    old_numbers.append(old)
                    new_numbers.append(0)
                    old += 1
                elif sign == "+":
                    old_numbers.append(0)
                    new_numbers.append(new)
                    new += 1
                else:
                    old_numbers.append(0)
                    new_numbers.append(0)
            texts = [line[1:] if kind != RowKind.META else (line or NO_NEWLINE) for line, kind in zip(lines, kinds)]
            blob = "".join(texts)
            if "\t" in blob or visible(blob, newlines=False) != blob:
                texts = [clean_line(text) for text in texts]
            added += kinds.count(RowKind.ADD)
            removed += kinds.count(RowKind.REMOVE)
            count = len(lines)
            self.kinds.extend(kinds)
            self.old_no.extend(old_numbers)
            self.new_no.extend(new_numbers)
            self.file_of.extend([file_index] * count)
            self.hunk_of.extend([hunk_index] * count)
            self.text.extend(texts)
            self.hunk_rows.append((first, len(self.kinds)))
        self.text[header_row] = (
            f"{STATUS_GLYPH.get(change.status, '?')} {visible(change.path, newlines=False)}  {change.status}  +{added} -{removed}"
        )

    def file_index(self, path: str) -> int | None:
        try:
            return self.paths.index(path)
        except ValueError:
            return None

    def file_end(self, file_index: int) -> int:
        if file_index + 1 < len(self.file_rows):
            return self.file_rows[file_index + 1]
        return len(self.kinds)

    def row_of_new_line(self, file_index: int, new_line: int) -> int | None:
        """The row showing NEW line `new_line` of a file (built lazily per file)."""
        rows = self._new_rows.get(file_index)
        if rows is None:
            start, end = self.file_rows[file_index], self.file_end(file_index)
            new_no, kinds = self.new_no, self.kinds
            rows = {
                new_no[r]: r
                for r in range(start, end)
                if kinds[r] in (RowKind.CONTEXT, RowKind.ADD)
            }
            self._new_rows[file_index] = rows
        return rows.get(new_line)


def first_new_line(change: FileChange) -> int | None:
    """The first NEW line number a file's hunks show (None for a deleted file)."""
    for hunk in change.hunks:
        new = hunk.new_start
        for line in hunk.lines:
            if line[:1] in (" ", "+"):
                return new
    return None
