"""The revise message tells the generator what became of its edit blocks (as aider does)."""

from __future__ import annotations

from counterpoint.core.edit_apply import apply_edit_blocks
from counterpoint.core.edits import parse_edit_blocks
from counterpoint.core.events import FailedEditRecord
from counterpoint.core.prompts import revise_message

SOURCE = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"
PROPOSAL = (
    "a.py\n<<<<<<< SEARCH\ndef f():\n    return 11\n=======\ndef f():\n    return 3\n>>>>>>> REPLACE\n"
    "a.py\n<<<<<<< SEARCH\ndef g():\n    return 0\n=======\ndef g():\n    return 2\n>>>>>>> REPLACE\n"
    "a.py\n<<<<<<< SEARCH\n\n\ndef g():\n=======\n\n\ndef h():\n    pass\n\n\ndef g():\n>>>>>>> REPLACE\n"
)


def records() -> list[FailedEditRecord]:
    outcome = apply_edit_blocks({"a.py": SOURCE}, parse_edit_blocks(PROPOSAL))
    return [
        FailedEditRecord(index=f.block.index, path=f.block.path, reason=f.reason, search=f.block.search,
                         replace=f.block.replace, nearest=f.nearest, nearest_line=f.nearest_line)
        for f in outcome.failed
    ]


def test_failed_blocks_come_back_with_the_nearest_lines_and_the_rest_is_not_resent():
    text = revise_message([], records(), 3)
    assert "### Edit block 1 did not apply to a.py" in text
    assert "<<<<<<< SEARCH\ndef f():\n    return 11\n=======\n" in text
    assert "Did you mean these lines of a.py (from line 1)?\n````\ndef f():\n    return 1\n" in text
    assert "Its REPLACE lines are already in a.py" in text
    assert "the other 1 applied, do not send them again." in text


def test_malformed_blocks_and_a_clean_round():
    bad = FailedEditRecord(index=-1, path="", reason="edit block at line 3 has no file path", search="",
                           replace="")
    text = revise_message([], [bad], 0)
    assert "### A malformed edit block\nedit block at line 3 has no file path" in text
    assert "- all of them applied" in revise_message([], [], 2)
