"""Alignment: clustering the round's findings into problems.

Reviewers phrase the same problem differently, cite slightly different lines and sometimes
file it under a different category. `same_problem` scores two findings 0..1 from four
signals, all dependency-free:

- **path** — required: findings in different files are never the same problem
  (paths are normalised, so ``./app/x.py`` and ``app/x.py`` match);
- **text** — the dominant signal: token overlap of title, rationale and suggestion after
  lower-casing, light stemming, stopword removal and mapping a small set of code-review
  synonyms to one concept ("constant-time" / "timing" / ``compare_digest``); identifiers
  such as ``check_same_thread`` are split into their words (keeping them whole as well was
  measured worse: two reviewers of different problems often quote the same line). Inside
  `align`, words that most findings of a file share (its topic) are discounted by IDF;
- **lines** — overlapping ranges score 1, the score falls off over `LINE_WINDOW` lines of
  gap, and ranges `LINE_WINDOW` or more apart are never the same problem (the same wording
  at two distant sites is two problems); a finding with a `location_problem` gets a
  neutral line score: its lines are not trusted, it is clustered by path and text;
- **category** — same category 1, related categories (security ~ correctness ...) less.

`align` buckets findings by path, scores the near pairs inside a bucket (a sweep over line
ranges, so a big round stays fast), with the file's topic words discounted when the file has
three or more findings, and merges greedily, best pair first (single linkage with a
reviewer constraint):

1. A reviewer's own near-duplicates (score ≥ `DUPLICATE_THRESHOLD`) are merged first, into
   one "unit" — models do repeat themselves, and showing both as separate clusters would
   count the problem twice.
2. Units of *different* reviewers merge when their best pair scores ≥ `SAME_PROBLEM_THRESHOLD`
   (`IN_CONTEXT_THRESHOLD` when topic words were discounted) and the two groups have no reviewer in common. So a cluster holds at most one unit per
   reviewer: two distinct findings of one reviewer never end up in one cluster.
"""

from __future__ import annotations

import hashlib
import math
import posixpath
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from counterpoint.core.findings import SEVERITY_RANK, Agreement, Cluster, Finding, Stance

SAME_PROBLEM_THRESHOLD = 0.44
"""`same_problem` score at or above which findings of different reviewers share a cluster
(context-free scoring: a file with fewer than three findings)."""

IN_CONTEXT_THRESHOLD = 0.36
"""The same, when the file has three or more findings and `align` discounts the file's topic
words (see `file_weights`): shared topic words no longer lift every pair, so scores run lower."""

DUPLICATE_THRESHOLD = 0.6
"""Score at or above which two findings of the *same* reviewer count as near-duplicates."""

SUPPRESS_THRESHOLD = 0.42
"""Score at or above which a new finding repeats a finding the human rejected earlier."""

LINE_WINDOW = 8
"""Gap (in lines) over which the line score falls from 1 to 0."""

SUPPRESS_LINE_WINDOW = 30
"""Revisions move code, so matching against earlier rounds tolerates a wider shift."""

BODY_OVERLAP_MIX = 0.5
"""Body text similarity = this share of overlap coefficient + the rest Dice."""

LOCATION_PROBLEM_LINE_SCORE = 0.5
"""Line score when either finding's lines are not trusted (`location_problem` set)."""

SEVERITY_SPLIT_LEVELS = 2
"""Severities this many levels apart (e.g. high vs low) make a cluster `severity-split`."""

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


def tokens(text: str) -> frozenset[str]:
    """Normalised content tokens of `text`: words stemmed and mapped to concepts, stopwords
    dropped; compound identifiers (``compare_digest``, ``x-forwarded-for``) are mapped to a
    concept when they name one, else split into their parts."""
    out: set[str] = set()
    for match in _WORD.findall(text.lower()):
        parts = [match]
        if _SPLIT.search(match):
            whole = match.strip("-_.")
            if whole in _CONCEPT_EXACT:
                out.add(_CONCEPT_EXACT[whole])
                continue
            parts = [p for p in _SPLIT.split(match) if p]
        for part in parts:
            if part in _STOPWORDS or len(part) < 2 or part.isdigit():
                continue
            out.add(_canonical(part))
    return frozenset(out)


Weights = dict[str, float] | None
"""Token weights (inverse document frequency within one file's findings); None = uniform."""


