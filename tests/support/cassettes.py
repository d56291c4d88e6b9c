"""Small cassettes for tests, written with the replay provider's own writer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from counterpoint.providers.replay import write_cassette

USAGE = {"input_tokens": 1200, "output_tokens": 300, "cached_input_tokens": 800}


def exchange(role: str, text: str | None = None, data: Any = None, **extra: Any) -> dict[str, Any]:
    if text is None:
        text = json.dumps(data)
    out = {"role": role, "text": text, "usage": dict(USAGE), "stop_reason": "end_turn"}
    if data is not None:
        out["data"] = data
    out.update(extra)
    return out


def cassette(path: Path, model: str, exchanges: list[dict[str, Any]]) -> str:
    write_cassette(path, model, exchanges, scripted=True)
    return f"replay:{path}"


def finding(path: str, start: int, end: int, severity: str, category: str, title: str,
            rationale: str, suggestion: str | None = None, confidence: float = 0.8) -> dict[str, Any]:
    return {"path": path, "start_line": start, "end_line": end, "severity": severity,
            "category": category, "title": title, "rationale": rationale,
            "suggestion": suggestion, "confidence": confidence}


def review(*findings: dict[str, Any], verdict: str = "needs-changes",
           summary: str = "Reviewed the change to app.py.") -> dict[str, Any]:
    """A review; the default summary names app.py, so an approval of a small change to it
    passes the reviewer quality gate (core/review_quality.py)."""
    return {"summary": summary, "verdict": verdict, "findings": list(findings)}


def responses(*items: tuple[str, str, str]) -> dict[str, Any]:
    return {"responses": [{"finding_id": i, "stance": s, "reply": r} for i, s, r in items]}


GENERATOR_R1 = """\
I add input validation to `add` and a `mul` helper.

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

app.py
```python
<<<<<<< SEARCH
def subtract(a, b):
    return a - b
=======
def subtract(a, b):
    return b - a
>>>>>>> REPLACE
```
"""

GENERATOR_R2 = """\
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


def tiny_session(tmp: Path) -> tuple[str, list[str]]:
    """A generator and two reviewers over the `git_repo` fixture's app.py, two rounds."""
    rev_a = review(
        finding("app.py", 2, 3, "high", "correctness", "add() rejects floats",
                "The isinstance check only allows int, so add(1.5, 2) now raises TypeError.",
                "Accept numbers.Number or (int, float)."),
        finding("app.py", 7, 8, "low", "testing", "mul() has no tests",
                "The new mul helper is not covered by any test."),
    )
    rev_b = review(
        finding("app.py", 2, 4, "high", "correctness", "Type check refuses float arguments",
                "Floats were accepted before; the new check breaks callers passing 1.5.",
                "Allow float as well as int."),
        finding("app.py", 1, 1, "medium", "security", "No rate limit on add",
                "Callers can call add in a loop without limit.", confidence=0.3),
    )
    gen = cassette(tmp / "gen.json", "openai:gpt-5.5", [
        exchange("generator", GENERATOR_R1),
        exchange("responder", data=responses(
            ("r1-a1", "agree", "Right, floats should pass."),
            ("r1-a2", "partial", "A test would help; small."),
            ("r1-b1", "agree", "Same as r1-a1."),
            ("r1-b2", "dispute", "add is a pure function; there is nothing to rate limit."),
        )),
        exchange("generator", GENERATOR_R2),
        exchange("responder", data=responses(("r2-a1", "agree", "Yes."))),
    ])
    a = cassette(tmp / "rev-a.json", "anthropic:claude-opus-5-5", [
        exchange("reviewer", data=rev_a),
        exchange("reviewer", data=review(
            finding("app.py", 8, 9, "info", "docs", "mul() lacks a docstring",
                    "A one-line docstring would help.")
        )),
    ])
    b = cassette(tmp / "rev-b.json", "ollama:qwen3-coder", [
        exchange("reviewer", data=rev_b),
        exchange("reviewer", data=review(verdict="approve")),
    ])
    return gen, [a, b]
