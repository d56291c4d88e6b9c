"""The scoreboard from the saved sessions under COUNTERPOINT_HOME (`counterpoint stats`, the
TUI's scoreboard screen, the task screen's model records). The numbers are computed in
`core/scoreboard.py`; this module reads the journals."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from counterpoint.core.events import UsageRecorded
from counterpoint.core.journal import read_journal
from counterpoint.core.scoreboard import Filters, SessionRecord, compute
from counterpoint.core.session import Session
from counterpoint.paths import sessions_dir


def session_records() -> list[SessionRecord]:
    """Every readable saved session, with the cost of its review steps per model."""
    out: list[SessionRecord] = []
    folder = sessions_dir()
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.jsonl")):
        try:
            events = read_journal(path).events
            session = Session.from_events(events)
        except Exception:  # an unreadable journal counts for nobody, but breaks nothing
            continue
        if session.meta is None:
            continue
        cost: dict[str, float] = defaultdict(float)
        for e in events:
            if isinstance(e, UsageRecorded) and e.step == "review":
                cost[e.model] += e.cost_usd
        out.append(SessionRecord(session, dict(cost)))
    return out


def scoreboard(filters: Filters | None = None) -> dict[str, Any]:
    return compute(session_records(), filters or Filters())
