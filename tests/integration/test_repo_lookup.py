"""The read-only tools against a real git repository: what they answer, what they refuse.

The never-sent rules (secret names and contents, ignored and excluded files, symlinks to a
secret, to an ignored file or outside the repository, paths outside it) hold for every tool,
whatever the model asks; the bounds cut a step's results and say so.
"""

from __future__ import annotations

import pytest

from counterpoint.core.context import ContextRules
from counterpoint.core.tools import ToolBounds, ToolBudget, ToolCall
from counterpoint.workflow.context import index_workspace
from counterpoint.workspace import Workspace
from counterpoint.workspace.lookup import RepoLookup
from support.tool_repo import EXCLUDE, LINKS, MARKERS, PRIVATE, fill


@pytest.fixture
def repo(git_repo, tmp_path):
    return fill(git_repo, tmp_path)


@pytest.fixture
def lookup(repo):
    rules = ContextRules(exclude=EXCLUDE)
    workspace = Workspace.open(repo)
    yield RepoLookup(workspace, rules, index=lambda: index_workspace(workspace, rules)[2])
    workspace.close()


def run(lookup, tool, **args):
    return lookup.run(ToolCall("c1", tool, args))


def test_read_file_answers_the_lines_asked_for(lookup):
    text, refused = run(lookup, "read_file", path="calc.py", start_line=2, end_line=3)
    assert not refused
    assert text == ("calc.py, lines 2-3 of 6:\n    def total(self, items):\n"
                    "        return sum(items)\n")
    whole, _ = run(lookup, "read_file", path="./calc.py")
    assert whole.startswith("calc.py, lines 1-6 of 6:\nclass Calculator:")


@pytest.mark.parametrize("path", [*PRIVATE, *LINKS, "elsewhere.txt", "../outside.txt",
                                  "/etc/passwd", ".git/config", "missing.py"])
def test_read_file_refuses_what_may_not_be_sent(lookup, path):
    text, refused = run(lookup, "read_file", path=path)
    assert refused and text.startswith("refused: ")
    for marker in MARKERS:
        assert marker not in text


def test_search_and_list_and_find_symbol_keep_to_shareable_files(lookup):
    for pattern in ("marker", "AKIA", "PRIVATE", "client_secret", "."):
        text, _ = run(lookup, "search", pattern=pattern)
        for marker in MARKERS:
            assert marker not in text, (pattern, marker)
    text, refused = run(lookup, "search", pattern="def total")
    assert not refused and text == "1 matching lines in 1 files:\ncalc.py:2:    def total(self, items):\n"
    listed, _ = run(lookup, "list_files")
    names = listed.splitlines()[1:]
    assert "calc.py" in names and "app.py" in names
    for name in (".env", "deploy/server.pem", "settings/client_secret.json", "vendor/huge_lib.py",
                 "scratch/local_notes.txt", *LINKS, "elsewhere.txt"):
        assert name not in names
    py, _ = run(lookup, "list_files", glob="*.py")
    assert py == "2 files:\napp.py\ncalc.py\n"
    found, _ = run(lookup, "find_symbol", name="total")
    assert found == "1 definitions:\ncalc.py:2-3: method def total(self, items):\n"
    assert run(lookup, "find_symbol", name="vendored_helper")[0].startswith("no definition")


def test_bad_calls_are_refused_with_a_reason(lookup):
    assert run(lookup, "write_file", path="x")[0].startswith("refused: unknown tool 'write_file'")
    assert run(lookup, "read_file")[0] == "refused: path must be a non-empty string"
    assert "before start_line" in run(lookup, "read_file", path="calc.py", start_line=4, end_line=2)[0]
    assert "past its end" in run(lookup, "read_file", path="calc.py", start_line=99)[0]
    text, refused = run(lookup, "search", pattern="(")
    assert refused and "git grep refused the pattern" in text


def test_the_budget_cuts_results_and_refuses_past_its_bounds():
    budget = ToolBudget(ToolBounds(max_calls=3, max_result_bytes=300, max_step_bytes=700))
    call = ToolCall("c", "read_file", {"path": "a"})
    long = "".join(f"line {n}\n" for n in range(200))
    first = budget.answer(call, long)
    kept = first.text.split("\n[truncated: ")[0]
    assert first.truncated and len(kept.encode()) <= 300 and kept.endswith("\n")
    assert first.text.startswith("line 0\n") and "[truncated: " in first.text
    short = budget.answer(call, "ok\n")
    assert short.text == "ok\n" and not short.truncated
    budget.answer(call, long)
    assert budget.refusal() is not None and "limit of 3 tool calls" in budget.refusal()
    bytes_budget = ToolBudget(ToolBounds(max_calls=10, max_result_bytes=600, max_step_bytes=700))
    bytes_budget.answer(call, long)
    assert "bytes of tool results" in (bytes_budget.refusal() or "")


def test_a_search_matching_too_much_says_so(lookup, repo):
    (repo / "many.py").write_text("".join(f"hit_{n} = {n}\n" for n in range(250)))
    fresh = RepoLookup(lookup.workspace, lookup.rules)
    text, refused = fresh.run(ToolCall("c", "search", {"pattern": "^hit_"}))
    assert not refused
    assert text.startswith("more than 200 matching lines (the first 200 shown; narrow the pattern):\n")
    assert text.splitlines()[-1] == "many.py:200:hit_199 = 199"
