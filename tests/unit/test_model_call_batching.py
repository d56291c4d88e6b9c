"""A model's stream becomes a few Delta events, not one per token: the deltas joined are
exactly the model's text, text that arrives before a pause is shown during the pause, and a
stream cut off keeps every piece it received."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from counterpoint.core.events import Delta, Event, StepFailed
from counterpoint.providers.base import ModelRequest, TextDelta
from counterpoint.providers.replay import ReplayProvider, split_text, write_cassette
from counterpoint.workflow.steps import DELTA_SECONDS, ModelCall

LINE = "Some words of a long answer, with `code` and more words.\n"


def replay(tmp_path: Path, **exchange: Any) -> ReplayProvider:
    path = tmp_path / "gen.json"
    write_cassette(path, "openai:gpt-5.5", [{"role": "generator", **exchange}], scripted=True)
    return ReplayProvider(path)


def request() -> ModelRequest:
    return ModelRequest(role="generator", system="s")


class Pausing:
    """The cassette's stream, with a pause of `seconds` after chunk `after`; `seen` holds the
    text the step had emitted as deltas when the pause ended."""

    def __init__(self, inner: ReplayProvider, after: int, seconds: float, events: list[Event]) -> None:
        self.inner, self.after, self.seconds, self.events = inner, after, seconds, events
        self.provider, self.model = inner.provider, inner.model
        self.seen: str | None = None

    async def stream(self, req: ModelRequest) -> AsyncIterator[Any]:
        sent = 0
        async for item in self.inner.stream(req):
            if isinstance(item, TextDelta):
                if sent == self.after:
                    await asyncio.sleep(self.seconds)
                    self.seen = "".join(e.text for e in self.events if isinstance(e, Delta))
                sent += 1
            yield item


async def test_a_long_stream_is_a_few_deltas_that_join_to_exactly_the_text(tmp_path):
    text = "Intro.\n\n" + LINE * 5000 + "no newline at the end ✓"
    chunks = split_text(text)
    events: list[Event] = []
    fed: list[str] = []
    done = await ModelCall(events.append, {}).stream(
        1, "generate", "openai:gpt-5.5", replay(tmp_path, text=text), request(), on_text=fed.append
    )
    assert done is not None and done.text == text
    deltas = [e.text for e in events if isinstance(e, Delta)]
    assert "".join(deltas) == text and "".join(fed) == text
    assert fed == deltas  # the edit parser is fed the same pieces the panes are shown
    assert len(chunks) > 50_000 and len(deltas) <= len(chunks) // 100, (len(chunks), len(deltas))
    assert all(deltas)


async def test_text_received_before_a_pause_is_emitted_during_the_pause(tmp_path):
    events: list[Event] = []
    provider = Pausing(replay(tmp_path, chunks=["a", "b", "c", "d"]), after=3, seconds=0.3,
                       events=events)
    done = await ModelCall(events.append, {}).stream(1, "generate", "openai:gpt-5.5", provider, request())
    assert done is not None and done.text == "abcd"
    assert provider.seen == "abc"  # not held until the model went on (at most DELTA_SECONDS)
    assert "".join(e.text for e in events if isinstance(e, Delta)) == "abcd"
    assert DELTA_SECONDS < 0.3


async def test_a_failed_stream_emits_every_piece_received_before_its_failure(tmp_path):
    chunks = split_text(LINE * 200)
    provider = replay(tmp_path, chunks=chunks,
                      error={"kind": "overloaded", "message": "Overloaded", "after_chunks": 1500})
    events: list[Event] = []
    assert await ModelCall(events.append, {}).stream(1, "generate", "openai:gpt-5.5", provider, request()) is None
    failed = events[-1]
    assert isinstance(failed, StepFailed) and failed.kind == "overloaded"
    deltas = "".join(e.text for e in events[:-1] if isinstance(e, Delta))
    assert deltas == failed.partial_text == "".join(chunks[:1500])


async def test_a_cancelled_stream_emits_what_it_had_before_saying_so(tmp_path):
    events: list[Event] = []
    inner = replay(tmp_path, chunks=["one ", "two ", "three"])
    provider = Pausing(inner, after=2, seconds=30, events=events)
    task = asyncio.create_task(
        ModelCall(events.append, {}).stream(1, "generate", "openai:gpt-5.5", provider, request())
    )
    while not any(isinstance(e, Delta) for e in events):
        await asyncio.sleep(0.001)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    failed = events[-1]
    assert isinstance(failed, StepFailed) and failed.kind == "cancelled"
    assert "".join(e.text for e in events if isinstance(e, Delta)) == failed.partial_text == "one two "
