"""The task screen: what to build, and which models write, review and plan it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Button,
    DataTable,
    Input,
    Label,
    Select,
    SelectionList,
    Static,
    TextArea,
)
from textual.widgets.selection_list import Selection

from counterpoint.core.safe_text import visible
from counterpoint.tui.key_bar import KeyBar
from counterpoint.tui.widgets import context_list
from counterpoint.workflow.model_choice import default_roles, model_choices, same_family_warning


def _plain(spec: str, record: str | None = None) -> Text:
    """A model spec as a list prompt: plain text (a config chose it), controls as escapes;
    with the model's record in this repository (the scoreboard's), dimmed, when it has one."""
    text = Text(visible(spec, newlines=False))
    if record:
        text.append(f"  {record}", style="dim")
    return text


def model_records(repo_name: str) -> dict[str, str]:
    """Each reviewer's record in this repository, from the saved sessions; {} when there is
    none or the journals cannot be read (the task screen never fails for a scoreboard)."""
    from counterpoint.core.scoreboard import Filters, record_line
    from counterpoint.workflow.scoreboard import scoreboard

    try:
        board = scoreboard(Filters(repo=repo_name))
    except Exception:
        return {}
    lines = {row["model"]: record_line(board, row["model"]) for row in board["models"]}
    return {model: line for model, line in lines.items() if line}


CHOOSING = "Choosing the context… (the first time in a large repository, indexing it takes a few seconds)"


class TaskScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "Start the session"),
        Binding("ctrl+r", "preview_context", "Show the context"),
        Binding("ctrl+d", "toggle_file", "Drop/keep file"),
        Binding("ctrl+q", "app.quit", "Quit"),
    ]

    @dataclass
    class Start(Message):
        """The human asked to start a session with these choices."""

        task: str
        generator: str
        reviewers: list[str]
        planner: str | None
        context_files: list[str] = field(default_factory=list)
        context_dropped: list[str] = field(default_factory=list)

    def __init__(self, *, repo_name: str, branch: str, settings: Any,
                 preview: Callable[[str, list[str], list[str]], Any] | None = None) -> None:
        super().__init__()
        self.preview = preview
        """(task, added, dropped) -> the ContextBundle the generator would get."""
        self.context_files: list[str] = []
        self.context_dropped: list[str] = []
        self.repo_name = repo_name
        self.branch = branch
        self.settings = settings
        self.choices = model_choices(settings)
        self.records = model_records(repo_name)

    def compose(self) -> ComposeResult:
        s = self.settings
        gen_default, rev_default = default_roles(s, self.choices)
        gen_default = gen_default if gen_default in self.choices else None  # not "provider:*"
        title = f" counterpoint · {self.repo_name}@{self.branch} · new session"
        yield Static(Text(visible(title, newlines=False)), id="task-title")
        with VerticalScroll(id="task-body"):
            yield Label("Task — what should the generator build or change?")
            yield TextArea("", id="task-text", soft_wrap=True)
            with Horizontal(id="task-models"):
                with Vertical():
                    yield Label("Generator")
                    yield Select(
                        [(_plain(c, self.records.get(c)), c) for c in self.choices], id="generator", value=gen_default or Select.NULL,
                        allow_blank=gen_default is None,
                    )
                    yield Label("Planner (optional)")
                    yield Select(
                        [(_plain(c, self.records.get(c)), c) for c in self.choices], id="planner",
                        value=s.planner if s.planner in self.choices else Select.NULL,
                        prompt="no planner",
                    )
                    yield Label("Another model (PROVIDER:MODEL), added to the lists")
                    yield Input(placeholder="e.g. ollama:qwen3:8b", id="extra-model")
                with Vertical():
                    yield Label("Reviewers (space to pick)")
                    yield SelectionList[str](
                        *(Selection(_plain(c, self.records.get(c)), c, c in rev_default)
                          for c in self.choices),
                        id="reviewers",
                    )
            yield Static(self._notice(), id="task-warning")
            yield Label("Context — ctrl+r shows what the generator gets for the task; "
                        "ctrl+d drops or keeps the highlighted file")
            yield DataTable(id="context-files", cursor_type="row", zebra_stripes=False)
            yield Input(placeholder="add a file to the context: its path, then enter", id="context-add")
            yield Static("", id="context-total")
            yield Static("", id="task-error")
            yield Button("Start  ctrl+s", id="start", variant="primary")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#context-files", DataTable)
        table.add_columns(*context_list.COLUMNS)
        self.query_one("#task-text", TextArea).focus()

    def _notice(self) -> Text:
        """No usable provider: how to configure one; a reviewer of the generator's family: a warning."""
        if not self.choices:
            return Text(
                "No model provider is usable: set ANTHROPIC_API_KEY or OPENAI_API_KEY, or define a"
                " server under [providers.NAME] (`counterpoint config` shows the files); or type any"
                " PROVIDER:MODEL under \"Another model\".",
                style="bold",
            )
        if not self.is_mounted:
            generator, reviewers = default_roles(self.settings, self.choices)
        else:
            value = self.query_one("#generator", Select).value
            generator = None if value is Select.NULL else str(value)
            reviewers = list(self.query_one("#reviewers", SelectionList).selected)
        warning = same_family_warning(generator, reviewers)
        return Text(visible(f"⚠ {warning}", newlines=False), style="bold") if warning else Text("")

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "generator":
            self.query_one("#task-warning", Static).update(self._notice())

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        self.query_one("#task-warning", Static).update(self._notice())
    # -- the context list ----------------------------------------------------------------
    def action_preview_context(self) -> None:
        task = self.query_one("#task-text", TextArea).text.strip()
        if not task:
            self._error("Write the task first: the context is chosen for it.")
            return
        if self.preview is None:
            return
        self._error("")
        self.run_worker(self._compute_context(task), group="context", exclusive=True)

    async def _compute_context(self, task: str) -> None:
        import asyncio

        assert self.preview is not None
        self.query_one("#context-total", Static).update(CHOOSING)
        try:
            bundle = await asyncio.to_thread(
                self.preview, task, list(self.context_files), list(self.context_dropped)
            )
        except Exception as exc:  # a repository that cannot be read: say so, keep the screen
            self.query_one("#context-total", Static).update("")
            self._error(f"The context could not be chosen: {exc}")
            return
        self.show_context(bundle)

    def show_context(self, bundle: Any) -> None:
        """Fill the list: each file sent (path, tokens, why), then the ones dropped."""
        context_list.fill(self.query_one("#context-files", DataTable), self.query_one("#context-total", Static),
                          bundle, self.context_files, self.context_dropped)

    def action_toggle_file(self) -> None:
        path = context_list.highlighted(self.query_one("#context-files", DataTable))
        if path is None:
            return
        context_list.toggle(path, self.context_files, self.context_dropped)
        self.action_preview_context()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "context-add":
            path = event.value.strip()
            if path:
                context_list.add(path, self.context_files, self.context_dropped)
                event.input.value = ""
                self.action_preview_context()
            return
        spec = event.value.strip()
        if not spec or ":" not in spec:
            self._error("A model spec looks like PROVIDER:MODEL, e.g. openai:gpt-5.5")
            return
        if spec not in self.choices:
            self.choices.append(spec)
            options = [(_plain(c, self.records.get(c)), c) for c in self.choices]
            for select_id in ("#generator", "#planner"):
                select = self.query_one(select_id, Select)
                value = select.value
                select.set_options(options)
                if value is not Select.NULL:
                    select.value = value
            self.query_one("#reviewers", SelectionList).add_option(Selection(_plain(spec), spec, False))
            self.query_one("#task-warning", Static).update(self._notice())
        event.input.value = ""

    def _error(self, text: str) -> None:
        self.query_one("#task-error", Static).update(Text(visible(text)))  # may quote a path or a config

    def action_start(self) -> None:
        task = self.query_one("#task-text", TextArea).text.strip()
        generator = self.query_one("#generator", Select).value
        planner = self.query_one("#planner", Select).value
        reviewers = list(self.query_one("#reviewers", SelectionList).selected)
        if not task:
            self._error("Write the task first: say what the generator should do.")
            return
        if generator is Select.NULL:
            self._error("Pick a generator.")
            return
        reviewers = [r for r in reviewers if r != generator]
        if not reviewers:
            self._error("Pick at least one reviewer other than the generator.")
            return
        self._error("")
        self.post_message(
            self.Start(
                task=task,
                generator=str(generator),
                reviewers=reviewers,
                planner=None if planner is Select.NULL else str(planner),
                context_files=list(self.context_files),
                context_dropped=list(self.context_dropped),
            )
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_start()

    def show_error(self, text: str) -> None:
        self._error(text)
