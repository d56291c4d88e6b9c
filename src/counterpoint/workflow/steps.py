"""The step runner: how one step of a round is run, and how a model call streams into events.

A round is a list of *phases*; a phase is a list of `RoundStep`s that run at the same time
(the reviews are one phase). `Orchestrator.remaining_steps` lists them, once, and
`Orchestrator.run_round(run_step)` runs them phase by phase through a `StepRunner`:

- headless (and tests): `run_inline`, which awaits the step;
- the TUI: `CounterpointApp.run_in_pane`, which runs it in a worker whose group is the
  step's `pane`, so each pane's work can be cancelled or retried alone.

A step is `RoundStep(pane, run)`: `run()` does the work, emits its events and returns True
when it completed (False when it failed; the failure is an event). To add a step to a phase
(say, checks that run while the models review), write its body as an `async def ... -> bool`
and list it in `Orchestrator.remaining_steps` under the phase it belongs to; its `pane` names
the worker group (and the TUI pane) it runs in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from counterpoint.core.events import Delta, Event, StepFailed, StepKind, StepStarted, ToolUsed, UsageRecorded
from counterpoint.core.journal import JournalError
from counterpoint.core.pricing import Price, cost_usd
from counterpoint.core.tools import ToolCall, ToolResult
from counterpoint.providers.base import (
    Completion,
    ModelRequest,
    Provider,
    ProviderError,
    TextDelta,
    incomplete_stream,
)
from counterpoint.workflow.tool_loop import ToolSession, with_tools

Emit = Callable[[Event], None]

DELTA_SECONDS = 0.02
DELTA_CHARS = 16 * 1024
"""A stream's text becomes one `Delta` event at most every DELTA_SECONDS (or every
DELTA_CHARS characters), not one per token: the panes still update live (the TUI draws
at most 30 frames a second), and a 5 MB answer is a few hundred events, not a million
validated objects, journal appends and listener calls."""


@dataclass(frozen=True)
class RoundStep:
    """One step of a round, as a step runner sees it."""

    pane: str
    """Where it runs: the worker group (and the TUI pane): "planner", "generator",
    f"reviewer:{spec}"."""
    run: Callable[[], Awaitable[bool]]
    """Does the step; True when it completed, False when it failed (reported as an event)."""


StepRunner = Callable[[RoundStep], Awaitable[bool]]
"""Runs one step and returns its result (see the module docstring)."""


async def run_inline(step: RoundStep) -> bool:
    """The headless step runner: await the step here."""
    return await step.run()


class ModelCall:
    """Streams one request to one model as events: started, deltas, usage, or a failure."""

    def __init__(self, emit: Emit, prices: dict[str, Price]) -> None:
        self.emit = emit
        self.prices = prices

    async def stream(
        self,
        round_no: int,
        step: StepKind,
        spec: str,
        provider: Provider,
        request: ModelRequest,
        on_text: Callable[[str], object] | None = None,
        tools: ToolSession | None = None,
    ) -> Completion | None:
        """The completion, or None when the step failed (a `StepFailed` says why).

        With `tools`, the model may call the read-only tools first (`tool_loop.py`): each
        call and its result is a `ToolUsed` event, the usage adds up every request."""
        self.emit(StepStarted(round=round_no, step=step, model=spec))
        received: list[str] = []
        calls: list[str] = []

        def used(call: ToolCall, result: ToolResult, turn: int) -> None:
            pending.flush()
            calls.append(call.id)
            self.emit(ToolUsed(round=round_no, step=step, model=spec, call=call.to_dict(),
                               result=result.text, truncated=result.truncated,
                               refused=result.refused, turn=turn))

        def delta(text: str) -> None:
            self.emit(Delta(round=round_no, step=step, model=spec, text=text))
            if on_text is not None:
                on_text(text)

        pending = PendingText(delta)
        try:
            items = (provider.stream(request) if tools is None
                     else with_tools(provider, request, tools, used))
            async for item in items:
                if isinstance(item, TextDelta):
                    if item.text:
                        received.append(item.text)
                        pending.add(item.text)
                elif isinstance(item, Completion):
                    pending.flush()
                    self._record_usage(round_no, step, spec, item, len(calls))
                    return item
            pending.flush()
            raise incomplete_stream(provider.provider, provider.model)
        except ProviderError as exc:
            pending.flush()
            self.fail(round_no, step, spec, exc.kind, exc.message, exc.retryable, exc.partial_text or "".join(received))
        except asyncio.CancelledError:
            pending.flush()
            self.fail(round_no, step, spec, "cancelled", "the step was cancelled", True, "".join(received))
            raise
        except JournalError:
            raise  # the session cannot record what happens: not the model's failure, stop (exit 2)
        except Exception as exc:  # a provider bug must not take the session down
            pending.flush()
            self.fail(round_no, step, spec, "internal", f"{type(exc).__name__}: {exc}", True, "".join(received))
        finally:
            pending.close()
        return None

    def fail(
        self, round_no: int, step: StepKind, spec: str, kind: str, message: str, retryable: bool, partial: str
    ) -> None:
        self.emit(
            StepFailed(
                round=round_no,
                step=step,
                model=spec,
                kind=kind,
                message=message,
                retryable=retryable,
                partial_text=partial,
            )
        )

    def _record_usage(
        self, round_no: int, step: StepKind, spec: str, completion: Completion, tool_calls: int = 0
    ) -> None:
        u = completion.usage
        self.emit(
            UsageRecorded(
                round=round_no,
                step=step,
                model=spec,
                input_tokens=u.input_tokens,
                output_tokens=u.output_tokens,
                cached_input_tokens=u.cached_input_tokens,
                cache_write_tokens=u.cache_write_tokens,
                cost_usd=cost_usd(spec, u, self.prices),
                tool_calls=tool_calls,
            )
        )


class PendingText:
    """A stream's text not yet handed on: `add` gathers the pieces and passes them to
    `deliver` joined, at once when DELTA_SECONDS have passed since the last delivery or
    DELTA_CHARS have gathered, else from a timer DELTA_SECONDS after the last delivery
    (a model that pauses mid-answer still shows what it sent). The delivered texts joined
    are exactly the pieces added, in order.

    A failure in a timer's delivery (the journal cannot be written) is raised by the next
    `add` or `flush`, in the stream's own task.
    """

    def __init__(self, deliver: Callable[[str], None]) -> None:
        self._deliver = deliver
        self._pieces: list[str] = []
        self._chars = 0
        self._last = float("-inf")
        self._timer: asyncio.TimerHandle | None = None
        self._error: BaseException | None = None

    def add(self, piece: str) -> None:
        self._raise_pending_error()
        self._pieces.append(piece)
        self._chars += len(piece)
        waited = time.monotonic() - self._last
        if waited >= DELTA_SECONDS or self._chars >= DELTA_CHARS:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(DELTA_SECONDS - waited, self._on_timer)

    def flush(self) -> None:
        """Deliver what has gathered now (nothing: no call)."""
        self._raise_pending_error()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pieces:
            return
        text = "".join(self._pieces) if len(self._pieces) > 1 else self._pieces[0]
        self._pieces, self._chars = [], 0
        self._last = time.monotonic()
        self._deliver(text)

    def close(self) -> None:
        """Stop the timer (what has not been flushed is dropped)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        try:
            self.flush()
        except BaseException as exc:  # raised in the stream's task, not lost in the loop
            self._error = exc

    def _raise_pending_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
