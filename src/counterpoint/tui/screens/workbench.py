"""The workbench: header, generator and reviewer panes, findings table and detail pane.

Attributes down, messages up: the app gives the screen its orchestrator (`orch`) and a
clock, and tells it what changed (`SessionChanged`, with the dirty parts). The screen
renders the session and turns keys into intents: verdicts and notes go straight to the
orchestrator (they are instant); the keys that run steps or open other screens are bound to
the app's actions (`app.revise`, ...), which run them in workers. Older rounds can be viewed
with `[` and `]` (`viewing`, a reactive); they are read-only. With a planner the round
pauses at its plan: `enter` approves it, `p` edits it (`tui/plan_keys.py`).

The screen can be shown before its session exists (`counterpoint demo` paints it while the
demo repository is copied and the session starts): it then composes a *shell* — the header,
and bordered placeholders where the panes, the findings table and the detail pane go, with
the same ids and so the same layout — and imports none of the heavy parts (streaming panes,
the findings table, the findings model). `session_ready()` swaps the real parts in. The
workbench's own keys stay disabled until then.

With checks, a "Checks" tab follows the reviewers' (`workbench_checks.py`): `c` shows it,
`C` reruns the checks, `enter` on a failure jumps to its cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Button, Static

from counterpoint.core.glyphs import WEAK_REVIEW, short_model_name
from counterpoint.core.safe_text import visible
from counterpoint.tui.key_bar import KeyBar
from counterpoint.tui.messages import DIRTY_CHECKS, DIRTY_CLUSTERS, DIRTY_ROUNDS, SessionChanged
from counterpoint.tui.screens.workbench_checks import ChecksTab

if TYPE_CHECKING:
    from counterpoint.core.findings import Cluster, Verdict
    from counterpoint.core.session import RoundState, Session
    from counterpoint.tui.app import CounterpointApp
    from counterpoint.tui.panes import StreamPane
    from counterpoint.tui.widgets import DetailPane, FindingsTable
    from counterpoint.workflow.orchestrator import Orchestrator

Clock = Callable[[tuple[int, str, str]], str]
"""How long the step (round, step, model) has run, for display ("" when not shown)."""

COMPACT_HEIGHT = 32
COMPACT_WIDTH = 100


class Pending(Static):
    """A bordered placeholder of the shell, where a pane goes once the session has started."""

    DEFAULT_CSS = """
    Pending { width: 1fr; height: 1fr; border: round $panel-lighten-2; color: $text-muted; padding: 0 1; }
    Pending.-reviewer { border: round $reviewer; border-title-color: $reviewer; }
    """

    def __init__(self, title: str, text: str, *, id: str, classes: str = "") -> None:
        super().__init__(text, id=id, classes=classes)
        self.border_title = title


class WorkbenchScreen(ChecksTab):
    # The letter keys are priority bindings: the app runs them as soon as it reads them,
    # not after the key has travelled through the focused widget and its parents, each a
    # queue that can sit behind a frame while models stream (bench/bench_tui_streaming.py).
    # The arrows stay ordinary: a focused pane scrolls with them.
    BINDINGS: ClassVar[list[BindingType]] = [
        # Shown first (and taken from the focused widget) only while a plan waits for the human.
        Binding("enter", "approve_plan", "Approve the plan", priority=True),
        Binding("p", "edit_plan", "Edit the plan", priority=True),
        Binding("j", "cursor_down", "Next finding", show=False, priority=True),
        Binding("down", "cursor_down", "Next finding", show=False),
        Binding("k", "cursor_up", "Previous finding", show=False, priority=True),
        Binding("up", "cursor_up", "Previous finding", show=False),
        Binding("a", "accept", "Accept", priority=True),
        Binding("r", "reject", "Reject", priority=True),
        Binding("n", "note", "Note", priority=True),
        Binding("u", "clear_verdict", "Clear verdict (pending)", show=False, priority=True),
        Binding("d", "diff", "Diff", priority=True),
        Binding("R", "app.revise", "Revise", priority=True),
        Binding("s", "app.swap_roles", "Swap roles", priority=True),
        Binding("left_square_bracket", "previous_round", "Prev round", priority=True),
        Binding("right_square_bracket", "next_round", "Next round", priority=True),
        Binding("A", "app.apply_screen", "Apply", priority=True),
        Binding("e", "app.export", "Export", show=False, priority=True),
        Binding("f", "context", "Context files", show=False, priority=True),
        Binding("c", "checks", "Checks", priority=True),
        Binding("C", "app.rerun_checks", "Rerun checks", show=False, priority=True),
        Binding("t", "app.retry", "Retry failed step", show=False, priority=True),
        Binding("x", "app.cancel_steps", "Cancel running steps", show=False, priority=True),
        Binding("U,ctrl+z", "app.undo", "Undo last apply", show=False, priority=True),
    ]
    PLAN_ACTIONS: ClassVar[frozenset[str]] = frozenset({"approve_plan", "edit_plan"})

    viewing: reactive[int | None] = reactive(None, init=False)
    """The round on screen; None follows the current (latest) round."""

    def __init__(
        self,
        orch: Orchestrator | None = None,
        *,
        clock: Clock = lambda _key: "",
        checks_clock: Callable[[int], str] = lambda _round: "",
        starting_header: Text | None = None,
        starting_status: str = "",
    ) -> None:
        super().__init__()
        self.orch = orch
        """The session's orchestrator; None while the session starts (the shell)."""
        self.clock = clock
        self.checks_clock = checks_clock
        """How long a round's running checks have taken ("" when not shown)."""
        self.starting_header = starting_header or Text("counterpoint", style="bold")
        """The header, and what the shell's placeholders say, before the session exists."""
        self.starting_status = starting_status
        self._tab_reviewers: tuple[list[str], bool] = ([], False)
        """The reviewers the tabs were built for, and whether a checks tab follows them."""
        self._cluster_signature: Any = None
        self._panes: list[StreamPane] | None = None
        self._plan_keys = False
        """Whether the footer shows the plan's keys (see `plan_waits`)."""
        self.ready = False
        """True once the real panes are mounted (see `session_ready`)."""

    @property
    def session(self) -> Session:
        assert self.orch is not None
        return self.orch.session

    @property
    def viewed(self) -> RoundState | None:
        session = self.session
        if not session.rounds:
            return None
        if self.viewing is None or self.viewing > len(session.rounds):
            return session.current
        return session.round(self.viewing)

    @property
    def read_only(self) -> bool:
        r = self.viewed
        return r is None or r is not self.session.current

    def round_file(self, r: RoundState, path: str) -> str | None:
        """A file as round `r`'s generator edits it: the previous proposal's version for a
        revision, else the repository's (None: missing, unreadable or not in the repository)."""
        from counterpoint.workspace.errors import WorkspaceError

        if self.orch is None:
            return None
        workspace = self.orch.workspace
        try:
            rel = workspace.safe_path(path)
            previous = self.session.round(r.builds_on).proposal if r.builds_on else None
            if previous is not None and rel in previous.files:
                return previous.files[rel]
            return workspace.read_text(rel)
        except (WorkspaceError, OSError, UnicodeDecodeError):
            return None

    # -- layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="header")
        if self.orch is None:
            yield from self._compose_shell()
            yield KeyBar()
            return
        from counterpoint.tui.panes import GeneratorPane
        from counterpoint.tui.widgets import DetailPane, FindingsTable

        with Horizontal(id="panes"):
            yield GeneratorPane(clock=self.clock, read=self.round_file, id="generator-pane")
            with Vertical(id="reviewers-box"):
                yield self._reviewer_tabs()
        yield FindingsTable(id="findings")
        yield DetailPane(id="detail")
        yield KeyBar()

    def _compose_shell(self) -> ComposeResult:
        """The layout before the session exists: the same ids, placeholders for the parts."""
        status = self.starting_status
        with Horizontal(id="panes"):
            yield Pending("Generator", status, id="generator-pane")
            with Vertical(id="reviewers-box"):
                yield Pending("Reviewers", status, id="reviewers-pending", classes="-reviewer")
        yield Pending("Findings", "", id="findings")
        yield Pending("Detail", "", id="detail")

    def _reviewer_tabs(self) -> Widget:
        from textual.widgets import TabbedContent

        return TabbedContent(id="reviewer-tabs")

    async def on_mount(self) -> None:
        self._layout_class()
        if self.orch is None:  # the shell: the header says what is starting
            self.update_header()
            return
        await self._parts_mounted()

    async def session_ready(self, orch: Orchestrator) -> None:
        """The session has started: put the real panes where the shell's placeholders are."""
        if self.ready:
            return
        self.orch = orch
        from counterpoint.tui.panes import GeneratorPane
        from counterpoint.tui.widgets import DetailPane, FindingsTable

        with self.app.batch_update():
            await self.query(Pending).remove()
            panes = self.query_one("#panes", Horizontal)
            await panes.mount(GeneratorPane(clock=self.clock, read=self.round_file, id="generator-pane"), before=0)
            await self.query_one("#reviewers-box", Vertical).mount(self._reviewer_tabs())
            await self.mount(FindingsTable(id="findings"), DetailPane(id="detail"), after=panes)
            await self._parts_mounted()

    async def _parts_mounted(self) -> None:
        self.ready = True
        self.detail_pane.border_title = "Detail"
        self.findings_table.focus()
        await self.refresh_view(None)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The workbench's keys wait for the session (shown disabled in the shell; the app's
        actions check the same in `CounterpointApp.check_action`)."""
        if action == "checks" and self.ready and not self.has_checks:
            return False  # hidden: this session has no checks
        if not self.ready and any(action == b.action for b in self.BINDINGS if isinstance(b, Binding)):
            return None
        if action in self.PLAN_ACTIONS:
            return self.plan_waits()
        return True

    @property
    def findings_table(self) -> FindingsTable:
        from counterpoint.tui.widgets import FindingsTable

        return self.query_one(FindingsTable)

    @property
    def detail_pane(self) -> DetailPane:
        from counterpoint.tui.widgets import DetailPane

        return self.query_one(DetailPane)

    def on_resize(self) -> None:
        self._layout_class()

    def _layout_class(self) -> None:
        size = self.app.size
        compact = size.height < COMPACT_HEIGHT or size.width < COMPACT_WIDTH
        if compact != self.has_class("-compact"):
            self.set_class(compact, "-compact")
            self.update_header()

    # -- rendering ----------------------------------------------------------------------
    @on(SessionChanged)
    async def _session_changed(self, message: SessionChanged) -> None:
        await self.refresh_view(message.dirty)

    async def refresh_view(self, dirty: set[str] | None) -> None:
        """Bring every part up to date; `dirty` None means everything."""
        if self.orch is None or not self.ready:
            return
        r = self.viewed
        self.update_header()
        if self.plan_waits() != self._plan_keys:
            self._plan_keys = not self._plan_keys
            self.refresh_bindings()
        if r is None:
            return
        self.panes()[0].border_title = Text(f"Generator · {short_model_name(r.generator)}")
        if (r.reviewers, self.has_checks) != self._tab_reviewers:
            await self._rebuild_tabs(r.reviewers)
        for pane in self.panes():
            await pane.show_round(r)
        self._title_reviewers(r)
        if dirty is None or dirty & {DIRTY_CHECKS, DIRTY_ROUNDS}:
            self._show_checks(r)
        if dirty is None or dirty & {DIRTY_CLUSTERS, DIRTY_ROUNDS} or self._signature(r) != self._cluster_signature:
            self._show_clusters(r)
        elif not r.aligned:
            self._title_clusters(r)  # findings raised while the reviews stream

    def panes(self) -> list[StreamPane]:
        if not self.ready:
            return []
        from counterpoint.tui.panes import GeneratorPane, ReviewerPane

        if self._panes is None:  # cached: DOM queries per streamed chunk add up
            self._panes = [self.query_one(GeneratorPane), *self.query(ReviewerPane)]
        return self._panes

    async def _rebuild_tabs(self, reviewers: list[str]) -> None:
        from textual.widgets import TabbedContent, TabPane

        from counterpoint.tui.panes import ReviewerPane

        tabs = self.query_one(TabbedContent)
        await tabs.clear_panes()
        for n, spec in enumerate(reviewers):
            pane = ReviewerPane(spec, clock=self.clock, id=f"reviewer-{n}")
            pane.show_title(None)
            await tabs.add_pane(TabPane(Content(short_model_name(spec)), pane, id=f"tab-{n}"))
        self._tab_reviewers = (list(reviewers), await self.add_checks_tab(tabs))
        self._panes = None
        if reviewers:
            tabs.active = "tab-0"
        self.refresh_bindings()

    def _title_reviewers(self, r: RoundState) -> None:
        from counterpoint.tui.panes import ReviewerPane

        for pane in self.panes():
            if isinstance(pane, ReviewerPane):
                pane.show_title(r)

    def _signature(self, r: RoundState) -> Any:
        return (r.number, r.aligned, tuple((c.id, c.verdict, c.note, c.stance) for c in r.clusters))

    def _show_clusters(self, r: RoundState) -> None:
        from counterpoint.core.alignment import sort_clusters

        table = self.findings_table
        table.set_clusters(sort_clusters(r.clusters), r.reviewers)
        self._title_clusters(r)
        self._cluster_signature = self._signature(r)
        self._show_detail(table.current_cluster)

    def _title_clusters(self, r: RoundState) -> None:
        from counterpoint.tui.panes import ReviewerPane

        clusters = r.clusters
        if r.aligned:
            contested = sum(1 for c in clusters if c.contested)
            accepted = sum(1 for c in clusters if c.verdict == "accepted")
            rejected = sum(1 for c in clusters if c.verdict == "rejected")
            title = f"Findings {len(clusters)} · {contested} contested"
            if accepted or rejected:
                title += f" · {accepted} accepted · {rejected} rejected"
            weak = sum(1 for review in r.reviews.values() if review.weak)
            if weak:
                title += f" · {WEAK_REVIEW.glyph} {weak} weak review{'s' if weak != 1 else ''}"
        elif r.plan_pending:
            title = "Findings · the generator starts when you approve the plan (enter)"
        elif r.proposal is None:
            title = "Findings · the reviews start when the proposal is done"
        else:
            raised = sum(p.raised(r) for p in self.panes() if isinstance(p, ReviewerPane))
            title = f"Findings · {raised} raised so far · aligned when the reviews end"
        if self.read_only:
            title += f" · round {r.number} (read-only)"
        table = self.findings_table
        if table.border_title != title:
            table.border_title = title

    def _show_detail(self, cluster: Cluster | None) -> None:
        r = self.viewed
        text = None
        if cluster is not None and r is not None and r.proposal is not None:
            text = r.proposal.files.get(cluster.path)
            if text is None and cluster.path not in r.proposal.files and self.orch is not None:
                try:
                    text = self.orch.workspace.read_text(cluster.path)
                except Exception:  # an unsafe or unreadable path: show no code
                    text = None
        self.detail_pane.show(cluster, text)

    def update_header(self) -> None:
        self.query_one("#header", Static).update(self.header_text())

    def header_text(self) -> Text:
        if self.orch is None:
            return self.starting_header
        from counterpoint.tui.panes import format_tokens

        session = self.session
        meta = session.meta
        r = self.viewed
        text = Text()
        text.append("counterpoint", style="bold")
        if meta is not None:
            text.append(visible(f" · {meta.repo_name}@{meta.branch}", newlines=False))
        if r is not None:
            total = len(session.rounds)
            text.append(f" · round {r.number}" + (f"/{total} (viewing)" if self.read_only else ""))
            text.append(" · gen ", style="dim")
            text.append(short_model_name(r.generator), style="bold")
            text.append(" · rev ", style="dim")
            text.append(", ".join(short_model_name(s) for s in r.reviewers), style="bold")
        compact = self.has_class("-compact")
        for model, totals in ({} if compact else session.usage).items():
            text.append(f" · {short_model_name(model)} ", style="dim")
            text.append(f"{format_tokens(totals.tokens)} tok ${totals.cost_usd:.3f}")
        if session.usage:
            tokens = sum(t.tokens for t in session.usage.values())
            cost = sum(t.cost_usd for t in session.usage.values())
            label = "" if compact else "total "
            text.append(f" · {label}{format_tokens(tokens)} tok ${cost:.3f}", style="bold")
        current = session.current
        if current is not None:
            for step, model in sorted(current.running):
                elapsed = self.clock((current.number, step, model))
                text.append(f" · ▶ {step} {short_model_name(model)}", style="italic")
                if elapsed:
                    text.append(f" {elapsed}", style="italic")
            self.checks_header(current, text)
        return text

    def tick(self) -> None:
        """Once a second while steps run: elapsed times in the header and pane statuses."""
        if self.orch is None or not self.ready:
            return
        self.update_header()
        for pane in self.panes():
            if pane.running():
                pane.refresh_status()
        r = self.viewed
        if r is not None and r.checks_running:
            self._show_checks(r)

    # -- findings -----------------------------------------------------------------------
    def on_findings_table_cluster_highlighted(self, event: FindingsTable.ClusterHighlighted) -> None:
        self._show_detail(self.findings_table.current_cluster)

    def current_cluster(self) -> Cluster | None:
        return self.findings_table.current_cluster

    def select_cluster(self, cluster_id: str) -> bool:
        return self.findings_table.select_cluster(cluster_id)

    def action_cursor_down(self) -> None:
        self.findings_table.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.findings_table.action_cursor_up()

    def _triage_target(self) -> Cluster | None:
        if self.read_only:
            self.notify(
                f"Round {self.viewed.number if self.viewed else '?'} is read-only: press ] to "
                "return to the current round.",
                severity="warning",
            )
            return None
        cluster = self.current_cluster()
        if cluster is None:
            self.notify("No finding selected.", severity="warning")
        return cluster

    def _verdict(self, verdict: Verdict) -> None:
        cluster = self._triage_target()
        if cluster is not None and self.orch is not None:
            self.orch.set_verdict(cluster.id, verdict)

    def action_accept(self) -> None:
        self._verdict("accepted")

    def action_reject(self) -> None:
        self._verdict("rejected")

    def action_clear_verdict(self) -> None:
        self._verdict("pending")

    def action_note(self) -> None:
        cluster = self._triage_target()
        if cluster is None:
            return
        from counterpoint.tui.screens.dialogs import NoteScreen

        cluster_id = cluster.id

        def save(note: str | None) -> None:
            if note is not None and self.orch is not None:
                self.orch.set_note(cluster_id, note or None)

        self.app.push_screen(NoteScreen(cluster.title, cluster.note), save)

    def action_context(self) -> None:
        """The context list: what the session sends, and the human's changes for the next round."""
        if self.orch is not None:
            self.run_worker(self._open_context(self.orch), group="context", exclusive=True)

    async def _open_context(self, orch: Orchestrator) -> None:
        import asyncio

        from counterpoint.tui.screens.context import ContextScreen
        from counterpoint.workflow.context import gather_context

        try:
            bundle = await asyncio.to_thread(orch.context_bundle)
        except Exception as exc:  # a repository that cannot be read now: say so
            self.notify(f"The context could not be chosen: {exc}", severity="warning")
            return

        def preview(added: list[str], dropped: list[str]) -> Any:
            return gather_context(orch.workspace, orch.session.task, orch.context_rules,
                                  forced=added, dropped=dropped)

        def save(choice: tuple[list[str], list[str]] | None) -> None:
            if choice is not None:
                orch.edit_context(*choice)
                self.notify("The next round sends the context as you left it.", title="Context")

        self.app.push_screen(ContextScreen(bundle, list(orch.session.context_files),
                                           list(orch.session.context_dropped), preview), save)

    # -- the plan (tui/plan_keys.py) -----------------------------------------------------
    def plan_waits(self) -> bool:
        from counterpoint.tui.plan_keys import plan_waits

        return self.ready and not self.read_only and plan_waits(cast("CounterpointApp", self.app), self.orch)

    def action_approve_plan(self) -> None:
        from counterpoint.tui.plan_keys import approve_plan

        if self.orch is not None and not self.read_only:
            approve_plan(cast("CounterpointApp", self.app), self.orch)

    def action_edit_plan(self) -> None:
        from counterpoint.tui.plan_keys import edit_plan

        if self.orch is not None and not self.read_only:
            edit_plan(cast("CounterpointApp", self.app), self.orch)

    # -- rounds -------------------------------------------------------------------------
    def show_round(self, number: int | None) -> None:
        total = len(self.session.rounds)
        self.viewing = None if number is None or number >= total else max(1, number)

    async def watch_viewing(self) -> None:
        self._cluster_signature = None
        await self.refresh_view(None)

    def action_previous_round(self) -> None:
        r = self.viewed
        if r is None or r.number <= 1:
            self.app.bell()
            return
        self.show_round(r.number - 1)

    def action_next_round(self) -> None:
        r = self.viewed
        if r is None or r.number >= len(self.session.rounds):
            self.app.bell()
            return
        self.show_round(r.number + 1)

    # -- other screens and steps ---------------------------------------------------------
    def action_diff(self) -> None:
        r = self.viewed
        if r is None or r.changeset is None:
            self.notify("No proposal in this round yet: nothing to diff.", severity="warning")
            return
        from counterpoint.core.alignment import sort_clusters
        from counterpoint.tui.screens.diff import DiffScreen

        previous = self.session.round(r.builds_on) if r.builds_on else None
        cluster = self.current_cluster()
        jump = (cluster.path, min(cluster.start_line, cluster.end_line)) if cluster else None

        def back(cluster_id: str | None) -> None:
            if cluster_id is not None:
                self.select_cluster(cluster_id)
                self.findings_table.focus()

        self.app.push_screen(
            DiffScreen(
                round_no=r.number,
                changeset=r.changeset,
                previous=previous.changeset if previous else None,
                previous_no=previous.number if previous else None,
                clusters=sort_clusters(r.clusters),
                jump=jump,
            ),
            back,
        )

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.has_class("retry"):
            event.stop()
            await self.run_action("app.retry")

