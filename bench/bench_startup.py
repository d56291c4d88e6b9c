"""Benchmark: start-up cost of the command line, against `python -c pass` in the same run.

- `counterpoint --version`;
- time to the first line of `counterpoint run --headless --json` (the session_started event)
  with replayed models, and with real SDK providers against the fake model server;
- which SDKs each of them imported (`-X importtime`): none for --version and replay runs,
  and for a real run only the SDKs of the providers it uses.
Run: .venv/bin/python bench/bench_startup.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import ANTHROPIC_KEY, OPENAI_KEY, fake_server, scratch_repo  # noqa: E402

SDKS = ("anthropic", "openai", "httpx2", "textual")
RUNS = 3


def first_line_time(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds from spawn to the first line on stdout (the process is then left to finish)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    took = time.perf_counter() - t0
    proc.communicate()
    if not line:
        raise RuntimeError(f"no output from {' '.join(argv)}")
    return took


def imported(argv: list[str], cwd: Path, env: dict[str, str]) -> set[str]:
    """Top-level packages among SDKS that the command imported."""
    proc = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True)
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip().split(".")[0]
            if name in SDKS:
                names.add(name)
    return names


def median(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    return statistics.median(first_line_time(argv, cwd, env) for _ in range(RUNS))


def replay_specs(tmp: Path) -> list[str]:
    from counterpoint.providers.replay import write_cassette

    review = {"summary": "ok", "verdict": "approve", "findings": []}
    write_cassette(tmp / "gen.json", "openai:gpt-5.5",
                   [{"role": "generator", "text": "Nothing to change."}], scripted=True)
    write_cassette(tmp / "rev.json", "anthropic:claude-opus-5-5",
                   [{"role": "reviewer", "text": json.dumps(review), "data": review}], scripted=True)
    return ["--generator", f"replay:{tmp / 'gen.json'}", "--reviewer", f"replay:{tmp / 'rev.json'}"]


def main() -> None:
    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="cp-bench-startup-"))
    repo = scratch_repo()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    env.update(COUNTERPOINT_HOME=str(tmp / "home"), COUNTERPOINT_CONFIG=str(tmp / "none.toml"))
    server = fake_server()
    real_env = {**env, "ANTHROPIC_API_KEY": ANTHROPIC_KEY, "OPENAI_API_KEY": OPENAI_KEY,
                "ANTHROPIC_BASE_URL": server.anthropic_base_url,
                "OPENAI_BASE_URL": server.openai_base_url}
    try:
        base = median([py, "-c", "print()"], tmp, env)
        sdk = median([py, "-c", "import anthropic, openai; print()"], tmp, env)
        version = median([py, "-m", "counterpoint", "--version"], tmp, env)
        run = [py, "-m", "counterpoint", "run", "Change nothing", "--headless", "--json"]
        replay = median([*run, *replay_specs(tmp)], repo, env)
        real_args = ["--generator", "anthropic:claude-opus-5-5", "--reviewer", "openai:gpt-5.5"]
        real = median([*run, *real_args], repo, real_env)
        print(f"startup: python -c pass (first line)          {base * 1000:6.0f} ms  (baseline)")
        for label, value in (("python: import anthropic, openai", sdk),
                             ("counterpoint --version", version),
                             ("run --headless, replayed models", replay),
                             ("run --headless, anthropic + openai", real)):
            print(f"startup: {label:<37} {value * 1000:6.0f} ms  ({value / base:.2f}x baseline,"
                  f" +{(value - base) * 1000:.0f} ms)")
        checks = (
            ("counterpoint --version", [py, "-m", "counterpoint", "--version"], tmp, env),
            ("run, replayed models", [*run, *replay_specs(tmp)], repo, env),
            ("run, anthropic + openai", [*run, *real_args], repo, real_env),
        )
        for label, argv, cwd, e in checks:
            names = imported(argv, cwd, e)
            print(f"startup: {label:<26} imports {', '.join(sorted(names)) or 'no SDK, no TUI'}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
