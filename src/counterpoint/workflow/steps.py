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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from counterpoint.core.events import Delta, Event, StepFailed, StepKind, StepStarted, UsageRecorded
from counterpoint.core.journal import JournalError
from counterpoint.core.pricing import Price, cost_usd
from counterpoint.providers.base import (
    Completion,
    ModelRequest,
    Provider,
    ProviderError,
    TextDelta,
    incomplete_stream,
)

Emit = Callable[[Event], None]


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
    ) -> Completion | None:
        """The completion, or None when the step failed (a `StepFailed` says why)."""
        self.emit(StepStarted(round=round_no, step=step, model=spec))
        received: list[str] = []
        try:
            async for item in provider.stream(request):
                if isinstance(item, TextDelta):
                    if not item.text:
                        continue
                    received.append(item.text)
                    self.emit(Delta(round=round_no, step=step, model=spec, text=item.text))
                    if on_text is not None:
                        on_text(item.text)
                elif isinstance(item, Completion):
                    self._record_usage(round_no, step, spec, item)
                    return item
            raise incomplete_stream(provider.provider, provider.model)
        except ProviderError as exc:
            self.fail(round_no, step, spec, exc.kind, exc.message, exc.retryable, exc.partial_text or "".join(received))
        except asyncio.CancelledError:
            self.fail(round_no, step, spec, "cancelled", "the step was cancelled", True, "".join(received))
            raise
        except JournalError:
            raise  # the session cannot record what happens: not the model's failure, stop (exit 2)
        except Exception as exc:  # a provider bug must not take the session down
            self.fail(round_no, step, spec, "internal", f"{type(exc).__name__}: {exc}", True, "".join(received))
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

    def _record_usage(self, round_no: int, step: StepKind, spec: str, completion: Completion) -> None:
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
            )
        )
