"""Driving `counterpoint` subprocesses against the loopback fake model server.

Wraps `tests/fakes` (the server itself) with what the end-to-end tests share: distinctive
fake keys, the environment that points both SDKs at the server, a config file with short
timeouts and no retries, a scripted round (a generator whose edit applies to the `git_repo`
fixture's app.py, two reviewers whose findings make one consensus and two solo clusters, and
a responder whose stances name the real finding ids), and journal / summary helpers.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

ANTHROPIC_KEY = "sk-ant-FAKEKEY-e2e-7f3c9a1b2d4e6f8091a2b3c4"
OPENAI_KEY = "sk-proj-FAKEKEY-e2e-0a1b2c3d4e5f60718293a4b5"
KEYS = (ANTHROPIC_KEY, OPENAI_KEY)

TASK = "Validate the arguments of add in app.py and add a mul helper"

GENERATOR_TEXT = """\
I validate the arguments of `add` and add a `mul` helper next to it.

app.py
```python
<<<<<<< SEARCH
def add(a, b):
    return a + b
=======
def add(a, b):
    if not isinstance(a, int) or not isinstance(b, int):
        raise TypeError("add() takes integers")
    return a + b


def mul(a, b):
    return a * b
>>>>>>> REPLACE
```
"""

PROPOSED_APP = """\
def add(a, b):
    if not isinstance(a, int) or not isinstance(b, int):
        raise TypeError("add() takes integers")
    return a + b


def mul(a, b):
    return a * b
