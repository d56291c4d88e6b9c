"""A draft GitHub pull-request review: the accepted findings as line comments, the session's
summary as the body. Nothing is sent; the user posts it with

    gh api repos/OWNER/REPO/pulls/N/reviews --input review.json

The payload has no ``event``, so GitHub creates the review as PENDING (a draft only its author
sees until submitted), and no ``commit_id``, so it applies to the pull request's head. Line
numbers refer to the proposed version of each file, the right side of the pull request's diff.
An accepted finding that cannot be a line comment (a path outside the repository, lines the
session could not place) is listed in the body instead.

Model text is written so that it cannot act on GitHub: Markdown and HTML are escaped and
``@mentions`` are broken, so a finding never pings anyone or embeds an image.
"""

from __future__ import annotations

import json
import re
from typing import Any

from counterpoint.core.safe_text import visible
from counterpoint.export.sarif import repo_uri

_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~!])")


def _text(value: Any) -> str:
    """Model text as inert Markdown: specials escaped, control characters as visible escapes,
    ``@`` as an HTML entity (no mention), one paragraph (no forged headings)."""
    text = visible(str(value or "").strip())
    text = _SPECIAL.sub(r"\\\1", text).replace("@", "&#64;")
    return re.sub(r"\s*\n\s*", " ", text)


def _reviewers(cluster: dict[str, Any]) -> str:
    return ", ".join(sorted({f["reviewer"] for f in cluster["findings"]}))


def _comment_body(cluster: dict[str, Any]) -> str:
    lines = [
        f"**{_text(cluster['title'])}**",
        "",
        f"{cluster['severity']} · {cluster['category']} · {cluster['agreement']} "
        f"({_text(_reviewers(cluster))}) · round {cluster.get('round', 1)}"
        + (" · confirmed: a check failed here" if cluster.get("confirmed") else ""),
    ]
    for f in cluster["findings"]:
        lines += ["", f"> {_text(f['reviewer'])}: {_text(f.get('rationale'))}"]
        if f.get("suggestion"):
            lines += [f"> Suggestion: {_text(f['suggestion'])}"]
    if cluster.get("note"):
        lines += ["", f"Note: {_text(cluster['note'])}"]
    return "\n".join(lines)


def _placeable(cluster: dict[str, Any]) -> bool:
    if repo_uri(cluster["path"]) is None or cluster["start_line"] < 1:
        return False
    return not all(f.get("location_problem") for f in cluster["findings"])


def _comment(cluster: dict[str, Any]) -> dict[str, Any]:
    start, end = sorted((cluster["start_line"], cluster["end_line"]))
    comment: dict[str, Any] = {
        "path": repo_uri(cluster["path"]),
        "line": end,
        "side": "RIGHT",
        "body": _comment_body(cluster),
    }
    if start < end:
        comment |= {"start_line": start, "start_side": "RIGHT"}
    return comment


def _body(summary: dict[str, Any], accepted: list[dict], unplaced: list[dict]) -> str:
    clusters = summary.get("clusters", [])
    rejected = sum(1 for c in clusters if c.get("verdict") == "rejected")
    pending = sum(1 for c in clusters if c.get("verdict", "pending") == "pending")
    lines = [
        f"Counterpoint review of: {_text(summary.get('task')) or 'a session'}",
        "",
        f"Generator {_text(summary.get('generator'))}; reviewers "
        f"{_text(', '.join(summary.get('reviewers', [])))}; {summary.get('rounds', 0)} round(s).",
        f"{len(clusters)} problem(s) raised: {len(accepted)} accepted, {rejected} rejected, "
        f"{pending} left pending. Accepted ones are commented on their lines.",
    ]
    confirmed = sum(1 for c in clusters if c.get("confirmed"))
    if confirmed:
        lines.append(f"{confirmed} confirmed: one of the repository's checks failed where the "
                     "models flagged the problem.")
    if unplaced:
        lines += ["", "Accepted, not on a line of this pull request:"]
        lines += [
            f"- {_text(c['title'])} ({c['severity']}, {c['category']}; "
            f"reported at {_text(c['path'])}:{c['start_line']}-{c['end_line']}"
            + ("; confirmed by a check" if c.get("confirmed") else "") + ")"
            for c in unplaced
        ]
    lines += ["", f"Session {_text(summary.get('session_id'))}, Counterpoint "
                  f"{_text(summary.get('version'))}."]
    return "\n".join(lines)


def build_github_review(summary: dict[str, Any]) -> dict[str, Any]:
    """The payload of `POST /repos/{owner}/{repo}/pulls/{n}/reviews`, as a draft."""
    accepted = [c for c in summary.get("clusters", []) if c.get("verdict") == "accepted"]
    placed = [c for c in accepted if _placeable(c)]
    unplaced = [c for c in accepted if not _placeable(c)]
    return {"body": _body(summary, accepted, unplaced), "comments": [_comment(c) for c in placed]}


def render_github_review(summary: dict[str, Any]) -> str:
    return json.dumps(build_github_review(summary), indent=2, ensure_ascii=True) + "\n"
