"""Messages the app posts to its screens (attributes down, messages up).

The orchestrator's listener runs on the app's event loop for every event, including one
`Delta` per streamed token. Rather than one message (and one repaint) per token, the app
collects what changed in a dirty set and posts a single `SessionChanged`; while one is
queued, further events only extend the dirty set, and `can_replace` folds any duplicate that
slips into the queue. A 20k-token stream thus costs as many repaints as frames, not tokens.
"""

from __future__ import annotations

from textual.message import Message


class SessionChanged(Message):
    """The session state moved on; the screen reads what changed from the app's dirty set."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SessionChanged)


DIRTY_STREAMS = "streams"
DIRTY_USAGE = "usage"
DIRTY_CLUSTERS = "clusters"
DIRTY_ROUNDS = "rounds"
DIRTY_STEPS = "steps"

EVENT_DIRTY: dict[str, frozenset[str]] = {
    "delta": frozenset({DIRTY_STREAMS}),
    "step_started": frozenset({DIRTY_STREAMS, DIRTY_STEPS}),
    "step_failed": frozenset({DIRTY_STREAMS, DIRTY_STEPS}),
    "plan_ready": frozenset({DIRTY_STREAMS, DIRTY_STEPS}),
    "proposal_ready": frozenset({DIRTY_STREAMS, DIRTY_STEPS}),
    "review_ready": frozenset({DIRTY_STREAMS, DIRTY_STEPS}),
    "response_ready": frozenset({DIRTY_STREAMS, DIRTY_STEPS, DIRTY_CLUSTERS}),
    "clusters_ready": frozenset({DIRTY_CLUSTERS, DIRTY_STEPS}),
    "verdict_set": frozenset({DIRTY_CLUSTERS}),
    "note_set": frozenset({DIRTY_CLUSTERS}),
    "usage": frozenset({DIRTY_USAGE}),
    "round_started": frozenset({DIRTY_ROUNDS, DIRTY_STREAMS, DIRTY_CLUSTERS}),
    "round_finished": frozenset({DIRTY_ROUNDS}),
    "roles_swapped": frozenset({DIRTY_ROUNDS}),
    "applied": frozenset({DIRTY_ROUNDS}),
    "undone": frozenset({DIRTY_ROUNDS}),
}
"""Which parts of the workbench an event invalidates."""
