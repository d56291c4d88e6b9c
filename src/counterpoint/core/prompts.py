"""What each role is told. Pure text: the orchestrator wraps it into provider requests.

Every request of a role starts with the same system prompt and the same context blocks
(repository map, files, task, plan), and the conversation only grows at its end, so a
provider's prompt cache can reuse the prefix from one round to the next.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from counterpoint.core.alignment import is_check
from counterpoint.core.changeset import ChangeSet
from counterpoint.core.check_results import trim
from counterpoint.core.events import FailedEditRecord
from counterpoint.core.findings import Cluster, Finding

PLANNER_SYSTEM = """\
You are the planner in a multi-model coding session. Read the task and the repository
context, then write a short numbered plan (at most 8 steps) that a separate generator model
will follow. Name the files to change and the tests to add. No code."""

GENERATOR_SYSTEM = """\
You are the generator in a multi-model coding session: you write the change, other models
review it, and a human decides which review findings to act on.

Answer in Markdown: first a short explanation of the change, then one edit block per change.
An edit block names the file on its own line, then a fenced code block holding one or more
SEARCH/REPLACE sections:

path/to/file.py
```python
<<<<<<< SEARCH
old lines, copied exactly from the current file
=======
new lines
>>>>>>> REPLACE
```

Rules:
- SEARCH must match exactly one place in the current file, every line, space, comment and
  blank line of it; include enough lines to be unique.
- An empty SEARCH creates a new file with the REPLACE text.
- Paths are relative to the repository root.
- Keep edits minimal and focused on the task; add or update tests.
- When you revise, every edit block you wrote before is applied except those the human's
  message says did not apply, so new SEARCH text quotes the files as they are now. Send new
  blocks and fixed versions of the failed ones only, never again a block that applied."""

REVIEWER_SYSTEM = """\
You are a reviewer in a multi-model coding session. Another model wrote the proposed change
below; review it with care for security, concurrency, correctness, error handling,
performance, simplicity, consistency, tests and docs. Report only real problems in the
proposed code, each with the file path and the line range in the PROPOSED (new) version of
the file (line numbers are shown), a severity, a category, a short title, your rationale, a
concrete suggestion and your confidence from 0 to 1.

