"""Alignment: clustering the round's findings into problems.

Reviewers phrase the same problem differently, cite slightly different lines and sometimes
file it under a different category; `core/similarity.py` scores two findings 0..1. `align`
buckets findings by path and clusters each bucket:

1. **Candidates, sub-quadratic.** A file with few findings compares the pairs whose lines
   are near (a sweep) or not trusted. A bigger file is blocked: each finding is indexed under its rarest words and identifiers in that
   file (`BLOCK_KEYS` of them, words no more than `BLOCK_CAP` findings share), and only
   findings sharing a key are scored; trusted ranges `LINE_WINDOW` or more apart are never
   scored. With three or more findings, the file's topic words are discounted by IDF and the
   threshold is `IN_CONTEXT_THRESHOLD`.
2. **A reviewer's own near-duplicates** (≥ `DUPLICATE_THRESHOLD`) become one "unit": models
   repeat themselves, and two clusters would count the problem twice.
3. **Across reviewers, a matching per pair of reviewers**: best pair first, then
   reassignment (a pair that beats the links it would break, with the broken partners
   re-paired when they match each other, takes over), so a wrong pair that scored first no
   longer blocks two right ones. Matched units are then joined best first, never two units of
   one reviewer in one cluster.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import combinations

from counterpoint.core.findings import SEVERITY_RANK, Agreement, Cluster, Finding, Stance, cluster_order
from counterpoint.core.pathnames import normalise_path
from counterpoint.core.similarity import (
    IN_CONTEXT_THRESHOLD,
    LINE_WINDOW,
    SAME_PROBLEM_THRESHOLD,
    Features,
    features,
    file_weights,
    line_score,
    same_problem,
    score,
    text_score,
)

__all__ = [
    "CHECK_REVIEWER_PREFIX", "DUPLICATE_THRESHOLD", "SAME_PROBLEM_THRESHOLD", "align",
    "cluster_id", "cluster_stance", "join_checks", "normalise_path", "same_problem",
    "sort_clusters",
]

DUPLICATE_THRESHOLD = 0.6
"""Score at or above which two findings of the *same* reviewer count as near-duplicates."""

SUPPRESS_THRESHOLD = 0.42
"""Score at or above which a new finding repeats a finding the human rejected earlier."""

SUPPRESS_LINE_WINDOW = 30
"""Revisions move code, so matching against earlier rounds tolerates a wider shift."""

SEVERITY_SPLIT_LEVELS = 2
"""Severities this many levels apart (e.g. high vs low) make a cluster `severity-split`."""

BLOCK_ABOVE = 64
"""Files with more findings than this are blocked; smaller ones score every pair whose lines
are near (a sweep over ranges) or not trusted."""

BLOCK_KEYS = 5
"""Keys per finding in a blocked file: its rarest identifiers and words there."""

BLOCK_CAP = 16
"""A key shared by more findings than this tells nothing apart and blocks nothing."""

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
    if len(members) == 1:
        return _solo_cluster(members[0], reviewers, round_no)
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


def _solo_cluster(f: Finding, reviewers: Sequence[str], round_no: int) -> Cluster:
    """`_make_cluster` of one finding, without the work a group needs (most clusters)."""
    stance = cluster_stance((f,))
    others_reviewed = len({*reviewers, f.reviewer}) >= 2
    return Cluster(
        id=cluster_id((f,)),
        round=round_no,
        agreement="solo",
        stance=stance,
        contested=others_reviewed or stance == "dispute",
        severity=f.severity,
        category=f.category,
        path=normalise_path(f.path),
        start_line=min(f.start_line, f.end_line),
        end_line=max(f.start_line, f.end_line),
        title=f.title,
        findings=[f],
    )


def sort_clusters(clusters: Iterable[Cluster]) -> list[Cluster]:
    """Contested first, then severity (critical first), then path and start line."""
    return sorted(clusters, key=lambda c: cluster_order(c.contested, c.severity, c.path, c.start_line, c.id))



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


def _far(a: Features, b: Features) -> bool:
    """Both ranges trusted and `LINE_WINDOW` or more apart: never the same problem."""
    if not (a.trusted_lines and b.trusted_lines):
        return False
    return max(a.start, b.start) - min(a.end, b.end) >= LINE_WINDOW


def _near_pairs(members: list[int], feats: list[Features]) -> Iterable[tuple[int, int]]:
    """Pairs of one file whose line ranges are less than `LINE_WINDOW` apart (a sweep over
    ranges sorted by start line), plus every pair involving a finding whose lines are not
    trusted."""
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


def _blocked_pairs(members: list[int], feats: list[Features]) -> Iterable[tuple[int, int]]:
    """Pairs of one big file that share one of their rarest keys (identifiers and words)."""
    df: Counter[str] = Counter()
    for i in members:
        df.update(feats[i].body)
        df.update(feats[i].idents)
    postings: dict[str, list[int]] = defaultdict(list)
    for i in members:
        f = feats[i]
        keys = [k for k in (*f.idents, *f.body) if 2 <= df[k] <= BLOCK_CAP]
        keys.sort(key=lambda k: (df[k], k))
        for key in keys[:BLOCK_KEYS]:
            postings[key].append(i)
    seen: set[tuple[int, int]] = set()
    for block in postings.values():
        for i, j in combinations(block, 2):
            pair = (i, j) if i < j else (j, i)
            if pair not in seen:
                seen.add(pair)
                yield pair


def _candidate_pairs(feats: list[Features]) -> list[tuple[float, int, int]]:
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
        near = (
            _blocked_pairs(members, feats)
            if len(members) > BLOCK_ABOVE
            else _near_pairs(members, feats)
        )
        for i, j in near:
            a, b = feats[i], feats[j]
            if _far(a, b):
                continue
            s = score(a, b, weights=weights) - threshold
            if s >= 0:
                pairs.append((s, i, j) if i < j else (s, j, i))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    return pairs


def _match(edges: list[tuple[float, int, int]]) -> list[tuple[float, int, int]]:
    """A matching between the units of two reviewers (`edges` = (weight, u, v), u of one
    reviewer, v of the other, best first): greedy, then reassignment. An unmatched edge (u, v)
    takes over when its weight, plus what the partners it frees regain (paired with each
    other, or each with its best free neighbour), beats the links it breaks: so a wrong pair
    that scored first gives way to the two right pairs it blocked. Repeated until nothing
    improves (bounded passes)."""
    weight = {(u, v): w for w, u, v in edges}
    adj_u: dict[int, list[tuple[float, int]]] = defaultdict(list)
    adj_v: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for w, u, v in edges:  # best first, so each list is too
        adj_u[u].append((w, v))
        adj_v[v].append((w, u))
    of_u: dict[int, int] = {}
    of_v: dict[int, int] = {}
    for _w, u, v in edges:
        if u not in of_u and v not in of_v:
            of_u[u], of_v[v] = v, u

    def best_free(adj: list[tuple[float, int]], taken: dict[int, int], skip: int) -> tuple[float, int]:
        return next(((w, x) for w, x in adj if x != skip and x not in taken), (0.0, -1))

    for _ in range(4):
        changed = False
        for w, u, v in edges:
            if of_u.get(u) == v:
                continue
            v2, u2 = of_u.get(u), of_v.get(v)
            lost = (weight[(u, v2)] if v2 is not None else 0.0) + (
                weight[(u2, v)] if u2 is not None else 0.0
            )
            if w <= lost - 1.0:  # even the best regain (< 1 per freed partner) cannot pay
                continue
            # what the freed partners regain: each other, or each its best free neighbour
            together = weight.get((u2, v2), 0.0) if u2 is not None and v2 is not None else 0.0
            alone_u = best_free(adj_u[u2], of_v, v) if u2 is not None else (0.0, -1)
            alone_v = best_free(adj_v[v2], of_u, u) if v2 is not None else (0.0, -1)
            regained = max(together, alone_u[0] + alone_v[0])
            if w + regained <= lost + 1e-9:
                continue
            for x in (u, u2):
                if x is not None and x in of_u:
                    del of_v[of_u.pop(x)]
            of_u[u], of_v[v] = v, u
            if together and together >= alone_u[0] + alone_v[0]:
                assert u2 is not None and v2 is not None
                of_u[u2], of_v[v2] = v2, u2
            else:
                if alone_u[1] >= 0:
                    assert u2 is not None
                    of_u[u2], of_v[alone_u[1]] = alone_u[1], u2
                if alone_v[1] >= 0:
                    assert v2 is not None
                    of_u[alone_v[1]], of_v[v2] = v2, alone_v[1]
            changed = True
        if not changed:
            break
    return [(weight[(u, v)], u, v) for u, v in of_u.items()]


def _cluster_indices(findings: Sequence[Finding], feats: list[Features]) -> list[list[int]]:
    groups = _Groups([f.reviewer for f in findings])
    pairs = _candidate_pairs(feats)
    # 1. each reviewer's own near-duplicates
    margin = DUPLICATE_THRESHOLD - SAME_PROBLEM_THRESHOLD
    for s, i, j in pairs:
        if s >= margin and findings[i].reviewer == findings[j].reviewer:
            groups.union(i, j)
    # 2. unit-to-unit edges per pair of reviewers (a unit's best pair stands for it)
    best: dict[tuple[int, int], float] = {}
    for s, i, j in pairs:
        ri, rj = groups.find(i), groups.find(j)
        if findings[i].reviewer == findings[j].reviewer or ri == rj:
            continue
        if findings[i].reviewer > findings[j].reviewer:
            ri, rj = rj, ri
        best.setdefault((ri, rj), s + SAME_PROBLEM_THRESHOLD)
    by_reviewers: dict[tuple[str, str], list[tuple[float, int, int]]] = defaultdict(list)
    for (u, v), w in best.items():
        by_reviewers[(findings[u].reviewer, findings[v].reviewer)].append((w, u, v))
    matched: list[tuple[float, int, int]] = []
    for key in sorted(by_reviewers):
        edges = sorted(by_reviewers[key], key=lambda e: (-e[0], e[1], e[2]))
        matched.extend(_match(edges))
    # 3. join matched units best first, never two units of one reviewer in a group
    for _w, u, v in sorted(matched, key=lambda e: (-e[0], e[1], e[2])):
        ru, rv = groups.find(u), groups.find(v)
        if ru != rv and not (groups.reviewers[ru] & groups.reviewers[rv]):
            groups.union(ru, rv)
    by_root: dict[int, list[int]] = defaultdict(list)
    for i in range(len(findings)):
        by_root[groups.find(i)].append(i)
    return list(by_root.values())


def _rejected_match(
    rejected: list[tuple[Cluster, list[Features]]], feats: list[Features]
) -> Cluster | None:
    for old, old_feats in rejected:
        for new in feats:
            if any(score(new, o, SUPPRESS_LINE_WINDOW) >= SUPPRESS_THRESHOLD for o in old_feats):
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
    feats = [features(f) for f in findings]
    old = [(c, [features(f) for f in c.findings]) for c in rejected]
    clusters: list[Cluster] = []
    suppressed: list[Cluster] = []
    for indices in _cluster_indices(findings, feats):
        cluster = _make_cluster([findings[i] for i in indices], reviewers, round)
        match = _rejected_match(old, [feats[i] for i in indices]) if old else None
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
    feats = [[features(f) for f in g] for g in groups]
    alone: list[list[Finding]] = []
    for failure in failures:
        mine = features(failure)
        best: tuple[float, int] | None = None
        for i, group in enumerate(feats):
            same_file = [f for f in group if f.path == mine.path]
            if same_file:
                near = [f for f in same_file if line_score(mine, f, LINE_WINDOW) > 0]
                score = 1 + max((text_score(mine, f) for f in near), default=-1.0)
            else:
                score = max(text_score(mine, f) for f in group)
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
        # Still the models' problem, where they placed it; the check proves it.
        cluster.title, cluster.path = old.title, old.path
        cluster.start_line, cluster.end_line = old.start_line, old.end_line
        cluster.confirmed = True
        out.append(cluster)
    out.extend(_make_cluster(members, voices, round) for members in alone)
    return sort_clusters(out)
