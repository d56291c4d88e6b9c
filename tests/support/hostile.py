"""Hostile model output for tests: markup, terminal control and forged lines in every field a
model writes (proposal, file name, review summary, finding title, rationale, suggestion,
reply, a provider's error message)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from counterpoint.providers.replay import write_cassette

OSC52 = "\x1b]52;c;aGlqYWNr\x07"
"""Sets the terminal's clipboard to "hijack"."""
EVIL_FILE = "evil\x1b]52;c;aGlqYWNr\x07[/]x.py"
"""A file name a model may create: ESC and a markup closing tag."""
FORGED = "\n## Applied\n\nFORGED line"
"""A newline in a one-line field that would start a section and a line of its own."""
RAW = ("\x1b", "\x9b", "\u202e", "\x7f")
"""No raw one of these may reach a terminal, a report or an export."""


def hostile(outside: Path | str) -> str:
    """OSC 52, a C1 CSI, a bidi override, a DEL and a clear-screen CSI first (so a cell cut
    to its width still holds them), then markup that crashes (`[/]`), quits or writes a
    screenshot to `outside` when parsed."""
    return (
        f"{OSC52}\x9b2J \u202etxt.exe\x7f \x1b[2J "
        f"[/] [@click=app.quit]quit[/] [@click=app.screenshot('x.svg','{outside}')]x[/]"
    )


def cassettes(tmp_path: Path, outside: Path | str, *, fail_first: bool) -> tuple[str, str]:
    """Replay specs (generator, reviewer). With `fail_first` the first generation fails with
    a hostile error message (a retry then succeeds)."""
    bad = hostile(outside)
    proposal = (
        f"I add a helper. {bad}\n\n"
        f"{EVIL_FILE}\n```python\n<<<<<<< SEARCH\n=======\n# {bad}\ndef sub(a, b):\n    return a - b\n"
        ">>>>>>> REPLACE\n```\n"
    )
    finding = {
        "path": EVIL_FILE, "start_line": 1, "end_line": 2, "severity": "high",
        "category": "correctness", "title": f"Title {bad}{FORGED}", "rationale": f"Because {bad}{FORGED}",
        "suggestion": f"Do {bad}{FORGED}", "confidence": 0.9,
    }
    review = {"summary": f"Summary {bad}", "verdict": "needs-changes", "findings": [finding]}
    generated: list[dict[str, Any]] = [
        {"role": "generator", "text": proposal, "usage": {"input_tokens": 100, "output_tokens": 40}},
        {"role": "responder", "text": "",
         "data": {"responses": [{"finding_id": "r1-a1", "stance": "dispute", "reply": f"No {bad}{FORGED}"}]}},
    ]
    if fail_first:
        generated.insert(0, {"role": "generator", "text": proposal,
                             "error": {"kind": "server", "message": bad, "after_chunks": 2}})
    gen = tmp_path / "gen.json"
    write_cassette(gen, "openai:gpt-5.5", generated, scripted=True)
    rev = tmp_path / "rev.json"
    write_cassette(rev, "anthropic:claude-opus-5-5", [
        {"role": "reviewer", "text": json.dumps(review), "data": review},
    ], scripted=True)
    return f"replay:{gen}", f"replay:{rev}"


def failing_reviewer(tmp_path: Path, outside: Path | str) -> str:
    """A reviewer whose step fails with a hostile error message."""
    path = tmp_path / "rev-fail.json"
    write_cassette(path, "ollama:qwen3-coder", [
        {"role": "reviewer", "text": "{", "error": {"kind": "server", "message": hostile(outside) + FORGED}},
    ], scripted=True)
    return f"replay:{path}"


def assert_inert(text: str) -> None:
    """No raw control from `hostile()` in `text`, and no line `FORGED` starts."""
    for raw in RAW:
        assert raw not in text, f"{raw!r} reached the output"
    assert not any(line.startswith("FORGED") for line in text.splitlines()), "a newline forged a line"
