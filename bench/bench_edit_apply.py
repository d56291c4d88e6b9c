"""Benchmark: parsing and applying 200 edit blocks to a 5,000-line file, and diffing it.

Baseline (measured in the same run): a plain `str.replace` of the same 200 exact snippets.
Run: python bench/bench_edit_apply.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # fallback if not installed

from counterpoint.core.changeset import ChangeSet  # noqa: E402
from counterpoint.core.edits import EditStreamParser, apply_edit_blocks, parse_edit_blocks  # noqa: E402

FUNCTIONS = 200
LINES_PER_FUNCTION = 25
PATH = "pkg/service.py"


def synthetic_file() -> str:
    """5,000 lines: a class with 200 methods of 25 lines each, plus common repeated lines."""
    lines = ["class Service:"]
    for i in range(FUNCTIONS):
        lines += [
            f"    def handle_{i}(self, request):",
            f'        """Handle request kind {i}."""',
            "        if request is None:",
            "            return None",
            f"        total_{i} = 0",
            "        for item in request.items:",
            "            if not item:",
            "                continue",
            f"            total_{i} += item.value * {i}",
            "",
            "        result = {}",
            f"        result['kind'] = {i}",
            f"        result['total'] = total_{i}",
            "        self.log(result)",
            "        return result",
            "",
        ]
        lines += [f"    # padding {i}.{k}" for k in range(LINES_PER_FUNCTION - 16)]
    lines = lines[:5000]
    return "\n".join(lines) + "\n"


def make_edits(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The proposal text, and the (exact snippet, replacement) pairs for the baseline."""
    parts = ["I'll make every handler round its total.\n\n"]
    pairs: list[tuple[str, str]] = []
    for i in range(FUNCTIONS):
        exact = (
            f"        result['kind'] = {i}\n"
            f"        result['total'] = total_{i}\n"
            "        self.log(result)\n"
        )
        replacement = (
            f"        result['kind'] = {i}\n"
            f"        result['total'] = round(total_{i}, 2)\n"
            "        self.log(result)\n"
        )
        assert exact in text
        pairs.append((exact, replacement))
        if i % 4 == 0:  # every fourth block drifted: written without the class indentation
            search = "".join(line[4:] + "\n" for line in exact.splitlines())
            replace = "".join(line[4:] + "\n" for line in replacement.splitlines())
        else:
            search, replace = exact, replacement
        parts.append(
            f"{PATH}\n```python\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n\n"
        )
    return "".join(parts), pairs


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    text = synthetic_file()
    proposal, pairs = make_edits(text)
    lines = text.count("\n")

    def baseline() -> str:
        out = text
        for old, new in pairs:
            out = out.replace(old, new, 1)
        return out

    def streamed() -> list:
        parser = EditStreamParser()
        for k in range(0, len(proposal), 4):
            parser.feed(proposal[k : k + 4])
        parser.close()
        return parser.blocks

    blocks = parse_edit_blocks(proposal)
    outcome = apply_edit_blocks({PATH: text}, blocks)
    assert len(blocks) == FUNCTIONS and not outcome.failed, outcome.failed[:3]
    assert outcome.files[PATH] == baseline(), "apply result differs from the baseline"
    assert streamed() == blocks
    changeset = ChangeSet.from_contents({PATH: text}, outcome.files)
    assert changeset.select([h.id for h in changeset.hunks]) == outcome.files

    base_ms = median_ms(baseline, 21)
    parse_ms = median_ms(lambda: parse_edit_blocks(proposal), 7)
    apply_ms = median_ms(lambda: apply_edit_blocks({PATH: text}, blocks), 7)
    diff_ms = median_ms(lambda: ChangeSet.from_contents({PATH: text}, outcome.files), 7)
    stream_ms = median_ms(streamed, 5)
    tolerant = sum(1 for b in blocks if b.search not in text)

    print(
        f"edit-apply: {len(blocks)} blocks on {lines:,} lines ({tolerant} indentation-tolerant): "
        f"parse {parse_ms:.1f} ms, apply {apply_ms:.1f} ms "
        f"(x{apply_ms / base_ms:.1f} vs str.replace baseline {base_ms:.2f} ms)"
    )
    print(
        f"changeset: from_contents on {lines:,} lines, {len(changeset.hunks)} hunks: "
        f"{diff_ms:.1f} ms (x{diff_ms / base_ms:.1f} vs str.replace baseline)"
    )
    print(
        f"streaming: {len(proposal):,} chars in 4-char chunks {stream_ms:.1f} ms vs whole "
        f"{parse_ms:.1f} ms (x{stream_ms / parse_ms:.1f})"
    )
    total = parse_ms + apply_ms + diff_ms
    print(f"total parse+apply+diff: {total:.1f} ms (x{total / base_ms:.1f} vs str.replace baseline)")


if __name__ == "__main__":
    main()
