"""Garbage collection for a long-running TUI that streams a lot of text.

CPython's full (generation-2) collection walks every tracked object. A streamed answer
leaves tens of thousands of them (rendered lines and their segments), so full collections
during a stream grow to tens of milliseconds: a key pressed then waits. Objects that
survived a collection are, as good as always, the app's long-lived state, so they are
frozen (`gc.freeze`): later collections walk only what was made since. Freezing does not
stop reference counting, so frozen objects are still freed when dropped; only garbage in
reference cycles among them waits for `reclaim`, which the app calls when nothing streams.
"""

from __future__ import annotations

import gc
from typing import Any


def _freeze_after_full_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def settle_after_startup() -> None:
    """Collect once, when the app and its session are up, freeze what survived (modules,
    the app, its widgets, the session), and from then on freeze the survivors of every full
    collection. During two 20k-token streams (bench/bench_tui_streaming.py) the longest
    gen-2 pauses were ~50 ms with no freezing, 28-54 ms freezing at start-up only, and
    8-24 ms freezing the survivors too."""
    gc.collect()
    gc.freeze()
    if _freeze_after_full_collection not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collection)


def reclaim() -> None:
    """At a quiet moment (no stream running): collect the cycles frozen since, freeze again."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
