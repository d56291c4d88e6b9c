"""The revise message names the hunks the human dropped and their comments."""

from __future__ import annotations

from counterpoint.core import prompts
from counterpoint.core.changeset import ChangeSet
from counterpoint.core.selection import changed_lines


def test_selection_message_names_dropped_partial_and_commented_hunks():
    old = {"a.py": "".join(f"line {n}\n" for n in range(40)), "b.py": "x\n"}
    new = {"a.py": old["a.py"].replace("line 3\n", "three\n").replace("line 30\n", "thirty\n"), "b.py": "y\n"}
    cs = ChangeSet.from_contents(old, new)
    first, second = cs.file("a.py").hunks
    (b,) = cs.file("b.py").hunks
    plus = [k for k in changed_lines(second) if second.lines[k].startswith("+")]
    lines = {second.id: plus, b.id: changed_lines(b)}
    comments = {first.id: "keep the digits", b.id: "fine"}
    text = prompts.selection_message(cs, lines, comments)
    dropped = text.split("## Hunks the human dropped")[1].split("##")[0]
    assert f"a.py {first.header}" in dropped and "+three" in dropped and "keep the digits" in dropped
    partly = text.split("## Hunks the human kept only in part")[1].split("##")[0]
    assert f"a.py {second.header}: kept 1 of 2 changed lines" in partly and "-line 30" in partly
    assert "b.py" in text.split("## The human's comments on hunks they kept")[1] and "fine" in text
    assert prompts.selection_message(cs, {h.id: changed_lines(h) for h in cs.hunks}, {}) == ""
