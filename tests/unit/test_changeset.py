"""ChangeSet: hunks, unified diffs (checked by real `git apply`), hunk selection, rounds."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from counterpoint.core.changeset import NO_NEWLINE, ChangeSet

NUMBERS = "".join(f"line {i}\n" for i in range(1, 31))


def numbers_with(**changes: str) -> str:
    lines = NUMBERS.splitlines(keepends=True)
    for key, value in changes.items():
        lines[int(key[1:]) - 1] = value
    return "".join(lines)


def git(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, text=True)


def test_modified_file_hunks_headers_and_counts():
    new = numbers_with(l3="line three\n", l25="line twenty-five\n")
    cs = ChangeSet.from_contents({"n.txt": NUMBERS}, {"n.txt": new})
    change = cs.file("n.txt")
    assert change is not None and change.status == "modified"
    assert (change.added, change.removed) == (2, 2)
    assert [h.header for h in change.hunks] == ["@@ -1,6 +1,6 @@", "@@ -22,7 +22,7 @@"]
    assert change.hunks[0].lines == (
        " line 1",
        " line 2",
        "-line 3",
        "+line three",
        " line 4",
        " line 5",
        " line 6",
    )
    assert cs.diff().startswith("diff --git a/n.txt b/n.txt\n--- a/n.txt\n+++ b/n.txt\n@@ -1,6 +1,6 @@\n")


def test_context_parameter_and_merging_of_close_changes():
    new = numbers_with(l10="ten\n", l15="fifteen\n")
    assert len(ChangeSet.from_contents({"n": NUMBERS}, {"n": new}).hunks) == 1
    narrow = ChangeSet.from_contents({"n": NUMBERS}, {"n": new}, context=1)
    assert [h.header for h in narrow.hunks] == ["@@ -9,3 +9,3 @@", "@@ -14,3 +14,3 @@"]


def test_added_deleted_unchanged_and_sorting():
    cs = ChangeSet.from_contents(
        {"b.py": "x\n", "a.py": None, "same.py": "s\n", "z.py": "gone\n"},
        {"b.py": "y\n", "a.py": "new\n", "same.py": "s\n", "z.py": None},
    )
    assert [(f.path, f.status) for f in cs.files] == [
        ("a.py", "added"),
        ("b.py", "modified"),
        ("z.py", "deleted"),
    ]
    assert cs.file("same.py") is None
    assert [h.header for h in cs.file("a.py").hunks] == ["@@ -0,0 +1,1 @@"]
    assert "--- /dev/null\n+++ b/a.py\n" in cs.diff()
    assert "--- a/z.py\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-gone\n" in cs.diff()


def test_missing_final_newline_is_marked():
    cs = ChangeSet.from_contents({"f": "a\nb"}, {"f": "a\nb\n"})
    assert cs.hunks[0].lines == (" a", "-b", NO_NEWLINE, "+b")
    assert cs.select([cs.hunks[0].id]) == {"f": "a\nb\n"}


def test_hunk_ids_are_stable_and_unique():
    old = "".join(f"{i}\n" for i in range(100))
    new = old.replace("10\n", "X\n").replace("50\n", "X\n").replace("90\n", "X\n")
    first = ChangeSet.from_contents({"f": old, "g": old}, {"f": new, "g": new})
    again = ChangeSet.from_contents({"f": old, "g": old}, {"f": new, "g": new})
    ids = [h.id for h in first.hunks]
    assert ids == [h.id for h in again.hunks]
    assert len(set(ids)) == len(ids) == 6
    # the same change to the same file keeps its id even if another hunk is dropped
    partial = ChangeSet.from_contents({"f": old}, {"f": old.replace("50\n", "X\n")})
    assert partial.hunks[0].id in {h.id for h in first.file("f").hunks}
    assert first.hunk(ids[2]) == first.hunks[2]
    assert first.hunk("nope") is None


def test_select_applies_only_chosen_hunks():
    new = numbers_with(l3="three\n", l25="twenty-five\n")
    cs = ChangeSet.from_contents({"n": NUMBERS, "add.py": None}, {"n": new, "add.py": "x\n"})
    first, second = cs.file("n").hunks
    assert cs.select([second.id]) == {"n": numbers_with(l25="twenty-five\n")}
    assert cs.select([first.id, cs.file("add.py").hunks[0].id]) == {
        "n": numbers_with(l3="three\n"),
        "add.py": "x\n",
    }
    assert cs.select([]) == {}


def test_empty_files_created_and_deleted_can_be_chosen():
    cs = ChangeSet.from_contents({"e": None, "d": ""}, {"e": "", "d": None})
    assert [(f.path, f.status, len(f.hunks)) for f in cs.files] == [("d", "deleted", 1), ("e", "added", 1)]
    assert cs.select([h.id for h in cs.hunks]) == {"e": "", "d": None}


def test_since_diffs_two_rounds():
    base = {"a.py": "a\n", "b.py": "b\n", "c.py": "c\n"}
    round1 = ChangeSet.from_contents(base, {"a.py": "a1\n", "b.py": "b1\n"})
    round2 = ChangeSet.from_contents(base, {"a.py": "a2\n", "c.py": "c2\n"})
    delta = round2.since(round1)
    assert [(f.path, f.old, f.new) for f in delta.files] == [
        ("a.py", "a1\n", "a2\n"),
        ("b.py", "b1\n", "b\n"),  # round 2 no longer touches b.py: reverted
        ("c.py", "c\n", "c2\n"),
    ]
    assert round1.since(round1).files == ()


def test_dict_round_trip_is_json_safe():
    cs = ChangeSet.from_contents(
        {"a": "x\ny", "b": None, "c": "z\n"}, {"a": "x\nY\n", "b": "new", "c": None}
    )
    restored = ChangeSet.from_dict(json.loads(json.dumps(cs.to_dict())))
    assert restored == cs
    assert restored.diff() == cs.diff()


def test_git_apply_accepts_the_diff(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    for args in (("init", "-q", "-b", "main"), ("config", "user.email", "t@e.com"), ("config", "user.name", "T")):
        git(repo, *args)
    base = {
        "mod.py": NUMBERS,
        "nonl.py": "a\nb\nc",
        "gone.py": "bye\n",
        "empty_gone.py": "",
        "dir/new.py": None,
        "dir/empty_new.py": None,
        "tail.py": "x\ny\n",
    }
    new = {
        "mod.py": numbers_with(l2="two\n", l29="twenty-nine\n"),
        "nonl.py": "a\nB\nc\nd",
        "gone.py": None,
        "empty_gone.py": None,
        "dir/new.py": "print('hi')\nno newline",
        "dir/empty_new.py": "",
        "tail.py": "x\ny",
    }
    for path, text in base.items():
        if text is not None:
            (repo / path).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    patch = ChangeSet.from_contents(base, new).diff()
    check = git(repo, "apply", "--check", "-", stdin=patch)
    assert check.returncode == 0, check.stderr
    assert git(repo, "apply", "-", stdin=patch).returncode == 0
    for path, text in new.items():
        if text is None:
            assert not (repo / path).exists()
        else:
            assert (repo / path).read_text() == text


def test_diff_of_a_large_file_is_quick_to_compute():
    old = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(1700))
    new = old.replace("return x + 7\n", "return x - 7\n").replace("def f1600(x)", "def g1600(x)")
    cs = ChangeSet.from_contents({"big.py": old}, {"big.py": new})
    assert cs.select([h.id for h in cs.hunks]) == {"big.py": new}
    assert (cs.file("big.py").added, cs.file("big.py").removed) == (2, 2)
    assert len(cs.hunks) == 2


@settings(max_examples=150)
@given(
    old=st.lists(st.integers(0, 30).map(lambda n: f"line {n}"), max_size=60),
    new=st.lists(st.integers(0, 30).map(lambda n: f"line {n}"), max_size=60),
)
def test_select_is_exact_on_longer_files(old, new):
    base, after = "".join(x + "\n" for x in old), "".join(x + "\n" for x in new)
    cs = ChangeSet.from_contents({"f": base}, {"f": after})
    if base != after:
        assert cs.select([h.id for h in cs.hunks]) == {"f": after}
        change = cs.file("f")
        # every old line is either kept or removed, every new line kept or added
        kept = sum(1 for h in change.hunks for x in h.lines if x.startswith(" "))
        assert change.removed <= len(old) and change.added <= len(new)
        assert kept + change.removed <= len(old)


line = st.sampled_from(["a", "b", "c", "", "  d", "e = 1"])
content = st.one_of(
    st.none(),
    st.builds(
        lambda lines, nl: "\n".join(lines) + ("\n" if nl and lines else ""),
        st.lists(line, max_size=15),
        st.booleans(),
    ),
)


@settings(max_examples=300)
@given(
    files=st.dictionaries(st.sampled_from(["a.py", "b/c.py", "d.txt"]), st.tuples(content, content), min_size=1),
    context=st.integers(0, 4),
    data=st.data(),
)
def test_select_is_exact(files, context, data):
    base = {path: old for path, (old, _) in files.items()}
    new = {path: after for path, (_, after) in files.items()}
    cs = ChangeSet.from_contents(base, new, context=context)
    changed = {p for p in new if base[p] != new[p]}
    assert {f.path for f in cs.files} == changed
    ids = [h.id for h in cs.hunks]
    assert len(set(ids)) == len(ids)
    assert cs.select(ids) == {p: new[p] for p in changed}
    # any subset: applying it and then diffing again leaves exactly the unchosen changes
    subset = data.draw(st.lists(st.sampled_from(ids), unique=True) if ids else st.just([]))
    chosen = cs.select(subset)
    assert set(chosen) == {h.path for h in cs.hunks if h.id in subset}
    midway = {**base, **chosen}
    rest = ChangeSet.from_contents(midway, new, context=context)
    assert rest.select([h.id for h in rest.hunks]) == {p: new[p] for p in new if midway[p] != new[p]}
