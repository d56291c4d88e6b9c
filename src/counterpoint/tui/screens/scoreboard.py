"""The scoreboard screen: which model catches what in this user's code, judged by the user.

Two charts (horizontal bars: one label per row, so none is dropped at 80 columns) read faster
than the tables (acceptance per reviewer, with pending in the
denominator; calibration: how often the human accepted findings of each confidence band),
then the tables of `core/scoreboard.py` as they print in `counterpoint stats`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static
from textual_plotext import PlotextPlot

from counterpoint.core.safe_text import visible
from counterpoint.core.scoreboard import Filters, tables
from counterpoint.tui.key_bar import KeyBar


def _short(model: str) -> str:
    return model.split(":", 1)[-1][:18]


class ScoreboardScreen(Screen[None]):
    """Opened with `b` (or from the command palette); `escape` or `b` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,b", "app.pop_screen", "Close the scoreboard"),
    ]

    DEFAULT_CSS = """
    ScoreboardScreen #board-charts { height: 14; }
    ScoreboardScreen PlotextPlot { width: 1fr; height: 14; }
    ScoreboardScreen DataTable { height: auto; max-height: 12; margin-bottom: 1; }
    ScoreboardScreen .board-title { text-style: bold; margin-top: 1; }
    """

    def __init__(self, board: dict[str, Any] | None = None, *, filters: Filters | None = None,
                 title: str = "") -> None:
        super().__init__()
        if board is None:
            from counterpoint.workflow.scoreboard import scoreboard

            board = scoreboard(filters)
        self.board = board
        self.heading = title

    def compose(self) -> ComposeResult:
        heading = f" Scoreboard · {self.board['sessions']} sessions" + (
            f" · {self.heading}" if self.heading else "")
        yield Static(Text(visible(heading, newlines=False)), id="board-title")
        with VerticalScroll():
            with Horizontal(id="board-charts"):
                yield PlotextPlot(id="acceptance-chart")
                yield PlotextPlot(id="calibration-chart")
            for title, columns, rows in tables(self.board):
                yield Label(title, classes="board-title")
                table: DataTable[Text] = DataTable(zebra_stripes=True, cursor_type="row")
                table.add_columns(*columns)
                table.add_rows([[Text(visible(v, newlines=False)) for v in row] for row in rows])
                yield table
            yield Static("acceptance = accepted / raised (pending counts) · "
                         "precision = accepted / decided", classes="board-note")
        yield KeyBar()

    def on_mount(self) -> None:
        reviewers = [r for r in self.board["models"] if r["role"] == "reviewer" and r["raised"]]
        acceptance = self.query_one("#acceptance-chart", PlotextPlot).plt
        acceptance.title("Accepted of raised, % (pending counts)")
        if reviewers:
            acceptance.bar([_short(r["model"]) for r in reviewers],
                           [round((r["acceptance"] or 0) * 100) for r in reviewers],
                           orientation="horizontal", width=0.6)
        acceptance.xlim(0, 100)
        calibration = self.query_one("#calibration-chart", PlotextPlot).plt
        calibration.title("Accepted of decided, % by confidence")
        buckets = [b for b in self.board["calibration"] if b["accepted_share"] is not None]
        if buckets:
            calibration.bar([b["bucket"] for b in buckets],
                            [round(b["accepted_share"] * 100) for b in buckets],
                            orientation="horizontal", width=0.6)
        calibration.xlim(0, 100)
