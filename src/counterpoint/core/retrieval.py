"""Choosing the files a task is about, most relevant first.

Each file gets a score from what the task (and the plan, and on later rounds the accepted
findings) says: explicit mentions (a path, a file name, a module name), symbols it defines
that the task names (weighted by how rare the name is), lexical relevance (BM25 over
identifiers, docstrings and comments), proximity in the reference graph (personalised
PageRank from what the task mentions), and a prior for the kind of file (source before tests
before docs, unless the task is about tests or docs). The tests of the best files follow
them. Ties are broken by score only; a path order is the last resort, so that the same
inputs always give the same order.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from counterpoint.core.index import EMPTY, RepoIndex
from counterpoint.core.index.corpus import rarity
from counterpoint.core.index.parse import STOP_WORDS, terms_of
from counterpoint.core.repo_map import map_budget_tokens
from counterpoint.core.secrets import ContextRules, allowed_paths
from counterpoint.core.tokens import estimate_tokens, tokens_of_chars

_GENERIC_STEMS = frozenset(
    {
        "main", "init", "__init__", "__main__", "index", "util", "utils", "test", "tests",
        "setup", "conftest", "readme", "app", "base", "core", "common", "lib", "mod", "types",
        "config", "data", "file", "files", "new", "the", "and", "for", "with", "from",
    }
)
_WORD = re.compile(r"[a-z0-9]+")

RANK_PATH, RANK_NAME, RANK_WORD = range(3)


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
    name = parts[-1]
    stem = name.split(".")[0]
    if stem not in text:  # cheap: every mention below holds the file's stem
        return _word_rank(stem, words)
    for i in range(len(parts) - 1):
        if _bounded("/".join(parts[i:]), text):
            return RANK_PATH
    if any(_bounded(name, text) for name in _module_names(low)):
        return RANK_PATH
    if "." in name and _bounded(name, text):
        return RANK_NAME
    return _word_rank(stem, words)


def _word_rank(stem: str, words: frozenset[str]) -> int | None:
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




# --- file kinds ------------------------------------------------------------------------------

SOURCE, TEST, DOC, OTHER = "source", "test", "doc", "other"
_DOC_SUFFIXES = frozenset(["md", "rst", "txt", "adoc", "asciidoc", "org", "rdoc", "textile"])
_SOURCE_SUFFIXES = frozenset(
    ["py", "pyi", "js", "jsx", "mjs", "cjs", "ts", "tsx", "mts", "cts", "go", "rs", "java", "kt", "kts", "scala", "c", "h", "cc", "cpp", "cxx", "hpp", "hh", "cs", "rb", "php", "swift", "m", "mm", "lua", "pl", "pm", "r", "jl", "ex", "exs", "erl", "hs", "ml", "clj", "dart", "zig", "nim", "sh", "bash", "zsh", "ps1", "sql", "vue", "svelte", "html", "htm", "css", "scss", "sass", "less"]
)
_DOC_DIRS = frozenset(
    ["doc", "docs", "documentation", "docs_src", "example", "examples", "sample", "samples", "demo", "demos", "tutorial"]
)
"""Code under these is documentation: examples, tutorials, the snippets docs include."""
_PRIORS = {SOURCE: 1.0, TEST: 0.45, DOC: 0.25, OTHER: 0.35}
_TEST_WORDS = frozenset({"test", "tests", "testing", "pytest", "unittest", "spec", "fixture", "fixtures"})
_DOC_WORDS = frozenset({"doc", "docs", "documentation", "readme", "changelog", "typo",
                        "tutorial", "guide", "example", "examples"})


@lru_cache(maxsize=65536)
def file_kind(path: str) -> str:
    low = path.lower()
    parts = low.split("/")
    name = parts[-1]
    suffix = name.rsplit(".", 1)[-1] if "." in name else ""
    if (
        any(part in ("test", "tests", "testing", "__tests__", "spec", "specs") for part in parts[:-1])
        or name.startswith("test_")
        or name.split(".")[0].endswith(("_test", "_tests", "_spec"))
        or ".test." in name
        or ".spec." in name
        or name == "conftest.py"
    ):
        return TEST
    if suffix in _DOC_SUFFIXES or any(part in _DOC_DIRS for part in parts[:-1]):
        return DOC
    if suffix in _SOURCE_SUFFIXES:
        return SOURCE
    return OTHER


_BACKWATER_DIRS = frozenset(
    ["v1", "legacy", "deprecated", "vendor", "_vendor", "vendored", "third_party", "thirdparty", "external"]
)
BACKWATER = 0.5
"""Vendored and legacy code is edited less often than the rest."""


def _prior(path: str, priors: Mapping[str, float]) -> float:
    value = priors[file_kind(path)]
    if any(part in _BACKWATER_DIRS for part in path.lower().split("/")[:-1]):
        value *= BACKWATER
    return value


def _priors(words: frozenset[str]) -> dict[str, float]:
    priors = dict(_PRIORS)
    if words & _TEST_WORDS:
        priors[TEST] = 0.9
    if words & _DOC_WORDS:
        priors[DOC] = 1.2
    return priors


# --- ranking ---------------------------------------------------------------------------------

REASON_NAMED = "named in the task"
REASON_TOUCHED = "edited by the proposal"
REASON_SYMBOL = "defines {}"
REASON_LEXICAL = "matches the task's words"
REASON_GRAPH = "linked to the files above"
REASON_TEST = "tests {}"
REASON_FORCED = "added by you"
REASON_CENTRAL = "central in the code"
REASON_RECENT = "changed recently"

_SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_MENTION_SCORE = {RANK_PATH: 8.0, RANK_NAME: 6.0, RANK_WORD: 0.5}
W_SYMBOL, W_LEXICAL, W_GRAPH, W_TOUCHED = 4.0, 1.5, 0.75, 5.0
W_RECENT = 0.6
W_CENTRAL = 0.2
"""Every file gets a little for how central it is: a task that names nothing still gets the
core of the code, not nothing."""
TEST_SHARE = 0.6
"""A test of a chosen file scores this share of the file's score."""
TESTS_OF_TOP = 8
"""The tests of this many best files are pulled in."""


