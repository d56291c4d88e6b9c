"""The heap policy of the TUI: survivors of full collections are frozen (while a round
streams, survivors of younger collections too), and `reclaim` collects the reference
cycles that were frozen meanwhile."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from counterpoint.tui import heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture
def policy() -> Iterator[None]:
    heap.settle_after_startup()
    try:
        yield
    finally:
        heap.reclaim()
        gc.callbacks[:] = [cb for cb in gc.callbacks if cb is not heap._freeze_after_full_collection]
        gc.unfreeze()


def frozen_cycle_waits_for_reclaim(collect: int) -> None:
    """A cycle alive at a `collect` collection is frozen; dropped, it lives until `reclaim`."""
    before = gc.get_freeze_count()
    node = Node()
    alive = weakref.ref(node)
    gc.collect(collect)
    assert gc.get_freeze_count() > before
    del node
    gc.collect()
    assert alive() is not None, "a frozen cycle waits for reclaim"
    heap.reclaim()
    assert alive() is None
    assert gc.get_freeze_count() > 0  # what is still alive is frozen again


def test_survivors_of_a_full_collection_are_frozen_and_reclaim_frees_frozen_cycles(policy):
    frozen_cycle_waits_for_reclaim(2)


def test_while_streaming_survivors_of_young_collections_are_frozen_too(policy):
    heap.streaming()
    frozen_cycle_waits_for_reclaim(1)
    frozen = gc.get_freeze_count()
    survivor = Node()
    gc.collect(1)  # `reclaim` ended the stream: young survivors are not frozen any more
    assert gc.get_freeze_count() == frozen
    del survivor
