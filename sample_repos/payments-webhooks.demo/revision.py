"""Round 2 of the scripted demo, fix by fix (maintainer tool, used by build_cassettes.py).

round2_generator.md holds the revision as separate fixes, marked with HTML comments:

    <!-- fix NAME: FINDING-ID ... -->   the explanation of the fix (Markdown)
    <!-- note NAME -->                   the generator's answer when the human left a note
    <!-- edits NAME -->                  the fix's edit blocks

The text before the first marker is the revision's heading. At replay the generator plays
only the fixes of the findings the human accepted (counterpoint/providers/scripted.py), so
every fix's edit blocks must apply, and the sample must behave, whichever others are made:
`check_every_subset` applies all 2^6 combinations to round 1 and runs the sample's tests.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from counterpoint.core.changeset import ChangeSet
from counterpoint.core.edit_apply import apply_edit_blocks
from counterpoint.core.edits import parse_edit_blocks
from counterpoint.core.prompts import numbered_diff
from counterpoint.core.review_quality import judge_review
from counterpoint.providers import scripted
from counterpoint.providers.base import FindingVerdict, Message, ModelRequest

MARKER = re.compile(r"^<!-- (fix|note|edits) ([a-z0-9-]+)(?:: ([^>]*))? -->$", re.M)

GENERATOR_SAID = {
    "fixed": "Fixed, as you accepted:",
    "rejected": "Not fixed, because you rejected them:",
    "pending": "Left as they are, because you did not accept them:",
    "notes": "Your notes:",
    "nothing": "You accepted none of the findings, so this revision changes no code.",
    "note_rejected": "understood; you rejected it, so I left that code as it is.",
    "note_pending": "noted; I did not change it, since you did not accept the finding.",
}

FAILS_WITHOUT = {
    "lost-event": "tests/test_webhooks.py::test_event_whose_processing_failed_is_applied_on_redelivery",
    "webhook-limiter": "tests/test_app.py::test_webhooks_do_not_use_up_the_lookup_limit",
}
"""The sample tests that round 1 breaks, and the fix of round 2 that makes each pass."""


def parse_revision(text: str) -> dict[str, Any]:
    """The generator's `compose` object from round2_generator.md."""
    marks = list(MARKER.finditer(text))
    if not marks:
        raise SystemExit("round2_generator.md has no <!-- fix ... --> markers")
    fixes: dict[str, dict[str, Any]] = {}
    edits: list[dict[str, str]] = []
    for n, mark in enumerate(marks):
        kind, name, ids = mark.groups()
        body = text[mark.end() : marks[n + 1].start() if n + 1 < len(marks) else len(text)].strip("\n")
        if kind == "fix":
            fixes[name] = {"name": name, "findings": (ids or "").split(), "explain": body, "note": ""}
        elif name not in fixes:
            raise SystemExit(f"round2_generator.md: {kind} {name!r} before its <!-- fix {name}: ... -->")
        elif kind == "note":
            fixes[name]["note"] = " ".join(body.split())
        else:
            edits += [{"fix": name, "text": block} for block in _blocks(body)]
    compose = {
        "head": text[: marks[0].start()].strip("\n"),
        "fixes": list(fixes.values()),
        "edits": edits,
        "said": GENERATOR_SAID,
    }
    scripted.check_compose("generator", compose)
    return compose


def _blocks(body: str) -> list[str]:
    """Split a run of edit blocks (path line, fence, SEARCH/REPLACE, fence) apart."""
    out, current = [], []
    for line in body.split("\n"):
        current.append(line)
        if line == "```" and sum(1 for c in current if c.startswith("```")) == 2:
            out.append("\n".join(current).strip("\n"))
            current = []
    if "\n".join(current).strip():
        raise SystemExit(f"round2_generator.md: text after the last edit block: {current[:2]}")
    return out


def verdicts(compose: dict[str, Any], accepted: set[str]) -> tuple[FindingVerdict, ...]:
    """The human's verdicts that make exactly the `accepted` fixes (the others rejected)."""
    return tuple(
        FindingVerdict(
            cluster_id=fix["name"],
            finding_ids=tuple(fix["findings"]),
            verdict="accepted" if fix["name"] in accepted else "rejected",
            title=fix["name"],
        )
        for fix in compose["fixes"]
    )


def apply(files: dict[str, str], text: str) -> dict[str, str]:
    outcome = apply_edit_blocks(dict(files), parse_edit_blocks(text))
    if outcome.failed:
        reasons = "; ".join(f"{f.block.path}: {f.reason}" for f in outcome.failed)
        raise SystemExit(f"round 2 edit blocks do not apply: {reasons}")
    merged = dict(files)
    merged.update({path: body for path, body in outcome.files.items() if body is not None})
    return merged


def review_request(round1: dict[str, str], round2: dict[str, str], given: tuple[FindingVerdict, ...]) -> ModelRequest:
    """A reviewer's round-2 request as the app builds it (only the numbered diff matters)."""
    shown = numbered_diff(ChangeSet.from_contents(round1, round2))
    return ModelRequest(role="reviewer", system="", messages=(Message("user", shown),), verdicts=given)


def check_every_subset(
    round1: dict[str, str],
    compose: dict[str, Any],
    reviews: list[dict[str, Any]],
    locate: Any,
    *,
    run_tests: bool = True,
) -> int:
    """Apply every combination of fixes to round 1; check that each reviewer's review of
    it passes the app's quality gate, that its findings are located as the replay
    relocates them, and (with `run_tests`) that exactly the
    expected sample tests fail. Returns how many combinations were checked."""
    names = [fix["name"] for fix in compose["fixes"]]
    count = 0
    for size in range(len(names) + 1):
        for chosen in itertools.combinations(names, size):
            given = verdicts(compose, set(chosen))
            files = apply(round1, scripted.revision(compose, given))
            request = review_request(round1, files, given)
            for review in reviews:
                answer = json.loads(scripted.review(review, given, _text(request)))
                quality = judge_review(answer["summary"], len(answer["findings"]),
                                       ChangeSet.from_contents(round1, files))
                if quality.weak:  # the app would ask again, and the cassette has no second answer
                    raise SystemExit(f"{chosen}: the review {answer['summary']!r} is weak: {quality.reason}")
                for finding in answer["findings"]:
                    spec = next(f for f in review["findings"] if f["title"] == finding["title"])
                    expected = locate(files, finding["path"], *spec["anchors"])
                    if (finding["start_line"], finding["end_line"]) != expected:
                        raise SystemExit(f"{chosen}: {finding['title']!r} relocated to "
                                         f"{finding['start_line']}-{finding['end_line']}, not {expected}")
            if run_tests:
                failed = _failing_tests(files)
                expected_failures = {test for fix, test in FAILS_WITHOUT.items() if fix not in chosen}
                if failed != expected_failures:
                    raise SystemExit(f"fixes {chosen}: failing tests {sorted(failed)}, "
                                     f"expected {sorted(expected_failures)}")
            count += 1
    return count


def _text(request: ModelRequest) -> str:
    return request.messages[-1].content


def _failing_tests(files: dict[str, str]) -> set[str]:
    with tempfile.TemporaryDirectory(prefix="counterpoint-demo-check-") as tmp:
        root = Path(tmp)
        for path, body in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(body, encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf"],
            cwd=root, capture_output=True, text=True, timeout=120,
        )
    failed = set(re.findall(r"^FAILED (\S+)", proc.stdout, re.M))
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and not failed):
        raise SystemExit(f"the sample's tests did not run:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return failed