@dataclass(frozen=True)
class Ranked:
    path: str
    score: float
    reason: str


PLAIN_WORD = 0.08
"""A plain word ("schema", "from") that some file defines counts this share of a symbol."""
_QUOTED = re.compile(r"`([^`\n]+)`")


def _looks_like_code(word: str) -> bool:
    return "_" in word or "." in word or any(c.isupper() for c in word[1:]) or word[:1].isupper()


def _symbol_scores(text: str, index: RepoIndex, n: int) -> dict[str, tuple[float, str]]:
    """path -> (score, the rarest symbol it defines that the text names)."""
    found: dict[str, tuple[float, str]] = {}
    mentioned: set[str] = set()
    code_like: set[str] = set()
    quoted = {w for span in _QUOTED.findall(text) for w in _SYMBOL_WORD.findall(span)}
    for token in _SYMBOL.findall(text):
        for part in token.split("."):
            if len(part) >= 3 and (part.lower() not in STOP_WORDS or part in quoted):
                mentioned.add(part)
                if _looks_like_code(token) or part in quoted:
                    code_like.add(part)
    for name in sorted(mentioned):
        files = index.definers.get(name)
        if not files:
            continue
        weight = rarity(len(files), n) * (1.0 if name in code_like else PLAIN_WORD)
        for path in files:
            score, best = found.get(path, (0.0, ""))
            found[path] = (score + weight, best if best and score >= weight else name)
    return found


def rank(
    text: str,
    index: RepoIndex,
    paths: Sequence[str],
    *,
    touched: Sequence[str] = (),
    recent: Mapping[str, float] | None = None,
) -> list[Ranked]:
    """Every path in `paths`, scored for `text` and sorted best first.

    `recent`: path -> 0..1, how recently it changed (uncommitted changes 1): work tends to
    go on where it last was, which matters most when the task names nothing.
    """
    recent = recent or {}
    paths = sorted(set(paths))
    if not paths:
        return []
    n = len(paths)
    low = text.lower()
    words = frozenset(_norm(w) for w in _WORD.findall(low))
    priors = _priors(frozenset(_WORD.findall(low)))
    corpus = index.corpus()
    rows = {p: i for i, p in enumerate(corpus.paths)}
    mention = np.zeros(len(corpus.paths))
    named: dict[str, float] = {}
    reasons: dict[str, str] = {}
    for path in paths:
        found = _mention_rank(path, low, words)
        if found is not None:
            named[path] = _MENTION_SCORE[found]
            if path in rows:
                mention[rows[path]] = named[path]
            if found != RANK_WORD:
                reasons[path] = REASON_NAMED
    symbols = _symbol_scores(text, index, n)
    symbol = np.zeros(len(corpus.paths))
    for path, (score, _) in symbols.items():
        if path in rows:
            symbol[rows[path]] = min(score, 2.0)
    terms = list(terms_of(Counter(_SYMBOL_WORD.findall(text))))
    lexical = corpus.lexical(terms)
    if lexical.max() > 0:
        lexical = lexical / lexical.max()
    seeds = mention + W_SYMBOL * symbol + np.where(lexical >= 0.5, lexical, 0.0)
    graph = corpus.proximity(seeds)
    if graph.max() > 0:
        graph = graph / graph.max()
    touched_set = set(touched)
    central = corpus.centrality()
    if central.max() > 0:
        central = central / central.max()
    total = mention + W_SYMBOL * symbol + W_LEXICAL * lexical + W_GRAPH * graph + W_CENTRAL * (0.1 + central)
    scores: dict[str, float] = {}
    for path in paths:
        i = rows.get(path)
        value = float(total[i]) if i is not None else named.get(path, 0.0)
        value *= _prior(path, priors)
        if path in recent:
            value += W_RECENT * recent[path]
        if path in touched_set:
            value += W_TOUCHED
            reasons.setdefault(path, REASON_TOUCHED)
        scores[path] = value
        if path not in reasons and i is not None and value > 0:
            parts = {
                REASON_SYMBOL.format(symbols[path][1]) if path in symbols else "": W_SYMBOL * symbol[i],
                REASON_LEXICAL: W_LEXICAL * lexical[i] + mention[i],
                REASON_GRAPH: W_GRAPH * graph[i],
                REASON_CENTRAL: W_CENTRAL * (0.1 + central[i]),
                REASON_RECENT: W_RECENT * recent.get(path, 0.0),
            }
            reasons[path] = max(parts.items(), key=lambda item: (item[1], item[0]))[0] or REASON_LEXICAL
    _add_tests(scores, reasons)
    ordered = sorted(paths, key=lambda p: (-round(scores[p], 9), p))
    return [Ranked(p, round(scores[p], 6), reasons.get(p, "")) for p in ordered]


