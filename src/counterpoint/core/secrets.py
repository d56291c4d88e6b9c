"""What may never be sent to a model: secret-looking names and contents, and the user's globs.

`rule_reason` is the one judge of a path (secret name, `context.exclude`, `context.include`);
the context, the index and the edits all ask it. A symlink is judged by its target as well as
its own name: the caller passes `target` (the repository-relative path the link resolves to).
Globs have gitignore semantics, through `pathspec`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import pathspec

from counterpoint.core.pathnames import to_posix

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
"""File names only (no directories): one regex, as this runs on every path of a repository."""


def is_secret_path(path: str) -> bool:
    """Whether a path's name suggests it holds credentials (never sent to a model)."""
    parts = [part for part in to_posix(path).lower().split("/") if part]
    if not parts:
        return False
    if any(part in _SECRET_DIRS for part in parts[:-1]):
        return True
    name = parts[-1]
    return name not in _HARMLESS_ENV and _SECRET_NAME_RE.match(name) is not None


_SECRET_CONTENT = tuple(
    re.compile(pattern)
    for pattern in (
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----",
        r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)(?<!\w.{4})[0-9A-Z]{16}\b",
        r"_(?i:secret_access_key)(?<=(?i:aws_secret_access_key))\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}",
        r"sk-(?<![A-Za-z0-9_-]...)(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
        r"gh[pousr]_(?<!\w.{4})[A-Za-z0-9]{36,}",
        r"github_pat_(?<!\w.{11})[A-Za-z0-9_]{22,}",
        r"xox[abposr]-(?<!\w.{5})[A-Za-z0-9-]{10,}",
        r"AIza(?<!\w.{4})[0-9A-Za-z_-]{35}",
        r"k_live_(?<=[sr]k_live_)(?<!\w.{8})[0-9A-Za-z]{20,}",
    )
)
"""Private keys and API tokens of well-known shapes. Each pattern starts with a literal and
checks what must come before it (a word boundary, a prefix) in a lookbehind, so the regex
engine scans the text for the literal, as fast as a substring test. One alternation of them
all, or a pattern starting with \\b or a class, makes it try every position of the text:
10 to 20 times slower, which a large repository's sources make a noticeable share of
choosing the context."""


def looks_secret(text: str) -> bool:
    """Whether text holds a private key or an API token of a well-known shape."""
    return any(pattern.search(text) is not None for pattern in _SECRET_CONTENT)


# --- include / exclude globs (gitignore semantics) -----------------------------------------


@lru_cache(maxsize=256)
def _spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines([p.strip() for p in patterns if p.strip()])


def _normal(path: str) -> str:
    return to_posix(path).strip("/")


def matches_glob(pattern: str, path: str) -> bool:
    """gitignore matching of a repository-relative path.

    A pattern without "/" matches a file name or a directory name at any depth ("*.lock",
    "node_modules"); with a "/" it is anchored at the repository root ("src/**/*.py",
    "/build"); a trailing "/" matches directories only ("vendor/"); "**" spans
    directories. A match on a directory covers everything under it.
    """
    return _spec((pattern,)).match_file(_normal(path))


_EVERYTHING = frozenset({("**/*",), ("**",), ("*",)})


def matches_any(patterns: Sequence[str], path: str) -> bool:
    """Whether the patterns, read as one gitignore file ("!" re-includes), match `path`."""
    key = tuple(patterns)
    if not key:
        return False
    if key in _EVERYTHING:  # the default include: every path of a repository
        return bool(path.strip("/"))
    return _spec(key).match_file(_normal(path))


@lru_cache(maxsize=65536)
def rule_reason(path: str, rules: ContextRules, target: str | None = None) -> str | None:
    """Why `path` may not be sent at all (secret name, excluded, not included), else None.

    `target`: where `path` leads when it is (or goes through) a symlink; the link is judged
    by both names, so a harmless-named link to `secrets.yaml` is a secret too.
    """
    for name in (path,) if target is None or target == path else (path, target):
        if is_secret_path(name):
            return REASON_SECRET_NAME
        if matches_any(rules.exclude, name):
            return REASON_EXCLUDED
        if not matches_any(rules.include, name):
            return REASON_NOT_INCLUDED
    return None


def allowed_paths(
    paths: Sequence[str], rules: ContextRules, targets: Mapping[str, str] | None = None
) -> list[str]:
    """Sorted, de-duplicated paths that may be shown to a model (links judged by target)."""
    targets = targets or {}
    return sorted({p for p in paths if rule_reason(p, rules, targets.get(p)) is None})