def _mass(tokens_: frozenset[str], weights: Weights) -> float:
    if weights is None:
        return float(len(tokens_))
    return sum(weights.get(t, 1.0) for t in tokens_)


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

_RELATED_CATEGORIES = {
    frozenset(p)
    for p in (
        ("security", "correctness"),
        ("concurrency", "correctness"),
        ("error-handling", "correctness"),
        ("performance", "correctness"),
        ("simplicity", "consistency"),
        ("docs", "consistency"),
        ("security", "error-handling"),
        ("performance", "error-handling"),
        ("concurrency", "performance"),
        ("security", "concurrency"),
        ("security", "performance"),
    )
}


def normalise_path(path: str) -> str:
    """``./app/x.py``, ``app//x.py`` and ``app\\x.py`` all become ``app/x.py``."""
    p = path.strip().replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    p = posixpath.normpath(p) if p else p
    return "" if p == "." else p


@dataclass(frozen=True, slots=True)
class _Features:
    path: str
    start: int
    end: int
    trusted_lines: bool
    category: str
    title: frozenset[str]
    body: frozenset[str]


def _features(f: Finding) -> _Features:
    start, end = sorted((f.start_line, f.end_line))
    return _Features(
        path=normalise_path(f.path),
        start=start,
        end=end,
        trusted_lines=f.location_problem is None,
        category=f.category,
        title=tokens(f.title),
        body=tokens(" ".join((f.title, f.rationale, f.suggestion or ""))),
    )


def _line_score(a: _Features, b: _Features, window: int) -> float:
    if not (a.trusted_lines and b.trusted_lines):
        return LOCATION_PROBLEM_LINE_SCORE
    gap = max(a.start, b.start) - min(a.end, b.end)
    if gap <= 0:
        return 1.0
    return max(0.0, 1.0 - gap / window)


