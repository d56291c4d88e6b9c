"""Garbage collection for a long-running TUI that streams a lot of text.

CPython's full (generation-2) collection walks every tracked object. A streamed answer
leaves tens of thousands of them (rendered lines and their segments), so full collections
during a stream grow to tens of milliseconds: a key pressed then waits. Objects that
survived a collection are, as good as always, the app's long-lived state, so they are
frozen (`gc.freeze`): later collections walk only what was made since. Freezing does not
stop reference counting, so frozen objects are still freed when dropped; only garbage in
reference cycles among them waits for `reclaim`, which the app calls when nothing streams.

While a round streams (`streaming`), what survives a younger collection is frozen too:
then no collection walks more than the last few frames made, and the gen-2 pause that a
flood of rendered lines used to cause (15-40 ms for 30-50k objects, most of them the
caches inside Textual's `Strip`s) is gone. The price is that cycles dropped during the
round wait for `reclaim` at its end.
"""

from __future__ import annotations

import gc
from typing import Any

_streaming = False


def _freeze_after_full_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation", 0) >= (1 if _streaming else 2):
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


def streaming() -> None:
    """A round starts streaming: freeze the survivors of every collection, not only of full
    ones, until `reclaim`."""
    global _streaming
    _streaming = True


def reclaim() -> None:
    """At a quiet moment (no stream running): collect the cycles frozen since, freeze again,
    and freeze only after full collections from now on."""
    global _streaming
    _streaming = False
    gc.unfreeze()
    gc.collect()
    gc.freeze()
