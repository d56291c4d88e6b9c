"""Markdown export: a readable report of one session, sorted like the findings table in the UI.

Model text is hostile: control characters become visible escapes (`core.safe_text`), a
one-line field (a title, a path, a table cell) shows a newline as ``\\n`` so it cannot start
a line or a section of its own, and multi-line text (rationale, a multi-line suggestion,
reply or note) is quoted line by line.
"""

from __future__ import annotations

from typing import Any

from counterpoint.core.findings import cluster_order
from counterpoint.core.glyphs import AGREEMENT, CONFIRMED, WEAK_REVIEW
from counterpoint.core.safe_text import visible

VERDICT_MARKS = {"accepted": "✓ accepted", "rejected": "✗ rejected", "pending": "… pending"}


def _line(text: Any) -> str:
    """A value on one line of the report: controls and newlines as visible escapes."""
    return visible(str(text if text is not None else ""), newlines=False)


def _glyph(agreement: str) -> str:
    """The agreement's glyph ("" for a state the table does not know)."""
    mark = AGREEMENT.get(agreement)
    return mark.glyph if mark else ""


def _cell(text: Any) -> str:
    """A value safe inside a Markdown table cell."""
    return _line(str(text if text is not None else "").replace("|", "\\|").replace("\n", " ").strip())


def _location(c: dict[str, Any]) -> str:
    if c["start_line"] == c["end_line"]:
        return _line(f"{c['path']}:{c['start_line']}")
    return _line(f"{c['path']}:{c['start_line']}-{c['end_line']}")


def _sorted(clusters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        clusters,
        key=lambda c: cluster_order(c["contested"], c["severity"], c["path"], c["start_line"], c["id"]),
    )


def _quote(text: str) -> list[str]:
    return ["> " + line if line else ">" for line in visible(text).strip().split("\n")]


def _labelled(label: str, text: str) -> list[str]:
    """`label text` on one line, or the label and `text` quoted when it has several lines."""
    if "\n" not in text.strip():
        return [f"{label} {_line(text.strip())}".rstrip(), ""]
    return [label, ""] + _quote(text) + [""]


def _header(s: dict[str, Any]) -> list[str]:
    repo = s.get("repo", "")
    if s.get("branch"):
        repo = f"{repo}@{s['branch']}"
    task = visible(s.get("task") or "").strip()
    lines = [f"# Counterpoint review: {task.split(chr(10))[0] if task else 'session'}", ""]
    rows = [
        ("Task", s.get("task")),
        ("Repository", repo),
        ("Session", s.get("session_id")),
        ("Generator", s.get("generator")),
        ("Reviewers", ", ".join(s.get("reviewers", []))),
        ("Planner", s.get("planner")),
        ("Rounds", s.get("rounds")),
        ("State", s.get("state")),
        ("Counterpoint", s.get("version")),
    ]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {k} | {_cell(v)} |" for k, v in rows if v not in (None, "", [])]
    return lines + [""]


