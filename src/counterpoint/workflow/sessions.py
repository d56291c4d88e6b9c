"""Saved sessions: the list, the stats across them, and undo bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from counterpoint.core.events import Undone
from counterpoint.core.journal import Journal, read_journal
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


def collect_stats() -> dict[str, Any]:
    """Per reviewer: findings raised, by agreement, and the human's verdicts on them;
    per generator: stances taken. Counted on each round's clusters."""
    reviewers: dict[str, dict[str, int]] = {}
    generators: dict[str, dict[str, int]] = {}
    sessions = _sessions()
    for s in sessions:
        for r in s.rounds:
            for c in r.clusters:
                for f in c.findings:
                    row = reviewers.setdefault(
                        f.reviewer,
                        {"findings": 0, "consensus": 0, "solo": 0, "severity-split": 0,
                         "accepted": 0, "rejected": 0, "pending": 0},
                    )
                    row["findings"] += 1
                    row[c.agreement] += 1
                    row[c.verdict] += 1
                g = generators.setdefault(
                    r.generator, {"agree": 0, "dispute": 0, "partial": 0, "none": 0,
                                  "disputed_but_accepted": 0}
                )
                g[c.stance] += 1
                if c.stance == "dispute" and c.verdict == "accepted":
                    g["disputed_but_accepted"] += 1
    return {"sessions": len(sessions), "reviewers": reviewers, "generators": generators}


def render_stats(stats: dict[str, Any]) -> str:
    lines = [f"{stats['sessions']} sessions", "", "Reviewers"]
    lines.append(f"  {'model':<32} {'raised':>6} {'cons':>5} {'solo':>5} {'split':>5} {'kept':>5} {'rej':>5}")
    for model, r in sorted(stats["reviewers"].items()):
        lines.append(
            f"  {model:<32} {r['findings']:>6} {r['consensus']:>5} {r['solo']:>5} "
            f"{r['severity-split']:>5} {r['accepted']:>5} {r['rejected']:>5}"
        )
    lines += ["", "Generators (stance on clusters)"]
    for model, g in sorted(stats["generators"].items()):
        lines.append(
            f"  {model:<32} agree {g['agree']}  dispute {g['dispute']}  partial {g['partial']}"
            f"  (disputed but accepted by the human: {g['disputed_but_accepted']})"
        )
    return "\n".join(lines) + "\n"


def record_undo(record: Any) -> None:
    """Note an undo made outside a session (`counterpoint undo`) in that session's journal."""
    from counterpoint.workflow.launch import journal_path

    path = journal_path(record.session_id)
    if not path.exists():
        return
    with Journal(path) as journal:
        journal.append(Undone(undo_id=record.undo_id, files=list(record.files)))
