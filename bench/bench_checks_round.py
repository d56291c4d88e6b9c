"""Benchmark: the demo's round with and without checks, against its critical path.

Round 1 of the offline demo (scripted models at a realistic pace, --speed 1), once without
checks and once with the sample's pytest suite as the check (sandboxed). From the events'
times: generate, the slowest review, the checks (scratch trees, the proposal's run and the
base's, concurrently) and respond; the critical path is generate + max(slowest review,
checks) + respond. Target: wall <= 1.05 x critical path.
Run: .venv/bin/python bench/bench_checks_round.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import isolated_home


def _t(at: str) -> float:
    return datetime.fromisoformat(at).timestamp()


def one_round(with_checks: bool, speed: float) -> dict[str, float]:
    from counterpoint.config import load_settings
    from counterpoint.workflow.check_step import Checks
    from counterpoint.workflow.checks import CheckRunner
    from counterpoint.workflow.demo import prepare_demo
    from counterpoint.workflow.launch import provider_factory, start_session
    from counterpoint.workflow.sandbox import find_sandbox
    from counterpoint.workspace import Workspace

    demo = prepare_demo(dest=Path(tempfile.mkdtemp(prefix="cp-bench-demo-")))
    events: list = []
    workspace = Workspace.open(demo.repo)
    orch = start_session(
        workspace=workspace, task=demo.task, generator=demo.generator, reviewers=demo.reviewers,
        make_provider=provider_factory(load_settings(None), base_dir=demo.repo, speed=speed),
        listeners=[events.append],
    )
    if with_checks:
        orch.checks = Checks(demo.checks, CheckRunner(workspace.root, demo.checks, find_sandbox()))
    started = time.time()
    assert asyncio.run(orch.run_round())
    wall = time.time() - started
    begin = {(e.step, e.model): _t(e.at) for e in events if e.event == "step_started"}
    gen_end = next(_t(e.at) for e in events if e.event == "proposal_ready")
    reviews = [_t(e.at) - gen_end for e in events if e.event == "review_ready"]
    checks = [_t(e.at) - gen_end for e in events if e.event == "checks_ready"]
    respond_start = begin.get(("respond", orch.current.generator), gen_end)
    respond_end = next(_t(e.at) for e in events if e.event == "response_ready")
    generate = gen_end - started
    respond = respond_end - respond_start
    middle = max(reviews + checks)
    return {"wall": wall, "generate": generate, "review": max(reviews), "checks": max(checks, default=0.0),
            "respond": respond, "critical": generate + middle + respond}


def main() -> None:
    isolated_home()
    for speed in (1.0, 0.0):
        plain = one_round(False, speed)
        checked = one_round(True, speed)
        print(f"demo round 1 at --speed {speed:g}: without checks {plain['wall']:.2f} s, "
              f"with checks {checked['wall']:.2f} s")
        print(f"  with checks: generate {checked['generate']:.2f} + max(review {checked['review']:.2f}, "
              f"checks {checked['checks']:.2f}) + respond {checked['respond']:.2f} = critical path "
              f"{checked['critical']:.2f} s; wall / critical = {checked['wall'] / checked['critical']:.3f} "
              f"(target <= 1.05)")


if __name__ == "__main__":
    main()
