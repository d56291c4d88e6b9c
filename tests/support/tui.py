"""Driving the Counterpoint TUI in tests: the demo app, and waiting for its work to end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from counterpoint.config import load_settings
from counterpoint.tui.app import CounterpointApp, make_app
from counterpoint.tui.startup import ChecksFlags, DemoStart


def demo_app(demo: Any = None, **kwargs: Any) -> CounterpointApp:
    """The app on a prepared demo: instant replay, a frozen clock and no checks (as with
    `--no-checks`) unless `kwargs` say otherwise."""
    options: dict[str, Any] = {
        "settings": load_settings(None), "speed": None, "frozen": True, "checks": ChecksFlags(checks=False),
    }
    return make_app(DemoStart(demo=demo), **{**options, **kwargs})


async def workers_done(
    app: CounterpointApp, pilot: Any, *, ready: Callable[[CounterpointApp], bool] = lambda app: True
) -> None:
    """Until no worker runs, every posted refresh is handled, and `ready` holds."""
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if ready(app) and not any(w.is_running for w in app.workers) and not app.pacer.pending:
            break
    await pilot.pause()
