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


def test_failed_blocks_come_back_by_their_search_text_and_the_nearest_lines():
    text = revise_message([], records(), 3)
    assert "### Edit block 1 did not apply to a.py" in text
    assert "Its SEARCH text (its REPLACE is as you wrote it in block 1):\n````\ndef f():\n    return 11\n````" in text
    assert "Did you mean these lines (from line 1)?\n````\ndef f():\n    return 1\n" in text
    assert "Its REPLACE lines are already in a.py" in text
    assert "The other 1 edit blocks applied." in text
    # the REPLACE half is the generator's own text, in its proposal above: not quoted back
    assert "return 3" not in text and "def h():" not in text
    assert "=======" not in text and ">>>>>>> REPLACE" not in text


def test_malformed_blocks_and_a_clean_round():
    bad = FailedEditRecord(index=-1, path="", reason="edit block at line 3 has no file path", search="",
                           replace="")
    text = revise_message([], [bad], 0)
    assert "### A malformed edit block\nedit block at line 3 has no file path" in text
    assert "No other edit block applied." in text
    assert "Every edit block you wrote so far is applied." in revise_message([], [], 2)


def _cluster(verdict, *ids, note=None):
    from counterpoint.core.findings import Cluster, Finding

    findings = [Finding(id=i, round=1, reviewer=f"m:{i[-2]}", path="app.py", start_line=2, end_line=4,
                        severity="high", category="correctness", title=f"add() rejects floats ({i})",
                        rationale=f"rationale of {i}", suggestion=f"suggestion of {i}")
                for i in ids]
    return Cluster(id=f"c-{ids[0]}", round=1, agreement="solo", contested=False, severity="high",
                   category="correctness", path="app.py", start_line=2, end_line=4,
                   title=findings[0].title, findings=findings, verdict=verdict, note=note)


def test_findings_the_generator_was_asked_about_are_named_by_their_ids():
    clusters = [_cluster("accepted", "r1-a1", "r1-b1"), _cluster("accepted", "r1-a2"),
                _cluster("pending", "r1-a3", note="keep it short"), _cluster("rejected", "r1-b2")]
    asked = {"r1-a1", "r1-b1", "r1-a3", "r1-b2"}  # r1-a2 came after the respond step
    text = revise_message(clusters, [], 1, asked)
    accepted = text.split("## Accepted findings: fix these\n", 1)[1].split("\n\n", 1)[0]
    # asked: its respond prompt above holds place, rationale and suggestion, under these ids
    assert accepted.split("\n")[0] == "- r1-a1, r1-b1"
    assert "rationale of r1-a1" not in text and "suggestion of r1-a1" not in text
    # never asked: described as before
    assert "- [high correctness] app.py:2-4 add() rejects floats (r1-a2)\n  suggestion: suggestion of r1-a2" in accepted
    # the human's note is new, whatever the finding
    assert "## Notes from the human\n- r1-a3\n  human's note: keep it short" in text
    assert "## Rejected findings: do not act on these\n- r1-b2" in text
    # without the respond step (asked nothing), every cluster is described whole
    whole = revise_message(clusters, [], 1)
    assert "- [high correctness] app.py:2-4 add() rejects floats (r1-a1)\n  suggestion: suggestion of r1-a1" in whole
    assert "- app.py:2-4 add() rejects floats (r1-b2)" in whole


def test_accepted_check_failures_go_back_with_their_output_trimmed_to_its_end():
    from counterpoint.core.alignment import align, join_checks
    from counterpoint.core.check_results import CheckFailure
    from counterpoint.core.findings import Finding
    from counterpoint.core.prompts import CHECK_OUTPUT_LIMIT
    from counterpoint.workflow.checks import CheckRun, CheckSpec, compare, failure_findings

    traceback = "".join(f"    frame {n} of a very long traceback\n" for n in range(400))
    traceback += 'app/hooks.py:57: in verify\n    raise KeyError("sig")\nE   KeyError: \'sig\' (the last line)\n'
    failures = [
        CheckFailure(key="tests.test_hooks::test_sign", title="tests.test_hooks::test_sign",
                     message="KeyError: 'sig'", path="tests/test_hooks.py", line=40,
                     detail=traceback, frames=[("app/hooks.py", 57)]),
        CheckFailure(key="tests.test_x::test_other", title="tests.test_x::test_other",
                     message="assert 1 == 2", path="tests/test_x.py", line=3,
                     detail="E   assert 1 == 2 (nobody flagged this)"),
    ]
    outcome = compare(CheckSpec("tests", "pytest"), CheckRun("tests", "failed", failures=failures), None, True)
    checks = failure_findings(1, [outcome], {"app/hooks.py": "x\n"}, safe_path=lambda p: p)
    model = Finding(id="r1-a1", round=1, reviewer="m:a", path="app/hooks.py", start_line=55, end_line=58,
                    severity="medium", category="correctness", title="Missing signature header raises",
                    rationale="verify() indexes headers['sig'] without checking it is there")
    clusters, _ = align([model], ["m:a"], 1)
    joined = join_checks(clusters, checks, ["m:a"], 1)
    confirmed = next(c for c in joined if c.confirmed)
    alone = next(c for c in joined if not c.confirmed)
    confirmed.verdict, alone.verdict = "accepted", "rejected"

    text = revise_message(joined, [], 1)
    accepted = text.split("## Accepted findings", 1)[1].split("\n## ", 1)[0]
    assert "Missing signature header raises" in accepted
    assert "check:tests failed (app/hooks.py:57), confirming it: tests.test_hooks::test_sign" in accepted
    assert "E   KeyError: 'sig' (the last line)" in accepted  # the end of the output, where it failed
    assert "frame 0 of a very long traceback" not in accepted  # the start trimmed away
    assert len(accepted) < CHECK_OUTPUT_LIMIT + 500
    # a rejected check failure is named, its output not sent
    rejected = text.split("## Rejected findings", 1)[1]
    assert "tests.test_x::test_other" in rejected and "nobody flagged this" not in text
    # however long a check finding's rationale (a journal from elsewhere), the prompt keeps its end
    long = confirmed.model_copy(deep=True)
    check = next(f for f in long.findings if f.reviewer == "check:tests")
    check.rationale = "START " + "x" * 10 * CHECK_OUTPUT_LIMIT + " END"
    text = revise_message([long], [], 1)
    assert " END" in text and "START" not in text and len(text) < 2 * CHECK_OUTPUT_LIMIT
