"""Choosing the files a task is about, most relevant first."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from counterpoint.core.repo_map import map_budget_tokens
from counterpoint.core.secrets import ContextRules, allowed_paths
from counterpoint.core.tokens import estimate_tokens

MAX_UNSIZED_FILES = 40
"""Without file sizes, `select_files` returns at most this many files."""

_GENERIC_STEMS = frozenset(
    {
        "main", "init", "__init__", "__main__", "index", "util", "utils", "test", "tests",
        "setup", "conftest", "readme", "app", "base", "core", "common", "lib", "mod", "types",
        "config", "data", "file", "files", "new", "the", "and", "for", "with", "from",
    }
)
_WORD = re.compile(r"[a-z0-9]+")

RANK_PATH, RANK_NAME, RANK_WORD, RANK_TOUCHED, RANK_TEST, RANK_NEIGHBOUR, RANK_OTHER = range(7)


def _norm(word: str) -> str:
    """A crude stem, so "limiting" meets rate_limit.py and "webhooks" meets webhook.py."""
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _bounded(needle: str, haystack: str) -> bool:
    """`needle` occurs in `haystack` not glued to other path/identifier characters."""
    start = haystack.find(needle)
    while start != -1:
        before = haystack[start - 1] if start else " "
        end = start + len(needle)
        after = haystack[end] if end < len(haystack) else " "
        if not (before.isalnum() or before in "_/.-") and not (
            after.isalnum() or after in "_/-"
        ):
            return True
        start = haystack.find(needle, start + 1)
    return False


def _module_names(path: str) -> list[str]:
    if not path.endswith(".py"):
        return []
    parts = path[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    names = [".".join(parts[i:]) for i in range(len(parts)) if len(parts) - i >= 2]
    return names


def _mention_rank(path: str, text: str, words: frozenset[str]) -> int | None:
    """How directly `text` (lower-cased) names `path`: by path, by file name, by a word."""
    low = path.lower()
    parts = low.split("/")
    for i in range(len(parts) - 1):
        if _bounded("/".join(parts[i:]), text):
            return RANK_PATH
    if any(_bounded(name, text) for name in _module_names(low)):
        return RANK_PATH
    name = parts[-1]
    if "." in name and _bounded(name, text):
        return RANK_NAME
    stem = name.split(".")[0]
    if len(stem) >= 3 and stem not in _GENERIC_STEMS:
        tokens = [_norm(t) for t in _WORD.findall(stem)]
        if tokens and all(t in words for t in tokens) and len("".join(tokens)) >= 3:
            return RANK_WORD
    return None


def _is_test_of(path: str, stems: set[str]) -> bool:
    name = path.rsplit("/", 1)[-1].lower().split(".")[0]
    for stem in stems:
        if name in (f"test_{stem}", f"{stem}_test", f"test{stem}", f"{stem}test"):
            return True
        if path.lower().rsplit("/", 1)[-1].startswith((f"{stem}.test.", f"{stem}.spec.")):
            return True
    return False


def rank_paths(text: str, paths: Sequence[str], touched: Sequence[str] = ()) -> dict[str, int]:
    """Rank each path by how relevant it looks to `text` (the task, plus the plan)."""
    low = text.lower()
    words = frozenset(_norm(w) for w in _WORD.findall(low))
    touched_set = set(touched)
    ranks: dict[str, int] = {}
    for path in paths:
        rank = _mention_rank(path, low, words)
        if rank is None and path in touched_set:
            rank = RANK_TOUCHED
        if rank is not None:
            ranks[path] = rank
    focus = sorted(ranks)
    stems = {p.rsplit("/", 1)[-1].lower().split(".")[0] for p in focus}
    stems -= {"__init__", "__main__"}
    dirs = {p.rsplit("/", 1)[0] if "/" in p else "" for p in focus}
    for path in paths:
        if path in ranks:
            continue
        if _is_test_of(path, stems):
            ranks[path] = RANK_TEST
        elif (path.rsplit("/", 1)[0] if "/" in path else "") in dirs:
            ranks[path] = RANK_NEIGHBOUR
        else:
            ranks[path] = RANK_OTHER
    return ranks


def _order(ranks: Mapping[str, int], sizes: Mapping[str, int] | None) -> list[str]:
    def key(path: str) -> tuple[int, int, str]:
        rank = ranks[path]
        size = (sizes or {}).get(path, 0) if rank >= RANK_TEST else 0
        return (rank, size, path)

    return sorted(ranks, key=key)


def _file_cost(path: str, size: int) -> int:
    return estimate_tokens(path) + (size + 3) // 4 + 8


def select_files(
    task: str,
    all_paths: Sequence[str],
    rules: ContextRules,
    *,
    touched: Sequence[str] = (),
    sizes: Mapping[str, int] | None = None,
    plan: str | None = None,
    targets: Mapping[str, str] | None = None,
) -> list[str]:
    """Which files to read and send, most relevant first.

    Files the task (or plan) names by path, file name or module name; then files the proposal
    touches; then their tests and small neighbours in the same directories. Never secrets or
    excluded files (a symlink judged by its target in `targets` too). With `sizes` (bytes per path) the choice keeps within the budget left
    after the map and the task, and a repository that fits whole is sent whole; without, it
    returns at most MAX_UNSIZED_FILES and `build_context` enforces the budget.
    """
    allowed = allowed_paths(all_paths, rules, targets)  # a touched path not there yet cannot be read
    text = task if plan is None else f"{task}\n{plan}"
    ranks = rank_paths(text, allowed, touched)
    ordered = _order(ranks, sizes)
    if sizes is None:
        focused = [p for p in ordered if ranks[p] < RANK_OTHER]
        return focused[:MAX_UNSIZED_FILES]
    left = rules.budget_tokens - map_budget_tokens(rules) - estimate_tokens(text) - 64
    whole = sum(_file_cost(p, sizes.get(p, 0)) for p in ordered)
    chosen: list[str] = []
    for path in ordered:
        if ranks[path] == RANK_OTHER and whole > left:
            break
        cost = _file_cost(path, sizes.get(path, 0))
        if cost <= left:
            chosen.append(path)
            left -= cost
    return chosen
