"""Where a session is created, resumed and assembled: the one place, for the CLI, headless and the TUI.

It gives a session its id and its journal's place (COUNTERPOINT_HOME/sessions/ID.jsonl),
builds its providers (`provider_factory`, from the settings), opens the workspace of a
resumed session and hands back a ready `Orchestrator`. The listeners (the headless printer,
the TUI) are attached before the first event, so they see the session from its start.

Running it is the caller's: `await orch.run_round(run_step)` with a step runner
(`workflow/steps.py`: `run_inline` headless; the TUI's runs each step in its pane's worker).
A new step (checks beside the reviews, say) is listed once, in
`Orchestrator.remaining_steps`; what it needs from the settings reaches it through the
`Orchestrator` built here (see the orchestrator's docstring, "Adding a step").
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from counterpoint import __version__
from counterpoint.core.events import Event, SessionStarted
from counterpoint.core.journal import Journal, JournalError, read_journal
from counterpoint.core.session import Session
from counterpoint.core.tools import ToolBounds
from counterpoint.paths import sessions_dir
from counterpoint.providers.base import Provider, ProviderError
from counterpoint.workflow.orchestrator import Listener, Orchestrator, SessionError
from counterpoint.workspace import Workspace, WorkspaceError

if TYPE_CHECKING:
    from counterpoint.config import Settings

ProviderFactory = Callable[..., Provider]
"""`make(spec)` builds a session's provider; on resume `make(spec, journal_speed)` passes the
pace the session was started with."""


def new_session_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def journal_path(session_id: str) -> Path:
    """Where the journal of session `session_id` lives."""
    return sessions_dir() / f"{session_id}.jsonl"


def provider_factory(
    settings: Settings, *, base_dir: Path, speed: float | None = None, record: Path | None = None
) -> ProviderFactory:
    """Providers from `settings`; a replay cassette's path is relative to `base_dir`.

    `speed` paces scripted models; when None, a resumed session keeps the pace it was
    started with. With `record`, every exchange is saved as a cassette under that folder.
    A spec that cannot be built raises `SessionError` saying why.
    """
    from counterpoint.providers.registry import MissingKey, SpecError, make_provider

    def make(spec: str, journal_speed: float | None = None) -> Provider:
        pace = speed if speed is not None else journal_speed
        try:
            return make_provider(spec, settings, speed=pace, base_dir=base_dir)
        except (SpecError, MissingKey, ProviderError) as exc:
            raise SessionError(str(exc)) from None

    if record is None:
        return make
    from counterpoint.providers.recording import RecordingError, recording_factory

    try:
        return recording_factory(make, record)
    except RecordingError as exc:
        raise SessionError(str(exc)) from None


def _factory(
    settings: Settings | None, base_dir: Path | None, speed: float | None, record: Path | None
) -> ProviderFactory:
    if settings is None:
        raise SessionError("no settings to build the session's models from")
    return provider_factory(settings, base_dir=base_dir or Path.cwd(), speed=speed, record=record)


def start_session(
    *,
    workspace: Workspace,
    task: str,
    generator: str,
    reviewers: Sequence[str],
    planner: str | None = None,
    rounds: int = 1,
    settings: Settings | None = None,
    make_provider: ProviderFactory | None = None,
    base_dir: Path | None = None,
    context_files: Sequence[str] = (),
    context_dropped: Sequence[str] = (),
    speed: float | None = None,
    record: Path | None = None,
    listeners: Sequence[Listener] = (),
    session_id: str | None = None,
    plan: str | None = None,
) -> Orchestrator:
    """A new session on `task` with its first round started (no step run yet).

    Prices and context rules come from `settings` (the defaults without); the providers
    from `make_provider`, else from `provider_factory(settings, base_dir=..., speed=...,
    record=...)` (`base_dir` None: the current directory).
    `context_files` / `context_dropped`: the human's additions to and removals from the
    context (`--file`, `--no-file`, the task screen), recorded in the session.
    `plan`: the human's own plan (`--plan FILE`), journaled as approved: no planner is asked.
    """
    if not task.strip():
        raise SessionError("the task is empty: say what the generator should do")
    if plan is not None and not plan.strip():
        raise SessionError("the plan is empty: write one, or leave --plan out")
    if not reviewers:
        raise SessionError("a session needs at least one reviewer (--reviewer SPEC)")
    built: dict[str, Provider] = {}
    sources: dict[str, str] = {}
    names: list[str] = []
    make = make_provider or _factory(settings, base_dir, speed, record)
    for given in [generator, *reviewers, *([planner] if planner else [])]:
        provider = make(given)
        built[provider.spec] = provider
        if provider.spec != given:
            sources[provider.spec] = given
        names.append(provider.spec)
    gen_spec, rev_specs = names[0], names[1 : 1 + len(reviewers)]
    plan_spec = names[-1] if planner else None
    if len(set(rev_specs)) != len(rev_specs):
        raise SessionError("the same reviewer is named twice; name each reviewer once")
    session_id = session_id or new_session_id()
    orch = Orchestrator(
        Session(),
        workspace=workspace,
        providers=built,
        journal=_journal(journal_path(session_id)),
        prices=settings.prices if settings is not None else None,
        context_rules=settings.context if settings is not None else None,
        listeners=listeners,
    )
    if settings is not None and settings.tools:
        orch.tool_bounds = ToolBounds()
    try:
        _begin(orch, SessionStarted(
            session_id=session_id,
            repo=str(workspace.root),
            repo_name=workspace.name,
            branch=workspace.branch,
            head=workspace.head,
            task=task,
            generator=gen_spec,
            reviewers=rev_specs,
            planner=plan_spec,
            rounds=rounds,
            sources=sources,
            speed=speed,
            version=__version__,
            context_files=list(context_files),
            context_dropped=list(context_dropped),
            tools=orch.tool_bounds is not None,
        ))
        if plan is not None:
            orch.supply_plan(plan)
    except JournalError as exc:  # COUNTERPOINT_HOME full or gone since the journal opened
        orch.close()
        raise SessionError(str(exc)) from None
    return orch


def _begin(orch: Orchestrator, started: SessionStarted) -> None:
    orch.emit(started)
    orch.start_round()


def _journal(path: Path) -> Journal:
    """The session's journal, open for writing (and locked: one writer per session)."""
    try:
        return Journal(path)
    except JournalError as exc:
        raise SessionError(str(exc)) from None


