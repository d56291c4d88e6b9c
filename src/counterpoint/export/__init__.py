"""Exports of a session summary: a Markdown report, JSON, SARIF 2.1.0 for code-scanning UIs, and
a draft GitHub pull-request review.

All of them render the session summary dict (the headless `summary` event, extended with the
session's metadata); none of them reads files or imports the TUI.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from counterpoint.core.session import Session


@dataclass(frozen=True)
class ExportFormat:
    name: str
    extension: str
    description: str


EXPORT_FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("markdown", "md", "Markdown report (for a pull request or a notebook)"),
    ExportFormat("json", "json", "JSON (the headless summary, for scripts)"),
    ExportFormat("sarif", "sarif", "SARIF 2.1.0 (for code-scanning tools)"),
    ExportFormat("github-review", "review.json", "A draft GitHub pull-request review (nothing sent)"),
)
FORMATS = tuple(f.name for f in EXPORT_FORMATS)
"""The format names, for `render`, the CLI and the export dialog."""


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


def export_dir() -> Path:
    """Where the TUI writes exports: COUNTERPOINT_HOME/exports, never the user's repository."""
    from counterpoint.paths import home

    return home() / "exports"


def write_export(session: Session, fmt: str) -> Path:
    """Write the session's findings as `fmt` under `export_dir()`; return the path."""
    ext = {f.name: f.extension for f in EXPORT_FORMATS}[fmt]
    text = render(session.summary(), fmt)
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"counterpoint-{session.id}.{ext}"
    path.write_text(text, encoding="utf-8")
    return path
