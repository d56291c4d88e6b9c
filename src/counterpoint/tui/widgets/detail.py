"""DetailPane: everything about one cluster, for the human deciding on it.

Header (agreement, contested and confirmed markers, severity, category, location, verdict), each reviewer's
finding (severity, confidence, title, rationale, suggestion; a check's failure: the failing
test or diagnostic, its location and output), the generator's stance and
replies, the code around the flagged lines (±5) from the proposal's new file text with the
flagged lines marked, a location-problem warning when set, and the human's note.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from counterpoint.core import glyphs
from counterpoint.core.alignment import is_check
from counterpoint.core.glyphs import short_model_name
from counterpoint.core.safe_text import visible
from counterpoint.tui.theme import theme_color
from counterpoint.tui.widgets.findings_table import location_label

if TYPE_CHECKING:
    from textual.theme import Theme

    from counterpoint.core.findings import Cluster, Finding

__all__ = ["DetailPane", "CONTEXT_LINES"]

CONTEXT_LINES = 5
"""Lines of code shown before and after the flagged range."""


class DetailPane(VerticalScroll):
    """The detail of one cluster; `show(None, None)` shows a hint instead."""

    DEFAULT_CSS = """
    DetailPane {
        height: 1fr;
        padding: 0 1;
    }
    DetailPane > Static {
        width: 1fr;
        margin-bottom: 1;
    }
    DetailPane > #detail-header {
        margin-bottom: 1;
        text-style: bold;
    }
    DetailPane > .-hidden {
        display: none;
    }
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._cluster: Cluster | None = None
        self._file_text: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="detail-header")
        yield Static(id="detail-warning", classes="-hidden")
        yield Static(id="detail-findings")
        yield Static(id="detail-stance")
        yield Static(id="detail-code")
        yield Static(id="detail-note")

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)
        self._refresh_sections()

    def _on_theme_changed(self, _theme: Theme) -> None:
        self._refresh_sections()

    @property
    def cluster(self) -> Cluster | None:
        return self._cluster

    def show(self, cluster: Cluster | None, file_text: str | None) -> None:
        """Show a cluster; `file_text` is the proposal's new text of `cluster.path` (or None)."""
        self._cluster = cluster
        self._file_text = file_text
        if self.is_mounted:
            self._refresh_sections()
            self.scroll_home(animate=False)

    # ------------------------------------------------------------------------------ rendering

    def _color(self, variable: str) -> Style:
        return Style(color=theme_color(self.app, variable).rich_color)

    def _mark(self, mark: glyphs.Mark) -> Text:
        return Text(mark.label, style=self._color(mark.variable))

    def _section(self, widget_id: str, content: RenderableType | None) -> None:
        widget = self.query_one(f"#{widget_id}", Static)
        widget.set_class(content is None, "-hidden")
        widget.update(content if content is not None else "")

    def _refresh_sections(self) -> None:
        cluster = self._cluster
        if cluster is None:
            self._section("detail-header", Text("No finding selected.", style="dim"))
            for section in ("detail-warning", "detail-findings", "detail-stance", "detail-code", "detail-note"):
                self._section(section, None)
            return
        self._section("detail-header", self._header(cluster))
        self._section("detail-warning", self._warning(cluster))
        self._section("detail-findings", Group(*(self._finding(f) for f in cluster.findings)))
        self._section("detail-stance", self._stance(cluster))
        self._section("detail-code", self._code(cluster, self._file_text))
        self._section("detail-note", self._note(cluster))

    def _header(self, cluster: Cluster) -> Text:
        text = Text()
        text.append_text(self._mark(glyphs.agreement(cluster.agreement)))
        if cluster.contested:
            text.append("  ")
            text.append_text(self._mark(glyphs.CONTESTED))
        if cluster.confirmed:
            text.append("  ")
            text.append_text(self._mark(glyphs.CONFIRMED))
            text.append(" by a check", style=self._color(glyphs.CONFIRMED.variable))
        text.append("  ")
        text.append_text(self._mark(glyphs.severity(cluster.severity)))
        text.append(f"  {visible(cluster.category, newlines=False)}  ")
        text.append(location_label(cluster.path, cluster.start_line, cluster.end_line), style="underline")
        text.append("  verdict ")
        text.append_text(self._mark(glyphs.verdict(cluster.verdict)))
        text.append(f"\n{visible(cluster.title)}")
        return text

    def _warning(self, cluster: Cluster) -> Text | None:
        problems = sorted({f.location_problem for f in cluster.findings if f.location_problem})
        if not problems:
            return None
        style = self._color("warning")
        text = Text()
        for problem in problems:
            text.append(f"{glyphs.LOCATION_PROBLEM.glyph} location: {visible(problem)}\n", style=style)
        text.rstrip()
        return text

    def _finding(self, finding: Finding) -> Text:
        if is_check(finding.reviewer):
            return self._check_failure(finding)
        text = Text()
        text.append(short_model_name(finding.reviewer), style=self._color("reviewer") + Style(bold=True))
        text.append(f"  {finding.id}  ", style="dim")
        text.append_text(self._mark(glyphs.severity(finding.severity)))
        text.append(f"  confidence {finding.confidence:.2f}", style="dim")
        text.append(f"  {location_label(finding.path, finding.start_line, finding.end_line)}", style="dim")
        text.append(f"\n{visible(finding.title)}", style="bold")
        text.append(f"\n{visible(finding.rationale)}")
        if finding.suggestion:
            text.append("\nSuggestion: ", style="italic")
            text.append(visible(finding.suggestion))
        text.append("\n")
        return text

    def _check_failure(self, finding: Finding) -> Text:
        """A check's failure: the failing test or diagnostic, where, and its output."""
        mark = glyphs.check_status("failed")
        text = Text()
        text.append(f"{mark.glyph} {visible(finding.reviewer, newlines=False)} failed", style=self._color(mark.variable) + Style(bold=True))
        text.append(f"  {finding.id}", style="dim")
        text.append(f"  {location_label(finding.path, finding.start_line, finding.end_line)}", style="dim")
        text.append(f"\n{visible(finding.title)}", style="bold")
        text.append(f"\n{visible(finding.rationale)}")
        text.append("\n")
        return text

    def _stance(self, cluster: Cluster) -> Text:
        text = Text()
        text.append("Generator ", style=self._color("generator") + Style(bold=True))
        text.append_text(self._mark(glyphs.stance(cluster.stance)))
        for finding in cluster.findings:
            if finding.stance == "none" and not finding.reply:
                continue
            text.append(f"\n{finding.id} ", style="dim")
            text.append_text(self._mark(glyphs.stance(finding.stance)))
            if finding.reply:
                text.append(f"  {visible(finding.reply)}")
        if cluster.stance == "none" and all(f.stance == "none" for f in cluster.findings):
            text.append("\nThe generator has not answered.", style="dim")
        return text

    def _code(self, cluster: Cluster, file_text: str | None) -> RenderableType:
        if file_text is None:
            return Text(f"(no new text for {visible(cluster.path, newlines=False)} in the proposal)", style="dim")
        file_text = visible(file_text)  # a model wrote it; lines counted as they are drawn
        lines = file_text.splitlines()
        if not lines:
            return Text(f"({visible(cluster.path, newlines=False)} is empty in the proposal)", style="dim")
        start, end = sorted((cluster.start_line, cluster.end_line))
        start = max(1, min(start, len(lines)))
        end = max(start, min(end, len(lines)))
        first = max(1, start - CONTEXT_LINES)
        last = min(len(lines), end + CONTEXT_LINES)
        dark = self.app.current_theme.dark
        lexer = Syntax.guess_lexer(cluster.path, file_text)
        return Syntax(
            file_text,
            lexer,
            theme="monokai" if dark else "friendly",
            line_numbers=True,
            line_range=(first, last),
            highlight_lines=set(range(start, end + 1)),
            background_color="default",
            word_wrap=False,
        )

    def _note(self, cluster: Cluster) -> Text:
        text = Text("Note: ", style="bold")
        if cluster.note:
            text.append(visible(cluster.note), style=Style(bold=False))
        else:
            text.append("none", style="dim")
        return text
