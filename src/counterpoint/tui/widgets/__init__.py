"""Reusable TUI widgets: the diff view, the findings table and the finding detail pane."""

from counterpoint.tui.widgets.detail import DetailPane
from counterpoint.tui.widgets.diff_view import DiffFiles, DiffView
from counterpoint.tui.widgets.findings_table import FindingsTable

__all__ = ["DetailPane", "DiffFiles", "DiffView", "FindingsTable"]
