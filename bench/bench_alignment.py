"""Benchmark: align() on 2 reviewers × 1,000 findings, in the shapes that used to be slow.

Reviewer B re-raises 40% of reviewer A's problems (rephrased, lines shifted, sometimes a
different category or severity); the rest of each reviewer's findings are its own. Each
finding names the code it is about (an identifier of its own site), as real findings do.
Shapes:

- ``spread``: ~50 files, trusted lines (a typical big round);
- ``one-file``: every finding in one 3,000-line file;
- ``untrusted``: one file, every finding's lines untrusted (`location_problem` set), so lines
  cannot narrow the candidates;
- ``dense``: one 300-line file, every range overlapping dozens of others.

The baseline, timed in the same run, is a trivial exact-key grouping by (path, start_line);
the ratio align/baseline is printed per shape, with the planted duplicates each one finds.
Run: .venv/bin/python -m bench.bench_alignment (or `make bench`).
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
VERBS = ["load", "save", "parse", "render", "fetch", "merge", "apply", "check", "build", "send",
         "queue", "store", "split", "scan", "sync", "index", "refund", "charge", "notify", "sign"]
NOUNS = ["order", "invoice", "user", "token", "event", "cart", "item", "refund", "report",
         "webhook", "session", "payment", "account", "ledger", "batch", "export", "quota",
         "coupon", "receipt", "profile"]
SHAPES = ("spread", "one-file", "untrusted", "dense")


def _site(rnd: random.Random, i: int) -> str:
    """The code a finding is about: a function name of its own (`charge_invoice_17`)."""
    return f"{rnd.choice(VERBS)}_{rnd.choice(NOUNS)}_{i}"


def synthetic(shape: str = "spread", n_per_reviewer: int = 1000, seed: int = 1):
    rnd = random.Random(seed)
    files, lines = {"spread": (50, 2000), "one-file": (1, 3000), "untrusted": (1, 3000),
                    "dense": (1, 300)}[shape]
    paths = [f"app/module_{i:02d}.py" for i in range(files)]
    untrusted = "lines outside the file" if shape == "untrusted" else None
    a, b = [], []
    shared = int(n_per_reviewer * 0.4)

    def finding(reviewer: str, n: int, path: str, start: int, span: int, sev: str, cat: str,
                title: str, rationale: str) -> Finding:
        return Finding(id=f"r1-{reviewer.lower()}{n}", round=1, reviewer=reviewer, path=path,
                       start_line=start, end_line=start + span, severity=sev, category=cat,
                       title=title, rationale=rationale, confidence=rnd.random(),
                       location_problem=untrusted)

    for i in range(n_per_reviewer):
        path, start, site = rnd.choice(paths), rnd.randint(1, lines), _site(rnd, i)
        t_a, r_a, t_b, r_b = rnd.choice(PROBLEMS)
        sev, cat = rnd.randrange(5), rnd.choice(CATEGORY_NAMES)
        a.append(finding("A", i + 1, path, start, rnd.randint(0, 12), SEVERITIES[sev], cat, t_a,
                         f"In `{site}`, {r_a}."))
        if i < shared:  # B raises the same problem: rephrased, shifted, maybe re-categorised
            b.append(finding(
                "B", len(b) + 1, "./" + path, max(1, start + rnd.randint(-3, 3)), rnd.randint(0, 6),
                SEVERITIES[min(4, max(0, sev + rnd.choice((-1, 0, 0, 1))))],
                cat if rnd.random() < 0.7 else rnd.choice(CATEGORY_NAMES), t_b,
                f"{r_b} ({site})."))
    while len(b) < n_per_reviewer:
        path, start, site = rnd.choice(paths), rnd.randint(1, lines), _site(rnd, 5000 + len(b))
        _t_a, _r_a, t_b, r_b = rnd.choice(PROBLEMS)
        b.append(finding("B", len(b) + 1, path, start, rnd.randint(0, 6), rnd.choice(SEVERITIES),
                         rnd.choice(CATEGORY_NAMES), t_b, f"{r_b} ({site})."))
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


def measure(shape: str) -> dict[str, float]:
    findings, shared = synthetic(shape)
    t_align = median_time(lambda: align(findings, ["A", "B"], 1))
    t_base = median_time(lambda: exact_key_grouping(findings))
    clusters, _ = align(findings, ["A", "B"], 1)
    planted = {(f"r1-a{i + 1}", f"r1-b{i + 1}") for i in range(shared)}
    found = sum(
        1 for c in clusters for f in c.findings for g in c.findings if (f.id, g.id) in planted
    )
    wrong = sum(
        1 for c in clusters if len({f.reviewer for f in c.findings}) == 2
        and not any((f.id, g.id) in planted for f in c.findings for g in c.findings)
    )
    base = sum(1 for g in exact_key_grouping(findings)
               for f in g for h in g if (f.id, h.id) in planted)
    return {"align_ms": t_align * 1000, "base_ms": t_base * 1000, "found": found,
            "wrong": wrong, "base_found": base, "shared": shared, "n": len(findings)}


def main() -> None:
    print("shape       findings  align ms  baseline ms  ratio   planted found (align / baseline)"
          "  wrong merges")
    for shape in SHAPES:
        m = measure(shape)
        print(f"{shape:<11} {m['n']:>8} {m['align_ms']:>9.1f} {m['base_ms']:>12.2f} "
              f"{m['align_ms'] / m['base_ms']:>6.0f}x   {m['found']:>4} / {m['base_found']:<4}"
              f" of {m['shared']}{m['wrong']:>17}")


if __name__ == "__main__":
    main()
