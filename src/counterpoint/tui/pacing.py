"""Frame pacing: what changed is collected, and the workbench is told at most once per frame."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from textual.app import App
from textual.screen import Screen

from counterpoint.tui.messages import SessionChanged

REFRESH_INTERVAL = 1 / 30
"""Seconds between two workbench refreshes while models stream (`MarkdownLog.FRAME` paces
the streaming panes themselves)."""


class RefreshPacer:
    """Collects the dirty parts of a screen and posts them as one `SessionChanged` per frame."""

    def __init__(self, app: App[Any], screen: Callable[[], Screen[Any] | None]) -> None:
        self._app = app
        self._screen = screen
        self.dirty: set[str] = set()
        self.scheduled = False
        """A `SessionChanged` is due (its timer runs)."""
        self._last_post = 0.0

    @property
    def pending(self) -> bool:
        """Something changed that the screen has not been told about yet."""
        return self.scheduled or bool(self.dirty)

    def mark(self, parts: Iterable[str]) -> None:
        """`parts` changed: tell the screen now, or when a frame has passed since the last time."""
        self.dirty.update(parts)
        screen = self._screen()
        if self.scheduled or screen is None or not screen.is_attached:
            return
        self.scheduled = True
        delay = self._last_post + REFRESH_INTERVAL - time.monotonic()
        if delay > 0:
            self._app.set_timer(delay, self._post)
        else:
            self._post()

    def _post(self) -> None:
        self.scheduled = False
        screen = self._screen()
        if screen is None or not screen.is_attached:
            return  # kept for the next change
        self._last_post = time.monotonic()
        dirty, self.dirty = self.dirty, set()
        screen.post_message(SessionChanged(dirty))
