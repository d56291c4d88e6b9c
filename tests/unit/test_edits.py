"""Edit blocks: parsing proposals (whole and streamed) and applying them to file contents."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from counterpoint.core.edit_apply import apply_edit_blocks
from counterpoint.core.edits import EditBlock, EditStreamParser, parse_edit_blocks

PROPOSAL = """\
I'll make `add` check its inputs and add a test.

app/x.py
```python
<<<<<<< SEARCH
def add(a, b):
    return a + b
=======
def add(a: int, b: int) -> int:
    return a + b
>>>>>>> REPLACE
<<<<<<< SEARCH
VERSION = 1
=======
VERSION = 2
>>>>>>> REPLACE
```

Then a new test file:

tests/test_x.py
```python
<<<<<<< SEARCH
=======
def test_add():
    assert add(1, 2) == 3
>>>>>>> REPLACE
```

That is all.
"""


def block(path: str, search: str, replace: str, index: int = 0) -> EditBlock:
    return EditBlock(index=index, path=path, search=search, replace=replace, language=None)


# ---------------------------------------------------------------------------------- parsing


def test_parses_blocks_with_shared_fence_paths_and_languages():
    blocks = parse_edit_blocks(PROPOSAL)
    assert [(b.index, b.path, b.language) for b in blocks] == [
        (0, "app/x.py", "python"),
        (1, "app/x.py", "python"),
        (2, "tests/test_x.py", "python"),
    ]
    assert blocks[0].search == "def add(a, b):\n    return a + b\n"
    assert blocks[0].replace == "def add(a: int, b: int) -> int:\n    return a + b\n"
    assert blocks[1].search == "VERSION = 1\n"
    assert blocks[2].search == ""
    assert blocks[2].replace.startswith("def test_add():\n")


def test_explanation_is_the_text_outside_blocks():
    parser = EditStreamParser()
    parser.feed(PROPOSAL)
    parser.close()
    assert parser.explanation == (
        "I'll make `add` check its inputs and add a test.\n\n\n"
        "Then a new test file:\n\n\nThat is all.\n"
    )
    assert parser.malformed == []


def test_tolerates_decorated_paths_other_fences_marker_lengths_and_crlf():
    text = (
        "**src/a.py**:\r\n"
        "````py\r\n"
        "<<<<<<<<< SEARCH\r\n"
        "old\r\n"
        "=========\r\n"
        "new\r\n"
        ">>>>> REPLACE\r\n"
        "````\r\n"
        "`src/b c.py`\r\n"
        "~~~\r\n"
        "<<<<<<< SEARCH\r\n"
        "x\r\n"
        "=======\r\n"
        "y\r\n"
        ">>>>>>> REPLACE\r\n"
        "~~~\r\n"
        "src/c.py:\n"
        "<<<<<<< SEARCH\n"
        "p\n"
        "=======\n"
        "q\n"
        ">>>>>>> REPLACE\n"
    )
    blocks = parse_edit_blocks(text)
    assert [(b.path, b.search, b.replace, b.language) for b in blocks] == [
        ("src/a.py", "old\n", "new\n", "py"),
        ("src/b c.py", "x\n", "y\n", None),
        ("src/c.py", "p\n", "q\n", None),
    ]


def test_path_inside_the_fence_is_accepted():
    text = "```python\napp.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```\n"
    assert [(b.path, b.language) for b in parse_edit_blocks(text)] == [("app.py", "python")]


def test_unterminated_block_is_reported_as_malformed():
    text = "Intro\n\napp.py\n```\n<<<<<<< SEARCH\na\n=======\nb\n"
    parser = EditStreamParser()
    parser.feed(text)
    assert parser.close() == []
    assert parser.blocks == []
    assert parser.malformed == ["block for app.py at line 3 never closed with >>>>>>> REPLACE"]


def test_block_without_a_path_is_malformed_not_guessed():
    text = "Here is the change:\n```\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```\n"
    parser = EditStreamParser()
    parser.feed(text)
    parser.close()
    assert parser.blocks == []
    assert len(parser.malformed) == 1 and "no file path" in parser.malformed[0]


def test_stray_search_inside_replace_reports_previous_block():
    text = "a.py\n<<<<<<< SEARCH\nx\n=======\ny\n<<<<<<< SEARCH\nz\n=======\nw\n>>>>>>> REPLACE\n"
    parser = EditStreamParser()
    parser.feed(text)
    parser.close()
    assert [(b.path, b.search, b.replace) for b in parser.blocks] == [("a.py", "z\n", "w\n")]
    assert "never closed" in parser.malformed[0]


def test_feed_returns_blocks_as_they_complete():
    parser = EditStreamParser()
    completed: list[list[str]] = []
    for line in PROPOSAL.splitlines(keepends=True):
        completed.append([b.path for b in parser.feed(line)])
    completed.append([b.path for b in parser.close()])
    flat = [p for step in completed for p in step]
    assert flat == ["app/x.py", "app/x.py", "tests/test_x.py"]
    # each block arrives on the line holding its REPLACE marker, not later
    lines = PROPOSAL.splitlines()
    replace_lines = [i for i, line in enumerate(lines) if line.startswith(">>>>>>> REPLACE")]
    assert [i for i, step in enumerate(completed) if step] == replace_lines


def test_streaming_is_incremental():
    """20,000 tokens fed token by token: linear, not quadratic (generous bound)."""
    body = "".join(f"    value_{i} = compute({i})  # some commentary here\n" for i in range(300))
    section = f"pkg/mod.py\n```python\n<<<<<<< SEARCH\n{body}=======\n{body}>>>>>>> REPLACE\n```\n"
    text = "Explanation paragraph.\n" + section * 4
    tokens = [text[i : i + 4] for i in range(0, len(text), 4)]
    assert len(tokens) > 20_000
    parser = EditStreamParser()
    started = time.perf_counter()
    for token in tokens:
        parser.feed(token)
    parser.close()
    elapsed = time.perf_counter() - started
    assert len(parser.blocks) == 4
    assert parser.blocks == parse_edit_blocks(text)
    assert elapsed < 5.0  # quadratic re-scanning would take minutes


proposal_piece = st.sampled_from(
    [
        "app/x.py\n",
        "`app/y.py`:\n",
        "```python\n",
        "```\n",
        "~~~\n",
        "<<<<<<< SEARCH\n",
        "=======\n",
        ">>>>>>> REPLACE\n",
        "    return 1\n",
        "text with words\n",
        "\n",
        "\r\n",
        "x = 1\r\n",
        "# heading\n",
        "<<<<<<<",
        "SEARCH",
        "no newline",
        # the formats of issue 9: labels, fence-line paths, indented markers, prose, dividers
        "File: app/z.py\n",
        "```python:app/w.py\n",
        "Next:\n",
        "   <<<<<<< SEARCH\n",
        "   =======\n",
        "   >>>>>>> REPLACE\n",
        "   ```\n",
        "=========\n",
        "Update `app/v.py`:\n",
    ]
)


@st.composite
def proposal_texts(draw) -> str:
    structured = "".join(draw(st.lists(proposal_piece, max_size=40)))
    noise = draw(st.text(max_size=30))
    return structured + noise if draw(st.booleans()) else noise + structured


@st.composite
def chunkings(draw, text: str) -> list[str]:
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=30))))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:])]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_chunking_invariance(data):
    text = data.draw(proposal_texts())
    chunks = data.draw(chunkings(text))
    known = ("app/x.py", "pkg/app/z.py", "w.py")
    whole = EditStreamParser(known)
    whole.feed(text)
    whole.close()
    streamed = EditStreamParser(known)
    got: list[EditBlock] = []
    for chunk in chunks:
        got += streamed.feed(chunk)
        streamed.pending()  # a view of the stream mid-way never disturbs it
    got += streamed.close()
    assert got == streamed.blocks == whole.blocks
    assert streamed.malformed == whole.malformed
    assert streamed.sequence == whole.sequence
    assert streamed.explanation == whole.explanation
    # The divider is never written into a block's text by the double-divider form.
    assert all(not b.replace.endswith("=======\n") for b in whole.blocks)


def test_pending_is_what_is_undecided_and_sequence_places_each_block():
    parser = EditStreamParser()
    parser.feed("Intro.\n\napp/x.py\n```python\n<<<<<<")
    pending = parser.pending()
    assert parser.explanation == ""
    assert pending.block is None  # held: may be a header; the partial marker is not shown
    assert pending.text == "Intro.\n\napp/x.py\n```python\n"
    parser.feed("< SEARCH\nold()\nol")
    pending = parser.pending()
    assert parser.explanation == "Intro.\n\n"
    assert pending.text == "" and pending.block is not None
    assert (pending.block.path, pending.block.language) == ("app/x.py", "python")
    assert (pending.block.search, pending.block.in_replace) == ("old()\nol\n", False)
    parser.feed("d2()\n=======\nnew()\n===")
    pending = parser.pending()
    assert pending.block is not None and pending.block.in_replace
    assert (pending.block.search, pending.block.replace) == ("old()\nold2()\n", "new()\n")
    parser.feed("====\n>>>>>>> REPLACE\n```\nDone: ")
    assert parser.pending() == type(pending)("Done: ", None)
    parser.feed("\n>>>>>>> REPLACE\n")
    parser.close()
    report = ">>>>>>> REPLACE at line 14 has no block to close"
    assert parser.sequence == [(len("Intro.\n\n"), parser.blocks[0]), (len("Intro.\n\n"), report)]
    assert parser.explanation == "Intro.\n\nDone: \n"


@settings(max_examples=200)
@given(st.text())
def test_parser_never_raises_on_arbitrary_text(text):
    parser = EditStreamParser()
    parser.feed(text)
    parser.close()
    assert all(isinstance(b, EditBlock) for b in parser.blocks)


@settings(max_examples=200)
@given(path=st.from_regex(r"[a-z]{1,8}(/[a-z]{1,8}){0,2}\.py", fullmatch=True),
       search=st.lists(st.sampled_from(["a = 1", "", "  b()", "def f():", "c # x"]), max_size=5),
       replace=st.lists(st.sampled_from(["z", "", "    y = 2", "return"]), max_size=5))
def test_rendered_block_parses_back(path, search, replace):
    def body(lines: list[str]) -> str:
        return "".join(line + "\n" for line in lines)

    text = f"Intro.\n\n{path}\n```python\n<<<<<<< SEARCH\n{body(search)}=======\n{body(replace)}>>>>>>> REPLACE\n```\n"
    assert parse_edit_blocks(text) == [
        EditBlock(index=0, path=path, search=body(search), replace=body(replace), language="python")
    ]


# --------------------------------------------------------------------------------- applying

SOURCE = """\
import os


