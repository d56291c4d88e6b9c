"""The read-only tool calls shown above a model's answer in its pane: hostile text stays text."""

from __future__ import annotations

from counterpoint.core.events import RoundStarted, StepStarted, ToolUsed
from counterpoint.core.session import Session
from counterpoint.tui.panes import tool_notes

GEN = "anthropic:claude-x"


def test_each_call_is_listed_with_its_result_trimmed_and_hostile_text_escaped():
    s = Session()
    s.apply(RoundStarted(round=1, generator=GEN, reviewers=[]))
    s.apply(StepStarted(round=1, step="generate", model=GEN))
    s.apply(ToolUsed(round=1, step="generate", model=GEN,
                     call={"id": "a", "name": "read_file", "arguments": {"path": "x\x1b]52;c;AA\x07.py"}},
                     result="refused: x: not a file that may be shared", refused=True))
    s.apply(ToolUsed(round=1, step="generate", model=GEN,
                     call={"id": "b", "name": "search", "arguments": {"pattern": "a``b"}},
                     result="2 matching lines in 1 files:\napp.py:1:x\napp.py:2:y\n", truncated=True))
    notes = tool_notes(s.current, "generate", GEN)
    assert "\x1b" not in notes and "\x07" not in notes and "\\x1b]52" in notes
    lines = notes.splitlines()
    assert lines[0] == "**Looked at** · 2 tool calls"
    assert lines[2].startswith("- ✗ ` read_file(x\\x1b]52;c;AA\\x07.py) ` → ` refused: ")
    assert lines[3] == ("- ✂ ``` search(a``b) ``` → ` 2 matching lines in 1 files: (+2 lines) `")
    assert tool_notes(s.current, "review", GEN) == ""
