"""The repository map: what the models are told exists, within its share of the budget."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from counterpoint.core.secrets import ContextRules, allowed_paths

MAP_SHARE = 8
"""The repository map gets at most 1/MAP_SHARE of the token budget."""
MIN_MAP_TOKENS = 256


@dataclass
class _Dir:
    dirs: dict[str, _Dir] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def count(self) -> int:
        return len(self.files) + sum(child.count() for child in self.dirs.values())


def _tree(paths: Sequence[str]) -> _Dir:
    root = _Dir()
    for path in paths:
        *dirs, name = path.split("/")
        node = root
        for part in dirs:
            node = node.dirs.setdefault(part, _Dir())
        node.files.append(name)
    return root


def _render(node: _Dir, depth: int, max_depth: int, max_files: int, out: list[str]) -> None:
    indent = "  " * depth
    for name in sorted(node.dirs):
        child = node.dirs[name]
        if depth >= max_depth:
            n = child.count()
            out.append(f"{indent}{name}/ ({n} file{'s' if n != 1 else ''})")
        else:
            out.append(f"{indent}{name}/")
            _render(child, depth + 1, max_depth, max_files, out)
    files = sorted(node.files)
    shown = files if len(files) <= max_files else files[:max_files]
    out.extend(f"{indent}{name}" for name in shown)
    if len(shown) < len(files):
        out.append(f"{indent}… {len(files) - len(shown)} more files")


_COLLAPSE_STEPS: tuple[tuple[int, int], ...] = (
    (1_000, 1_000_000),
    (1_000, 50),
    (1_000, 20),
    (8, 20),
    (6, 12),
    (4, 8),
    (3, 5),
    (2, 5),
    (1, 3),
    (0, 3),
)


def map_budget_tokens(rules: ContextRules) -> int:
    return max(MIN_MAP_TOKENS, rules.budget_tokens // MAP_SHARE)


def repo_map(paths: Sequence[str], rules: ContextRules) -> str:
    """A compact tree of the allowed paths, within 1/MAP_SHARE of the budget.

    When the full tree is too long, long directories are cut to their first files and deep
    directories collapse to "name/ (N files)", step by step until it fits.
    """
    allowed = allowed_paths(paths, rules)
    if not allowed:
        return "(no files)\n"
    limit = map_budget_tokens(rules) * 4
    root = _tree(allowed)
    header = f"{len(allowed)} file{'s' if len(allowed) != 1 else ''}:"
    text = ""
    for max_depth, max_files in _COLLAPSE_STEPS:
        lines = [header]
        _render(root, 0, max_depth, max_files, lines)
        text = "\n".join(lines) + "\n"
        if len(text) <= limit:
            return text
    marker = "… (map truncated)\n"
    cut = text[: max(0, limit - len(marker))]
    return cut[: cut.rfind("\n") + 1] + marker


MAP_SIGNATURES = 6
"""Definitions shown per file in the symbol map (the most relevant files first)."""
SIGNATURE_FILES = 30
"""Files of the map shown with their definitions; the rest are named only."""
SIGNATURE_CHARS = 100


def symbol_map(
    ranked: Sequence[str],
    definitions: Mapping[str, Sequence[str]],
    limit_tokens: int,
    total: int,
) -> tuple[str, tuple[str, ...]]:
    """The map for a task: files in order of relevance, the first with their signatures.

    `ranked` are the files to name (best first), `definitions` their signature lines (in
    file order), `total` how many files the repository has. Naming files comes first: the
    signatures get what the names leave (at least a third of the map). Returns (text,
    files named).
    """
    limit = limit_tokens * 4 - 40
    header = f"{total} file{'s' if total != 1 else ''}; the most relevant first"
    lines = [header + (", with their definitions:" if definitions else ":")]
    size = len(lines[0]) + 1
    names_cost = sum(len(p) + 1 for p in ranked)
    for_signatures = max(limit // 3, limit - size - names_cost)
    named: list[str] = []
    for number, path in enumerate(ranked):
        block = [path]
        if number < SIGNATURE_FILES:
            signatures = [s[:SIGNATURE_CHARS] for s in definitions.get(path, ())]
            extra = [f"  {s}" for s in signatures[:MAP_SIGNATURES]]
            if len(signatures) > MAP_SIGNATURES:
                extra.append(f"  … {len(signatures) - MAP_SIGNATURES} more")
            extra_cost = sum(len(line) + 1 for line in extra)
            if extra_cost <= for_signatures:
                block.extend(extra)
                for_signatures -= extra_cost
        cost = sum(len(line) + 1 for line in block)
        if size + cost > limit:
            break
        lines.extend(block)
        size += cost
        named.append(path)
    left = len(ranked) - len(named)
    if left:
        lines.append(f"… {left} more file{'s' if left != 1 else ''}")
    return "\n".join(lines) + "\n", tuple(named)
