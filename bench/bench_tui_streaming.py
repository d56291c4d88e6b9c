"""Two panes streaming 20,000 tokens each while a key is pressed every 50 ms.

Run: .venv/bin/python bench/bench_tui_streaming.py   (or `python -m bench tui_streaming`)

Setup: a 120×40 headless app (`App.run_test`) with two of the workbench's real
`GeneratorPane`s (tui/panes.py) side by side and a Footer. Each pane shows the generate step
of its own `Session`; two providers stream 20,000 Markdown tokens each (cut like the
replay cassettes cut text) as fast as the event loop lets
them (one `await asyncio.sleep(0)` per token, like a socket that always has data). The text is the demo's
round-1 proposal repeated (about eleven edit blocks per 1,850 tokens). Every delta is folded into the session (`Session.apply(Delta)`, as the orchestrator does) and the
panes are synced at most once per frame (`counterpoint.tui.pacing.REFRESH_INTERVAL`), the app's
coalescing. Meanwhile a key ("j") is sent every 50 ms through the app's driver, the way
Pilot sends keys, but without waiting for the app to be idle; it is a priority binding, as
the workbench's letter keys are (tui/screens/workbench.py). The garbage-collector policy is
the app's (tui/heap.py): settled after the first paint, `streaming()` while the round
streams, `reclaim()` when it ends.

Reported:
- tokens rendered per second: 40,000 tokens / time from the first token until both panes'
  logs hold the whole text (the proposal drawn with its edit blocks as diffs), vs the same two streams consumed without a UI (folded
  into the two sessions only) — the ratio is the share of streaming speed the UI keeps;
  the raw stream rate (nothing done per token) is printed as the floor;
- key handling: time from the moment the key was due (a key every 50 ms on a fixed
  schedule) to its binding's action running, p50/p99/max, target p99 < 50 ms.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Footer

from counterpoint.core.events import Delta, RoundStarted, SessionStarted, StepStarted
from counterpoint.core.session import Session
from counterpoint.providers.replay import split_text
from counterpoint.tui.pacing import REFRESH_INTERVAL as FRAME
from counterpoint.tui.heap import reclaim, settle_after_startup, streaming
from counterpoint.tui.panes import GeneratorPane
from counterpoint.tui.theme import register_all, theme_variable_defaults

TOKENS = 20_000
KEY_INTERVAL = 0.05
RUNS = 12
MODELS = ("flood:left", "flood:right")
DEMO = Path(__file__).resolve().parent.parent / "sample_repos" / "payments-webhooks.demo"


def markdown_tokens(seed: int, count: int = TOKENS) -> list[str]:
    """`count` token-sized chunks of a generator's answer: the demo's round-1 proposal
    (prose, paths, fenced SEARCH/REPLACE blocks), repeated, cut like a cassette is cut."""
    cassette = json.loads((DEMO / "generator.json").read_text(encoding="utf-8"))
    proposal = next(e for e in cassette["exchanges"] if e["role"] == "generator")["text"]
    text = f"Answer {seed}.\n\n"
    while len(split_text(text)) < count:
        text += proposal + "\n\n"
    return split_text(text)[:count]


class Flood:
    """A provider-like stream: every chunk as soon as the event loop gets to it."""

    def __init__(self, chunks: list[str]) -> None:
        self.chunks = chunks

    async def stream(self) -> AsyncIterator[str]:
        for chunk in self.chunks:
            await asyncio.sleep(0)
            yield chunk


def new_session(model: str) -> Session:
    session = Session()
    session.apply(SessionStarted(
        session_id=f"bench-{model}", repo="/nonexistent", repo_name="bench", branch="main",
        head=None, task="bench", generator=model, reviewers=[],
    ))
    session.apply(RoundStarted(round=1, generator=model, reviewers=[]))
    session.apply(StepStarted(round=1, step="generate", model=model))
    return session


async def consume(session: Session, model: str, flood: Flood, on_delta=None) -> None:
    async for chunk in flood.stream():
        session.apply(Delta(round=1, step="generate", model=model, text=chunk))
        if on_delta is not None:
            on_delta()
    session.current.running.discard(("generate", model))
    if on_delta is not None:
        on_delta()


class Changed(Message):
    """Coalesced 'the sessions changed' (one per frame at most), like SessionChanged."""


class StreamBenchApp(App[None]):
    BINDINGS: ClassVar = [Binding("j", "probe", "Probe key", priority=True)]

    def __init__(self, sessions: list[Session]) -> None:
        super().__init__()
        self.sessions = sessions
        self.handled: list[float] = []
        self._posted = False
        self._last = 0.0

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_variable_defaults()

    def compose(self) -> ComposeResult:
        with Horizontal():
            for n, _ in enumerate(self.sessions):
                yield GeneratorPane(clock=lambda key: "", id=f"pane-{n}")
        yield Footer()

    async def on_mount(self) -> None:
        register_all(self)
        self.theme = "counterpoint-dark"
        for session, pane in zip(self.sessions, self.query(GeneratorPane), strict=True):
            await pane.show_round(session.current)
        settle_after_startup()  # as CounterpointApp does after its first paint

    def action_probe(self) -> None:
        self.handled.append(time.perf_counter())

    def changed(self) -> None:
        """Called per delta: post one refresh per FRAME at most (CounterpointApp's scheme)."""
        if self._posted:
            return
        self._posted = True
        delay = self._last + FRAME - time.monotonic()
        if delay > 0:
            self.set_timer(delay, lambda: self.post_message(Changed()))
        else:
            self.post_message(Changed())

    async def on_changed(self, _message: Changed) -> None:
        self._posted = False
        self._last = time.monotonic()
        for pane in self.query(GeneratorPane):
            await pane.sync()


async def with_ui(streams: list[list[str]]) -> tuple[float, list[float], int]:
    sessions = [new_session(m) for m in MODELS]
    app = StreamBenchApp(sessions)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        panes = list(app.query(GeneratorPane))
        expected = ["".join(s) for s in streams]
        sent: list[float] = []
        driver = app._driver
        assert driver is not None

        async def press_keys(stop: asyncio.Event) -> None:
            # The user presses on a fixed schedule; a real terminal's input thread would
            # queue the key at that moment even while the event loop is busy, so latency
            # is counted from the scheduled moment, not from when this task got to run.
            first = time.perf_counter()
            n = 0
            while not stop.is_set():
                due = first + n * KEY_INTERVAL
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                key = events.Key("j", "j")
                key.set_sender(app)
                sent.append(due)
                driver.send_message(key)
                n += 1

        stop = asyncio.Event()
        keys = asyncio.create_task(press_keys(stop))
        streaming()  # as CounterpointApp does when a round starts
        started = time.perf_counter()
        await asyncio.gather(*(
            consume(s, m, Flood(chunks), app.changed)
            for s, m, chunks in zip(sessions, MODELS, streams, strict=True)
        ))
        while any(p.proposal_text != text or p.running() for p, text in zip(panes, expected, strict=True)):
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
        stop.set()
        await keys
        await pilot.pause(0.2)
        handled = list(app.handled)
        reclaim()  # as CounterpointApp does when the round ends
    latencies = [h - s for s, h in zip(sent, handled, strict=False)]
    return elapsed, latencies, len(sent) - len(handled)


async def without_ui(streams: list[list[str]]) -> float:
    sessions = [new_session(m) for m in MODELS]
    started = time.perf_counter()
    await asyncio.gather(*(consume(s, m, Flood(c)) for s, m, c in zip(sessions, MODELS, streams, strict=True)))
    elapsed = time.perf_counter() - started
    assert [s.current.text("generate", m) for s, m in zip(sessions, MODELS, strict=True)] == [
        "".join(c) for c in streams
    ]
    return elapsed


async def raw(streams: list[list[str]]) -> float:
    async def drain(flood: Flood) -> None:
        async for _ in flood.stream():
            pass

    started = time.perf_counter()
    await asyncio.gather(*(drain(Flood(c)) for c in streams))
    return time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    streams = [markdown_tokens(1), markdown_tokens(2)]
    total = sum(len(s) for s in streams)
    floor = asyncio.run(raw(streams))
    bare = asyncio.run(without_ui(streams))
    # The UI run is repeated and its key latencies pooled: one run lasts about a second,
    # too few key presses for a p99 to mean anything (12 runs: about 200 keys). The first
    # run includes the warm-up (Pygments loading its lexers at the first code block), as a
    # user's first stream does.
    times: list[float] = []
    latencies: list[float] = []
    unhandled = 0
    for _ in range(RUNS):
        elapsed, run_latencies, missed = asyncio.run(with_ui(streams))
        times.append(elapsed)
        latencies += run_latencies
        unhandled += missed
    ui = statistics.median(times)
    print(f"two panes x {TOKENS:,} tokens ({total:,} tokens, {sum(len(''.join(s)) for s in streams):,} chars), "
          f"a key every {KEY_INTERVAL * 1000:.0f} ms, 120x40 headless")
    print(f"  raw stream, nothing done per token:   {total / floor:12,.0f} tokens/s  ({floor:.2f} s)")
    print(f"  no UI (folded into the sessions):     {total / bare:12,.0f} tokens/s  ({bare:.2f} s)")
    print(f"  UI (two GeneratorPanes, MarkdownLog): {total / ui:12,.0f} tokens/s  ({ui:.2f} s, median of {RUNS} runs)")
    print(f"  ratio UI / no UI: {bare / ui:.2f}  (share of the no-UI streaming rate the UI keeps)")
    if latencies:
        print(f"  key due -> action ({RUNS} runs pooled): n={len(latencies)}  p50 {statistics.median(latencies) * 1000:.1f} ms  "
              f"p99 {pct(latencies, 0.99) * 1000:.1f} ms  max {max(latencies) * 1000:.1f} ms  "
              f"(target p99 < 50 ms: {'OK' if pct(latencies, 0.99) < 0.05 else 'ABOVE TARGET'})")
    if unhandled:
        print(f"  keys not handled by the end: {unhandled}")


if __name__ == "__main__":
    main()
