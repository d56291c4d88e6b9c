"""A big file sent in part: its definitions that matter to the task, with their lines.

Lines are copied exactly (an edit's SEARCH text must match them); the gaps are marked with
"⋮ (lines A-B)" so a model knows there is more and where.
"""

from __future__ import annotations

from collections.abc import Collection

from counterpoint.core.index import FileEntry
from counterpoint.core.index.parse import HEAD_LINES, head_chars, split_identifier
from counterpoint.core.tokens import estimate_tokens

MAX_DEF_LINES = 160
"""A longer definition is cut to its first lines."""
BIG_SCOPE = 60
"""A class longer than this is represented by its methods, not taken whole."""


def _def_score(lower: list[str], start: int, end: int, name: str, terms: Collection[str],
               symbols: Collection[str]) -> float:
    """How much a definition matters to the task; `lower` is the file's lines in lower case."""
    body = "\n".join(lower[start - 1 : end])
    hits = sum(1 for term in terms if term in body)
    own = {part for part in split_identifier(name.rsplit(".", 1)[-1])}
    named = 3.0 if name.rsplit(".", 1)[-1] in symbols else 0.0
    return named + hits + 2.0 * len(own & set(terms))


def excerpt(
    content: str,
    entry: FileEntry,
    terms: Collection[str],
    symbols: Collection[str],
    limit_tokens: int,
) -> tuple[str, int] | None:
    """(the excerpt's text, lines shown) within `limit_tokens`, or None when nothing fits."""
    lines = content.splitlines()
    if not lines:
        return None
    shown: set[int] = set(range(1, min(HEAD_LINES, len(lines)) + 1))
    budget = limit_tokens * 4  # characters

    def cost(numbers: set[int]) -> int:
        return sum(len(lines[i - 1]) + 1 for i in numbers) + 24 * len(numbers) // 10

    if head_chars(lines) > budget:  # before scoring: near the end of the budget most files stop here
        return None
    lower = [line.lower() for line in lines]
    candidates = []
    for d in entry.definitions:
        if d.kind in ("class", "interface", "impl", "module", "trait") and d.end - d.start > BIG_SCOPE:
            continue
        score = _def_score(lower, d.start, d.end, d.name, terms, symbols)
        if score > 0:
            candidates.append((-score, d.start, d.end, d.name))
    candidates.sort()
    scopes = [d for d in entry.definitions if d.end - d.start > BIG_SCOPE]
    for _, start, end, _ in candidates:
        wanted = set(range(max(1, start - 1), min(end, start + MAX_DEF_LINES - 1, len(lines)) + 1))
        for scope in scopes:  # the enclosing class's first line, for orientation
            if scope.start < start <= scope.end:
                wanted.add(scope.start)
        if cost(shown | wanted) > budget:
            continue
        shown |= wanted
    if len(shown) <= min(HEAD_LINES, len(lines)) and candidates:
        return None
    out: list[str] = []
    previous = 0
    for number in sorted(shown):
        if number > previous + 1:
            out.append(f"⋮ (lines {previous + 1}-{number - 1})")
        out.append(lines[number - 1])
        previous = number
    if previous < len(lines):
        out.append(f"⋮ (lines {previous + 1}-{len(lines)})")
    text = "\n".join(out) + "\n"
    if estimate_tokens(text) > limit_tokens:
        return None
    return text, len(shown)
