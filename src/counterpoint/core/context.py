"""What is sent to models about the repository: a map, some files, the task.

Pure: it takes path lists and file contents (the caller reads git), and returns text. The
caller passes only paths git tracks or that are untracked but not ignored; the never-sent
rules (`core/secrets.py`) still drop secret-looking files and the user's `context.exclude`
globs, and the bundle keeps within the token budget. The map is `core/repo_map.py`, the
choice of files `core/retrieval.py`; this module assembles the blocks and re-exports the
names the rest of Counterpoint imports from here.

The output is deterministic (same inputs, byte-identical blocks): the blocks are the cached
prompt prefix of every request of a session, so any wobble would cost a cache miss.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from counterpoint.core.repo_map import MAP_SHARE, MIN_MAP_TOKENS, map_budget_tokens, repo_map
from counterpoint.core.retrieval import (
    MAX_UNSIZED_FILES,
    _mention_rank,
    _order,
    rank_paths,
    select_files,
)
from counterpoint.core.secrets import (
    REASON_BINARY,
    REASON_BUDGET,
    REASON_EXCLUDED,
    REASON_NOT_INCLUDED,
    REASON_SECRET_CONTENT,
    REASON_SECRET_NAME,
    ContextRules,
    allowed_paths,
    is_secret_path,
    looks_secret,
    matches_glob,
    rule_reason,
)
from counterpoint.core.tokens import estimate_tokens

__all__ = [
    "MAP_SHARE",
    "MAX_UNSIZED_FILES",
    "MIN_MAP_TOKENS",
    "REASON_BINARY",
    "REASON_BUDGET",
    "REASON_EXCLUDED",
    "REASON_NOT_INCLUDED",
    "REASON_SECRET_CONTENT",
    "REASON_SECRET_NAME",
    "ContextBundle",
    "ContextRules",
    "allowed_paths",
    "build_context",
    "estimate_tokens",
    "is_secret_path",
    "looks_secret",
    "map_budget_tokens",
    "matches_glob",
    "rank_paths",
    "repo_map",
    "rule_reason",
    "select_files",
]


@dataclass(frozen=True)
class ContextBundle:
    blocks: tuple[str, ...]
    """In order: repository map, file contents (when any), task. The caller appends the plan."""
    included: tuple[str, ...]
    omitted: dict[str, str] = field(default_factory=dict)
    """path -> why it was not sent."""
    tokens: int = 0
    """Estimated tokens of all blocks."""


def _file_section(path: str, content: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * max(3, longest + 1)
    body = content if content.endswith("\n") or not content else content + "\n"
    return f"### {path}\n{fence}{_language(path)}\n{body}{fence}\n"


_LANGUAGES = {
    "py": "python", "js": "javascript", "ts": "typescript", "tsx": "tsx", "jsx": "jsx",
    "rs": "rust", "go": "go", "rb": "ruby", "java": "java", "kt": "kotlin", "c": "c",
    "h": "c", "cpp": "cpp", "hpp": "cpp", "cs": "csharp", "sh": "bash", "md": "markdown",
    "toml": "toml", "yaml": "yaml", "yml": "yaml", "json": "json", "html": "html",
    "css": "css", "sql": "sql", "swift": "swift", "php": "php",
}


def _language(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if "." not in name:
        return ""
    return _LANGUAGES.get(name.rsplit(".", 1)[-1].lower(), "")


def build_context(
    task: str,
    files: Mapping[str, str],
    all_paths: Sequence[str],
    rules: ContextRules,
    *,
    plan: str | None = None,
    touched: Sequence[str] = (),
    targets: Mapping[str, str] | None = None,
) -> ContextBundle:
    """The stable context blocks for a session: map, file contents, task.

    `files` holds the contents the caller read (usually of `select_files`). Each is checked
    again (secret name or content, excludes, binary) and sent in order of relevance while the
    budget lasts. The plan is not a block (the caller appends it) but its tokens are reserved
    and the files it names count as mentioned. `omitted` names every file that was given or
    named but not sent, with the reason. `targets` maps symlinks to where they lead: a link
    is judged by its target's name too.
    """
    targets = targets or {}
    map_block = "## Repository map\n\n" + repo_map(allowed_paths(all_paths, rules, targets), rules)
    task_block = "## Task\n\n" + task.strip() + "\n"
    left = (
        rules.budget_tokens
        - estimate_tokens(map_block)
        - estimate_tokens(task_block)
        - estimate_tokens(plan or "")
    )
    text = task if plan is None else f"{task}\n{plan}"
    candidates = sorted(set(files) | set(touched))
    ranks = rank_paths(text, candidates, touched)
    omitted: dict[str, str] = {}
    sections: dict[str, str] = {}
    for path in _order(ranks, {p: len(c) for p, c in files.items()}):
        reason = rule_reason(path, rules, targets.get(path))
        if path not in files:
            if reason is not None:
                omitted[path] = reason
            continue
        content = files[path]
        if reason is None and "\x00" in content:
            reason = REASON_BINARY
        if reason is None and looks_secret(content):
            reason = REASON_SECRET_CONTENT
        if reason is None:
            section = _file_section(path, content)
            cost = estimate_tokens(section) + 1
            if cost > left:
                reason = REASON_BUDGET
            else:
                sections[path] = section
                left -= cost
        if reason is not None:
            omitted[path] = reason
    # Named in the task but not sendable (e.g. ".env"): say so, so the UI can show it.
    low = text.lower()
    for path in sorted(set(all_paths) - set(candidates)):
        if path.rsplit("/", 1)[-1].lower() not in low:  # cheap pre-filter for big repos
            continue
        reason = rule_reason(path, rules, targets.get(path))
        if reason is not None and _mention_rank(path, low, frozenset()) is not None:
            omitted[path] = reason
    blocks = [map_block]
    included = tuple(sorted(sections))
    if included:
        blocks.append("## Files\n\n" + "\n".join(sections[p] for p in included))
    blocks.append(task_block)
    return ContextBundle(
        blocks=tuple(blocks),
        included=included,
        omitted=dict(sorted(omitted.items())),
        tokens=sum(estimate_tokens(b) for b in blocks),
    )
