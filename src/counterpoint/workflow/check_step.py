"""The checks as a step of the round (beside the reviews) and as the gate before an apply.

`Checks.round(r)` runs every check on the round's proposal and emits `checks_started`,
`check_output` (throttled to `OUTPUT_EVERY_S`) and `checks_ready`, whose findings (the new
failures, reviewer `check:NAME`) join the models' in alignment. `Checks.selection(...)` does
the same for a selection of hunks before an apply, without findings. A check that fails is
not a step that fails: the step completes with the failures as results; only a problem that
stops every check (no sandbox, no scratch tree) is reported as `problem`.

`plan_checks` says which checks a session would get and whether the user decided (the CLI
and the TUI's consent dialog read it); `setup_checks` makes them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from counterpoint.core.check_results import trim
from counterpoint.core.events import CheckOutput, CheckResult, ChecksReady, ChecksStarted, Event
from counterpoint.workflow.checks import CheckOutcome, CheckRunner, CheckSpec, failure_findings, spec_of
from counterpoint.workflow.sandbox import SandboxUnavailable, find_sandbox
from counterpoint.workspace import WorkspaceError

OUTPUT_EVERY_S = 0.25
OUTPUT_SHOWN = 4000
"""Characters of output kept per check in `checks_ready` (the pane's last view)."""


class Checks:
    """A session's checks: the runner (None when no sandbox could be found: `problem`)."""

    def __init__(
        self,
        specs: Sequence[CheckSpec],
        runner: CheckRunner | None,
        *,
        problem: str | None = None,
        safe_path: Callable[[str], str] = lambda p: p,
    ) -> None:
        self.specs = list(specs)
        self.runner = runner
        self.problem = problem
        self.safe_path = safe_path

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.specs]

    @property
    def sandboxed(self) -> bool:
        return self.runner is not None and self.runner.sandbox.sandboxed

    async def run(
        self,
        emit: Callable[[Event], None],
        round_no: int,
        files: Mapping[str, str | None],
        selection: list[str] | None = None,
    ) -> ChecksReady:
        emit(ChecksStarted(round=round_no, checks=self.names, sandboxed=self.sandboxed, selection=selection))
        if self.runner is None:
            ready = ChecksReady(round=round_no, results=[], selection=selection, sandboxed=False, problem=self.problem)
            emit(ready)
            return ready
        throttle = _Throttle(lambda name, text: emit(
            CheckOutput(round=round_no, name=name, text=text, selection=selection)))
        try:
            outcomes = await self.runner.evaluate(files, throttle.add)
        except WorkspaceError as exc:
            throttle.flush()
            ready = ChecksReady(round=round_no, results=[], selection=selection, sandboxed=self.sandboxed, problem=str(exc))
            emit(ready)
            return ready
        throttle.flush()
        findings = [] if selection is not None else failure_findings(
            round_no, outcomes, files, safe_path=self.safe_path
        )
        ready = ChecksReady(
            round=round_no,
            results=[_result(o) for o in outcomes],
            findings=findings,
            selection=selection,
            sandboxed=self.sandboxed,
        )
        emit(ready)
        return ready


def _result(o: CheckOutcome) -> CheckResult:
    return CheckResult(
        name=o.name,
        status=o.status,  # type: ignore[arg-type]
        new_failures=len(o.new),
        preexisting_failures=len(o.preexisting),
        seconds=round(o.seconds, 2),
        message=o.message,
        preexisting=[f.title for f in o.preexisting],
        output=trim(o.output, OUTPUT_SHOWN),
    )


class _Throttle:
    """Collects output per check; hands it on at most every OUTPUT_EVERY_S."""

    def __init__(self, send: Callable[[str, str], None]) -> None:
        self.send = send
        self.pending: dict[str, list[str]] = {}
        self.timer: asyncio.TimerHandle | None = None

    def add(self, name: str, text: str) -> None:
        self.pending.setdefault(name, []).append(text)
        if self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(OUTPUT_EVERY_S, self.flush)

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        pending, self.pending = self.pending, {}
        for name, pieces in pending.items():
            self.send(name, "".join(pieces))


@dataclass(frozen=True)
class ChecksPlan:
    """The checks a session would run and whether the user switched them on."""

    defined: list[Any]
    """The settings' `[[checks]]`, else the detected candidates (`detected`), else none."""
    enabled: bool
    reason: str
    """Who decided, for the UI (`ChecksDecision.reason`)."""
    ask: bool = False
    """There are checks and nobody decided yet: the TUI offers its consent dialog."""
    detected: bool = False


def plan_checks(
    settings: Any, root: Path, flag: bool | None, demo_checks: Sequence[CheckSpec] | None = None
) -> ChecksPlan:
    """The flag (`--checks`/`--no-checks`), else the user's config or consent (`checks_enabled`);
    the demo's own checks run unless `--no-checks`."""
    from counterpoint.config import checks_enabled
    from counterpoint.workflow.checks import detect_candidates

    if demo_checks is not None:
        return ChecksPlan(list(demo_checks), flag is not False, "the demo's")
    decision = checks_enabled(settings, root, flag=flag)
    defined, detected = list(settings.checks), False
    if not defined and (decision.enabled or decision.ask):
        defined = list(detect_candidates(root))
        detected = bool(defined)
    return ChecksPlan(defined, decision.enabled, decision.reason, decision.ask and bool(defined), detected)


@dataclass(frozen=True)
class ChecksChoice:
    """What the user asked for: `enabled` (from `checks_enabled`) and the unsandboxed opt-in."""

    enabled: bool
    allow_unsandboxed: bool = False


def setup_checks(
    settings_checks: Sequence[Any],
    repo_root: Path,
    choice: ChecksChoice,
    *,
    safe_path: Callable[[str], str] = lambda p: p,
    extra: Sequence[CheckSpec] = (),
) -> Checks | None:
    """The session's checks, or None when they are off or none is defined."""
    specs = [spec_of(s) for s in settings_checks] + list(extra)
    if not choice.enabled or not specs:
        return None
    try:
        sandbox = find_sandbox(allow_unsandboxed=choice.allow_unsandboxed)
    except SandboxUnavailable as exc:
        return Checks(specs, None, problem=str(exc), safe_path=safe_path)
    return Checks(specs, CheckRunner(repo_root, specs, sandbox), safe_path=safe_path)
