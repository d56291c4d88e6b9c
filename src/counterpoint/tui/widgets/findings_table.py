"""FindingsTable: one row per cluster, in the order given (contested first, by the caller).

Columns: agreement (glyph + word; ✓ after it when a check confirmed the cluster), severity, category, location, title, one column per
reviewer with that reviewer's severity for the cluster ("—" when it did not raise it), the
generator's stance and the human's verdict. Every state has a glyph and a word; colours come
from theme variables and are re-applied when the theme changes.

Below `NARROW_WIDTH` columns (80×24 terminals) the category and reviewer columns are dropped
and the title column takes what is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widgets import DataTable

from counterpoint.core import glyphs
from counterpoint.core.findings import SEVERITY_RANK
from counterpoint.core.glyphs import short_model_name
from counterpoint.core.safe_text import visible
from counterpoint.tui.theme import theme_color

if TYPE_CHECKING:
    from textual.theme import Theme

    from counterpoint.core.findings import Cluster

__all__ = ["FindingsTable", "location_label"]

NARROW_WIDTH = 100
"""Below this width the category and reviewer columns are hidden."""

_MIN_TITLE = 12
_MIN_NARROW_TITLE = 20
_MIN_WIDE_TITLE = 24
_LOCATION_WIDTH = 28
"""Longer locations keep their tail (file name and lines): "…/payments/webhooks.py:42-58"."""
_NARROW_FITS = ((_LOCATION_WIDTH, False), (20, False), (16, True))
"""Narrow, until the title gets `_MIN_NARROW_TITLE` columns: (location width, stance as a glyph)."""
_REVIEWER_HEADER = 16


def _header(label: str) -> str:
    return label if len(label) <= _REVIEWER_HEADER else label[: _REVIEWER_HEADER - 1] + "…"


def location_label(path: str, start: int, end: int) -> str:
    """"app.py:3-4" for display (a model chose the path: controls shown as visible escapes)."""
    return visible(f"{path}:{start}" if start == end else f"{path}:{start}-{end}", newlines=False)


def reviewer_mark(cluster: Cluster, reviewer: str) -> str | None:
    """The worst severity `reviewer` gave among the cluster's findings, or None."""
    worst: str | None = None
    for finding in cluster.findings:
        if finding.reviewer == reviewer and (
            worst is None or SEVERITY_RANK[finding.severity] > SEVERITY_RANK[worst]
        ):
            worst = finding.severity
    return worst


