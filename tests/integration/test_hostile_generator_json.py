"""A generator answering the findings with JSON of the wrong shape (`{"responses": null}`,
`5`, a string) fails the respond step with a message; no traceback, exit 1."""

from __future__ import annotations

import json

import pytest

from support.fake_models import cp, events
from tests.support.cassettes import cassette, tiny_session


@pytest.mark.parametrize("answer", [{"responses": None}, 5, "responses", {"responses": 5},
                                    {"responses": [5, None, "x"]}])
def test_a_malformed_response_is_a_failed_step(answer, git_repo, tmp_path):
    gen, (a, b) = tiny_session(tmp_path)
    path = tmp_path / "gen.json"
    exchanges = json.loads(path.read_text())["exchanges"]
    exchanges[1].pop("data")  # the answer as the model's text, as a server without tools sends it
    exchanges[1]["text"] = json.dumps(answer)
    gen = cassette(path, "openai:gpt-5.5", exchanges)
    proc = cp("run", "Validate add", "--generator", gen, "--reviewer", a, "--reviewer", b,
              "--headless", "--json", cwd=git_repo)
    assert "Traceback" not in proc.stderr, proc.stderr
    evs = events(proc.stdout)
    if isinstance(answer, dict) and isinstance(answer["responses"], list):
        assert proc.returncode in (0, 1), proc.stderr  # a list: the unusable items are skipped
        (ready,) = [e for e in evs if e["event"] == "response_ready"]
        assert ready["responses"] == []
        return
    assert proc.returncode == 1, proc.stderr
    failed = [e for e in evs if e["event"] == "step_failed"]
    assert [(e["step"], e["kind"]) for e in failed] == [("respond", "bad-output")]