@dataclass
class Resumed:
    orchestrator: Orchestrator
    problems: list[str]
    """What was wrong with the journal (a torn last line set aside), to tell the human."""
    history: list[Event]
    """The journal's events, the session so far (the headless JSON prints them first)."""
    recovered: list[str]
    """Applies in the session's repository a crash had cut off, rolled back now."""


def resume_session(
    session_id: str,
    *,
    settings: Settings | None = None,
    make_provider: ProviderFactory | None = None,
    base_dir: Path | None = None,
    speed: float | None = None,
    listeners: Sequence[Listener] = (),
) -> Resumed:
    """Rebuild a session from its journal, its scripted models where they were (the
    settings and providers as for `start_session`)."""
    path = journal_path(session_id)
    try:
        contents = read_journal(path)
    except JournalError as exc:
        raise SessionError(str(exc)) from None
    session = Session.from_events(contents.events)
    if session.meta is None:
        raise SessionError(f"{path} does not start with a session; it cannot be resumed")
    try:
        workspace = Workspace.open(session.meta.repo)
    except WorkspaceError as exc:
        raise SessionError(
            f"session {session_id} ran in {session.meta.repo}, which is gone or not a "
            f"git repository any more ({exc})"
        ) from None
    try:
        recovered = workspace.recover()
    except WorkspaceError as exc:
        raise SessionError(str(exc)) from None
    specs = {session.meta.generator, *session.meta.reviewers, session.generator}
    specs |= set(session.reviewers)
    if session.meta.planner:
        specs.add(session.meta.planner)
    providers: dict[str, Provider] = {}
    make = make_provider or _factory(settings, base_dir, speed, None)
    for spec in sorted(specs):
        provider = make(session.meta.sources.get(spec, spec), session.meta.speed)
        rewind = getattr(provider, "rewind_to", None)
        if rewind is not None:
            try:
                rewind(session.played(spec))
            except ProviderError as exc:
                raise SessionError(f"session {session_id} cannot be replayed: {exc}") from None
        providers[spec] = provider
    orch = Orchestrator(
        session,
        workspace=workspace,
        providers=providers,
        journal=_journal(path),
        prices=settings.prices if settings is not None else None,
        context_rules=settings.context if settings is not None else None,
        listeners=listeners,
    )
    if session.meta.tools:
        orch.tool_bounds = ToolBounds()
    if session.state != "running":
        session.state = "running"
    return Resumed(orch, contents.problems, list(contents.events), recovered)
