"""Benchmark: align() on 2 reviewers × 1,000 synthetic findings over ~50 files.

Reviewer B re-raises ~40% of reviewer A's problems (rephrased, lines shifted, sometimes a
different category or severity); the rest of each reviewer's findings are its own. The
baseline, timed in the same run, is a trivial exact-key grouping by (path, start_line).
Run: PYTHONPATH=src .venv/bin/python bench/bench_alignment.py
"""

from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict

from counterpoint.core.alignment import align
from counterpoint.core.findings import SEVERITIES, Finding

CATEGORY_NAMES = ["security", "concurrency", "correctness", "error-handling", "performance",
                  "simplicity", "consistency", "testing", "docs"]
PROBLEMS = [
    ("Signature compared with == is vulnerable to timing attacks",
     "the HMAC digest is compared with ==, which short-circuits and leaks timing",
     "Non-constant-time signature comparison", "expected == signature leaks timing information"),
    ("SQL built with an f-string allows injection",
     "user input is interpolated into the SQL string passed to execute",
     "User input interpolated into SQL", "use ? placeholders instead of formatting the query"),
    ("Duplicate delivery race between check and insert",
     "two concurrent deliveries both pass the exists check and credit twice",
     "Idempotency check is not atomic", "check-then-insert lets two workers process one event"),
    ("Outbound HTTP call has no timeout",
     "requests.post without timeout blocks the worker forever when the peer stalls",
     "Missing timeout on requests.post", "a stalled endpoint hangs this worker thread"),
    ("Broad except swallows errors",
     "except Exception: pass hides failures and returns success",
     "Errors silently ignored", "failures are acknowledged as success and never retried"),
    ("Unbounded growth of in-memory cache",
     "entries are never evicted so memory grows without limit",
     "Cache never cleaned up", "old entries stay forever: slow memory leak"),
    ("Token never expires", "no exp claim is set, so a leaked token stays valid",
     "JWT expiration not checked", "expired tokens are accepted by decode"),
    ("Money stored as float", "float amounts accumulate rounding errors",
     "Floating point used for currency", "use Decimal or integer cents"),
    ("Missing test for invalid input", "only the happy path is tested",
     "No negative test cases", "add tests for bad input and missing fields"),
    ("Docstring out of date", "the docstring describes the previous behaviour",
     "Outdated module documentation", "update the docs to match the new code"),
    ("N+1 queries in listing", "one SELECT per row to fetch the related record",
     "Query inside loop", "fetch the related rows with one JOIN"),
    ("Mutable default argument", "a list default is shared between calls",
     "Shared list default", "default to None and create the list inside"),
]


def synthetic(n_per_reviewer: int = 1000, files: int = 50, seed: int = 1):
    rnd = random.Random(seed)
    paths = [f"app/module_{i:02d}.py" for i in range(files)]
    a, b = [], []
    shared = int(n_per_reviewer * 0.4)
    for i in range(n_per_reviewer):
        path = rnd.choice(paths)
        start = rnd.randint(1, 2000)
        t_a, r_a, t_b, r_b = rnd.choice(PROBLEMS)
        sev = rnd.randrange(5)
        cat = rnd.choice(CATEGORY_NAMES)
        a.append(Finding(id=f"r1-a{i + 1}", round=1, reviewer="A", path=path, start_line=start,
                         end_line=start + rnd.randint(0, 12), severity=SEVERITIES[sev], category=cat,
                         title=t_a, rationale=f"{r_a} (site {i}).", confidence=rnd.random()))
        if i < shared:  # B raises the same problem: rephrased, shifted, maybe re-categorised
            s = max(1, start + rnd.randint(-3, 3))
            b.append(Finding(id=f"r1-b{len(b) + 1}", round=1, reviewer="B", path="./" + path,
                             start_line=s, end_line=s + rnd.randint(0, 6),
                             severity=SEVERITIES[min(4, max(0, sev + rnd.choice((-1, 0, 0, 1))))],
                             category=cat if rnd.random() < 0.7 else rnd.choice(CATEGORY_NAMES),
                             title=t_b, rationale=f"{r_b}.", confidence=rnd.random()))
    while len(b) < n_per_reviewer:
        path = rnd.choice(paths)
        start = rnd.randint(1, 2000)
        t_a, r_a, t_b, r_b = rnd.choice(PROBLEMS)
        b.append(Finding(id=f"r1-b{len(b) + 1}", round=1, reviewer="B", path=path,
                         start_line=start, end_line=start + rnd.randint(0, 6),
                         severity=rnd.choice(SEVERITIES), category=rnd.choice(CATEGORY_NAMES),
                         title=t_b, rationale=f"{r_b} (own {len(b)}).", confidence=rnd.random()))
    return a + b, shared


def exact_key_grouping(findings):
    groups = defaultdict(list)
    for f in findings:
        groups[(f.path.removeprefix("./"), f.start_line)].append(f)
    return list(groups.values())


def median_time(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    findings, shared = synthetic()
    t_align = median_time(lambda: align(findings, ["A", "B"], 1))
    t_base = median_time(lambda: exact_key_grouping(findings))
    clusters, _ = align(findings, ["A", "B"], 1)
    by_agreement = defaultdict(int)
    for c in clusters:
        by_agreement[c.agreement] += 1
    recovered = sum(
        1 for c in clusters
        if {f.reviewer for f in c.findings} == {"A", "B"}
        and any(f.id.startswith("r1-a") and int(f.id[4:]) <= shared for f in c.findings)
    )
    base_groups = exact_key_grouping(findings)
    base_pairs = sum(1 for g in base_groups if len({f.reviewer for f in g}) == 2)
    print(f"findings: {len(findings)} (2 reviewers x {len(findings) // 2}, "
          f"{shared} planted cross-reviewer duplicates)")
    print(f"align():            median of 5 {t_align * 1000:8.1f} ms")
    print(f"exact-key baseline: median of 5 {t_base * 1000:8.1f} ms")
    print(f"ratio align/baseline: {t_align / t_base:.1f}x")
    print(f"clusters: {len(clusters)}  consensus: {by_agreement['consensus']}  "
          f"solo: {by_agreement['solo']}  severity-split: {by_agreement['severity-split']}")
    print(f"planted duplicates found: align {recovered}/{shared}, "
          f"exact-key baseline {base_pairs}/{shared}")


if __name__ == "__main__":
    main()
