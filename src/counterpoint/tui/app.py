"""The Counterpoint TUI: the app, its factory (`make_app`, reused by tests) and `run_app`.

The app owns the orchestrator (assembled by `workflow/launch.py`) and runs its rounds in a
worker (group "round") that calls `Orchestrator.run_round` (or `revise`, `swap_roles`) with
the app's step runner, `run_in_pane`: each step runs in a worker of its pane's group
("planner", "generator", f"reviewer:{spec}", ...; the reviews at the same time), so any
single step can be cancelled or retried alone. Step failures are events (`StepFailed`)
shown in that model's pane; worker crashes are routed through one `Worker.StateChanged`
handler.

The orchestrator's listener runs on this event loop; it only marks parts of the workbench
dirty and posts one coalescing `SessionChanged` (see `messages.py`).

Start-up (`counterpoint demo`): the first frame must not wait for git or the session's
imports. With `demo_sample=NAME` the app shows the workbench's shell at once (header and
the panes' places, see `WorkbenchScreen`), and only after that first frame has been drawn
does it, in a thread, import the orchestrator and the workbench's parts and copy and commit
the sample repository; the session then starts on the event loop and the panes are swapped
in. `demo=DemoSetup` (already prepared; what tests pass) starts the session before the
workbench is shown, as "run" and "resume" do.

Determinism for tests and snapshots: `frozen=True` (or COUNTERPOINT_FROZEN=1) hides elapsed
times and stops the clock timer, so the screen depends only on the session.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from counterpoint.core.safe_text import visible
from counterpoint.tui.heap import reclaim, settle_after_startup, streaming
from counterpoint.tui.messages import EVENT_DIRTY, SessionChanged
from counterpoint.tui.screens.workbench import WorkbenchScreen

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from counterpoint.tui.screens.task import TaskScreen
    from counterpoint.workflow.steps import RoundStep, StepRunner

FROZEN_ENV = "COUNTERPOINT_FROZEN"
DEFAULT_THEME = "counterpoint-dark"
ROUND_GROUP = "round"
DEMO_BRANCH = "main"
"""The branch `prepare_demo` commits the sample repository on (shown before it exists)."""
FRAME = 1 / 30
"""Seconds between two workbench refreshes while models stream."""


class CounterpointApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "counterpoint"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit_session", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("ctrl+q", "quit_session", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        *,
        mode: str,
        settings: Any = None,
        workspace: Any = None,
        task: str | None = None,
        generator: str | None = None,
        reviewers: list[str] | None = None,
        planner: str | None = None,
        demo: Any = None,
        demo_sample: str | None = None,
        speed: float | None = None,
        session_id: str | None = None,
        frozen: bool | None = None,
        make_provider: Callable[..., Any] | None = None,
        resumed: Any = None,
    ) -> None:
        super().__init__()
        if mode not in ("task", "run", "demo", "resume"):
            raise ValueError(f"unknown mode {mode!r}")
        if mode == "demo" and demo is None and not demo_sample:
            raise ValueError("demo mode needs demo (a DemoSetup) or demo_sample (a sample's name)")
        if settings is None:
            from counterpoint.config import load_settings

            settings = load_settings(getattr(workspace, "root", None))
        self.mode = mode
        self.settings = settings
        self.workspace = workspace
        self.task_text = task
        self.generator = generator
        self.reviewers = list(reviewers or [])
        self.planner = planner
        self.demo = demo
        self.demo_sample = demo_sample
        self._prepare_demo = mode == "demo" and demo is None
        """The app copies the sample repository itself, after its first frame."""
        self.starting_status = "Copying the demo repository and starting the session…"
        """What the workbench shell's placeholders say while the session starts."""
        self.speed = speed
        self.session_id = session_id
        self.frozen = bool(os.environ.get(FROZEN_ENV)) if frozen is None else frozen
        self._make_provider = make_provider
        self.resumed = resumed
        """A session already resumed (`counterpoint resume`), else the app resumes `session_id`."""
        self.orch: Any = None
        self.workbench: WorkbenchScreen | None = None
        self._dirty: set[str] = set()
        self._posted = False
        self._last_refresh = 0.0
        self._started: dict[tuple[int, str, str], float] = {}
        self._pane_groups: set[str] = set()
        """The worker groups steps have run in (see `run_in_pane`)."""
        self._theme_ready = False
        self.theme_errors: list[str] = []
        self._register_themes()

    # -- themes -------------------------------------------------------------------------
    def _register_themes(self) -> None:
        from counterpoint.tui.theme import register_all

        names = register_all(self, errors=self.theme_errors)
        wanted = getattr(self.settings, "theme", None)
        if wanted and wanted in self.available_themes:
            self._initial_theme(wanted)
        elif DEFAULT_THEME in names:
            self._initial_theme(DEFAULT_THEME)

    def _initial_theme(self, name: str) -> None:
        """Start with theme `name`, without a second parse of all the CSS at start-up.

        Setting `App.theme` runs its watcher, which (besides the classes and the CSS variables
        set here) queues a full re-parse of every stylesheet — before the first frame, ~10 ms.
        Before the app runs nothing is parsed yet, so setting the value, the theme classes
        and the variables is enough. The watcher also swaps the ANSI colour mapping when the
        theme's darkness differs from the one the app was built with (Textual's dark
        default): a light theme goes through the watcher.
        """
        theme = self.get_theme(name)
        if theme is None or theme.dark != self.current_theme.dark or self.is_running:
            self.theme = name
            return
        self.set_reactive(CounterpointApp.theme, name)
        self.set_class(True, f"-theme-{name}", update=False)
        self.stylesheet.set_variables(self.get_css_variables())

    def get_theme_variable_defaults(self) -> dict[str, str]:
        from counterpoint.tui.theme import theme_variable_defaults

        try:
            dark = self.current_theme.dark
        except Exception:  # called before a theme is resolvable
            dark = True
        return theme_variable_defaults(dark)

    def _theme_changed(self, theme: Any) -> None:
        """Persist a theme the human picked (ui.theme in the user's config file)."""
        if not self._theme_ready or theme.name == getattr(self.settings, "theme", None):
            return
        from counterpoint.config import ConfigError, save_user_setting

        try:
            save_user_setting("ui.theme", theme.name)
        except (ConfigError, OSError) as exc:
            self.notify(f"Theme not saved: {exc}", severity="warning")

    # -- start-up -----------------------------------------------------------------------
    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._theme_ready = True
        for problem in self.theme_errors:
            self.notify(problem, title="Theme skipped", severity="warning")
        if not self.frozen:
            self.set_interval(1.0, self._tick)
        if self.mode == "task":
            from counterpoint.tui.screens.task import TaskScreen

            ws = self.workspace
            self.push_screen(
                TaskScreen(repo_name=ws.name, branch=ws.branch, settings=self.settings)
            )
            return
        if self._prepare_demo:
            return  # the workbench's shell is the default screen; the rest waits for on_ready
        try:
            if self.mode == "resume":
                self._resume()
            elif self.mode == "demo":
                self._start_demo(self.demo)
            else:
                self._start(
                    self.task_text or "", self.generator or "", self.reviewers, self.planner,
                    rounds=1, base=Path.cwd(),
                )
        except Exception as exc:  # a session that cannot start: say why, exit 2
            self.exit(2, return_code=2, message=f"counterpoint: {exc}")
            return
        self._open_workbench()

    def get_default_screen(self) -> Screen[Any]:
        """For a demo still to prepare, the first screen is the workbench (its shell): it is
        drawn in the app's very first frame, with no screen pushed after it."""
        if self._prepare_demo:
            self.workbench = WorkbenchScreen()
            return self.workbench
        return super().get_default_screen()

    def on_ready(self, _event: events.Ready) -> None:
        """The first frame is on screen: now prepare the demo and start its session."""
        if self._prepare_demo and self.orch is None and self.demo is None:
            self.run_worker(self._prepare_and_start(), name="start", group="start", exit_on_error=False)

    async def _prepare_and_start(self) -> None:
        """Copy the sample repository and import the session's code in a thread (the event loop
        keeps drawing and reading keys), then start the session and swap the panes in."""
        sample = self.demo_sample or ""
        try:
            self.demo = await asyncio.to_thread(_prepare_demo_with_imports, sample)
            self._start_demo(self.demo)
        except Exception as exc:  # a demo that cannot start: say why, exit 2
            self.exit(2, return_code=2, message=f"counterpoint: {exc}")
            return
        if self.workbench is not None and self.workbench.is_attached:
            # in the screen's own message queue, so no refresh of it runs at the same time
            self.workbench.call_later(self.workbench.session_ready)
        self.drive()

    def _start_demo(self, d: Any) -> None:
        from counterpoint.workspace import Workspace

        self.workspace = Workspace.open(d.repo)
        self._start(d.task, d.generator, list(d.reviewers), d.planner, rounds=d.rounds, base=d.repo)

    def starting_header(self) -> Text:
        """The workbench header before the session exists: the repository and what is going on."""
        text = Text()
        text.append("counterpoint", style="bold")
        if self.mode == "demo" and self.demo_sample:
            text.append(f" · {self.demo_sample}@{DEMO_BRANCH}")
        text.append(" · starting", style="dim")
        return text

    def _provider_factory(self, base: Path) -> Callable[..., Any]:
        if self._make_provider is not None:
            return self._make_provider
        from counterpoint.workflow.launch import provider_factory

        return provider_factory(self.settings, base_dir=base, speed=self.speed)

    def _start(
        self, task: str, generator: str, reviewers: list[str], planner: str | None, *, rounds: int, base: Path
    ) -> None:
        from counterpoint.workflow.launch import start_session

        orch = start_session(
            workspace=self.workspace,
            task=task,
            generator=generator,
            reviewers=reviewers,
            planner=planner,
            rounds=rounds,
            make_provider=self._provider_factory(base),
            prices=self.settings.prices,
            context_rules=self.settings.context,
            speed=self.speed,
            listeners=[self._on_event],
        )
        self._attach(orch)

    def _resume(self) -> None:
        resumed = self.resumed
        if resumed is None:
            from counterpoint.workflow.launch import resume_session

            assert self.session_id
            resumed = resume_session(
                self.session_id,
                make_provider=self._provider_factory(Path.cwd()),
                prices=self.settings.prices,
                context_rules=self.settings.context,
            )
        self._attach(resumed.orchestrator)
        self.workspace = resumed.orchestrator.workspace
        for problem in resumed.problems:
            self.notify(problem, title="Journal", severity="warning")

    def _open_workbench(self) -> None:
        from counterpoint.tui.screens.task import TaskScreen

        self.workbench = WorkbenchScreen()
        if isinstance(self.screen, TaskScreen):
            self.switch_screen(self.workbench)
        else:
            self.push_screen(self.workbench)
        r = self.orch.session.current
        if r is not None and not r.aligned:
            self.drive()

    def on_task_screen_start(self, message: TaskScreen.Start) -> None:
        """The task screen's Start (a handler by name: the task screen is imported lazily)."""
        from counterpoint.workflow.orchestrator import SessionError

        try:
            self._start(
                message.task, message.generator, message.reviewers, message.planner,
                rounds=1, base=self.workspace.root,
            )
        except SessionError as exc:
            from counterpoint.tui.screens.task import TaskScreen

            screen = self.screen
            if isinstance(screen, TaskScreen):
                screen.show_error(str(exc))
            return
        self._open_workbench()

    # -- events from the orchestrator ---------------------------------------------------
    def _on_event(self, event: Any) -> None:
        name = event.event
        if name == "step_started":
            self._started[(event.round, event.step, event.model)] = time.monotonic()
        elif name == "step_failed" and event.kind != "cancelled":
            self.notify(
                f"{event.step} · {event.model}: {event.kind}: {event.message}\nPress t to retry.",
                title="Step failed",
                severity="error",
            )
        elif name == "clusters_ready":
            contested = sum(1 for c in event.clusters if c.contested)
            self.notify(f"Round {event.round}: {len(event.clusters)} findings, {contested} contested.")
        self._dirty |= EVENT_DIRTY.get(name, frozenset())
        self._post_changed()

    def _post_changed(self) -> None:
        """Ask the workbench to refresh, at most once per frame (FRAME seconds)."""
        if self._posted or self.workbench is None or not self.workbench.is_attached:
            return
        self._posted = True
        delay = self._last_refresh + FRAME - time.monotonic()
        if delay > 0:
            self.set_timer(delay, self._post_now)
        else:
            self._post_now()

    def _post_now(self) -> None:
        if self.workbench is not None and self.workbench.is_attached:
            self.workbench.post_message(SessionChanged())
        else:
            self._posted = False

    def take_dirty(self) -> set[str]:
        self._posted = False
        self._last_refresh = time.monotonic()
        dirty, self._dirty = self._dirty, set()
        return dirty

    def elapsed(self, key: tuple[int, str, str]) -> str:
        """Seconds a running step has taken ("" when frozen or when it started elsewhere)."""
        if self.frozen or key not in self._started:
            return ""
        return f"{time.monotonic() - self._started[key]:.0f}s"

    def _tick(self) -> None:
        if self.workbench is not None and self.workbench.is_current and self.orch is not None:
            if self.orch.session.current and self.orch.session.current.running:
                self.workbench.tick()

    # -- driving the round --------------------------------------------------------------
    def _is_step(self, worker: Worker[Any]) -> bool:
        return worker.group == ROUND_GROUP or worker.group in self._pane_groups

    @property
    def busy(self) -> bool:
        return any(w.is_running for w in self.workers if self._is_step(w))

    def _attach(self, orch: Any) -> None:
        self.orch = orch
        if self._on_event not in orch.listeners:
            orch.listeners.append(self._on_event)
        # The session's long-lived objects exist now: keep them out of later collections.
        self.call_after_refresh(settle_after_startup)

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
            self._dirty.add("steps")
            self._post_changed()
            if worker.group == ROUND_GROUP:  # the streams are over: collect what they left
                self.call_after_refresh(reclaim)

    def _need_idle(self, what: str) -> bool:
        if self.orch is None:
            return False
        if self.busy:
            self.notify(f"Steps are still running; {what} when they are done (x cancels them).", severity="warning")
            return False
        return True

    def retry(self) -> None:
        """Run the failed steps of the current round again, then the rest of the round."""
        if not self._need_idle("retry"):
            return
        if self.orch.round_complete:
            self.notify("Nothing to retry: this round is complete.")
            return
        self._run_in_round_worker(self.orch.run_round)

    def cancel_steps(self) -> None:
        cancelled = 0
        for worker in list(self.workers):
            if worker.is_running and self._is_step(worker):
                worker.cancel()
                cancelled += 1
        if cancelled:
            self.notify("Cancelled the running steps; press t to run them again.")

    def revise(self) -> None:
        """A new round: accepted findings and notes go back to the generator."""
        if not self._need_idle("revise"):
            return
        r = self.orch.current
        if r.proposal is None or not r.aligned:
            self.notify(f"Round {r.number} is not reviewed yet: nothing to revise.", severity="warning")
            return
        if not any(c.verdict == "accepted" or c.note for c in r.clusters):
            self.notify("No finding is accepted or annotated; revising anyway.", severity="warning")
        self._follow_current()
        self._run_in_round_worker(self.orch.revise)

    def swap_roles(self) -> None:
        """Swap the generator and the first reviewer, and run the round again."""
        if not self._need_idle("swap roles"):
            return
        if not self.orch.session.reviewers:
            self.notify("There is no reviewer to swap with.", severity="warning")
            return
        self._follow_current()
        self._run_in_round_worker(self.orch.swap_roles)

    def _follow_current(self) -> None:
        if self.workbench is not None:
            self.workbench.viewing = None

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

    def undo(self) -> None:
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

    # -- screens and actions ------------------------------------------------------------
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
        from counterpoint.tui.screens.dialogs import ExportScreen

        self.push_screen(ExportScreen(str(export_dir())), self._export)

    def _export(self, fmt: str | None) -> None:
        if fmt is None or self.orch is None:
            return
        try:
            path = export_session(self.orch.session, fmt)
        except Exception as exc:  # an exporter bug or a full disk: tell, do not crash
            self.notify(f"{type(exc).__name__}: {exc}", title="Export failed", severity="error")
            return
        self.last_export = path
        self.notify(str(path), title=f"Exported {fmt}", timeout=10)

    def action_help(self) -> None:
        from counterpoint.tui.screens.dialogs import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(help_sections()))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for binding in [*getattr(screen, "BINDINGS", []), *self.BINDINGS]:
            if not isinstance(binding, Binding) or binding.action in seen:
                continue
            seen.add(binding.action)
            target = self if binding in self.BINDINGS else screen
            key = binding.key.split(",")[0]
            yield SystemCommand(
                binding.description,
                f"key: {_KEY_LABELS.get(key, key)}",
                partial(target.run_action, binding.action),
            )

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
            if self._on_event in orch.listeners:
                orch.listeners.remove(self._on_event)
        self.exit(code)

    async def action_quit(self) -> None:
        await self.action_quit_session()


