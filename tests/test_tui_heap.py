"""The heap policy of the TUI: survivors of full collections are frozen, and `reclaim`
collects the reference cycles that were frozen meanwhile."""

from __future__ import annotations

import gc
import weakref

from counterpoint.tui import heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_survivors_of_a_full_collection_are_frozen_and_reclaim_frees_frozen_cycles():
    try:
        heap.settle_after_startup()
        before = gc.get_freeze_count()
        node = Node()
        alive = weakref.ref(node)
        gc.collect()  # a full collection: `node` survives it and is frozen after it
        assert gc.get_freeze_count() > before
        del node
        gc.collect()
        assert alive() is not None, "a frozen cycle waits for reclaim"
        heap.reclaim()
        assert alive() is None
        assert gc.get_freeze_count() > 0  # what is still alive is frozen again
    finally:
        gc.callbacks[:] = [cb for cb in gc.callbacks if cb is not heap._freeze_after_full_collection]
        gc.unfreeze()


def test_while_streaming_survivors_of_young_collections_are_frozen_too():
    try:
        heap.settle_after_startup()
        heap.streaming()
        before = gc.get_freeze_count()
        node = Node()
        alive = weakref.ref(node)
        gc.collect(1)  # a young collection: during a stream its survivors are frozen
        assert gc.get_freeze_count() > before
        del node
        gc.collect()
        assert alive() is not None, "a cycle frozen during the stream waits for reclaim"
        heap.reclaim()
        assert alive() is None
        frozen = gc.get_freeze_count()
        survivor = Node()
        gc.collect(1)  # the stream is over: young survivors are not frozen any more
        assert gc.get_freeze_count() == frozen
        del survivor
    finally:
        heap.reclaim()
        gc.callbacks[:] = [cb for cb in gc.callbacks if cb is not heap._freeze_after_full_collection]
        gc.unfreeze()
