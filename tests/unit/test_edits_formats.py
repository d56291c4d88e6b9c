"""The edit-block formats real models write (issue 9, "Real model output"), one test each.

Each is parsed whole and streamed a character at a time (the results must agree), and what
cannot be recovered must be reported, never dropped or given to the wrong file.
"""

from __future__ import annotations

from counterpoint.core.edit_apply import apply_edit_blocks
from counterpoint.core.edit_headers import resolve_path
from counterpoint.core.edits import EditStreamParser


def parse(text: str, known: tuple[str, ...] = ()) -> EditStreamParser:
    whole = EditStreamParser(known)
    whole.feed(text)
    whole.close()
    streamed = EditStreamParser(known)
    for ch in text:
        streamed.feed(ch)
    streamed.close()
    assert (streamed.blocks, streamed.malformed, streamed.explanation) == (
        whole.blocks, whole.malformed, whole.explanation
    )
    return whole


def triples(p: EditStreamParser) -> list[tuple[str, str, str]]:
    return [(b.path, b.search, b.replace) for b in p.blocks]


def test_double_divider_is_never_written_into_the_file():
    text = "app/x.py\n```python\n<<<<<<< SEARCH\na = 1\n=======\na = 2\n=======\n>>>>>>> REPLACE\n```\n"
    p = parse(text)
    assert triples(p) == [("app/x.py", "a = 1\n", "a = 2\n")] and p.malformed == []
    out = apply_edit_blocks({"app/x.py": "a = 1\nb = 1\n"}, p.blocks)
    assert out.files["app/x.py"] == "a = 2\nb = 1\n"


def test_double_divider_with_a_blank_line_between():
    p = parse("a.py\n<<<<<<< SEARCH\nx\n=======\ny\n=======\n\n>>>>>>> REPLACE\n")
    assert triples(p) == [("a.py", "x\n", "y\n")]


def test_divider_as_terminator_then_prose_and_the_next_block():
    text = (
        "app/x.py\n```python\n<<<<<<< SEARCH\na = 1\n=======\na = 2\n=======\n```\n\n"
        "Then the test:\n\ntests/t.py\n```python\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n```\n"
    )
    p = parse(text)
    assert triples(p) == [("app/x.py", "a = 1\n", "a = 2\n"), ("tests/t.py", "old\n", "new\n")]
    assert p.malformed == [] and "Then the test:" in p.explanation


def test_divider_as_terminator_at_the_end():
    p = parse("a.py\n```\n<<<<<<< SEARCH\nx\n=======\ny\n=======\n```\nDone.\n")
    assert triples(p) == [("a.py", "x\n", "y\n")] and p.explanation.endswith("Done.\n")


def test_a_divider_inside_replace_text_stays_text():
    text = "README.md\n<<<<<<< SEARCH\nOld\n=======\nTitle\n=======\nBody\n>>>>>>> REPLACE\n"
    assert triples(parse(text)) == [("README.md", "Old\n", "Title\n=======\nBody\n")]


def test_unclosed_block_does_not_lend_its_path_or_swallow_the_next_path_line():
    text = (
        "app/x.py\n```python\n<<<<<<< SEARCH\na\n=======\nb\n```\n\n"
        "app/y.py\n```python\n<<<<<<< SEARCH\nc\n=======\nd\n>>>>>>> REPLACE\n```\n"
    )
    p = parse(text)
    assert triples(p) == [("app/y.py", "c\n", "d\n")]
    assert len(p.malformed) == 1 and "app/x.py" in p.malformed[0] and "never closed" in p.malformed[0]


def test_replace_marker_without_a_divider_is_reported():
    p = parse("a.py\n<<<<<<< SEARCH\nx\n>>>>>>> REPLACE\nb.py\n<<<<<<< SEARCH\n=======\nnew\n>>>>>>> REPLACE\n")
    assert triples(p) == [("b.py", "", "new\n")]
    assert "without an ======= divider" in p.malformed[0]


