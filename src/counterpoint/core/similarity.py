"""Similarity of two findings: are they the same problem? Scores 0..1 from four signals, all
dependency-free (`core/alignment.py` clusters with them):

- **path** — required: findings in different files are never the same problem (paths are
  normalised, so ``./app/x.py`` and ``app/x.py`` match);
- **text** — the dominant signal: token overlap of title, rationale and suggestion after
  lower-casing, light stemming, stopword removal and mapping a small set of code-review
  synonyms to one concept ("constant-time" / "timing" / ``compare_digest``). Identifiers such
  as ``check_same_thread`` are split into their words, and also kept whole on the side: when
  both findings name code identifiers and share none (``shiping_address`` vs
  ``billing_adress``), their shared words come from different sites and the text score is
  discounted by `IDENTIFIER_MISMATCH`. Inside `align`, words most findings of a file share
  (its topic) are discounted by IDF;
- **lines** — overlapping ranges score 1, the score falls off over `LINE_WINDOW` lines of gap,
  and trusted ranges `LINE_WINDOW` or more apart are never the same problem (the same wording
  at two distant sites is two problems). A finding with a `location_problem` (or no usable
  lines) gets the neutral `UNTRUSTED_LINE_SCORE`: it is judged by path and text;
- **category** — reviewers file one problem under different categories (a race is
  "concurrency" to one, "correctness" to the other), so related categories score
  `RELATED_CATEGORIES` (0.25-0.75), not 0.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

from counterpoint.core.findings import Finding
from counterpoint.core.pathnames import normalise_path

SAME_PROBLEM_THRESHOLD = 0.44
"""`same_problem` score at or above which findings of different reviewers share a cluster
(context-free scoring: a file with fewer than three findings)."""

IN_CONTEXT_THRESHOLD = 0.36
"""The same, when the file has three or more findings and `align` discounts the file's topic
words (see `file_weights`): shared topic words no longer lift every pair, so scores run lower."""

LINE_WINDOW = 8
"""Gap (in lines) over which the line score falls from 1 to 0."""

BODY_OVERLAP_MIX = 0.5
"""Body text similarity = this share of overlap coefficient + the rest Dice."""

UNTRUSTED_LINE_SCORE = 0.5
"""Line score when either finding's lines are not trusted (`location_problem` set, or no line
at all): neutral, so such a pair is judged on its text. Measured on tests/data (grown pairs,
kind "untrusted"): 0.75 merged two different problems of one file; 0.5 kept all six right."""

IDENTIFIER_MISMATCH = 0.5
"""Text score factor when both findings name code identifiers and share none."""

# --------------------------------------------------------------------------------------------
# text features

_STOPWORDS = frozenset(
    ["a", "an", "the", "and", "or", "but", "if", "then", "else", "of", "to", "in", "on", "at", "by", "for", "with", "without", "from", "into", "onto", "over", "under", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those", "there", "here", "which", "who", "whom", "whose", "what", "when", "where", "why", "how", "not", "no", "nor", "so", "than", "too", "very", "can", "could", "should", "would", "will", "shall", "may", "might", "must", "do", "does", "did", "done", "has", "have", "had", "having", "i", "we", "you", "they", "he", "she", "them", "our", "your", "their", "us", "me", "my", "also", "just", "only", "any", "all", "each", "every", "some", "such", "same", "other", "more", "most", "less", "least", "both", "either", "neither", "one", "two", "via", "per", "e", "g", "eg", "ie", "i.e", "e.g", "use", "used", "using", "uses", "instead", "still", "even", "because", "while", "whereas", "though", "although", "already", "make", "makes", "made", "get", "gets", "got", "set", "sets", "let", "lets", "need", "needs", "needed", "way", "ways", "thing", "things", "line", "lines", "code", "function", "method", "call", "calls", "called", "file", "here", "like", "currently", "now", "new"]
)

# Small map of code-review synonyms to one concept. Deliberately short and generic: it
# covers how reviewers commonly name the same weakness, not any particular codebase.
_CONCEPTS: dict[str, tuple[str, ...]] = {
    "timing": ("timing", "constant-time", "compare_digest", "timingsafe", "short-circuit"),
    "race": ("race", "racy", "concurrent", "concurrently", "simultaneous", "interleav",
             "toctou", "atomic", "nonatomic", "thread-saf", "threadsaf", "lock"),
    "replay": ("replay", "replayed", "redeliver", "redelivery", "resend"),
    "duplicat": ("duplicat", "twice", "double", "dedup", "idempot"),
    "inject": ("inject", "interpolat", "concatenat", "f-string", "fstring", "placeholder",
               "parameteris", "parameteriz", "parametris"),
    "expir": ("expir", "expiry", "exp", "ttl", "lifetime"),
    "unbound": ("unbound", "unbounded", "unlimited", "grow", "growth", "evict", "cleanup",
                "uncapped", "cap"),
    "spoof": ("spoof", "spoofabl", "forg", "forged", "tamper", "bypass"),
    "backoff": ("backoff", "jitter", "delay", "sleep"),
    "timeout": ("timeout", "hang", "stall", "stalled"),
    "swallow": ("swallow", "silent", "silently"),
    "except": ("except", "exception", "raise", "rais", "keyerror", "valueerror", "crash"),
    "commit": ("commit", "rollback", "transaction"),
    "validat": ("validat", "valid", "check", "verif", "enforc", "sanitis", "sanitiz"),
    "unauth": ("unauthent", "authent", "anonym", "unauthenticated"),
    "log": ("log", "logger", "logging", "logged"),
    "block": ("block", "blocking", "synchronous", "event-loop", "eventloop"),
    "unique": ("unique", "primary", "constraint"),
}

_SUFFIXES = (
    "ational", "ations", "ation", "ements", "ement", "ments", "ment", "ingly", "ings", "ing",
    "ities", "ity", "ness", "ously", "ous", "ively", "ive", "ized", "ised", "izes", "ises",
    "ize", "ise", "ated", "ates", "ate", "edly", "ed", "ers", "er", "ies", "es", "ly", "able",
    "ible", "al", "s",
)

_WORD = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")
_SPLIT = re.compile(r"[-_.]")
_QUOTED = re.compile(r"`([A-Za-z_][A-Za-z0-9_]{1,59})`")


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    """Light suffix stripping ("validated", "validation" → "valid"); keeps stems ≥ 3 chars."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    if word.endswith("e") and len(word) > 4:  # "decode"/"decoded", "cache"/"cached"
        word = word[:-1]
    return word


