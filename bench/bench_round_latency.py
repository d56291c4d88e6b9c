"""Benchmark: does a round cost no more than its critical path?

One generator and two reviewers, real SDKs against the fake model server, which adds latency
to the head of each answer and between its chunks. The round's wall time is compared with
its critical path measured in the same run: generate + respond + the slowest review (the two
reviews run at the same time). Target: wall / critical path <= 1.1.
Run: .venv/bin/python bench/bench_round_latency.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import fake_server, isolated_home, make_factory, scratch_repo  # noqa: E402

GENERATOR = "anthropic:claude-opus-5-5"
REVIEWERS = ["openai:gpt-5.5", "anthropic:claude-sonnet-5"]
EDIT = """I add a mul helper.

app.py
```python
<<<<<<< SEARCH
def add(a, b):
    return a + b
=======
def add(a, b):
    return a + b


def mul(a, b):
    return a * b
>>>>>>> REPLACE
```
"""


def finding(start: int, title: str) -> dict:
    return {"path": "app.py", "start_line": start, "end_line": start + 1, "severity": "medium",
            "category": "testing", "title": title, "rationale": "Not covered by a test.",
            "suggestion": None, "confidence": 0.7}


def script(server, latency: dict[str, float], delay: float) -> None:
    server.script({"text": EDIT, "latency": latency["generate"], "chunk_delay": delay},
                  {"json": {"responses": [{"finding_id": "r1-a1", "stance": "agree", "reply": "ok"},
                                          {"finding_id": "r1-b1", "stance": "agree", "reply": "ok"}]},
                   "latency": latency["respond"], "chunk_delay": delay},
                  model=GENERATOR.partition(":")[2])
    for spec, title in zip(REVIEWERS, ("mul() has no test", "No test for mul")):
        server.script({"json": {"summary": "s", "verdict": "needs-changes",
                                "findings": [finding(5, title)]},
                       "latency": latency[spec], "chunk_delay": delay},
                      model=spec.partition(":")[2])


async def one_round(server, repo: Path) -> tuple[float, float, dict[str, float]]:
    from counterpoint.workflow.launch import start_session
    from counterpoint.workspace import Workspace

    started: dict[tuple[str, str], float] = {}
    took: dict[str, float] = {}

    def listen(event) -> None:
        key = (getattr(event, "step", ""), getattr(event, "model", ""))
        if event.event == "step_started":
            started[key] = time.perf_counter()
        elif event.event == "usage":
            name = event.step if event.step != "review" else event.model
            took[name] = time.perf_counter() - started[key]

    orch = start_session(workspace=Workspace.open(repo), task="Add a mul helper to app.py",
                         generator=GENERATOR, reviewers=REVIEWERS,
                         make_provider=make_factory(server), listeners=[listen])
    t0 = time.perf_counter()
    ok = await orch.run_round()
    wall = time.perf_counter() - t0
    orch.close()
    for provider in orch.providers.values():
        await provider.aclose()
    assert ok, orch.session.summary()["errors"]
    critical = took["generate"] + took["respond"] + max(took[s] for s in REVIEWERS)
    return wall, critical, took


def main() -> None:
    isolated_home()
    repo = scratch_repo()
    server = fake_server()
    try:
        # warm-up: SDK imports and first client construction are not part of a round
        script(server, {"generate": 0, "respond": 0, **{s: 0 for s in REVIEWERS}}, 0)
        asyncio.run(one_round(server, repo))
        ratios = []
        latency = {"generate": 0.30, "respond": 0.15, REVIEWERS[0]: 0.25, REVIEWERS[1]: 0.45}
        for _ in range(3):
            script(server, latency, 0.004)
            wall, critical, took = asyncio.run(one_round(server, repo))
            ratios.append(wall / critical)
        steps = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in took.items())
        print(f"round latency: steps (last run) {steps}")
        print(f"round latency: wall {wall * 1000:.0f} ms vs critical path {critical * 1000:.0f} ms")
        print(f"round latency: wall / critical path = {min(ratios):.3f} best, "
              f"{max(ratios):.3f} worst of {len(ratios)} (target <= 1.1)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
