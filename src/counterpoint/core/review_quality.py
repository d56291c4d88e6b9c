"""The reviewer quality gate: is a review too thin to act on?

A review is **weak** when it raised no finding and its summary cannot stand in for findings:

- **empty**: no finding and no summary at all;
- **names no file**: no finding, and the summary names none of the files the reviewer was
  shown (a file counts as named by its path or its base name, e.g. ``webhooks.py``);
- **too short**: no finding, and the summary has fewer words than the change warrants:
  ``changed_lines // LINES_PER_WORD`` words, at most `MOST_WORDS_WANTED`, asked for only
  from `LONG_CHANGE` changed lines up. So a 49-line change approved with "app.py looks
  right." passes, a 120-line one needs 12 words, a 400-line one 30.

A review with at least one finding is never weak here (its findings speak for it), and
nothing is weak about a change with no changed line (there was nothing to review). The
orchestrator asks a weak reviewer once more with a firmer instruction
(`prompts.firmer_review_message`) and marks the review weak if the answer is still weak.
Pure: the review's text and the changeset in, a judgement out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from posixpath import basename

from counterpoint.core.changeset import ChangeSet

LONG_CHANGE = 50
"""From this many changed (added + removed) lines up, a summary must also be long enough."""
LINES_PER_WORD = 10
"""One summary word wanted per this many changed lines (for a review with no finding)."""
MOST_WORDS_WANTED = 30
"""The most summary words ever asked for, however large the change."""


@dataclass(frozen=True)
class ReviewQuality:
    """The gate's judgement on one review: `weak`, and why (None when it is not)."""

    reason: str | None = None

    @property
    def weak(self) -> bool:
        return self.reason is not None


OK = ReviewQuality()


def changed_line_count(changeset: ChangeSet) -> int:
    return sum(f.added + f.removed for f in changeset.files)


def words_wanted(changed_lines: int) -> int:
    """Summary words a review with no finding needs for a change of `changed_lines` lines."""
    if changed_lines < LONG_CHANGE:
        return 0
    return min(MOST_WORDS_WANTED, changed_lines // LINES_PER_WORD)


def names_a_file(summary: str, paths: list[str]) -> bool:
    """Whether `summary` names one of `paths` by its path or its base name (not as a part
    of a longer name: ``app.py`` is not named by ``myapp.py``)."""
    lowered = summary.lower()
    for path in paths:
        for name in {path.lower(), basename(path).lower()}:
            if name and re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", lowered):
                return True
    return False


def judge_review(summary: str, findings: int, changeset: ChangeSet) -> ReviewQuality:
    """Whether a review with this `summary` and this many (usable) `findings` of the change
    `changeset` (the one the reviewer was shown) is weak, and why."""
    if findings:
        return OK
    changed = changed_line_count(changeset)
    if not changed:
        return OK
    text = summary.strip()
    if not text:
        return ReviewQuality("empty: no findings and no summary")
    paths = [f.path for f in changeset.files]
    if not names_a_file(text, paths):
        return ReviewQuality("no findings, and the summary names no file of the proposal")
    words, wanted = len(text.split()), words_wanted(changed)
    if words < wanted:
        return ReviewQuality(
            f"no findings, and a {words}-word summary for {changed} changed lines "
            f"(at least {wanted} words wanted)"
        )
    return OK