def _build_concepts() -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    exact: dict[str, str] = {}
    prefixes: list[tuple[str, str]] = []
    for concept, words in _CONCEPTS.items():
        for w in words:
            exact[w] = concept
            exact[_stem(w)] = concept
            if len(w) >= 5 and "-" not in w and "_" not in w:
                prefixes.append((w, concept))
    return exact, tuple(sorted(prefixes, key=lambda p: -len(p[0])))


_CONCEPT_EXACT, _CONCEPT_PREFIXES = _build_concepts()


@lru_cache(maxsize=16384)
def _canonical(word: str) -> str:
    if word in _CONCEPT_EXACT:
        return _CONCEPT_EXACT[word]
    stem = _stem(word)
    if stem in _CONCEPT_EXACT:
        return _CONCEPT_EXACT[stem]
    for prefix, concept in _CONCEPT_PREFIXES:
        if word.startswith(prefix):
            return concept
    return stem


@lru_cache(maxsize=65536)
def _word_tokens(match: str) -> tuple[str, ...]:
    """The tokens of one lower-cased word or compound identifier."""
    parts = [match]
    if _SPLIT.search(match):
        whole = match.strip("-_.")
        if whole in _CONCEPT_EXACT:
            return (_CONCEPT_EXACT[whole],)
        parts = [p for p in _SPLIT.split(match) if p]
    return tuple(
        _canonical(part)
        for part in parts
        if part not in _STOPWORDS and len(part) >= 2 and not part.isdigit()
    )


