"""The Counterpoint TUI: the app, its factory (`make_app`, reused by tests) and `run_app`.

The app owns the orchestrator (assembled by `workflow/launch.py`) and runs its rounds in a
worker (group "round") that calls `Orchestrator.run_round` (or `revise`, `swap_roles`) with
the app's step runner, `run_in_pane`: each step runs in a worker of its pane's group
("planner", "generator", f"reviewer:{spec}", ...), so any step can be cancelled or retried
alone. Step failures are events (`StepFailed`) shown in that model's pane; worker crashes
go through one `Worker.StateChanged` handler. The keys that act on the session (revise,
retry, apply, ...) are the app's actions; the workbench binds them.

Attributes down, messages up: the app hands the workbench its orchestrator and a clock, and
tells it what changed with a `SessionChanged` carrying the dirty parts, at most once per
frame (`pacing.py`); the orchestrator's listener (`listener.py`) only marks them.

How it starts is one typed value (`startup.py`). `DemoStart(sample=NAME)` must not make the
first frame wait for git or the session's imports: the workbench's shell is the first
screen, and only after that frame does a thread import the session's parts and copy the
sample repository; then the session starts and the panes are swapped in.

`frozen=True` (or COUNTERPOINT_FROZEN=1) hides elapsed times and stops the clock timer, so
the screen depends only on the session (tests, snapshots).

Just over 500 lines: the session's keys are the app's actions (the workbench binds them), so
they stay with the worker driving; themes, help, pacing, listening and start-up modes are
already modules of their own.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from counterpoint.core.safe_text import visible
from counterpoint.tui import startup
from counterpoint.tui.heap import reclaim, settle_after_startup, streaming
from counterpoint.tui.messages import DIRTY_ROUNDS, DIRTY_STEPS
from counterpoint.tui.pacing import RefreshPacer
from counterpoint.tui.screens.workbench import WorkbenchScreen
from counterpoint.tui.startup import ChecksFlags, DemoStart, ResumeStart, RunStart, Start, TaskStart

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from counterpoint.config import Settings
    from counterpoint.tui.listener import SessionListener
    from counterpoint.tui.screens.task import TaskScreen
    from counterpoint.workflow.demo import DemoSetup
    from counterpoint.workflow.launch import ProviderFactory
    from counterpoint.workflow.orchestrator import Orchestrator
    from counterpoint.workflow.steps import RoundStep, StepRunner

FROZEN_ENV = "COUNTERPOINT_FROZEN"
ROUND_GROUP = "round"
SESSION_ACTIONS = frozenset({"rerun_checks", "revise", "swap_roles", "retry", "cancel_steps", "undo", "apply_screen", "export"})
"""The app's actions on the session: disabled (shown dimmed) until the session exists."""


class CounterpointApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "counterpoint"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit_session", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("b", "scoreboard", "Scoreboard: which model catches what", show=False),
        Binding("ctrl+q", "quit_session", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        start: Start,
        *,
        settings: Settings | None = None,
        speed: float | None = None,
        frozen: bool | None = None,
        make_provider: ProviderFactory | None = None,
        checks: ChecksFlags | None = None,
    ) -> None:
        super().__init__()
        workspace = getattr(start, "workspace", None)
        if settings is None:
            from counterpoint.config import load_settings

            settings = load_settings(workspace.root if workspace is not None else None)
        self.start = start
        self.settings = settings
        self.workspace = workspace
        self.speed = speed
        self.frozen = bool(os.environ.get(FROZEN_ENV)) if frozen is None else frozen
        self._make_provider = make_provider
        self.checks_flags = checks or ChecksFlags()
        """`--checks` / `--no-checks` / `--checks-unsandboxed` (`session_checks.py`)."""
        self._demo: DemoSetup | None = start.demo if isinstance(start, DemoStart) else None
        """The demo's setup (its own checks), once prepared."""
        self._prepare_demo = isinstance(start, DemoStart) and start.prepared_by_app
        """The app copies the sample repository itself, after its first frame."""
        self.orch: Orchestrator | None = None
        self.workbench: WorkbenchScreen | None = None
        self.pacer = RefreshPacer(self, lambda: self.workbench)
        self.listener: SessionListener | None = None
        """The orchestrator's listener (`listener.py`), once a session starts."""
        self._pane_groups: set[str] = set()
        """The worker groups steps have run in (see `run_in_pane`)."""
        self._theme_ready = False
        self.theme_errors: list[str] = []
        from counterpoint.tui.theme import register_and_choose

        register_and_choose(self, getattr(settings, "theme", None), self.theme_errors)

    # -- themes -------------------------------------------------------------------------
    def get_theme_variable_defaults(self) -> dict[str, str]:
        from counterpoint.tui.theme import theme_variable_defaults

        try:
            dark = self.current_theme.dark
        except Exception:  # called before a theme is resolvable
            dark = True
        return theme_variable_defaults(dark)

    def _theme_changed(self, theme: Any) -> None:
        if self._theme_ready:
            from counterpoint.tui.theme import save_picked_theme

            save_picked_theme(self, theme.name, getattr(self.settings, "theme", None))

    # -- start-up -----------------------------------------------------------------------
    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._theme_ready = True
        for problem in self.theme_errors:
            self.notify(problem, title="Theme skipped", severity="warning")
        if not self.frozen:
            self.set_interval(1.0, self._tick)
        start = self.start
        if isinstance(start, TaskStart):
            from counterpoint.tui.screens.task import TaskScreen

            ws = start.workspace
            self.push_screen(TaskScreen(repo_name=ws.name, branch=ws.branch, settings=self.settings,
                                        preview=self._context_preview(ws)))
            return
        if self._prepare_demo:
            return  # the workbench's shell is the default screen; the rest waits for on_ready
        try:
            if isinstance(start, DemoStart):
                assert start.demo is not None
                self._open(RunStart.for_demo(start.demo))
            else:
                self._open(start)
        except Exception as exc:  # a session that cannot start: say why, exit 2
            self.exit(2, return_code=2, message=f"counterpoint: {exc}")
            return
        self._open_workbench()

    def get_default_screen(self) -> Screen[Any]:
        """For a demo still to prepare, the first screen is the workbench (its shell): it is
        drawn in the app's very first frame, with no screen pushed after it."""
        if self._prepare_demo:
            self.workbench = self._new_workbench()
            return self.workbench
        return super().get_default_screen()

    def _new_workbench(self) -> WorkbenchScreen:
        return WorkbenchScreen(
            self.orch,
            clock=self.elapsed,
            checks_clock=self.checks_elapsed,
            starting_header=startup.starting_header(self.start),
            starting_status=startup.STARTING_STATUS,
        )

    def on_ready(self, _event: events.Ready) -> None:
        """The first frame is on screen: now prepare the demo and start its session."""
        if self._prepare_demo and self.orch is None:
            self.run_worker(self._prepare_and_start(), name="start", group="start", exit_on_error=False)

    async def _prepare_and_start(self) -> None:
        """Copy the sample repository and import the session's code in a thread (the event loop
        keeps drawing and reading keys), then start the session and swap the panes in."""
        assert isinstance(self.start, DemoStart)
        sample = self.start.sample or ""
        try:
            demo = await asyncio.to_thread(startup.prepare_demo_with_imports, sample)
            self._demo = demo
            self._open(RunStart.for_demo(demo))
        except Exception as exc:  # a demo that cannot start: say why, exit 2
            self.exit(2, return_code=2, message=f"counterpoint: {exc}")
            return
        workbench = self.workbench
        if workbench is not None and workbench.is_attached:
            # in the screen's own message queue, so no refresh of it runs at the same time
            workbench.call_later(workbench.session_ready, self.orch)
        self._begin()

    def _open(self, start: RunStart | ResumeStart) -> None:
        """Start or resume the session (`startup.open_session`) and attach to it."""
        orch, problems = startup.open_session(
            start, settings=self.settings, speed=self.speed, make_provider=self._make_provider,
            listener=self._session_listener(),
        )
        self._attach_session(orch)
        self.workspace = orch.workspace
        for problem in problems:
            self.notify(problem, title="Journal", severity="warning")

    def _open_workbench(self) -> None:
        from counterpoint.tui.screens.task import TaskScreen

        self.workbench = self._new_workbench()
        if isinstance(self.screen, TaskScreen):
            self.switch_screen(self.workbench)
        else:
            self.push_screen(self.workbench)
        self._begin()

    def _begin(self) -> None:
        """The session's checks (the consent dialog asks when nobody decided), then the rest
        of the current round."""
        from counterpoint.tui.session_checks import begin_checks

        assert self.orch is not None
        orch = self.orch

        def go_on() -> None:
            self.pacer.mark({DIRTY_ROUNDS})  # the workbench shows the checks' tab, or not
            r = orch.session.current
            if r is not None and not r.aligned:
                self.drive()

        begin_checks(self, orch, self.checks_flags, self._demo, go_on, may_ask=not isinstance(self.start, ResumeStart))

    def _context_preview(self, workspace: Any) -> Any:
        """What the task screen's context list shows: the same choice a session makes."""
        from counterpoint.workflow.context import gather_context

        rules = self.settings.context

        def preview(task: str, added: list[str], dropped: list[str]) -> Any:
            return gather_context(workspace, task, rules, forced=added, dropped=dropped)

        return preview

    def on_task_screen_start(self, message: TaskScreen.Start) -> None:
        """The task screen's Start (a handler by name: the task screen is imported lazily)."""
        from counterpoint.workflow.orchestrator import SessionError

        assert self.workspace is not None
        start = RunStart(
            self.workspace, message.task, message.generator, list(message.reviewers),
            message.planner, base_dir=self.workspace.root,
            context_files=list(message.context_files), context_dropped=list(message.context_dropped),
        )
        try:
            self._open(start)
        except SessionError as exc:
            from counterpoint.tui.screens.task import TaskScreen

            screen = self.screen
            if isinstance(screen, TaskScreen):
                screen.show_error(str(exc))
            return
        self._open_workbench()

    # -- the session's clock ----------------------------------------------------------
    def elapsed(self, key: tuple[int, str, str]) -> str:
        """Seconds a running step has taken ("" when frozen or when it started elsewhere)."""
        if self.frozen or self.listener is None:
            return ""
        return self.listener.elapsed(key)

    def checks_elapsed(self, round_no: int) -> str:
        """Seconds the round's running checks have taken ("" when frozen)."""
        if self.frozen or self.listener is None:
            return ""
        return self.listener.checks_elapsed(round_no)

    def _tick(self) -> None:
        if self.workbench is not None and self.workbench.is_current and self.orch is not None:
            current = self.orch.session.current
            if current and (current.running or current.checks_running):
                self.workbench.tick()

    # -- running the round --------------------------------------------------------------
    def _is_step(self, worker: Worker[Any]) -> bool:
        return worker.group == ROUND_GROUP or worker.group in self._pane_groups

    @property
    def busy(self) -> bool:
        return any(w.is_running for w in self.workers if self._is_step(w))

    def _session_listener(self) -> SessionListener:
        from counterpoint.tui.listener import SessionListener

        self.listener = SessionListener(self)
        return self.listener

    def _attach_session(self, orch: Orchestrator) -> None:
        self.orch = orch
        orch.hold_plan = True  # the human approves (or edits) the plan before the generator starts
        orch.conversation.announce = self._announce_indexing
        self.refresh_bindings()
        # The session's long-lived objects exist now: keep them out of later collections.
        self.call_after_refresh(settle_after_startup)

    def _announce_indexing(self, files: int) -> None:
        """A first index of the repository starts (in the round's thread): say so, it takes
        seconds on a large one."""
        message = f"Indexing {files} files of this repository (once: later sessions read the cache)…"
        try:
            self.call_from_thread(self.notify, message, title="Context")
        except RuntimeError:  # on the app's own thread
            self.notify(message, title="Context")

    def _run_in_round_worker(self, run: Callable[[StepRunner], Awaitable[bool]]) -> None:
        """Run `run(self.run_in_pane)` (`Orchestrator.run_round`, `revise`, `swap_roles`) in
        the round's worker."""
        streaming()  # until the worker ends and `reclaim` runs
        self.run_worker(run(self.run_in_pane), name=ROUND_GROUP, group=ROUND_GROUP, exit_on_error=False)

    async def run_in_pane(self, step: RoundStep) -> bool:
        """The TUI's step runner: the step runs in a worker of its pane's group."""
        self._pane_groups.add(step.pane)
        worker = self.run_worker(step.run(), name=step.pane, group=step.pane, exit_on_error=False)
        try:
            await worker.wait()
        except (WorkerFailed, WorkerCancelled):
            return False
        return bool(worker.result)

    def drive(self) -> None:
        """Run what is left of the current round (unless steps are running)."""
        if self.orch is None or self.busy:
            return
        self._run_in_round_worker(self.orch.run_round)

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        """One place for worker outcomes: a crash is reported, every end refreshes the view."""
        worker = event.worker
        if event.state == WorkerState.ERROR:
            self.notify(
                f"{worker.group}: {type(worker.error).__name__}: {worker.error}\nPress t to retry.",
                title="Step crashed",
                severity="error",
            )
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.pacer.mark({DIRTY_STEPS})
            if worker.group == ROUND_GROUP:  # the streams are over: collect what they left
                self.call_after_refresh(reclaim)

    def _need_idle(self, what: str) -> bool:
        if self.orch is None:
            return False
        if self.busy:
            self.notify(f"Steps are still running; {what} when they are done (x cancels them).", severity="warning")
            return False
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The session's actions wait for the session (shown disabled in the demo's shell)."""
        if action in SESSION_ACTIONS and (self.orch is None or not self._workbench_ready()):
            return None
        return True

    def _workbench_ready(self) -> bool:
        return self.workbench is not None and self.workbench.ready

    # -- actions on the session (the workbench binds their keys) ------------------------
    def action_retry(self) -> None:
        """Run the failed steps of the current round again, then the rest of the round."""
        if not self._need_idle("retry"):
            return
        assert self.orch is not None
        if self.orch.round_complete:
            self.notify("Nothing to retry: this round is complete.")
            return
        self._run_in_round_worker(self.orch.run_round)

    def action_cancel_steps(self) -> None:
        cancelled = 0
        for worker in list(self.workers):
            if worker.is_running and self._is_step(worker):
                worker.cancel()
                cancelled += 1
        if cancelled:
            self.notify("Cancelled the running steps; press t to run them again.")

    def action_revise(self) -> None:
        """A new round: accepted findings and notes go back to the generator."""
        if not self._need_idle("revise"):
            return
        assert self.orch is not None
        r = self.orch.current
        if r.proposal is None or not r.aligned:
            self.notify(f"Round {r.number} is not reviewed yet: nothing to revise.", severity="warning")
            return
        if not any(c.verdict == "accepted" or c.note for c in r.clusters):
            self.notify("No finding is accepted or annotated; revising anyway.", severity="warning")
        self._follow_current()
        self._run_in_round_worker(self.orch.revise)

    def action_rerun_checks(self) -> None:
        """Run the checks again on the current round's proposal (`Orchestrator.rerun_checks`)."""
        if not self._need_idle("rerun the checks"):
            return
        assert self.orch is not None
        orch = self.orch
        if orch.checks is None:
            self.notify("The checks are off for this session (run with --checks to switch them on).",
                        severity="warning")
            return
        if orch.current.proposal is None:
            self.notify("There is no proposal to check yet.", severity="warning")
            return
        from counterpoint.workflow.steps import RoundStep

        self._follow_current()
        self._run_in_round_worker(lambda run: run(RoundStep("checks", orch.rerun_checks)))

    def action_swap_roles(self) -> None:
        """Swap the generator and the first reviewer, and run the round again."""
        if not self._need_idle("swap roles"):
            return
        assert self.orch is not None
        if not self.orch.session.reviewers:
            self.notify("There is no reviewer to swap with.", severity="warning")
            return
        if self.orch.current.plan_pending:
            self.notify("The plan waits for you: enter approves it, p edits it.", severity="warning")
            return
        self._follow_current()
        self._run_in_round_worker(self.orch.swap_roles)

    def _follow_current(self) -> None:
        if self.workbench is not None:
            self.workbench.viewing = None

    def action_undo(self) -> None:
        from counterpoint.workflow.orchestrator import SessionError
        from counterpoint.workspace import WorkspaceError

        if self.orch is None:
            return
        try:
            undone = self.orch.undo()
        except (SessionError, WorkspaceError) as exc:
            self.notify(str(exc), title="Not undone", severity="warning")
            return
        self.notify(f"Restored {', '.join(undone.files)} from {undone.undo_id}.", title="Undone")

    def action_apply_screen(self) -> None:
        if self.orch is None:
            return
        if self.orch.session.last_proposal_round is None:
            self.notify("There is no proposal to apply yet.", severity="warning")
            return
        from counterpoint.tui.screens.apply import ApplyScreen

        self.push_screen(ApplyScreen(self.orch))

    def action_export(self) -> None:
        if self.orch is None:
            return
        from counterpoint.export import export_dir
        from counterpoint.tui.screens.dialogs import ExportScreen

        self.push_screen(ExportScreen(str(export_dir())), self._export)

    def _export(self, fmt: str | None) -> None:
        if fmt is None or self.orch is None:
            return
        from counterpoint.export import write_export

        try:
            path = write_export(self.orch.session, fmt)
        except Exception as exc:  # an exporter bug or a full disk: tell, do not crash
            self.notify(f"{type(exc).__name__}: {exc}", title="Export failed", severity="error")
            return
        self.last_export = path
        self.notify(str(path), title=f"Exported {fmt}", timeout=10)

    # -- toasts, help, the palette, quitting --------------------------------------------
    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast (the app's and its screens') shows plain text, never markup: messages
        carry provider errors, model text and paths. Control characters show as escapes."""
        super().notify(
            visible(message),
            title=visible(title, newlines=False),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def action_help(self) -> None:
        from counterpoint.tui.screens.dialogs import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        from counterpoint.tui.help import help_sections

        self.push_screen(HelpScreen(help_sections()))

    def action_scoreboard(self) -> None:
        from counterpoint.tui.screens.scoreboard import ScoreboardScreen

        if not isinstance(self.screen, ScoreboardScreen):
            self.push_screen(ScoreboardScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        from counterpoint.tui.help import binding_commands

        yield from super().get_system_commands(screen)
        yield from binding_commands(self, screen)

    async def action_quit_session(self) -> None:
        """Quit; the session stays journaled so `counterpoint resume` reopens it exactly.

        `SessionFinished(quit)` is journaled but the round is left open; then the journal is
        detached *before* running steps are cancelled, so a step cut off by the quit stays
        "running" in the journal and is played again on resume instead of counting as failed.
        """
        code = 0
        orch = self.orch
        if orch is not None:
            from counterpoint.core.events import SessionFinished

            current = orch.session.current
            if current is not None and current.errors:
                code = 1
            if orch.journal is not None:
                orch.emit(SessionFinished(state="quit"))
                orch.close()
                orch.journal = None
            if self.listener in orch.listeners:
                orch.listeners.remove(self.listener)
        self.exit(code)

    async def action_quit(self) -> None:
        await self.action_quit_session()


def make_app(
    start: Start,
    *,
    settings: Settings | None = None,
    speed: float | None = None,
    frozen: bool | None = None,
    make_provider: ProviderFactory | None = None,
    checks: ChecksFlags | None = None,
) -> CounterpointApp:
    """The app for a start-up mode (`startup.py`) — used by `run_app` and tests."""
    return CounterpointApp(
        start, settings=settings, speed=speed, frozen=frozen, make_provider=make_provider, checks=checks
    )


def run_app(
    start: Start,
    *,
    settings: Settings | None = None,
    speed: float | None = None,
    after: Callable[[Orchestrator | None], None] | None = None,
    checks: ChecksFlags | None = None,
) -> int:
    """Run the TUI; returns the exit code (0 done, 1 a step failed, 2 bad input). `after` is
    called with the session (None when none started) once the screen is given back."""
    app = make_app(start, settings=settings, speed=speed, checks=checks)
    result = app.run()
    if after is not None:
        after(app.orch)
    return int(app.return_code if app.return_code is not None else (result or 0))
