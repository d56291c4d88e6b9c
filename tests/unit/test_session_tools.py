"""A step's tool turns in the session: shown per (step, model), counted as exchanges for resume."""

from __future__ import annotations

from counterpoint.core.events import RoundStarted, StepStarted, ToolUsed, UsageRecorded
from counterpoint.core.session import Session

GEN = "replay:gen"


def used(turn: int, n: int) -> ToolUsed:
    return ToolUsed(round=1, step="generate", model=GEN,
                    call={"id": f"c{n}", "name": "read_file", "arguments": {"path": "a.py"}},
                    result="a.py, lines 1-1 of 1:\nx = 1\n", turn=turn)


def test_tool_turns_count_as_exchanges_and_a_rerun_asks_them_again():
    s = Session()
    s.apply(RoundStarted(round=1, generator=GEN, reviewers=[]))
    s.apply(StepStarted(round=1, step="generate", model=GEN))
    for event in (used(1, 1), used(1, 2), used(2, 3)):
        s.apply(event)
    assert [e.call["id"] for e in s.current.tools[("generate", GEN)]] == ["c1", "c2", "c3"]
    # cut off while running: the whole step is asked again from its first request
    assert s.played(GEN) == {"generator": 0}
    s.apply(StepStarted(round=1, step="generate", model=GEN))  # the re-run
    assert s.current.tools[("generate", GEN)] == []
    s.apply(used(1, 1))
    s.apply(UsageRecorded(round=1, step="generate", model=GEN, tool_calls=1))
    s.apply(_finish())
    assert s.played(GEN) == {"generator": 2}  # one turn of calls, then the answer
    assert s.usage[GEN].tool_calls == 1


def _finish():
    from counterpoint.core.events import ProposalReady

    return ProposalReady(round=1, model=GEN, text="done", base={}, files={}, edits=0)
