"""The checks' two questions: may the repository's checks run (once per repository), and may
a selection whose checks fail be written anyway (each time).

The commands come from the repository's own file (or were detected): shown as plain text,
control characters visible, never markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from counterpoint.core.safe_text import visible

if TYPE_CHECKING:
    from counterpoint.workflow.check_step import ChecksPlan

CONSENT_QUESTION = "Run the repository's checks on model-written code in a sandbox?"


def _check_lines(plan: ChecksPlan) -> Text:
    text = Text()
    origin = "detected in the repository (none configured)" if plan.detected else "defined by the repository's configuration"
    text.append(f"The checks, {origin}:\n", style="dim")
    for check in plan.defined:
        text.append(f"  {visible(check.name, newlines=False)}", style="bold")
        text.append(f"  {visible(check.command, newlines=False)}\n")
    return text


class ConsentScreen(ModalScreen[str | None]):
    """Dismisses with "allow" (remembered for the repository), "later" (not now) or "never"
    (remembered)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "answer('allow')", "Allow for this repository"),
        Binding("n,escape", "answer('later')", "Not now"),
        Binding("N", "answer('never')", "Never for this repository"),
    ]

    def __init__(self, plan: ChecksPlan, sandbox_problem: str | None) -> None:
        super().__init__()
        self.plan = plan
        self.sandbox_problem = sandbox_problem

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="consent"):
            yield Label(CONSENT_QUESTION, classes="dialog-title")
            yield Static(_check_lines(self.plan))
            about = Text(
                "They run on a scratch copy of your working tree with the proposal, with no network "
                "and no writes outside it; new failures become findings of reviewer check:NAME.\n"
            )
            if self.sandbox_problem:
                about.append("No sandbox: ", style="bold")
                about.append(visible(self.sandbox_problem))
                about.append("\nAllowed or not, they will not run in this session.", style="bold")
            yield Static(about, id="consent-sandbox")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Allow for this repository  a", id="allow", variant="primary")
                yield Button("Not now  n", id="later")
                yield Button("Never  N", id="never", variant="error")

    def on_mount(self) -> None:
        self.query_one("#later", Button).focus()

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id or "later")


class ApplyFailingScreen(ModalScreen[bool]):
    """The selection's checks fail (or could not run): write anyway? Dismisses with True only
    for an explicit "write anyway" (`W`); esc, n and the default button keep the tree as is."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("W", "answer(True)", "Write anyway"),
        Binding("n,escape", "answer(False)", "Do not write"),
    ]

    def __init__(self, why: Text) -> None:
        super().__init__()
        self.why = why

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="apply-failing"):
            yield Label("The selection's checks do not pass", classes="dialog-title")
            yield Static(self.why)
            yield Static(Text("Write it to your working tree anyway? (U undoes it)", style="bold"))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Write anyway  W", id="write", variant="error")
                yield Button("Do not write  esc", id="keep", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "write")
