"""Exports of a session summary: a Markdown report, JSON, SARIF 2.1.0 for code-scanning UIs, and
a draft GitHub pull-request review.

All of them render the session summary dict (the headless `summary` event, extended with the
session's metadata); none of them reads files or imports the TUI.
"""

from __future__ import annotations

from typing import Any

FORMATS = ("markdown", "json", "sarif", "github-review")


def render(summary: dict[str, Any], fmt: str, *, sarif_profile: str = "github") -> str:
    """Render `summary` in `fmt` (one of `FORMATS`); `sarif_profile` is `github` or `ai`."""
    if fmt == "markdown":
        from counterpoint.export.markdown import render_markdown

        return render_markdown(summary)
    if fmt == "json":
        from counterpoint.export.json_export import render_json

        return render_json(summary)
    if fmt == "sarif":
        from counterpoint.export.sarif import render_sarif

        return render_sarif(summary, sarif_profile)
    if fmt == "github-review":
        from counterpoint.export.github_review import render_github_review

        return render_github_review(summary)
    raise ValueError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
