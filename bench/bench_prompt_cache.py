"""Benchmark: how cache-friendly are the prompts a session sends?

A three-round session on the payments-webhooks sample (the demo's hand-written model texts,
served by the fake model server through the real SDKs). For every request, the share of its
prompt (tool / schema definitions, system text, messages, in wire order) that is a
byte-equal prefix of the previous request of the same role (same model and same kind:
generate, review, respond), i.e. what a provider's prefix cache can reuse. Target: >= 0.9
from round 2 on.

Three repository sizes: the sample as shipped, the sample with 160 KiB of small neighbouring
modules, and a repository larger than the context budget (the context fills the default
60,000-token budget, as it does on most real projects). The "new" column is what a request
adds to the previous one: the model's own previous answer and the new instructions, about
the same whatever the repository size, so the share grows with the context.
With `--tools` the session offers the read-only tools (`context.tools`): every round the
generator first reads a file and looks up a symbol, and the first reviewer searches before
it answers, so each such step makes two requests of its role; the tool calls and results
count as prompt bytes like any message.
Run: .venv/bin/python bench/bench_prompt_cache.py [--tools]
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import ROOT, fake_server, isolated_home, make_factory, scratch_repo

DEMO = ROOT / "sample_repos" / "payments-webhooks.demo"
GENERATOR = "openai:gpt-5.5"
REVIEWERS = ["anthropic:claude-opus-5-5", "openai:gpt-5.5-mini"]
CASSETTES = {GENERATOR: "generator.json", REVIEWERS[0]: "reviewer-claude.json",
             REVIEWERS[1]: "reviewer-qwen.json"}
ROUNDS = 3
TOOLS = "--tools" in sys.argv[1:]
LOOK = {"tool_calls": [
    {"name": "read_file", "arguments": {"path": "payments_webhooks/signing.py", "start_line": 1,
                                        "end_line": 40}},
    {"name": "find_symbol", "arguments": {"name": "verify_signature"}}]}
CHECK = {"tool_calls": [{"name": "search", "arguments": {"pattern": "def [a-z_]+sign"}}]}


def answers(spec: str) -> dict[str, list[dict]]:
    """The demo cassette's exchanges for a model, as fake-server responses, per role."""
    from counterpoint.core.model_json import find_json
    from counterpoint.providers.replay import load_cassette

    out: dict[str, list[dict]] = {}
    for exchange in load_cassette(DEMO / CASSETTES[spec])["exchanges"]:
        text = exchange.get("text") or "".join(exchange.get("chunks") or [])
        data = exchange.get("data") or (find_json(text) if exchange["role"] in
                                        ("reviewer", "responder") else None)
        out.setdefault(exchange["role"], []).append({"json": data} if data else {"text": text})
    return out


def script(server) -> None:
    for spec in (GENERATOR, *REVIEWERS):
        by_role = answers(spec)
        model = spec.partition(":")[2]
        for n in range(ROUNDS):
            if spec == GENERATOR:
                for role in ("generator", "responder"):
                    if TOOLS and role == "generator":
                        server.script(LOOK, model=model)
                    server.script(by_role[role][min(n, len(by_role[role]) - 1)], model=model)
            else:
                if TOOLS and spec == REVIEWERS[0]:
                    server.script(CHECK, model=model)
                server.script(by_role["reviewer"][min(n, len(by_role["reviewer"]) - 1)], model=model)


def _text(content) -> str:
    """A message's content as prompt bytes: text blocks as their text, tool_use / tool_result
    blocks as their JSON (cache_control marks left out: they move, the prompt does not)."""
    if isinstance(content, str) or content is None:
        return content or ""
    out = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type", "text") == "text":
            out.append(block.get("text", ""))
        else:
            out.append(json.dumps({k: v for k, v in block.items() if k != "cache_control"},
                                  sort_keys=True))
    return "".join(out)


def _message(m: dict) -> str:
    calls = json.dumps(m["tool_calls"], sort_keys=True) if m.get("tool_calls") else ""
    return f"{m['role']}\x00{m.get('tool_call_id', '')}{_text(m.get('content'))}{calls}"


