"""Saved sessions: the list, the stats across them, and undo bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from counterpoint.core.events import Undone
from counterpoint.core.journal import Journal, JournalError, read_journal
from counterpoint.core.session import Session
from counterpoint.paths import sessions_dir


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    repo_name: str
    repo: str
    task: str
    rounds: int
    state: str
    started: str


def _sessions() -> list[Session]:
    out: list[Session] = []
    folder = sessions_dir()
    if not folder.is_dir():
        return out
    for path in folder.glob("*.jsonl"):
        try:
            session = Session.from_events(read_journal(path).events)
        except Exception:  # an unreadable journal is listed by nobody, but breaks nothing
            continue
        if session.meta is not None:
            out.append(session)
    out.sort(key=lambda s: s.meta.at if s.meta else "", reverse=True)
    return out


def list_sessions() -> list[SessionInfo]:
    """Newest first."""
    return [
        SessionInfo(
            s.id, s.meta.repo_name, s.meta.repo, s.task, len(s.rounds), s.state, s.meta.at
        )
        for s in _sessions()
        if s.meta is not None
    ]


def record_undo(record: Any) -> str | None:
    """Note an undo made outside a session (`counterpoint undo`) in that session's journal.

    Returns a sentence when it could not be noted (the session is open elsewhere)."""
    from counterpoint.workflow.launch import journal_path

    path = journal_path(record.session_id)
    if not path.exists():
        return None
    try:
        with Journal(path) as journal:
            journal.append(Undone(undo_id=record.undo_id, files=list(record.files)))
    except JournalError as exc:
        return f"the undo is done, but not noted in the session's journal: {exc}"
    return None
