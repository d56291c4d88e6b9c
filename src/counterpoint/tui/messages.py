"""Messages the app posts to its screens (attributes down, messages up).

The orchestrator's listener runs on the app's event loop for every event, including a
stream's `Delta`s (a few dozen a second: `workflow/steps.py` batches the tokens). Rather than
one message (and one repaint) per event, the app
collects what changed in a dirty set and posts at most one `SessionChanged` per frame
(`tui/pacing.py`), carrying that set; when the screen is behind, a queued `SessionChanged`
hands its set to the next one (`can_replace`), so the screen repaints once for all of them.
A 20k-token stream thus costs as many repaints as frames, not tokens.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.message import Message


class SessionChanged(Message):
    """The session state moved on; `dirty` says which parts of the workbench to redraw."""

    def __init__(self, dirty: Iterable[str]) -> None:
        super().__init__()
        self.dirty = set(dirty)

    def can_replace(self, message: Message) -> bool:
        if isinstance(message, SessionChanged):
            message.dirty |= self.dirty  # the later message redraws for both
            return True
        return False


# The parts of the workbench a change can make dirty (`listener.EVENT_DIRTY` maps events to them).
DIRTY_STREAMS = "streams"
DIRTY_USAGE = "usage"
DIRTY_CLUSTERS = "clusters"
DIRTY_ROUNDS = "rounds"
DIRTY_STEPS = "steps"
DIRTY_CHECKS = "checks"