def test_path_in_its_own_fence_on_the_fence_line_or_labelled():
    body = "<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n```\n"
    for header, path in [
        ("```python\napp/a.py\n```\n```python\n", "app/a.py"),
        ("```python:app/b.py\n", "app/b.py"),
        ("```python app/c.py\n", "app/c.py"),
        ('```python title="app/d.py"\n', "app/d.py"),
        ("File: app/e.py\n```python\n", "app/e.py"),
        ("**File:** `app/f.py`\n```python\n", "app/f.py"),
        ("### Filename: app/g.py\n\n```python\n", "app/g.py"),
        ("- `app/h.py`\n```python\n", "app/h.py"),
        ("Update `app/i.py`:\n\n```python\n", "app/i.py"),
        ("Makefile\n```make\n", "Makefile"),
    ]:
        p = parse("Intro.\n\n" + header + body)
        assert [b.path for b in p.blocks] == [path], header
        assert p.malformed == []


def test_one_word_prose_is_not_a_path():
    p = parse("Next:\n```python\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n```\n")
    assert p.blocks == [] and "no file path" in p.malformed[0]
    # After a named block, a block without a path continues the same file (aider's convention).
    p = parse("a.py\n```\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n```\nNext:\n```\n"
              "<<<<<<< SEARCH\nz\n=======\nw\n>>>>>>> REPLACE\n```\n")
    assert [b.path for b in p.blocks] == ["a.py", "a.py"] and "Next:" in p.explanation


def test_block_indented_inside_a_list_item():
    text = (
        "1. Change the value:\n\n   app/x.py\n   ```python\n   <<<<<<< SEARCH\n   def f():\n"
        "       return 1\n\n   =======\n   def f():\n       return 2\n   >>>>>>> REPLACE\n   ```\n"
        "2. Done.\n"
    )
    p = parse(text)
    assert triples(p) == [("app/x.py", "def f():\n    return 1\n\n", "def f():\n    return 2\n")]
    assert "2. Done." in p.explanation


def test_search_wrapped_in_the_file_name_and_fence_lines_applies():
    p = parse("app/x.py\n<<<<<<< SEARCH\napp/x.py\n```python\na = 1\n```\n=======\na = 2\n>>>>>>> REPLACE\n")
    out = apply_edit_blocks({"app/x.py": "a = 1\n"}, p.blocks)
    assert out.failed == [] and out.files["app/x.py"] == "a = 2\n"


def test_basename_and_mangled_names_map_to_the_one_known_file():
    known = ("dir/file3.py", "file1.py", "a/util.py", "b/util.py")
    body = "\n```\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n```\n"
    assert [b.path for b in parse("file3.py" + body, known).blocks] == ["dir/file3.py"]
    assert [b.path for b in parse("file1_py" + body, known).blocks] == ["file1.py"]
    assert [b.path for b in parse("util.py" + body, known).blocks] == ["util.py"]  # two: not guessed
    new_file = "file3.py\n```\n<<<<<<< SEARCH\n=======\nnew\n>>>>>>> REPLACE\n```\n"
    assert [b.path for b in parse(new_file, known).blocks] == ["file3.py"]  # creating, not editing
    assert resolve_path("./dir/file3.py", known) == "dir/file3.py"
    assert resolve_path("other/file3.py", known) == "other/file3.py"


def test_failed_edit_names_the_nearest_lines_and_a_replace_already_there():
    source = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"
    p = parse("a.py\n<<<<<<< SEARCH\ndef f():\n    return 11\n=======\ndef f():\n    return 3\n>>>>>>> REPLACE\n"
              "a.py\n<<<<<<< SEARCH\ndef g():\n    return 0\n=======\ndef g():\n    return 2\n>>>>>>> REPLACE\n")
    out = apply_edit_blocks({"a.py": source}, p.blocks)
    first, second = out.failed
    assert first.reason == "SEARCH text not found in a.py; the nearest lines are 1-2"
    assert first.nearest == "def f():\n    return 1\n" and first.nearest_line == 1  # blank context trimmed
    assert "REPLACE text is already there" in second.reason