_SYMBOL_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


def _add_tests(scores: dict[str, float], reasons: dict[str, str]) -> None:
    """Lift the tests of the best source files to just under them."""
    kinds = {p: file_kind(p) for p in scores}
    best = sorted((p for p in scores if kinds[p] == SOURCE and scores[p] > 0),
                  key=lambda p: (-scores[p], p))[:TESTS_OF_TOP]
    tests: dict[str, list[str]] = {}  # the stem a test's name points at -> the tests
    for path in scores:
        if kinds[path] != TEST:
            continue
        name = path.rsplit("/", 1)[-1].lower()
        base = name.split(".")[0]
        for stem in {base.removeprefix("test_"), base.removeprefix("test"), base.removesuffix("_test"),
                     base.removesuffix("test"), base.removesuffix("_spec")}:
            if stem and stem != base:
                tests.setdefault(stem, []).append(path)
        if ".test." in name or ".spec." in name:
            tests.setdefault(base, []).append(path)
    for source in best:
        stem = source.rsplit("/", 1)[-1].lower().split(".")[0]
        if stem in ("__init__", "__main__", "index", "mod", "lib", "main"):
            continue
        for path in sorted(set(tests.get(stem, ()))):
            if scores[path] < TEST_SHARE * scores[source]:
                scores[path] = TEST_SHARE * scores[source]
                reasons[path] = REASON_TEST.format(source)


MAX_UNSIZED_FILES = 40
"""Without file sizes, `select_files` returns at most this many files."""


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
    """Which files to read and send, judged by their paths only, most relevant first.

    Never secrets or excluded files (a symlink judged by its target in `targets` too).
    With `sizes` (bytes per path) the choice keeps within the budget left after the map
    and the task, and a repository that fits whole is sent whole; without, it returns at
    most MAX_UNSIZED_FILES of the files that score at all. `context.assemble` does better,
    with an index of the contents.
    """
    allowed = allowed_paths(all_paths, rules, targets)  # a touched path not there yet cannot be read
    text = task if plan is None else f"{task}\n{plan}"
    index = RepoIndex({p: EMPTY for p in allowed}, dict(sizes or {}))
    ranked = rank(text, index, allowed, touched=[p for p in touched if p in set(allowed)])
    if sizes is None:
        return [r.path for r in ranked if r.reason not in ("", REASON_CENTRAL)][:MAX_UNSIZED_FILES]
    left = rules.budget_tokens - map_budget_tokens(rules) - estimate_tokens(text) - 64
    whole = sum(file_cost(r.path, sizes.get(r.path, 0)) for r in ranked) <= left
    chosen: list[str] = []
    for r in ranked:
        if r.reason in ("", REASON_CENTRAL) and not whole:
            break
        cost = file_cost(r.path, sizes.get(r.path, 0))
        if cost <= left:
            chosen.append(r.path)
            left -= cost
    return chosen


def file_cost(path: str, size: int) -> int:
    """Tokens a file of `size` characters takes sent whole (its section's frame included)."""
    return estimate_tokens(path) + tokens_of_chars(size) + 8
