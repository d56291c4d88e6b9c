"""What is sent to models about the repository: a map, some files, the task.

Pure: it takes path lists and file contents (the caller reads git), and returns text. The
caller passes only paths git tracks or that are untracked but not ignored; this module still
drops secret-looking files and the user's `context.exclude` globs, and keeps within the
token budget.

The output is deterministic (same inputs, byte-identical blocks): the blocks are the cached
prompt prefix of every request of a session, so any wobble would cost a cache miss.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

MAP_SHARE = 8
"""The repository map gets at most 1/MAP_SHARE of the token budget."""
MIN_MAP_TOKENS = 256
MAX_UNSIZED_FILES = 40
"""Without file sizes, `select_files` returns at most this many files."""

REASON_SECRET_NAME = "secret-looking name"
REASON_SECRET_CONTENT = "secret-looking content"
REASON_EXCLUDED = "excluded by context.exclude"
REASON_NOT_INCLUDED = "not matched by context.include"
REASON_BUDGET = "over the token budget"
REASON_BINARY = "binary"


@dataclass(frozen=True)
class ContextRules:
    include: tuple[str, ...] = ("**/*",)
    exclude: tuple[str, ...] = ()
    budget_tokens: int = 60000
    """Per request: map + files + task + plan."""


@dataclass(frozen=True)
class ContextBundle:
    blocks: tuple[str, ...]
    """In order: repository map, file contents (when any), task. The caller appends the plan."""
    included: tuple[str, ...]
    omitted: dict[str, str] = field(default_factory=dict)
    """path -> why it was not sent."""
    tokens: int = 0
    """Estimated tokens of all blocks."""


# --- secrets -------------------------------------------------------------------------------

_SECRET_NAMES = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.ppk",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.p12",
    "*.pfx",
    "*.keystore",
    "*.jks",
    "*.kdbx",
    ".npmrc",
    ".pypirc",
    ".netrc",
    "_netrc",
    ".pgpass",
    ".htpasswd",
    ".git-credentials",
    ".dockercfg",
    ".boto",
    ".s3cfg",
    "credentials*",
    "*secret*",
    "*.tfstate",
    "*.tfstate.*",
    "*.tfvars",
    "service-account*.json",
)
_SECRET_DIRS = (".aws", ".ssh", ".gnupg", ".kube", ".docker")
_HARMLESS_ENV = (".env.example", ".env.sample", ".env.template")
"""Templates committed on purpose; their content is still scanned by `looks_secret`."""


_SECRET_NAME_RE = re.compile("|".join(fnmatch.translate(p) for p in _SECRET_NAMES))


def is_secret_path(path: str) -> bool:
    """Whether a path's name suggests it holds credentials (never sent to a model)."""
    parts = [part for part in path.replace("\\", "/").lower().split("/") if part]
    if not parts:
        return False
    if any(part in _SECRET_DIRS for part in parts[:-1]):
        return True
    name = parts[-1]
    if name in _HARMLESS_ENV:
        return False
    return _SECRET_NAME_RE.match(name) is not None


_SECRET_CONTENT = re.compile(
    "|".join(
        (
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----",
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b",
            r"(?i:aws_secret_access_key)\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}",
            r"(?<![A-Za-z0-9_-])sk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
            r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}",
            r"\bgithub_pat_[A-Za-z0-9_]{22,}",
            r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
            r"\bAIza[0-9A-Za-z_-]{35}",
            r"\b[sr]k_live_[0-9A-Za-z]{20,}",
        )
    )
)


def looks_secret(text: str) -> bool:
    """Whether text holds a private key or an API token of a well-known shape."""
    return _SECRET_CONTENT.search(text) is not None


def estimate_tokens(text: str) -> int:
    """About four characters a token: cheap, and close enough for budgeting."""
    return (len(text) + 3) // 4


# --- include / exclude globs ---------------------------------------------------------------


def _glob_body(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def _glob_source(pattern: str) -> str | None:
    """A regex over the whole path for one gitignore-like pattern (None: empty pattern)."""
    pattern = pattern.strip()
    dir_only = pattern.endswith("/")
    core = pattern.strip("/") if dir_only else pattern
    if not core:
        return None
    anchored = "/" in core or pattern.startswith("/")
    body = _glob_body(core.lstrip("/"))
    lead = "" if anchored else "(?:.*/)?"
    tail = "/.*" if dir_only else "(?:/.*)?"
    return f"{lead}{body}{tail}"


@lru_cache(maxsize=256)
def _globs(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    sources = [src for src in map(_glob_source, patterns) if src is not None]
    return re.compile("|".join(f"(?:{src})" for src in sources)) if sources else None


def _normal(path: str) -> str:
    return path.replace("\\", "/").strip("/")


def matches_glob(pattern: str, path: str) -> bool:
    """gitignore-like matching of a repository-relative path.

    A pattern without "/" matches a file name or a directory name at any depth ("*.lock",
    "node_modules"); with a "/" it is anchored at the repository root ("src/**/*.py",
    "/build"); a trailing "/" matches directories only ("vendor/"); "**" spans
    directories. A match on a directory covers everything under it.
    """
    compiled = _globs((pattern,))
    return compiled is not None and compiled.fullmatch(_normal(path)) is not None


def _matches_any(patterns: tuple[str, ...], path: str) -> bool:
    compiled = _globs(tuple(patterns))
    return compiled is not None and compiled.fullmatch(_normal(path)) is not None


def rule_reason(path: str, rules: ContextRules) -> str | None:
    """Why `path` may not be sent at all (secret name, excluded, not included), else None."""
    if is_secret_path(path):
        return REASON_SECRET_NAME
    if _matches_any(rules.exclude, path):
        return REASON_EXCLUDED
    if not _matches_any(rules.include, path):
        return REASON_NOT_INCLUDED
    return None


def allowed_paths(paths: Sequence[str], rules: ContextRules) -> list[str]:
    """Sorted, de-duplicated paths that may be shown to a model."""
    return sorted({p for p in paths if rule_reason(p, rules) is None})


# --- repository map ------------------------------------------------------------------------


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


# --- choosing files ------------------------------------------------------------------------

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
) -> list[str]:
    """Which files to read and send, most relevant first.

    Files the task (or plan) names by path, file name or module name; then files the proposal
    touches; then their tests and small neighbours in the same directories. Never secrets or
    excluded files. With `sizes` (bytes per path) the choice keeps within the budget left
    after the map and the task, and a repository that fits whole is sent whole; without, it
    returns at most MAX_UNSIZED_FILES and `build_context` enforces the budget.
    """
    allowed = allowed_paths(all_paths, rules)  # a touched path not there yet cannot be read
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


# --- the bundle ----------------------------------------------------------------------------


def build_context(
    task: str,
    files: Mapping[str, str],
    all_paths: Sequence[str],
    rules: ContextRules,
    *,
    plan: str | None = None,
    touched: Sequence[str] = (),
) -> ContextBundle:
    """The stable context blocks for a session: map, file contents, task.

    `files` holds the contents the caller read (usually of `select_files`). Each is checked
    again (secret name or content, excludes, binary) and sent in order of relevance while the
    budget lasts. The plan is not a block (the caller appends it) but its tokens are reserved
    and the files it names count as mentioned. `omitted` names every file that was given or
    named but not sent, with the reason.
    """
    map_block = "## Repository map\n\n" + repo_map(list(all_paths), rules)
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
        reason = rule_reason(path, rules)
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
        reason = rule_reason(path, rules)
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