def _category_score(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return 0.5 if frozenset((a, b)) in _RELATED_CATEGORIES else 0.0


def _text_score(a: _Features, b: _Features, weights: Weights = None) -> float:
    title = _dice(a.title, b.title, weights)
    body = BODY_OVERLAP_MIX * _overlap(a.body, b.body, weights) + (
        1 - BODY_OVERLAP_MIX
    ) * _dice(a.body, b.body, weights)
    return max(title, body, 0.4 * title + 0.6 * body)


def _score(
    a: _Features, b: _Features, window: int = LINE_WINDOW, weights: Weights = None
) -> float:
    if a.path != b.path:
        return 0.0
    line = _line_score(a, b, window)
    if line == 0.0:
        return 0.0  # both locations trusted and too far apart: two sites, two problems
    text = _text_score(a, b, weights)
    category = _category_score(a.category, b.category)
    return min(1.0, 0.7 * text + 0.2 * line + 0.1 * category)


def same_problem(a: Finding, b: Finding) -> float:
    """How likely `a` and `b` describe the same problem, 0..1 (0 when the files differ).

    Findings of different reviewers share a cluster at ≥ `SAME_PROBLEM_THRESHOLD`.
    """
    return _score(_features(a), _features(b))


# --------------------------------------------------------------------------------------------
# cluster summaries


def cluster_stance(findings: Iterable[Finding]) -> Stance:
    """The generator's stance over a cluster's findings.

    Only answered findings count: none answered → ``none``; any dispute → ``dispute``; all
    answered agree → ``agree``; otherwise (a partial, or agree mixed with partial) ``partial``.
    """
    answered = [f.stance for f in findings if f.stance != "none"]
    if not answered:
        return "none"
    if "dispute" in answered:
        return "dispute"
    if all(s == "agree" for s in answered):
        return "agree"
    return "partial"


def _rank_key(f: Finding) -> tuple[int, float, str]:
    """Most severe first, then most confident; the id breaks ties deterministically."""
    return (-SEVERITY_RANK[f.severity], -f.confidence, f.id)


def cluster_id(findings: Iterable[Finding]) -> str:
    """``c`` + a short sha1 of the sorted member ids: stable across runs and orderings."""
    digest = hashlib.sha1("\n".join(sorted(f.id for f in findings)).encode()).hexdigest()
    return "c" + digest[:10]


def _make_cluster(members: list[Finding], reviewers: Sequence[str], round_no: int) -> Cluster:
    order = {name: i for i, name in enumerate(reviewers)}
    members = sorted(members, key=lambda f: (order.get(f.reviewer, len(order)), f.reviewer, f.id))
    top = min(members, key=_rank_key)
    counts = Counter(f.category for f in members)
    best = max(counts.values())
    tied = {c for c, n in counts.items() if n == best}
    category = next(f.category for f in sorted(members, key=_rank_key) if f.category in tied)
    raised_by = {f.reviewer for f in members}
    ranks = [SEVERITY_RANK[f.severity] for f in members]
    agreement: Agreement
    if len(raised_by) >= 2:
        split = max(ranks) - min(ranks) >= SEVERITY_SPLIT_LEVELS
        agreement = "severity-split" if split else "consensus"
    else:
        agreement = "solo"
    stance = cluster_stance(members)
    # With a single reviewer there is nobody to disagree with: solo alone is not contested.
    others_reviewed = len(set(reviewers) | raised_by) >= 2
    contested = (
        agreement == "severity-split"
        or (agreement == "solo" and others_reviewed)
        or stance == "dispute"
    )
    return Cluster(
        id=cluster_id(members),
        round=round_no,
        agreement=agreement,
        stance=stance,
        contested=contested,
        severity=top.severity,
        category=category,
        path=normalise_path(top.path),
        start_line=min(min(f.start_line, f.end_line) for f in members),
        end_line=max(max(f.start_line, f.end_line) for f in members),
        title=top.title,
        findings=members,
    )


def sort_clusters(clusters: Iterable[Cluster]) -> list[Cluster]:
    """Contested first, then severity (critical first), then path and start line."""
    return sorted(
        clusters,
        key=lambda c: (not c.contested, -SEVERITY_RANK[c.severity], c.path, c.start_line, c.id),
    )


# --------------------------------------------------------------------------------------------
# clustering


class _Groups:
    """Union-find over finding indices, tracking which reviewers each group holds."""

    def __init__(self, reviewers: list[str]) -> None:
        self.parent = list(range(len(reviewers)))
        self.reviewers = [{r} for r in reviewers]

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return
        if ri > rj:
            ri, rj = rj, ri
        self.parent[rj] = ri
        self.reviewers[ri] |= self.reviewers[rj]


def _near_pairs(members: list[int], feats: list[_Features]) -> Iterable[tuple[int, int]]:
    """Pairs of one file whose line ranges are less than `LINE_WINDOW` apart (a sweep over
    ranges sorted by start line), plus every pair involving a finding whose lines are not
    trusted. Pairs further apart score 0 anyway; skipping them keeps big rounds fast."""
    trusted = sorted((i for i in members if feats[i].trusted_lines), key=lambda i: feats[i].start)
    untrusted = [i for i in members if not feats[i].trusted_lines]
    active: list[int] = []  # earlier ranges that may still be near
    for i in trusted:
        start = feats[i].start
        active = [j for j in active if feats[j].end + LINE_WINDOW > start]
        for j in active:
            yield i, j
        active.append(i)
    position = {i: x for x, i in enumerate(untrusted)}
    for x, i in enumerate(untrusted):
        for j in members:
            if j != i and (feats[j].trusted_lines or position[j] > x):
                yield i, j


def _candidate_pairs(feats: list[_Features]) -> list[tuple[float, int, int]]:
    """Pairs within each path bucket that reach their threshold, best first, deterministic.

    The score is returned relative to the threshold in force for that file (score minus
    threshold), so pairs from files scored with and without topic weights sort together."""
    buckets: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(feats):
        buckets[f.path].append(i)
    pairs: list[tuple[float, int, int]] = []
    for members in buckets.values():
        weights = file_weights([feats[i].body for i in members])
        threshold = SAME_PROBLEM_THRESHOLD if weights is None else IN_CONTEXT_THRESHOLD
        for i, j in _near_pairs(members, feats):
            s = _score(feats[i], feats[j], weights=weights) - threshold
            if s >= 0:
                pairs.append((s, i, j) if i < j else (s, j, i))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    return pairs


def _cluster_indices(findings: Sequence[Finding], feats: list[_Features]) -> list[list[int]]:
    groups = _Groups([f.reviewer for f in findings])
    pairs = _candidate_pairs(feats)
    # 1. each reviewer's own near-duplicates
    margin = DUPLICATE_THRESHOLD - SAME_PROBLEM_THRESHOLD
    for s, i, j in pairs:
        if s >= margin and findings[i].reviewer == findings[j].reviewer:
            groups.union(i, j)
    # 2. across reviewers, best pair first, never two units of one reviewer in a group
    for _s, i, j in pairs:
        if findings[i].reviewer == findings[j].reviewer:
            continue
        ri, rj = groups.find(i), groups.find(j)
        if ri != rj and not (groups.reviewers[ri] & groups.reviewers[rj]):
            groups.union(ri, rj)
    by_root: dict[int, list[int]] = defaultdict(list)
    for i in range(len(findings)):
        by_root[groups.find(i)].append(i)
    return list(by_root.values())


def _rejected_match(
    cluster: Cluster, rejected: list[tuple[Cluster, list[_Features]]], feats: list[_Features]
) -> Cluster | None:
    for old, old_feats in rejected:
        for new in feats:
            if any(_score(new, o, SUPPRESS_LINE_WINDOW) >= SUPPRESS_THRESHOLD for o in old_feats):
                return old
    return None


def align(
    findings: Sequence[Finding],
    reviewers: Sequence[str],
    round: int,
    rejected: Sequence[Cluster] = (),
) -> tuple[list[Cluster], list[Cluster]]:
    """Cluster the round's findings (from all reviewers). Returns (clusters sorted, suppressed).

    `reviewers` = every reviewer that reviewed this round (so a cluster raised by one of two
    is `solo`). `rejected` = clusters the human rejected in earlier rounds: new clusters that
    describe the same problem are returned in `suppressed` instead (not raised again), with
    verdict ``rejected`` and a note naming the earlier cluster.
    """
    feats = [_features(f) for f in findings]
    old = [(c, [_features(f) for f in c.findings]) for c in rejected]
    clusters: list[Cluster] = []
    suppressed: list[Cluster] = []
    for indices in _cluster_indices(findings, feats):
        cluster = _make_cluster([findings[i] for i in indices], reviewers, round)
        match = _rejected_match(cluster, old, [feats[i] for i in indices]) if old else None
        if match is None:
            clusters.append(cluster)
        else:
            cluster.verdict = "rejected"
            cluster.note = f"Same problem as cluster {match.id}, rejected in round {match.round}."
            suppressed.append(cluster)
    return sort_clusters(clusters), sort_clusters(suppressed)


# --------------------------------------------------------------------------------------------
# checks: a reviewer voice that cannot guess

CHECK_REVIEWER_PREFIX = "check:"


def is_check(reviewer: str) -> bool:
    return reviewer.startswith(CHECK_REVIEWER_PREFIX)


def join_checks(
    clusters: Sequence[Cluster], failures: Sequence[Finding], reviewers: Sequence[str], round: int
) -> list[Cluster]:
    """Add the checks' findings to the models' clusters; a cluster a check joins is confirmed.

    A failure joins the cluster of its file whose lines it falls in or near (within
    `LINE_WINDOW`), the closest in text when several do; a failure placed outside every
    cluster's file (a test that noticed the problem) joins the cluster whose text it matches
    at `SAME_PROBLEM_THRESHOLD`. The others become clusters of their own.
    """
    groups = [list(c.findings) for c in clusters]
    feats = [[_features(f) for f in g] for g in groups]
    alone: list[list[Finding]] = []
    for failure in failures:
        mine = _features(failure)
        best: tuple[float, int] | None = None
        for i, group in enumerate(feats):
            same_file = [f for f in group if f.path == mine.path]
            if same_file:
                near = [f for f in same_file if _line_score(mine, f, LINE_WINDOW) > 0]
                score = 1 + max((_text_score(mine, f) for f in near), default=-1.0)
            else:
                score = max(_text_score(mine, f) for f in group)
                score = score if score >= SAME_PROBLEM_THRESHOLD else -1.0
            if score >= 0 and (best is None or score > best[0]):
                best = (score, i)
        if best is None:
            alone.append([failure])
        else:
            groups[best[1]].append(failure)
            feats[best[1]].append(mine)
    voices = list(reviewers) + sorted({f.reviewer for f in failures} - set(reviewers))
    out: list[Cluster] = []
    for old, members in zip(clusters, groups, strict=True):
        if len(members) == len(old.findings):
            out.append(old)
            continue
        cluster = _make_cluster(members, voices, round)
        cluster.confirmed = True
        out.append(cluster)
    out.extend(_make_cluster(members, voices, round) for members in alone)
    return sort_clusters(out)