def _table(clusters: list[dict[str, Any]]) -> list[str]:
    contested = sum(1 for c in clusters if c["contested"])
    lines = [f"## Findings: {len(clusters)} clusters, {contested} contested", ""]
    if not clusters:
        return lines + ["No findings.", ""]
    lines += [
        "| # | Agreement | Severity | Category | Location | Title | Stance | Verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n, c in enumerate(clusters, 1):
        agreement = f"{_glyph(c['agreement'])} {c['agreement']}"
        if c["contested"]:
            agreement += " (contested)"
        if c.get("confirmed"):
            agreement += f" · {CONFIRMED.label}"
        lines.append(
            f"| {n} | {agreement} | {_cell(c['severity'])} | {_cell(c['category'])} | `{_cell(_location(c))}` "
            f"| {_cell(c['title'])} | {_cell(c.get('stance', 'none'))} "
            f"| {_cell(VERDICT_MARKS.get(c.get('verdict', 'pending'), c.get('verdict')))} |"
        )
    return lines + [""]


def _detail(n: int, c: dict[str, Any]) -> list[str]:
    lines = [
        f"### {n}. {_line(c['title'])}",
        "",
        f"{_glyph(c['agreement'])} **{c['agreement']}**"
        + (" · contested" if c["contested"] else "")
        + (f" · {CONFIRMED.glyph} **confirmed** by a check" if c.get("confirmed") else "")
        + _line(f" · {c['severity']} · {c['category']} · `{_location(c)}` · cluster `{c['id']}`")
        + _line(f" · generator: {c.get('stance', 'none')} · verdict: {c.get('verdict', 'pending')}"),
        "",
    ]
    for f in c["findings"]:
        loc = f"{f['path']}:{f['start_line']}-{f['end_line']}"
        lines.append(
            _line(
                f"**{f['reviewer']}** — {f['severity']} {f['category']}, `{loc}`, "
                f"confidence {f.get('confidence', 0):.2f} (`{f['id']}`): {f['title']}"
            )
        )
        lines.append("")
        if f.get("location_problem"):
            lines += [f"*Location problem: {_line(f['location_problem'])}*", ""]
        if f.get("rationale"):
            lines += _quote(f["rationale"]) + [""]
        if f.get("suggestion"):
            lines += _labelled("Suggestion:", f["suggestion"])
        if f.get("stance", "none") != "none" or f.get("reply"):
            lines += _labelled(f"Generator ({_line(f.get('stance', 'none'))}):", f.get("reply") or "")
    if c.get("note"):
        lines += _labelled("**Note:**", c["note"])
    return lines


def _usage(usage: dict[str, dict[str, Any]]) -> list[str]:
    if not usage:
        return []
    lines = [
        "## Usage",
        "",
        "| Model | Input tokens | Cached input | Output tokens | Cost (USD) |",
        "|---|---:|---:|---:|---:|",
    ]
    totals = [0, 0, 0, 0.0]
    for model in sorted(usage):
        u = usage[model]
        vals = [
            u.get("input_tokens", 0) or 0,
            u.get("cached_input_tokens", 0) or 0,
            u.get("output_tokens", 0) or 0,
            u.get("cost_usd", 0.0) or 0.0,
        ]
        totals = [t + v for t, v in zip(totals, vals)]
        lines.append(
            f"| {_cell(model)} | {vals[0]:,} | {vals[1]:,} | {vals[2]:,} | ${vals[3]:.4f} |"
        )
    if len(usage) > 1:
        lines.append(
            f"| **total** | {totals[0]:,} | {totals[1]:,} | {totals[2]:,} | ${totals[3]:.4f} |"
        )
    return lines + [""]


def _failed_edits(edits: list[dict[str, Any]]) -> list[str]:
    if not edits:
        return []
    lines = ["## Failed edits", "", "| Round | Edit | Path | Reason |", "|---:|---:|---|---|"]
    for e in edits:
        lines.append(
            f"| {e.get('round', '')} | {e.get('index', '')} | `{_cell(e.get('path'))}` "
            f"| {_cell(e.get('reason'))} |"
        )
    return lines + [""]


def _weak_reviews(weak: list[dict[str, Any]]) -> list[str]:
    """The reviews still too thin after their one firmer retry (`core/review_quality.py`)."""
    if not weak:
        return []
    lines = [f"## {WEAK_REVIEW.glyph} Weak reviews", "",
             "No findings and a thin summary, even when asked once more.", "",
             "| Round | Reviewer | Why |", "|---:|---|---|"]
    for w in weak:
        lines.append(f"| {w.get('round', '')} | {_cell(w.get('reviewer'))} | {_cell(w.get('reason'))} |")
    return lines + [""]


def _errors(errors: list[dict[str, Any]]) -> list[str]:
    if not errors:
        return []
    lines = ["## Errors", "", "| Round | Step | Model | Kind | Message |", "|---:|---|---|---|---|"]
    for e in errors:
        lines.append(
            f"| {e.get('round', '')} | {_cell(e.get('step'))} | {_cell(e.get('model'))} "
            f"| {_cell(e.get('kind'))} | {_cell(e.get('message'))} |"
        )
    return lines + [""]


def _applied(applied: dict[str, Any] | None) -> list[str]:
    lines = ["## Applied", ""]
    if not applied:
        return lines + ["Nothing was written to the working tree.", ""]
    lines += [f"- `{_line(path)}`" for path in applied.get("files", [])]
    lines += ["", f"Undo id: `{applied.get('undo_id')}` (run `counterpoint undo`)"]
    if applied.get("commit"):
        lines.append(f"Commit: `{applied['commit']}`")
    return lines + [""]


def render_markdown(summary: dict[str, Any]) -> str:
    clusters = _sorted(summary.get("clusters", []))
    lines = _header(summary) + _table(clusters)
    if clusters:
        lines += ["## Details", ""]
        for n, c in enumerate(clusters, 1):
            lines += _detail(n, c)
    lines += _weak_reviews(summary.get("weak_reviews", []))
    lines += _usage(summary.get("usage", {}))
    lines += _failed_edits(summary.get("failed_edits", []))
    lines += _errors(summary.get("errors", []))
    lines += _applied(summary.get("applied"))
    return "\n".join(lines).rstrip() + "\n"