def _analyse(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(`tokens`, `identifiers`) of `text`, from one pass of the word pattern."""
    words = _WORD.findall(text.lower())
    found = frozenset(chain.from_iterable(map(_word_tokens, words)))
    names = {w.strip("-_.") for w in words if "_" in w}
    if "`" in text:
        names.update(q.lower() for q in _QUOTED.findall(text) if not q.isdigit())
    return found, frozenset(names)


def tokens(text: str) -> frozenset[str]:
    """Normalised content tokens of `text`: words stemmed and mapped to concepts, stopwords
    dropped; compound identifiers (``compare_digest``, ``x-forwarded-for``) are mapped to a
    concept when they name one, else split into their parts."""
    return _analyse(text)[0]


def identifiers(text: str) -> frozenset[str]:
    """Code identifiers `text` names, lower-cased: snake_case words (``user_id``) and single
    names in backticks (`` `isAdmin` ``)."""
    return _analyse(text)[1]


Weights = dict[str, float] | None
"""Token weights (inverse document frequency within one file's findings); None = uniform."""


def _mass(tokens_: frozenset[str], weights: Weights) -> float:
    if weights is None:
        return float(len(tokens_))
    return sum(map(weights.__getitem__, tokens_))


def _dice(a: frozenset[str], b: frozenset[str], weights: Weights = None) -> float:
    if not a or not b:
        return 0.0
    return 2 * _mass(a & b, weights) / (_mass(a, weights) + _mass(b, weights))


def _overlap(a: frozenset[str], b: frozenset[str], weights: Weights = None) -> float:
    """Overlap coefficient: fair to a terse reviewer next to a verbose one."""
    if not a or not b:
        return 0.0
    return _mass(a & b, weights) / min(_mass(a, weights), _mass(b, weights))


def file_weights(token_sets: Sequence[frozenset[str]]) -> Weights:
    """IDF weights over the findings of one file: words every finding of that file uses
    (the file's topic: "token", "refund", "webhook") count less than the words that tell
    its problems apart. With fewer than three findings there is nothing to learn: None."""
    n = len(token_sets)
    if n < 3:
        return None
    df: Counter[str] = Counter()
    for ts in token_sets:
        df.update(ts)
    return {t: math.log((n + 1) / c) for t, c in df.items()}


# --------------------------------------------------------------------------------------------
# pair scoring

_RELATED = {
    0.75: (("security", "correctness"), ("concurrency", "correctness"),
           ("error-handling", "correctness"), ("consistency", "correctness"),
           ("simplicity", "consistency"), ("docs", "consistency"),
           ("security", "error-handling"), ("concurrency", "performance"),
           ("concurrency", "error-handling")),
    0.5: (("performance", "correctness"), ("security", "concurrency"),
          ("performance", "error-handling"), ("simplicity", "correctness"),
          ("testing", "correctness")),
    0.25: (("security", "performance"), ("simplicity", "performance"),
           ("docs", "correctness"), ("testing", "error-handling"), ("docs", "testing")),
}
RELATED_CATEGORIES: dict[frozenset[str], float] = {
    frozenset(pair): score for score, pairs in _RELATED.items() for pair in pairs
}
"""How related two categories are, as reviewers file one problem under either."""


class Features(NamedTuple):
    """What scoring needs of one finding, computed once."""

    path: str
    start: int
    end: int
    trusted_lines: bool
    category: str
    title: frozenset[str]
    body: frozenset[str]
    idents: frozenset[str]


def features(f: Finding) -> Features:
    start, end = sorted((f.start_line, f.end_line))
    title, title_names = _analyse(f.title)
    rest, rest_names = _analyse(f"{f.rationale} {f.suggestion or ''}")
    return Features(
        normalise_path(f.path),
        start,
        end,
        f.location_problem is None and start >= 1,
        f.category,
        title,
        title | rest,
        title_names | rest_names,
    )


def line_score(a: Features, b: Features, window: int) -> float:
    if not (a.trusted_lines and b.trusted_lines):
        return UNTRUSTED_LINE_SCORE
    gap = max(a.start, b.start) - min(a.end, b.end)
    if gap <= 0:
        return 1.0
    return max(0.0, 1.0 - gap / window)


def category_score(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return RELATED_CATEGORIES.get(frozenset((a, b)), 0.0)


def text_score(a: Features, b: Features, weights: Weights = None) -> float:
    title = _dice(a.title, b.title, weights)
    body = BODY_OVERLAP_MIX * _overlap(a.body, b.body, weights) + (
        1 - BODY_OVERLAP_MIX
    ) * _dice(a.body, b.body, weights)
    score = max(title, body, 0.4 * title + 0.6 * body)
    if a.idents and b.idents and a.idents.isdisjoint(b.idents):
        score *= IDENTIFIER_MISMATCH
    return score


def score(a: Features, b: Features, window: int = LINE_WINDOW, weights: Weights = None) -> float:
    if a.path != b.path:
        return 0.0
    line = line_score(a, b, window)
    if line == 0.0:
        return 0.0  # both locations trusted and too far apart: two sites, two problems
    text = text_score(a, b, weights)
    category = category_score(a.category, b.category)
    return min(1.0, 0.7 * text + 0.2 * line + 0.1 * category)


def same_problem(a: Finding, b: Finding) -> float:
    """How likely `a` and `b` describe the same problem, 0..1 (0 when the files differ).

    Findings of different reviewers share a cluster at ≥ `SAME_PROBLEM_THRESHOLD`.
    """
    return score(features(a), features(b))
