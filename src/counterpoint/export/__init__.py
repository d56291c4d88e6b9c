"""Exports of a session summary: a Markdown report, JSON, and SARIF 2.1.0 for code-scanning UIs.

All three render the session summary dict (the headless `summary` event, extended with the
session's metadata); none of them reads files or imports the TUI.
"""

from __future__ import annotations

from typing import Any

FORMATS = ("markdown", "json", "sarif")


def render(summary: dict[str, Any], fmt: str) -> str:
    """Render `summary` in `fmt` (one of `FORMATS`)."""
    if fmt == "markdown":
        from counterpoint.export.markdown import render_markdown

        return render_markdown(summary)
    if fmt == "json":
        from counterpoint.export.json_export import render_json

        return render_json(summary)
    if fmt == "sarif":
        from counterpoint.export.sarif import render_sarif

        return render_sarif(summary)
    raise ValueError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
