"""Line-level selection and splitting of hunks (core/selection.py)."""

from __future__ import annotations

from counterpoint.core.changeset import ChangeSet
from counterpoint.core.selection import (
    apply_selection,
    changed_lines,
    full_selection,
    split,
    whole,
)

OLD = "".join(f"line {n}\n" for n in range(1, 11))
NEW = OLD.replace("line 3\n", "line three\n").replace("line 6\n", "line six\nline 6.5\n")


def _one_hunk() -> ChangeSet:
    return ChangeSet.from_contents({"a.py": OLD}, {"a.py": NEW})


def test_full_selection_writes_the_new_file():
    cs = _one_hunk()
    assert apply_selection(cs, full_selection(cs)) == {"a.py": NEW}
    assert apply_selection(cs, {}) == {}


def test_some_lines_of_a_hunk():
    cs = _one_hunk()
    (hunk,) = cs.hunks
    lines = hunk.lines
    plus_six = lines.index("+line six")
    # only the added "line six": "line 6" stays where it was (its '-' not chosen), "6.5" is
    # not added, line 3 is not changed
    written = apply_selection(cs, {hunk.id: [plus_six]})["a.py"]
    assert written == OLD.replace("line 6\n", "line 6\nline six\n")
    # only the removal of line 3, nothing added in its place
    written = apply_selection(cs, {hunk.id: [lines.index("-line 3")]})["a.py"]
    assert written == OLD.replace("line 3\n", "")


def test_split_cuts_between_runs_of_changes():
    cs = _one_hunk()
    (hunk,) = cs.hunks
    parts = split(whole(hunk))
    assert len(parts) == 2
    assert [hunk.lines[k] for k in parts[0].changed] == ["-line 3", "+line three"]
    assert [hunk.lines[k] for k in parts[1].changed] == ["-line 6", "+line six", "+line 6.5"]
    assert parts[0].start == 0 and parts[1].end == len(hunk.lines) and parts[0].end == parts[1].start
    # each part's header counts its own lines and numbers them where they are in the files
    assert parts[0].header == "@@ -1,4 +1,4 @@"
    assert parts[1].header == "@@ -5,5 +5,6 @@"
    assert parts[1].numbers()[1] == (6, None) and parts[1].numbers()[2] == (None, 6)
    assert split(parts[0]) == [parts[0]]  # one run: nothing to split
    # choosing the second part only writes the second change
    written = apply_selection(cs, {hunk.id: parts[1].changed})["a.py"]
    assert written == OLD.replace("line 6\n", "line six\nline 6.5\n")


def test_no_newline_at_end_kept_or_restored():
    cs = ChangeSet.from_contents({"b.txt": "a\nb"}, {"b.txt": "a\nb\nc"})
    (hunk,) = cs.hunks
    assert apply_selection(cs, full_selection(cs)) == {"b.txt": "a\nb\nc"}
    only_c = [k for k in changed_lines(hunk) if hunk.lines[k] == "+c"]
    # "b" stays (its removal not chosen) and is no longer last: it gets its newline
    assert apply_selection(cs, {hunk.id: only_c}) == {"b.txt": "a\nb\nc"}
    only_b = [k for k in changed_lines(hunk) if hunk.lines[k] in ("-b", "+b")]
    assert apply_selection(cs, {hunk.id: only_b}) == {"b.txt": "a\nb\n"}


def test_created_and_deleted_files_partly():
    cs = ChangeSet.from_contents({"new.py": None, "gone.py": "x\ny\n"}, {"new.py": "a\nb\n", "gone.py": None})
    new_hunk = cs.file("new.py").hunks[0]
    gone_hunk = cs.file("gone.py").hunks[0]
    chosen = {new_hunk.id: [new_hunk.lines.index("+b")], gone_hunk.id: [gone_hunk.lines.index("-x")]}
    assert apply_selection(cs, chosen) == {"new.py": "b\n", "gone.py": "y\n"}
    assert apply_selection(cs, full_selection(cs)) == {"new.py": "a\nb\n", "gone.py": None}


def test_empty_file_created_is_chosen_by_its_id():
    cs = ChangeSet.from_contents({"empty": None}, {"empty": ""})
    (hunk,) = cs.hunks
    assert apply_selection(cs, {hunk.id: []}) == {"empty": ""}
