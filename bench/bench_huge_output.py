"""Huge model output: a 5 MB generator answer end to end, and a 5,000-finding review in the TUI.

Run: .venv/bin/python -m bench huge_output   (or `make bench`)

Setup: a scratch git repository and replay cassettes (played unpaced, as fast as the event
loop lets them: the stress case; a real model streams slower).

1. `counterpoint run TASK --headless` (a subprocess, as a user runs it) whose generator
   answers 5 MB of prose (~1M stream pieces, cut as cassettes cut text) and whose reviewer
   approves. Baseline, in the same run: the unrendered stream, i.e. loading the same cassette
   and reading its chunks from `ReplayProvider.stream` with nothing done per chunk (plus a
   bare `counterpoint --version` process for the start-up cost). Printed: seconds, the ratio,
   the journal's size and its number of delta lines.
2. The TUI (`App.run_test`, 120×40) on a round whose reviewer returns 5,000 findings, from
   the app's start until the round is aligned, its findings table filled and every worker
   done. Baseline: the same round with a 50-finding review. Printed: both times and the
   ratio (100 would be linear in findings; fixed costs make it lower).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _support import ROOT, isolated_home, scratch_repo

TEXT_BYTES = 5_000_000
FINDINGS = 5000
BASE_FINDINGS = 50
LINE = "Some words of a long explanation, with `code` in it and more words.\n"

sys.path.insert(0, str(ROOT / "tests"))  # support.tui (the app's test helpers)


def _cassette(path: Path, model: str, exchanges: list[dict]) -> str:
    from counterpoint.providers.replay import write_cassette

    write_cassette(path, model, exchanges, scripted=True)
    return f"replay:{path}"


def _exchange(role: str, text: str | None = None, data: dict | None = None) -> dict:
    usage = {"input_tokens": 1200, "output_tokens": 300}
    return {"role": role, "text": text if text is not None else json.dumps(data), "data": data,
            "usage": usage, "stop_reason": "end_turn"}


def _review(findings: list[dict], verdict: str = "needs-changes") -> dict:
    return {"summary": "Reviewed the change.", "verdict": verdict, "findings": findings}


def huge_text() -> str:
    paragraph = LINE * 20 + "\n"
    return "I explain at length.\n\n" + paragraph * (TEXT_BYTES // len(paragraph))


async def _read_chunks(cassette: str) -> int:
    from counterpoint.providers.base import ModelRequest, TextDelta
    from counterpoint.providers.replay import ReplayProvider

    provider = ReplayProvider(cassette.removeprefix("replay:"))
    count = 0
    async for item in provider.stream(ModelRequest(role="generator", system="s")):
        count += isinstance(item, TextDelta)
    return count


def measure_output(work: Path) -> None:
    repo = scratch_repo()
    text = huge_text()
    gen = _cassette(work / "gen.json", "openai:gpt-5.5", [_exchange("generator", text)])
    rev = _cassette(work / "rev.json", "anthropic:claude-opus-5-5",
                    [_exchange("reviewer", data=_review([], verdict="approve"))])
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cli = [sys.executable, "-m", "counterpoint"]

    started = time.perf_counter()
    chunks = asyncio.run(_read_chunks(gen))
    stream = time.perf_counter() - started

    started = time.perf_counter()
    subprocess.run([*cli, "--version"], env=env, check=True, capture_output=True)
    bare = time.perf_counter() - started

    started = time.perf_counter()
    proc = subprocess.run([*cli, "run", "Explain", "--generator", gen, "--reviewer", rev,
                           "--headless"], cwd=repo, env=env, capture_output=True, text=True)
    run = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"the run failed ({proc.returncode}): {proc.stderr[-500:]}")
    (journal,) = sorted((Path(os.environ["COUNTERPOINT_HOME"]) / "sessions").glob("*.jsonl"))
    lines = journal.read_bytes().splitlines()
    deltas = sum(1 for line in lines if b'"event":"delta"' in line)
    print(f"5 MB generator answer ({len(text):,} chars, {chunks:,} stream pieces), headless run")
    print(f"  baseline: reading the cassette's chunks, nothing done: {stream:6.2f} s")
    print(f"  baseline: `counterpoint --version` (process start):     {bare:6.2f} s")
    print(f"  `counterpoint run --headless`, end to end:               {run:6.2f} s")
    print(f"  ratio run / stream read: {run / stream:.1f}x   (run - start-up) / stream read: "
          f"{(run - bare) / stream:.1f}x")
    print(f"  journal: {journal.stat().st_size / 1e6:.1f} MB, {len(lines)} lines, {deltas} delta lines")


def _findings(count: int, seed: int = 1) -> list[dict]:
    rnd = random.Random(seed)
    severities = ["critical", "high", "medium", "low", "info"]
    categories = ["security", "correctness", "performance", "simplicity", "testing"]
    return [{"path": "app.py", "start_line": (start := rnd.randint(1, 4000)),
             "end_line": start + rnd.randint(0, 5), "severity": rnd.choice(severities),
             "category": rnd.choice(categories),
             "title": f"Problem {n} in f{n % 2000}: {rnd.choice(['unchecked input', 'off by one'])}",
             "rationale": f"The function f{n % 2000} does something questionable ({n}).",
             "suggestion": None, "confidence": 0.8} for n in range(count)]


async def _tui_round(work: Path, count: int) -> float:
    from counterpoint.config import load_settings
    from counterpoint.tui.app import make_app
    from counterpoint.tui.startup import RunStart
    from counterpoint.tui.widgets import FindingsTable
    from counterpoint.workspace import Workspace
    from support.tui import workers_done

    source = Path(tempfile.mkdtemp(prefix="cp-bench-src-"))
    (source / "app.py").write_text(
        "def add(a, b):\n    return a + b\n" + "".join(f"\n\ndef f{i}(x):\n    return x + {i}\n" for i in range(2000))
    )
    repo = scratch_repo(source)
    answer = "I add a check.\n\napp.py\n```python\n<<<<<<< SEARCH\ndef add(a, b):\n    return a + b\n" \
             "=======\ndef add(a, b):\n    assert a is not None\n    return a + b\n>>>>>>> REPLACE\n```\n"
    gen = _cassette(work / f"tui-gen-{count}.json", "openai:gpt-5.5",
                    [_exchange("generator", answer), _exchange("responder", data={"responses": []})])
    rev = _cassette(work / f"tui-rev-{count}.json", "anthropic:claude-opus-5-5",
                    [_exchange("reviewer", data=_review(_findings(count)))])
    app = make_app(RunStart(Workspace.open(repo), "Add a check", gen, [rev]),
                   settings=load_settings(None), speed=None, frozen=True)
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        await workers_done(app, pilot, ready=lambda app: bool(
            app.orch and app.orch.session.current and app.orch.session.current.aligned))
        elapsed = time.perf_counter() - started
        r = app.orch.session.current
        table = app.screen.query_one(FindingsTable)
        listed = sum(len(c.findings) for c in table.clusters)
        if len(r.findings) != count or listed != count:
            raise RuntimeError(f"{count} findings sent, {len(r.findings)} in the round, {listed} listed")
    return elapsed


def measure_review(work: Path) -> None:
    base = asyncio.run(_tui_round(work, BASE_FINDINGS))
    big = asyncio.run(_tui_round(work, FINDINGS))
    print(f"TUI round, 120x40 headless, reviewer returning N findings (start -> aligned, table filled)")
    print(f"  baseline: {BASE_FINDINGS:>5} findings: {base:6.2f} s")
    print(f"            {FINDINGS:>5} findings: {big:6.2f} s")
    print(f"  ratio: {big / base:.1f}x for {FINDINGS // BASE_FINDINGS}x the findings")


def main() -> None:
    isolated_home()
    work = Path(tempfile.mkdtemp(prefix="cp-bench-huge-"))
    measure_output(work)
    measure_review(work)


if __name__ == "__main__":
    main()