"""


def finding(start: int, end: int, severity: str, category: str, title: str, rationale: str,
            suggestion: str | None = None, confidence: float = 0.8) -> dict[str, Any]:
    return {"path": "app.py", "start_line": start, "end_line": end, "severity": severity,
            "category": category, "title": title, "rationale": rationale,
            "suggestion": suggestion, "confidence": confidence}


REVIEW_A = {
    "summary": "The check is too strict.",
    "verdict": "needs-changes",
    "findings": [
        finding(2, 3, "high", "correctness", "add() rejects floats",
                "The isinstance check only allows int, so add(1.5, 2) now raises TypeError.",
                "Accept numbers.Number or (int, float)."),
        finding(7, 8, "low", "testing", "mul() has no tests",
                "The new mul helper is not covered by any test."),
    ],
}
REVIEW_B = {
    "summary": "Floats break.",
    "verdict": "needs-changes",
    "findings": [
        finding(2, 4, "high", "correctness", "Type check refuses float arguments",
                "Floats were accepted before; the new check breaks callers passing 1.5.",
                "Allow float as well as int."),
        finding(1, 1, "medium", "security", "No rate limit on add",
                "Callers can call add in a loop without limit.", confidence=0.3),
    ],
}
RESPONSES = {"responses": [
    {"finding_id": "r1-a1", "stance": "agree", "reply": "Right, floats should pass."},
    {"finding_id": "r1-a2", "stance": "partial", "reply": "A test would help; small."},
    {"finding_id": "r1-b1", "stance": "agree", "reply": "Same as r1-a1."},
    {"finding_id": "r1-b2", "stance": "dispute", "reply": "add is pure; nothing to limit."},
]}

# Usage as each wire format reports it, and what it must become in the summary.
ANTHROPIC_USAGE = {"input_tokens": 1000, "output_tokens": 200,
                   "cache_read_input_tokens": 3000, "cache_creation_input_tokens": 500}
ANTHROPIC_NORMAL = {"input_tokens": 4500, "output_tokens": 200, "cached_input_tokens": 3000,
                    "cache_write_tokens": 500}
OPENAI_USAGE = {"prompt_tokens": 4000, "completion_tokens": 300, "cached_tokens": 2500}
OPENAI_NORMAL = {"input_tokens": 4000, "output_tokens": 300, "cached_input_tokens": 2500,
                 "cache_write_tokens": 0}


def api_of(spec: str) -> str:
    return spec.partition(":")[0]


def model_of(spec: str) -> str:
    return spec.partition(":")[2]


def usage_for(spec: str) -> dict[str, int]:
    return dict(ANTHROPIC_USAGE if api_of(spec) == "anthropic" else OPENAI_USAGE)


def normal_usage(spec: str) -> dict[str, int]:
    return dict(ANTHROPIC_NORMAL if api_of(spec) == "anthropic" else OPENAI_NORMAL)


def script_generate(server, generator: str) -> None:
    server.script({"text": GENERATOR_TEXT, "usage": usage_for(generator)}, model=model_of(generator))


def script_reviews(server, reviewers: list[str], reviews=(REVIEW_A, REVIEW_B)) -> None:
    for spec, review in zip(reviewers, reviews):
        server.script({"json": review, "usage": usage_for(spec)}, model=model_of(spec))


def script_respond(server, generator: str) -> None:
    server.script({"json": RESPONSES, "usage": usage_for(generator)}, model=model_of(generator))


def script_round(server, generator: str, reviewers: list[str]) -> None:
    """One healthy round: generate, two reviews, respond."""
    script_generate(server, generator)
    script_reviews(server, reviewers)
    script_respond(server, generator)


# -- environment ---------------------------------------------------------------------------
def dead_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def fake_env(server, *, anthropic_url: str | None = None, openai_url: str | None = None,
             config: Path | None = None) -> dict[str, str]:
    env = {
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "OPENAI_API_KEY": OPENAI_KEY,
        "ANTHROPIC_BASE_URL": anthropic_url or server.anthropic_base_url,
        "OPENAI_BASE_URL": openai_url or server.openai_base_url,
    }
    if config is not None:
        env["COUNTERPOINT_CONFIG"] = str(config)
    return env


def write_config(path: Path, *, timeout: float = 10, max_retries: int = 0,
                 max_retry_after: float = 5, extra: str = "") -> Path:
    """Short timeouts and no retries for both built-in providers (faults fail fast)."""
    text = ""
    for name in ("anthropic", "openai"):
        text += (f"[providers.{name}]\ntimeout = {timeout}\nmax_retries = {max_retries}\n"
                 f"max_retry_after = {max_retry_after}\n\n")
    path.write_text(text + extra)
    return path


def cp(*args: str, cwd: Path, env: dict[str, str] | None = None,
       timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "counterpoint", *args], cwd=cwd,
                          capture_output=True, text=True, env=full, timeout=timeout)


def events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def journal_files(home: Path) -> list[Path]:
    return sorted((home / "sessions").glob("*.jsonl"))


def journal_events(home: Path) -> list[dict[str, Any]]:
    (path,) = journal_files(home)
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def assert_no_key(*texts: str) -> None:
    for text in texts:
        for key in KEYS:
            assert key not in text, "an API key leaked"
            assert key[-12:] not in text, "part of an API key leaked"


def session_args(generator: str, reviewers: list[str]) -> list[str]:
    args = ["--generator", generator]
    for spec in reviewers:
        args += ["--reviewer", spec]
    return args


# -- round 2 (after --accept consensus: the floats finding goes back) -----------------------
GENERATOR_R2_TEXT = """\
Round 2: accept floats too, as the reviewers asked.

app.py
```python
<<<<<<< SEARCH
    if not isinstance(a, int) or not isinstance(b, int):
        raise TypeError("add() takes integers")
=======
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        raise TypeError("add() takes numbers")
>>>>>>> REPLACE
```
"""
REVIEW_R2_A = {"summary": "Better.", "verdict": "needs-changes", "findings": [
    finding(7, 8, "info", "docs", "mul() lacks a docstring", "A one-line docstring would help."),
]}
REVIEW_R2_B = {"summary": "Fine now: app.py accepts floats.", "verdict": "approve", "findings": []}
RESPONSES_R2 = {"responses": [{"finding_id": "r2-a1", "stance": "agree", "reply": "Will add."}]}


def script_round2(server, generator: str, reviewers: list[str]) -> None:
    server.script({"text": GENERATOR_R2_TEXT, "usage": usage_for(generator)},
                  model=model_of(generator))
    script_reviews(server, reviewers, (REVIEW_R2_A, REVIEW_R2_B))
    server.script({"json": RESPONSES_R2, "usage": usage_for(generator)}, model=model_of(generator))