Answer with one JSON object:
{"summary": str, "verdict": "approve" | "needs-changes",
 "findings": [{"path": str, "start_line": int, "end_line": int,
               "severity": "critical"|"high"|"medium"|"low"|"info",
               "category": "security"|"concurrency"|"correctness"|"error-handling"|
                           "performance"|"simplicity"|"consistency"|"testing"|"docs",
               "title": str, "rationale": str, "suggestion": str | null,
               "confidence": number}]}"""

RESPONDER_NOTE = """\
Reviewers raised the findings below about your proposal. For each one, say whether you
agree, dispute or partially agree, with a one or two sentence reply. Be honest: dispute
only what you can defend. Answer with one JSON object:
{"responses": [{"finding_id": str, "stance": "agree"|"dispute"|"partial", "reply": str}]}"""

RESPONDER_NOTE_AGAIN = "The findings on your revision: answer them as before."

_FENCE = "````"
"""Fence for quoting model blocks and file lines back (they may hold ``` themselves)."""

FENCED_JSON_NOTE = "Answer with a single ```json fenced block and nothing else."


def task_block(task: str, plan: str | None) -> str:
    text = f"# Task\n\n{task.strip()}\n"
    if plan:
        text += f"\n# Plan to follow\n\n{plan.strip()}\n"
    return text


def numbered(text: str) -> str:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    width = len(str(len(lines)))
    return "\n".join(f"{i:>{width}} | {line}" for i, line in enumerate(lines, start=1))


def generate_message(round_no: int) -> str:
    if round_no == 1:
        return "Write the change for the task above."
    return "Write the revised change."


def revise_message(
    clusters: Sequence[Cluster],
    failed_edits: Sequence[FailedEditRecord],
    blocks: int,
    asked: Collection[str] = (),
) -> str:
    """The human's decisions for the next round, and what became of the `blocks` edit blocks.

    The message extends the generator's conversation, so it does not repeat what the
    conversation holds: a cluster whose findings are all among `asked` (the ids of the
    findings the generator's respond prompt listed, with their place, rationale and
    suggestion) is named by those ids. The generator's own edit blocks are in the
    conversation too, so the current files are the repository files (context) with those
    blocks applied, and only the blocks that did not apply are shown, by their SEARCH text.
    The request stays a small extension of the previous one (prompt caching)."""
    parts = ["The human triaged the review. Revise your change accordingly."]
    accepted = [c for c in clusters if c.verdict == "accepted"]
    rejected = [c for c in clusters if c.verdict == "rejected"]
    noted = [c for c in clusters if c.note and c.verdict != "accepted"]
    if accepted:
        parts.append("\n## Accepted findings: fix these")
        parts.extend(_cluster_line(c, asked) for c in accepted)
    if noted:
        parts.append("\n## Notes from the human")
        parts.extend(_cluster_line(c, asked) for c in noted)
    if rejected:
        parts.append("\n## Rejected findings: do not act on these")
        parts.extend(f"- {_named(c, asked)}" for c in rejected)
    if not accepted and not noted:
        parts.append("\nNothing was accepted; re-check the change and fix anything broken.")
    parts.append("\n## Where your files stand")
    if failed_edits:
        parts.extend(_failed_edit_lines(failed_edits, blocks))
    else:
        parts.append("Every edit block you wrote so far is applied.")
    return "\n".join(parts)


def _failed_edit_lines(failed: Sequence[FailedEditRecord], blocks: int) -> list[str]:
    """Each failed block with its reason, its SEARCH text and the file's nearest lines (as
    aider does in editblock_coder: "did you mean", "REPLACE is already there", "don't re-send
    the rest"). Its REPLACE text is the generator's own, in its proposal above: not quoted."""
    parts: list[str] = []
    for f in failed:
        if f.index < 0:
            parts.append(f"\n### A malformed edit block\n{f.reason}")
            continue
        n = f.index + 1
        parts.append(f"\n### Edit block {n} did not apply to {f.path}\n{f.reason}")
        parts.append(
            f"Its SEARCH text (its REPLACE is as you wrote it in block {n}):\n"
            f"{_FENCE}\n{f.search}{_FENCE}"
        )
        if f.nearest:
            parts.append(
                f"Did you mean these lines (from line {f.nearest_line})?\n"
                f"{_FENCE}\n{f.nearest}{_FENCE}"
            )
        if "already there" in f.reason:
            parts.append(f"Its REPLACE lines are already in {f.path}: is this block still needed?")
    applied = max(0, blocks - sum(1 for f in failed if f.index >= 0))
    parts.append(f"\nThe other {applied} edit blocks applied." if applied else "\nNo other edit block applied.")
    return parts


CHECK_OUTPUT_LIMIT = 2000
"""Characters of one check failure's output that go back in the revise message (its end)."""


def _asked_about(c: Cluster, asked: Collection[str]) -> bool:
    """The generator's respond prompt in this conversation listed every finding of `c`, with
    its place, rationale and suggestion."""
    return all(f.id in asked for f in c.findings)


def _named(c: Cluster, asked: Collection[str]) -> str:
    """A cluster by its findings' ids when the generator was asked about them all (their
    titles are above, under those ids), else by its place and title."""
    if _asked_about(c, asked):
        return ", ".join(f.id for f in c.findings)
    return f"{c.path}:{c.start_line}-{c.end_line} {c.title}"


def _cluster_line(c: Cluster, asked: Collection[str]) -> str:
    """A cluster for the generator to act on: described whole unless it was asked about it;
    the human's note and a check's failure (with its output) always."""
    if _asked_about(c, asked):
        line = f"- {_named(c, asked)}"
    else:
        line = f"- [{c.severity} {c.category}] {_named(c, asked)}"
        suggestions = [f.suggestion for f in c.findings if f.suggestion]
        if suggestions:
            line += f"\n  suggestion: {suggestions[0]}"
    if c.note:
        line += f"\n  human's note: {c.note}"
    for f in c.findings:
        if is_check(f.reviewer):
            line += _check_failure(f, confirmed=c.confirmed)
    return line


def _check_failure(f: Finding, *, confirmed: bool) -> str:
    """A check's failure under its cluster: what failed, where, and its output (trimmed)."""
    where = f"{f.path}:{f.start_line}" if f.path else "no file named"
    head = f"\n  {f.reviewer} failed ({where}){', confirming it' if confirmed else ''}: {f.title}"
    output = trim(f.rationale, CHECK_OUTPUT_LIMIT)
    return head + (f"\n  {_FENCE}\n{output}\n  {_FENCE}" if output else "")


def review_message(
    round_no: int, explanation: str, diff: str, files: dict[str, str | None]
) -> str:
    parts = [f"# Proposed change, round {round_no}", "", "## The generator's explanation", ""]
    parts.append(explanation.strip() or "(none)")
    parts += ["", "## Unified diff", "", "```diff", diff.rstrip("\n"), "```", ""]
    parts.append("## Proposed files with line numbers")
    for path, text in sorted(files.items()):
        if text is None:
            parts.append(f"\n{path}: deleted")
        else:
            parts.append(f"\n{path}\n```\n{numbered(text)}\n```")
    return "\n".join(parts)


def revision_review_message(
    round_no: int, previous: int, explanation: str, since: ChangeSet
) -> str:
    """A later round, for a reviewer who saw the previous one: only what changed since."""
    parts = [
        f"# Revised change, round {round_no}",
        "",
        f"The generator revised its round {previous} proposal. Review the revision: what",
        "changed since, shown below with the line numbers of the new version (your findings",
        "must use those). Do not repeat findings that the revision fixed.",
        "",
        "## The generator's explanation",
        "",
        explanation.strip() or "(none)",
        "",
        f"## Changes since round {previous}",
        "",
        numbered_diff(since) or "(no change)",
    ]
    return "\n".join(parts)


def numbered_diff(changeset: ChangeSet) -> str:
    """The unified diff with each kept or added line prefixed by its new line number."""
    out: list[str] = []
    for change in changeset.files:
        out.append(f"### {change.path} ({change.status})")
        for hunk in change.hunks:
            out.append(hunk.header)
            new_line = hunk.new_start
            for line in hunk.lines:
                mark, text = line[:1], line[1:]
                if mark == "\\":
                    continue
                if mark == "-":
                    out.append(f"{'':>5} -{text}")
                else:
                    out.append(f"{new_line:>5} {mark if mark == '+' else ' '}{text}")
                    new_line += 1
        out.append("")
    return "\n".join(out).rstrip()


def firmer_review_message(reason: str, paths: Sequence[str]) -> str:
    """The one retry of a weak review (`core/review_quality.py`): why the answer above is
    not enough, the proposal's files by name, and what an acceptable answer holds."""
    parts = [
        f"Your review above cannot be used: {reason}. Review the change again, file by file.",
        "",
        "The proposal changes these files:",
        *(f"- {path}" for path in paths),
        "",
        "For every file listed, either report findings (with the file's path and the line range",
        "in the proposed version) or justify in the summary, naming the file, why it needs none:",
        "what you checked in it and why it is correct. An empty review, or a summary that names",
        "no file, is not accepted. Answer with the same JSON object as before.",
    ]
    return "\n".join(parts)


_NUMBERED_LINE = re.compile(r"^ *(\d+) [+ ](.*)$")


def numbered_lines(text: str, path: str) -> list[tuple[int, str]]:
    """The (new line number, text) pairs `numbered_diff` shows for `path` in `text`: the
    kept and added lines of its hunks, in order (none when `path` is not shown)."""
    out: list[tuple[int, str]] = []
    inside = False
    for line in text.split("\n"):
        if line.startswith("### "):
            inside = line.startswith(f"### {path} (")
        elif inside and (m := _NUMBERED_LINE.match(line)):
            out.append((int(m.group(1)), m.group(2)))
    return out


def respond_message(findings: Sequence[Finding], *, first: bool = True) -> str:
    """The findings for the generator to answer; after its `first` answer in a conversation
    the instructions are above it, so the prompt only says to answer as before."""
    parts = [RESPONDER_NOTE if first else RESPONDER_NOTE_AGAIN, ""]
    for f in findings:
        parts.append(
            f"- id {f.id} ({f.reviewer}): [{f.severity} {f.category}] "
            f"{f.path}:{f.start_line}-{f.end_line} {f.title}\n  {f.rationale}"
        )
        if f.suggestion:
            parts.append(f"  suggestion: {f.suggestion}")
    return "\n".join(parts)


_ASKED = re.compile(r"^- id (\S+) \((.*)$")


def asked_findings(text: str) -> list[tuple[str, str]]:
    """The (finding id, its line) pairs a `respond_message` asks about, in order."""
    return [(m.group(1), m.group(2)) for line in text.split("\n") if (m := _ASKED.match(line))]


_QUOTED_LINES = 8
"""Changed lines quoted per dropped hunk in the revise message."""


def selection_message(
    changeset: ChangeSet, lines: Mapping[str, Collection[int]], comments: Mapping[str, str]
) -> str:
    """What the human did not take on the apply screen, for the revise message: the hunks
    dropped (quoted, so the generator does not propose them again blindly), the lines
    dropped from hunks kept in part, and the human's comments on hunks. Empty when the
    human took everything and commented nothing."""
    dropped: list[str] = []
    partly: list[str] = []
    commented: list[str] = []
    for hunk in changeset.hunks:
        chosen = set(lines.get(hunk.id, ()))
        changed = [k for k, line in enumerate(hunk.lines) if line[:1] in ("-", "+")]
        comment = comments.get(hunk.id)
        note = f"\n  human's comment: {comment}" if comment else ""
        place = f"{hunk.path} {hunk.header}"
        if changed and not chosen & set(changed):
            dropped.append(f"- {place}{note}\n" + _quote([hunk.lines[k] for k in changed]))
        elif changed and not chosen >= set(changed):
            left = [hunk.lines[k] for k in changed if k not in chosen]
            partly.append(
                f"- {place}: kept {len(changed) - len(left)} of {len(changed)} changed lines; "
                f"dropped:{note}\n" + _quote(left)
            )
        elif comment:
            commented.append(f"- {place}{note}")
    parts: list[str] = []
    if dropped:
        parts.append("\n## Hunks the human dropped: do not propose them again unchanged")
        parts.extend(dropped)
    if partly:
        parts.append("\n## Hunks the human kept only in part")
        parts.extend(partly)
    if commented:
        parts.append("\n## The human's comments on hunks they kept")
        parts.extend(commented)
    return "\n" + "\n".join(parts) if parts else ""


def _quote(lines: Sequence[str]) -> str:
    shown = list(lines[:_QUOTED_LINES])
    if len(lines) > _QUOTED_LINES:
        shown.append(f"... {len(lines) - _QUOTED_LINES} more changed lines")
    return "  ```diff\n" + "".join(f"  {line}\n" for line in shown) + "  ```"