class FindingsTable(DataTable[Any]):
    """The clusters of a round, one row each, keyed by cluster id."""

    DEFAULT_CSS = """
    FindingsTable {
        height: 1fr;
    }
    """

    class ClusterHighlighted(Message):
        """The cursor moved to another cluster (the detail pane follows it)."""

        def __init__(self, table: FindingsTable, cluster_id: str) -> None:
            super().__init__()
            self.table = table
            self.cluster_id = cluster_id

        @property
        def control(self) -> FindingsTable:
            return self.table

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            name=name, id=id, classes=classes, cursor_type="row", zebra_stripes=False
        )
        self._clusters: list[Cluster] = []
        self._by_id: dict[str, Cluster] = {}
        self._reviewers: list[str] = []
        self._narrow: bool | None = None
        self._built_width = -1
        self._last_highlighted: str | None = None
        self._rebuilding = False
        self._hidden: list[str] = []

    # ----------------------------------------------------------------------------- public API

    def set_clusters(self, clusters: Sequence[Cluster], reviewers: Sequence[str]) -> None:
        """Show `clusters` in the given order; the cursor stays on the same cluster id."""
        self._clusters = list(clusters)
        self._by_id = {c.id: c for c in self._clusters}
        self._reviewers = list(reviewers)
        self._rebuild()

    @property
    def clusters(self) -> list[Cluster]:
        return list(self._clusters)

    @property
    def current_cluster(self) -> Cluster | None:
        if not self._clusters or not self.is_valid_row_index(self.cursor_row):
            return None
        key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key  # type: ignore[arg-type]
        return self._by_id.get(key.value or "")

    def select_cluster(self, cluster_id: str) -> bool:
        """Move the cursor to a cluster (e.g. after a jump back from the diff view)."""
        try:
            index = self.get_row_index(cluster_id)
        except Exception:  # RowDoesNotExist
            return False
        self.move_cursor(row=index, animate=False)
        return True

    @property
    def narrow(self) -> bool:
        return bool(self._narrow)

    # ------------------------------------------------------------------------------ internals

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def _on_theme_changed(self, _theme: Theme) -> None:
        self._rebuild()

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < NARROW_WIDTH
        if narrow != self._narrow or event.size.width != self._built_width:
            self._rebuild()

    def _color(self, variable: str) -> Style:
        if not self.is_mounted:
            return Style()
        return Style(color=theme_color(self.app, variable).rich_color)

    def _mark(self, mark: glyphs.Mark, *, glyph_only: bool = False) -> Text:
        return Text(mark.glyph if glyph_only else mark.label, style=self._color(mark.variable))

    def _rebuild(self) -> None:
        current = self.current_cluster
        keep_id = current.id if current else None
        width = self.size.width
        narrow = bool(width) and width < NARROW_WIDTH
        columns, rows, title_width = self._layout(width, narrow)
        self._narrow = narrow
        self._built_width = width
        keys = [key for key, _ in columns]
        title_at = keys.index("title")

        self._rebuilding = True
        try:
            with self.app.batch_update() if self.is_mounted else nullcontext():
                self.clear(columns=True)
                for position, (key, label) in enumerate(columns):
                    # Explicit widths: DataTable's auto-width can lag rows added in a batch.
                    content = max((row[position].cell_len for row in rows), default=0)
                    fixed = title_width if key == "title" and title_width else max(len(label), content)
                    self.add_column(Text(label), key=key, width=fixed)  # a model name: no markup
                for cluster, cells in zip(self._clusters, rows):
                    if title_width is not None:
                        cells[title_at].truncate(title_width, overflow="ellipsis")
                    self.add_row(*cells, key=cluster.id)
                if keep_id is not None and keep_id in self._by_id:
                    self.move_cursor(row=self.get_row_index(keep_id), animate=False)
        finally:
            self._rebuilding = False
        self._post_highlight()

    def _check_width(self) -> None:
        """Rows set while the layout was still settling were built for another width."""
        if self.is_mounted and self.size.width != self._built_width:
            self._rebuild()

    def render_lines(self, crop: Region) -> list[Strip]:
        # Painted at a width the columns were not chosen for: choose again after this frame.
        if self.size.width and self.size.width != self._built_width and not self._rebuilding:
            self.call_after_refresh(self._check_width)
        return super().render_lines(crop)

    def _layout(self, width: int, narrow: bool) -> tuple[list[tuple[str, str]], list[list[Text]], int | None]:
        """Pick the richest column set that leaves the title a readable width.

        Wide: every column, else without category, else without reviewer columns too.
        Narrow (< NARROW_WIDTH): neither category nor reviewer columns, verdict as a glyph;
        then, until the title fits, shorter locations and the stance as a glyph, so the
        verdict column stays on screen (the detail pane spells out the current row).
        """
        reviewer_columns = [(f"reviewer:{r}", _header(short_model_name(r))) for r in self._reviewers]
        if narrow:
            candidates = [(False, False, location, glyph) for location, glyph in _NARROW_FITS]
        else:
            candidates = [(True, True, _LOCATION_WIDTH, False), (False, True, _LOCATION_WIDTH, False), (False, False, _LOCATION_WIDTH, False)]
        for with_category, with_reviewers, location_width, stance_glyph in candidates:
            columns: list[tuple[str, str]] = [("agreement", "agreement"), ("severity", "severity")]
            if with_category:
                columns.append(("category", "category"))
            columns += [("location", "location"), ("title", "title")]
            if with_reviewers:
                columns += reviewer_columns
            columns += [("stance", "gen"), ("verdict", "✓?" if narrow else "verdict")]
            keys = [key for key, _ in columns]
            rows = [
                self._cells(cluster, keys, narrow=narrow, location_width=location_width, stance_glyph=stance_glyph)
                for cluster in self._clusters
            ]
            title_width = self._title_width(columns, rows, width)
            if title_width is None or title_width >= (_MIN_NARROW_TITLE if narrow else _MIN_WIDE_TITLE):
                break
        self._hidden = [] if narrow else [k for k, on in (("category", with_category), ("reviewers", with_reviewers)) if not on]
        return columns, rows, None if title_width is None else max(_MIN_TITLE, title_width)

    @property
    def hidden_columns(self) -> list[str]:
        """Column groups dropped to fit the width: "category", "reviewers" (narrow: both)."""
        return ["category", "reviewers"] if self._narrow else list(self._hidden)

    def _title_width(self, columns: list[tuple[str, str]], rows: list[list[Text]], width: int) -> int | None:
        if not width:
            return None
        keys = [key for key, _ in columns]
        used = 0
        for position, (key, label) in enumerate(columns):
            if key == "title":
                continue
            content = max((row[position].cell_len for row in rows), default=0)
            used += max(content, cell_len(label)) + 2 * self.cell_padding
        available = width - used - 2 * self.cell_padding - 2  # 2: vertical scrollbar
        title_at = keys.index("title")
        longest = max((row[title_at].cell_len for row in rows), default=0)
        return min(available, max(longest, len("title")))

    def _cells(self, cluster: Cluster, keys: list[str], *, narrow: bool, location_width: int, stance_glyph: bool) -> list[Text]:
        cells: list[Text] = []
        agreement = glyphs.agreement(cluster.agreement)
        for key in keys:
            if key == "agreement":
                # "split" keeps the column narrow; the detail pane spells out "severity-split".
                word = "split" if cluster.agreement == "severity-split" else agreement.word
                cell = Text(f"{agreement.glyph} {word}", style=self._color(agreement.variable))
                if cluster.confirmed:  # a check failed here: the problem is proven
                    cell.append(f" {glyphs.CONFIRMED.glyph}", style=self._color(glyphs.CONFIRMED.variable))
            elif key == "severity":
                cell = self._mark(glyphs.severity(cluster.severity))
            elif key == "category":
                cell = Text(visible(cluster.category, newlines=False))
            elif key == "location":
                label = location_label(cluster.path, cluster.start_line, cluster.end_line)
                if len(label) > location_width:
                    label = "…" + label[-(location_width - 1) :]
                cell = Text(label)
                if any(f.location_problem for f in cluster.findings):
                    cell.append(f" {glyphs.LOCATION_PROBLEM.glyph}", style=self._color("warning"))
            elif key == "title":
                cell = Text(visible(cluster.title, newlines=False))
            elif key.startswith("reviewer:"):
                severity = reviewer_mark(cluster, key.removeprefix("reviewer:"))
                cell = (
                    self._mark(glyphs.severity(severity))
                    if severity
                    else Text(glyphs.NOT_RAISED, style="dim")
                )
            elif key == "stance":
                cell = self._mark(glyphs.stance(cluster.stance), glyph_only=stance_glyph)
            elif key == "verdict":
                cell = self._mark(glyphs.verdict(cluster.verdict), glyph_only=narrow)
            else:  # pragma: no cover - keys come from _rebuild
                cell = Text("")
            cells.append(cell)
        return cells

    def watch_cursor_coordinate(self, old: Any, new: Any) -> None:
        super().watch_cursor_coordinate(old, new)
        self._post_highlight()

    def _post_highlight(self) -> None:
        if self._rebuilding:
            return
        cluster = self.current_cluster
        if cluster is not None and cluster.id != self._last_highlighted:
            self._last_highlighted = cluster.id
            self.post_message(self.ClusterHighlighted(self, cluster.id))
