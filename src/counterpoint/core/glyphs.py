"""Glyphs and words for agreement, stance, verdict and severity, and models' display names.

Colour is never the only signal: every state has a distinct glyph *and* a word, so the UI
reads the same in a monochrome terminal, under a colour-blind palette or in a screenshot.
Each state also names the theme variable (see `counterpoint.tui.theme`) that colours it.
The one table for the TUI, the headless summary and the exports (hence in `core`).
"""

from __future__ import annotations

from typing import NamedTuple

from counterpoint.core.safe_text import visible


class Mark(NamedTuple):
    """How one state is shown: a one-cell glyph, a word, and the theme variable colouring it."""

    glyph: str
    word: str
    variable: str

    @property
    def label(self) -> str:
        """Glyph and word together, e.g. "● consensus"."""
        return f"{self.glyph} {self.word}"


AGREEMENT: dict[str, Mark] = {
    "consensus": Mark("●", "consensus", "agreement-consensus"),
    "solo": Mark("▲", "solo", "agreement-solo"),
    "severity-split": Mark("◆", "severity-split", "agreement-split"),
}

STANCE: dict[str, Mark] = {
    "agree": Mark("✓", "agree", "stance-agree"),
    "dispute": Mark("✗", "dispute", "stance-dispute"),
    "partial": Mark("±", "partial", "stance-partial"),
    "none": Mark("·", "none", "stance-none"),
}

VERDICT: dict[str, Mark] = {
    "accepted": Mark("✔", "accepted", "verdict-accepted"),
    "rejected": Mark("✘", "rejected", "verdict-rejected"),
    "pending": Mark("…", "pending", "verdict-pending"),
}

SEVERITY: dict[str, Mark] = {
    "critical": Mark("‼", "critical", "severity-critical"),
    "high": Mark("!", "high", "severity-high"),
    "medium": Mark("•", "medium", "severity-medium"),
    "low": Mark("-", "low", "severity-low"),
    "info": Mark("i", "info", "severity-info"),
}

CONTESTED = Mark("⚑", "contested", "agreement-solo")
"""Shown next to a cluster that is solo, severity-split or disputed by the generator."""

LOCATION_PROBLEM = Mark("⚠", "location", "warning")

WEAK_REVIEW = Mark("◌", "weak review", "warning")
"""A review still too thin after its one firmer retry (`core/review_quality.py`)."""

CONFIRMED = Mark("✓", "confirmed", "verdict-accepted")
"""Shown next to a cluster that one of the repository's checks joined: the problem is proven."""

CHECK_STATUS: dict[str, Mark] = {
    "passed": Mark("✓", "passed", "success"),
    "failed": Mark("✗", "failed", "error"),
    "error": Mark("⚠", "error", "warning"),
    "timeout": Mark("⌛", "timeout", "warning"),
    "running": Mark("▶", "running", "accent"),
}

NOT_RAISED = "—"
"""A reviewer column for a reviewer that did not raise the cluster's problem."""

_UNKNOWN = Mark("?", "unknown", "foreground")


def agreement(name: str) -> Mark:
    return AGREEMENT.get(name, _UNKNOWN._replace(word=name))


def stance(name: str) -> Mark:
    return STANCE.get(name, _UNKNOWN._replace(word=name))


def verdict(name: str) -> Mark:
    return VERDICT.get(name, _UNKNOWN._replace(word=name))


def severity(name: str) -> Mark:
    return SEVERITY.get(name, _UNKNOWN._replace(word=name))


def check_status(name: str) -> Mark:
    return CHECK_STATUS.get(name, _UNKNOWN._replace(word=name))


def short_model_name(spec: str) -> str:
    """"anthropic:claude-opus-5-5" -> "claude-opus-5-5" (a spec without a colon is kept),
    for display: control characters shown as visible escapes."""
    return visible(spec.split(":", 1)[1] if ":" in spec else spec, newlines=False)