_KEY_LABELS = {"left_square_bracket": "[", "right_square_bracket": "]", "question_mark": "?"}


def help_sections() -> list[tuple[str, list[BindingType]]]:
    from counterpoint.tui.screens.apply import ApplyScreen
    from counterpoint.tui.screens.dialogs import NoteScreen
    from counterpoint.tui.screens.diff import DiffScreen
    from counterpoint.tui.screens.task import TaskScreen
    from counterpoint.tui.widgets import DiffView

    palette = [Binding("ctrl+p", "command_palette", "Command palette (every action)")]
    return [
        ("Workbench", list(WorkbenchScreen.BINDINGS)),
        ("Everywhere", [*CounterpointApp.BINDINGS, *palette]),
        ("Diff screen", [*DiffScreen.BINDINGS, *DiffView.BINDINGS]),
        ("Apply screen", list(ApplyScreen.BINDINGS)),
        ("Task screen", list(TaskScreen.BINDINGS)),
        ("Note dialog", list(NoteScreen.BINDINGS)),
    ]


def export_dir() -> Path:
    from counterpoint.paths import home

    return home() / "exports"


def export_session(session: Any, fmt: str) -> Path:
    """Write the session's findings as `fmt` under COUNTERPOINT_HOME/exports; return the path.

    Never writes into the user's repository.
    """
    from counterpoint.tui.screens.dialogs import EXPORT_FORMATS

    ext = {name: ext for name, ext, _ in EXPORT_FORMATS}[fmt]
    from counterpoint.export import render

    text = render(session.summary(), fmt)
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"counterpoint-{session.id}.{ext}"
    path.write_text(text, encoding="utf-8")
    return path


def _prepare_demo_with_imports(sample: str) -> Any:
    """Run in a thread: import what the session and the workbench's parts need (so the event
    loop does not stall on it later), then copy and commit the sample repository."""
    import counterpoint.providers.registry
    import counterpoint.tui.panes
    import counterpoint.tui.widgets
    import counterpoint.workflow.launch
    import counterpoint.workspace  # noqa: F401
    from counterpoint.workflow.demo import prepare_demo

    return prepare_demo(sample)


def make_app(**kwargs: Any) -> CounterpointApp:
    """The app for `mode` ("task", "run", "demo", "resume") — used by `run_app` and tests.

    Demo mode takes `demo=DemoSetup` (prepared before the app starts) or `demo_sample=NAME`
    (prepared by the app after its first frame).
    """
    return CounterpointApp(**kwargs)


def run_app(**kwargs: Any) -> int:
    """Run the TUI; returns the exit code (0 done, 1 a step failed, 2 bad input)."""
    app = make_app(**kwargs)
    result = app.run()
    return int(app.return_code if app.return_code is not None else (result or 0))
