"""aider's own edit-block tests, ported as data (tests/data/aider_editblock_cases.json).

Every case gives aider's result except where Counterpoint refuses on purpose: a SEARCH that
matches in more than one place fails with the lines named instead of editing the first.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from counterpoint.core.edit_apply import apply_edit_blocks
from counterpoint.core.edits import EditBlock, EditStreamParser

CASES = json.loads((Path(__file__).parents[1] / "data" / "aider_editblock_cases.json").read_text("utf-8"))
REFUSED_BY_DESIGN = {"replace_multiple_matches", "replace_multiple_matches_missing_whitespace"}
BLOCK_BODY = "<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n"


def outcome(case: dict) -> object:
    """What Counterpoint makes of a case, in the shape of its `expect`."""
    if case["kind"] in ("parse", "filename"):
        text = case["text"] if case["kind"] == "parse" else "\n".join(case["lines"]) + "\n" + BLOCK_BODY
        parser = EditStreamParser(case["known_paths"])
        parser.feed(text)
        parser.close()
        if case["kind"] == "filename":
            return parser.blocks[0].path if parser.blocks else None
        if parser.malformed and not parser.blocks:
            return "malformed"
        return [[b.path, b.search, b.replace] for b in parser.blocks]
    block = EditBlock(index=0, path=case["path"], search=case["search"], replace=case["replace"], language=None)
    result = apply_edit_blocks({case["path"]: case["whole"]}, [block])
    return "refused" if result.failed else result.files[case["path"]]


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["name"] for c in CASES["cases"]])
def test_aider_case(case):
    got = outcome(case)
    if case["name"] in REFUSED_BY_DESIGN:
        assert got == "refused"
    else:
        assert got == case["expect"]