class Greeter:
    def greet(self, name):
        return f"hello {name}"

    def shout(self, name):
        return self.greet(name).upper()


def main():
    print(Greeter().greet("x"))
"""


def test_exact_match_applies_and_later_blocks_see_earlier_results():
    blocks = [
        block("g.py", "import os\n", "import os\nimport sys\n", 0),
        block("g.py", "import sys\n", "import sys  # for argv\n", 1),
    ]
    outcome = apply_edit_blocks({"g.py": SOURCE}, blocks)
    assert outcome.failed == []
    assert outcome.applied == blocks
    assert outcome.files["g.py"] == SOURCE.replace("import os\n", "import os\nimport sys  # for argv\n")


def test_indentation_offset_is_tolerated_and_replace_reindented():
    search = "def greet(self, name):\n    return f\"hello {name}\"\n"
    replace = "def greet(self, name):\n    if not name:\n        raise ValueError(name)\n    return f\"hello {name}\"\n"
    outcome = apply_edit_blocks({"g.py": SOURCE}, [block("g.py", search, replace)])
    assert outcome.failed == []
    assert (
        "    def greet(self, name):\n        if not name:\n            raise ValueError(name)\n"
        "        return f\"hello {name}\"\n" in outcome.files["g.py"]
    )


def test_over_indented_search_is_dedented():
    search = "        def shout(self, name):\n            return self.greet(name).upper()\n"
    replace = "        def shout(self, name):\n            return self.greet(name).upper() + '!'\n"
    outcome = apply_edit_blocks({"g.py": SOURCE}, [block("g.py", search, replace)])
    assert outcome.failed == []
    assert "    def shout(self, name):\n        return self.greet(name).upper() + '!'\n" in outcome.files["g.py"]


def test_trailing_whitespace_and_blank_edges_are_tolerated():
    text = "a = 1   \nb = 2\n\nc = 3\n"
    outcome = apply_edit_blocks(
        {"t.py": text},
        [
            block("t.py", "a = 1\nb = 2\n", "a = 10\nb = 2\n", 0),
            block("t.py", "\n\nc = 3\n\n\n", "\n\nc = 30\n\n\n", 1),
        ],
    )
    assert outcome.failed == []
    assert outcome.files["t.py"] == "a = 10\nb = 2\n\nc = 30\n"


def test_non_uniform_indentation_is_not_guessed():
    text = "if x:\n    a()\n    b()\n"
    outcome = apply_edit_blocks({"t.py": text}, [block("t.py", "if x:\n  a()\n    b()\n", "z\n")])
    assert [f.reason for f in outcome.failed] == ["SEARCH text not found in t.py; the nearest lines are 1-3"]
    assert outcome.failed[0].nearest == text and outcome.failed[0].nearest_line == 1
    assert outcome.files["t.py"] == text


def test_ambiguous_match_fails_naming_lines_and_others_still_apply():
    text = "x = 1\ny = 2\nx = 1\nz = 3\n"
    blocks = [block("t.py", "x = 1\n", "x = 9\n", 0), block("t.py", "z = 3\n", "z = 4\n", 1)]
    outcome = apply_edit_blocks({"t.py": text}, blocks)
    assert [f.reason for f in outcome.failed] == [
        "SEARCH text matches 2 places in t.py (lines 1 and 3); add more context"
    ]
    assert outcome.applied == [blocks[1]]
    assert outcome.files["t.py"] == "x = 1\ny = 2\nx = 1\nz = 4\n"


def test_ambiguity_at_tolerant_level_is_refused():
    text = "def a():\n    pass\n\ndef b():\n        pass\n"
    outcome = apply_edit_blocks({"t.py": text}, [block("t.py", "  pass\n", "  return\n")])
    assert outcome.failed[0].reason.startswith("SEARCH text matches 2 places in t.py (lines 2 and 5)")


def test_empty_search_creates_fills_or_fails():
    outcome = apply_edit_blocks(
        {"empty.py": "", "full.py": "x\n"},
        [
            block("new.py", "", "print(1)\n", 0),
            block("empty.py", "", "y = 2\n", 1),
            block("full.py", "", "z\n", 2),
            block("missing.py", "a\n", "b\n", 3),
        ],
    )
    assert outcome.files == {"new.py": "print(1)\n", "empty.py": "y = 2\n", "full.py": "x\n", "missing.py": None}
    assert [f.reason for f in outcome.failed] == [
        "SEARCH is empty but full.py already exists and is not empty "
        "(an empty SEARCH only creates a file or fills an empty one)",
        "missing.py does not exist (an empty SEARCH creates a file)",
    ]


def test_missing_final_newline_is_preserved():
    text = "a\nb\nc"
    first = apply_edit_blocks({"t": text}, [block("t", "a\n", "A\n")])
    assert first.files["t"] == "A\nb\nc"
    last = apply_edit_blocks({"t": text}, [block("t", "c\n", "C\nD\n")])
    assert last.files["t"] == "a\nb\nC\nD"
    kept = apply_edit_blocks({"t": "a\nb\n"}, [block("t", "b\n", "B\n")])
    assert kept.files["t"] == "a\nB\n"


def test_parse_then_apply_end_to_end():
    files = {"app/x.py": "import os\n\nVERSION = 1\n\n\ndef add(a, b):\n    return a + b\n", "tests/test_x.py": None}
    outcome = apply_edit_blocks(files, parse_edit_blocks(PROPOSAL))
    assert outcome.failed == []
    assert "def add(a: int, b: int) -> int:" in outcome.files["app/x.py"]
    assert "VERSION = 2" in outcome.files["app/x.py"]
    assert outcome.files["tests/test_x.py"].startswith("def test_add():")


line_text = st.sampled_from(["a", "b", "c", "", "  a", "x = 1", "    return x", "}"])


@settings(max_examples=300)
@given(
    lines=st.lists(line_text, min_size=1, max_size=25),
    data=st.data(),
    replacement=st.lists(line_text, max_size=5),
    final_newline=st.booleans(),
)
def test_round_trip_unique_slice_is_replaced(lines, data, replacement, final_newline):
    i = data.draw(st.integers(0, len(lines) - 1))
    j = data.draw(st.integers(i + 1, len(lines)))
    piece = lines[i:j]
    occurrences = sum(1 for k in range(len(lines)) if lines[k : k + len(piece)] == piece)
    assume(occurrences == 1)
    assume(any(p.strip() for p in piece))
    assume(final_newline or lines[-1] != "")  # "a\n" + "" without newline is just "a\n"
    text = "\n".join(lines) + ("\n" if final_newline else "")
    search = "".join(p + "\n" for p in piece)
    replace = "".join(r + "\n" for r in replacement)
    outcome = apply_edit_blocks({"f": text}, [block("f", search, replace)])
    assert outcome.failed == []
    expected = lines[:i] + replacement + lines[j:]
    assert outcome.files["f"] == ("\n".join(expected) + ("\n" if final_newline and expected else ""))


@settings(max_examples=300)
@given(
    before=st.lists(line_text, max_size=6),
    middle=st.lists(line_text, max_size=6),
    after=st.lists(line_text, max_size=6),
    piece=st.lists(line_text, min_size=1, max_size=4),
    indent=st.sampled_from(["", "  ", "    ", "\t"]),
)
def test_ambiguous_matches_are_always_refused(before, middle, after, piece, indent):
    assume(any(p.strip() for p in piece))
    lines = before + piece + middle + piece + after
    text = "".join(line + "\n" for line in lines)
    shifted = [(indent + p).rstrip() for p in piece]
    if indent:
        # the shifted SEARCH must not match somewhere else exactly (that would not be a guess)
        stripped = [line.rstrip() for line in lines]
        assume(all(stripped[k : k + len(piece)] != shifted for k in range(len(lines))))
    search = "".join(indent + p + "\n" for p in piece)
    outcome = apply_edit_blocks({"f": text}, [block("f", search, "REPLACED\n")])
    assert outcome.applied == []
    assert outcome.files["f"] == text
    assert "matches" in outcome.failed[0].reason


@settings(max_examples=200)
@given(text=st.text(max_size=80), search=st.text(max_size=30), replace=st.text(max_size=30))
def test_apply_never_raises(text, search, replace):
    outcome = apply_edit_blocks({"f": text}, [block("f", search, replace)])
    assert len(outcome.applied) + len(outcome.failed) == 1
