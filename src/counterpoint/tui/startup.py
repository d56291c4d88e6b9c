"""How the app starts: one typed value per start-up mode, and the demo's preparation.

- `TaskStart`: `counterpoint` in a repository — the task screen asks what to do.
- `RunStart`: `counterpoint run TASK` — the session starts at once.
- `DemoStart`: `counterpoint demo` — with `sample=NAME` the app shows the workbench's shell in
  its first frame and copies the sample repository after it (`prepare_demo_with_imports`, in
  a thread); with `demo=DemoSetup` (already prepared, as tests pass) it starts at once.
- `ResumeStart`: `counterpoint resume` — a session the CLI has resumed (`resumed`), or one the
  app resumes itself (`session_id`).

This module is imported before the first frame: nothing heavy at module level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text

if TYPE_CHECKING:
    from counterpoint.config import Settings
    from counterpoint.core.events import Event
    from counterpoint.workflow.demo import DemoSetup
    from counterpoint.workflow.launch import ProviderFactory, Resumed
    from counterpoint.workflow.orchestrator import Orchestrator
    from counterpoint.workspace import Workspace

DEMO_BRANCH = "main"
"""The branch `prepare_demo` commits the sample repository on (shown before it exists)."""


@dataclass(frozen=True)
class ChecksFlags:
    """The command line's say on checks: `--checks` (True), `--no-checks` (False), neither
    (None: the user's config or consent decides, `tui/session_checks.py`)."""

    checks: bool | None = None
    unsandboxed: bool = False
    """`--checks-unsandboxed`: where no sandbox exists, run them without one."""


@dataclass(frozen=True)
class TaskStart:
    workspace: Workspace


@dataclass(frozen=True)
class RunStart:
    """A new session (`counterpoint run`, the task screen's Start, a prepared demo)."""

    workspace: Workspace
    task: str
    generator: str
    reviewers: list[str] = field(default_factory=list)
    planner: str | None = None
    rounds: int = 1
    base_dir: Path | None = None
    """Where relative replay cassettes are found (None: the current directory)."""
    context_files: list[str] = field(default_factory=list)
    """Files the human added to the context (sent first)."""
    context_dropped: list[str] = field(default_factory=list)
    """Files the human dropped from the context (never sent)."""
    plan: str | None = None
    """The human's own plan (`--plan FILE`): followed as given, no planner asked."""

    @classmethod
    def for_demo(cls, demo: DemoSetup) -> RunStart:
        from counterpoint.workspace import Workspace

        return cls(
            Workspace.open(demo.repo), demo.task, demo.generator, list(demo.reviewers),
            demo.planner, rounds=demo.rounds, base_dir=demo.repo,
        )


@dataclass(frozen=True)
class DemoStart:
    demo: DemoSetup | None = None
    """Prepared before the app starts; else the app prepares `sample` after its first frame."""
    sample: str | None = None

    def __post_init__(self) -> None:
        if self.demo is None and not self.sample:
            raise ValueError("a demo start needs demo (a DemoSetup) or sample (a sample's name)")

    @property
    def prepared_by_app(self) -> bool:
        return self.demo is None


@dataclass(frozen=True)
class ResumeStart:
    session_id: str | None = None
    resumed: Resumed | None = None
    """Already resumed (`counterpoint resume`); else the app resumes `session_id`."""

    def __post_init__(self) -> None:
        if self.resumed is None and not self.session_id:
            raise ValueError("a resume start needs resumed (a Resumed) or session_id")


Start = TaskStart | RunStart | DemoStart | ResumeStart


def open_session(
    start: RunStart | ResumeStart,
    *,
    settings: Settings,
    speed: float | None,
    make_provider: ProviderFactory | None,
    listener: Callable[[Event], None],
) -> tuple[Orchestrator, list[str]]:
    """The session `start` asks for (through `workflow/launch.py`), with the journal's
    problems to show. Raises `SessionError` when it cannot start."""
    from counterpoint.workflow.launch import resume_session, start_session

    if isinstance(start, ResumeStart):
        resumed = start.resumed
        if resumed is None:
            assert start.session_id
            resumed = resume_session(
                start.session_id, settings=settings, make_provider=make_provider, speed=speed
            )
        resumed.orchestrator.listeners.append(listener)
        return resumed.orchestrator, resumed.problems
    orch = start_session(
        workspace=start.workspace,
        task=start.task,
        generator=start.generator,
        reviewers=start.reviewers,
        planner=start.planner,
        rounds=start.rounds,
        settings=settings,
        make_provider=make_provider,
        base_dir=start.base_dir,
        context_files=start.context_files,
        context_dropped=start.context_dropped,
        speed=speed,
        listeners=[listener],
        plan=start.plan,
    )
    return orch, []


STARTING_STATUS = "Copying the demo repository and starting the session…"
"""What the workbench shell's placeholders say while the session starts."""


def starting_header(start: Start) -> Text:
    """The workbench header before the session exists: the repository and what is going on."""
    text = Text()
    text.append("counterpoint", style="bold")
    if isinstance(start, DemoStart) and start.sample:
        text.append(f" · {start.sample}@{DEMO_BRANCH}")
    text.append(" · starting", style="dim")
    return text


def prepare_demo_with_imports(sample: str) -> Any:
    """Run in a thread: import what the session and the workbench's parts need (so the event
    loop does not stall on it later), then copy and commit the sample repository."""
    import counterpoint.providers.registry
    import counterpoint.tui.panes
    import counterpoint.tui.widgets
    import counterpoint.workflow.launch
    import counterpoint.workspace  # noqa: F401
    from counterpoint.workflow.demo import prepare_demo

    return prepare_demo(sample)