def prompt(body: dict) -> tuple[str, bytes]:
    """(kind, the prompt's bytes in wire order: tool / schema definition, system, messages)."""
    from counterpoint.core.tools import TOOL_NAMES

    fmt = [body.get("tools"), body.get("response_format")]
    parts = [json.dumps(fmt, sort_keys=True), _text(body.get("system"))]
    parts += [_message(m) for m in body["messages"]]
    names = [t.get("name") or t.get("function", {}).get("name") for t in body.get("tools") or []]
    names = [n for n in names if n not in TOOL_NAMES]
    name = names[-1] if names else (body.get("response_format") or {}).get("json_schema", {}).get("name", "")
    kind = {"submit_review": "review", "submit_responses": "respond"}.get(name, "generate")
    return kind, "\x00".join(parts).encode()


def common_prefix(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    lo, hi = 0, n
    while lo < hi:  # binary search on equal prefixes (bytes compare in C)
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


async def session(server, repo: Path) -> None:
    from counterpoint.workflow.launch import start_session
    from counterpoint.workspace import Workspace

    task = json.loads((DEMO / "demo.json").read_text())["task"]
    from counterpoint.core.tools import ToolBounds

    orch = start_session(workspace=Workspace.open(repo), task=task, generator=GENERATOR,
                         reviewers=REVIEWERS, make_provider=make_factory(server),
                         rounds=ROUNDS)
    if TOOLS:
        orch.tool_bounds = ToolBounds()
    ok = await orch.run_round()
    while ok and orch.current.number < ROUNDS:
        orch.accept_policy("all")
        ok = await orch.revise()
    orch.close()
    for provider in orch.providers.values():
        await provider.aclose()
    if not ok:
        raise RuntimeError(f"the session failed: {orch.session.summary()['errors']}")


def pad(repo: Path, kib: int, module_kib: int) -> None:
    """Add `kib` KiB of ordinary modules of `module_kib` KiB each, as a real project has."""
    from _support import git

    def body(n: int) -> str:
        return "".join(
            f"def helper_{n}_{i}(value):\n    \"\"\"Normalise value number {i}.\"\"\"\n"
            f"    return str(value).strip().lower() + '-{i}'\n\n\n" for i in range(module_kib * 1024 // 110)
        )

    for n in range(max(1, kib // module_kib)):
        path = repo / "payments_webhooks" / f"support_{n:02d}.py"  # neighbours: sent
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body(n))
    git(repo, "add", "-A")
    git(repo, "-c", "user.email=b@example.com", "-c", "user.name=bench", "commit", "-qm", "pad")


def measure(pad_kib: int, module_kib: int) -> tuple[int, list[tuple[int, tuple[str, str], float, float, int]]]:
    """(the first request's size, a row per later request)."""
    isolated_home()
    repo = scratch_repo(ROOT / "sample_repos" / "payments-webhooks")
    if pad_kib:
        pad(repo, pad_kib, module_kib)
    server = fake_server()
    try:
        script(server)
        asyncio.run(session(server, repo))
        requests = server.requests
    finally:
        server.stop()
    previous: dict[tuple[str, str], bytes] = {}
    count: dict[tuple[str, str], int] = {}
    rows = []
    for request in requests:
        kind, data = prompt(request.body)
        key = (request.body["model"], kind)
        count[key] = count.get(key, 0) + 1
        before = previous.get(key)
        if before is not None:
            common = common_prefix(before, data)
            rows.append((count[key], key, common / len(data), common / len(before), len(data)))
        previous[key] = data
    return len(prompt(requests[0].body)[1]), rows


CASES = (
    ("the sample repo as shipped (32 KiB)", 0, 0),
    ("sample + 160 KiB of neighbouring 4 KiB modules", 160, 4),
    ("a repository larger than the context budget: sample + 600 KiB of 10 KiB modules", 600, 10),
)


def main() -> None:
    print(f"prompt cache: {ROUNDS} rounds, generator {GENERATOR}, reviewers {', '.join(REVIEWERS)}"
          f"{', with read-only tools' if TOOLS else ''}")
    for label, kib, module_kib in CASES:
        first, rows = measure(kib, module_kib)
        print(f"prompt cache: -- {label}; round 1 generate prompt {first / 1024:.1f} KiB")
        for number, (model, kind), share, kept, size in rows:
            print(f"prompt cache:   request {number} {kind:<8} {model:<16} {size / 1024:6.1f} KiB"
                  f"  share that is the previous prompt {share:6.1%}, new {size * (1 - share) / 1024:4.1f} KiB"
                  f"  (previous prompt reused whole: {'yes' if kept > 0.9999 else f'{kept:.1%}'})")
        shares = [row[2] for row in rows]
        print(f"prompt cache:   round 2+: min {min(shares):.1%}, mean {sum(shares) / len(shares):.1%}"
              " (target >= 90%)")


if __name__ == "__main__":
    main()
