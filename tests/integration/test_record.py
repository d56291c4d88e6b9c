"""`--record DIR` saves a real session as cassettes that replay to the same result."""

from __future__ import annotations

import json

import pytest
from fakes import collect

from counterpoint import cli
from counterpoint.core.findings import review_schema
from counterpoint.providers.base import ModelRequest
from counterpoint.providers.openai_provider import OpenAIProvider
from counterpoint.providers.recording import cassette_name, recording_factory
from counterpoint.providers.replay import ReplayProvider, load_cassette
from support.fake_models import (
    KEYS,
    OPENAI_KEY,
    REVIEW_A,
    TASK,
    events,
    fake_env,
    script_round,
    script_round2,
    session_args,
    write_config,
)

GENERATOR, REVIEWERS = "anthropic:claude-opus-5-5", ["openai:gpt-5.5", "anthropic:claude-sonnet-5"]
SAME = ("rounds", "generator", "reviewers", "clusters", "usage", "failed_edits", "errors", "state")


def run(capsys, *argv: str) -> tuple[int, list[dict]]:
    code = cli.main(list(argv))
    return code, events(capsys.readouterr().out)


def replay_args(session: dict) -> list[str]:
    args = ["--generator", session["generator"]]
    for spec in session["reviewers"]:
        args += ["--reviewer", spec]
    return args


@pytest.fixture
def live(model_server, tmp_path, monkeypatch, git_repo):  # noqa: F811
    """Environment pointing both SDKs at the fake server; cwd in the test repository."""
    env = fake_env(model_server, config=write_config(tmp_path / "cp.toml"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(git_repo)
    return model_server


def go_offline(monkeypatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name)


def test_a_recorded_two_round_session_replays_to_the_same_result(live, tmp_path, monkeypatch,
                                                                  capsys):
    script_round(live, GENERATOR, REVIEWERS)
    script_round2(live, GENERATOR, REVIEWERS)
    record = tmp_path / "recorded"
    code, original = run(capsys, "run", TASK, *session_args(GENERATOR, REVIEWERS), "--rounds", "2",
                         "--accept", "consensus", "--record", str(record), "--headless", "--json")
    assert code == 0
    summary = original[-1]

    # one cassette per model and a session.json naming the roles as replay specs
    session = json.loads((record / "session.json").read_text())
    names = {cassette_name(s) for s in (GENERATOR, *REVIEWERS)}
    assert {p.name for p in record.glob("*.json")} == names | {"session.json"}
    assert session["generator"] == f"replay:{record / cassette_name(GENERATOR)}"
    assert session["reviewers"] == [f"replay:{record / cassette_name(s)}" for s in REVIEWERS]
    gen = load_cassette(record / cassette_name(GENERATOR))
    assert gen["model"] == GENERATOR and gen["scripted"] is False
    assert [(e["role"], e["round"]) for e in gen["exchanges"]] == [
        ("generator", 1), ("responder", 1), ("generator", 2), ("responder", 2)]
    first = gen["exchanges"][0]
    assert "".join(first["chunks"]) == first["text"] and first["stop_reason"] == "end_turn"
    assert set(first["request"]) == {"role", "schema_name", "sha256", "messages"}
    # the context is the same for every generator request: the same hash
    assert len({e["request"]["sha256"] for e in gen["exchanges"]}) == 1
    raw = "".join(p.read_text() for p in record.glob("*.json"))
    for key in KEYS:
        assert key not in raw
    assert "You are the generator" not in raw and TASK not in raw  # no prompt text is kept

    # replayed with no keys and no server: the same proposal, findings, stances, usage, cost
    go_offline(monkeypatch)
    live.clear()
    code, replayed = run(capsys, "run", TASK, *replay_args(session), "--rounds", "2",
                         "--accept", "consensus", "--headless", "--json")
    assert code == 0
    again = replayed[-1]
    for key in SAME:
        assert again[key] == summary[key], key
    proposals = [[e["files"] for e in evs if e["event"] == "proposal_ready"]
                 for evs in (original, replayed)]
    assert proposals[0] == proposals[1] and len(proposals[0]) == 2
    assert live.requests == []


def test_a_failure_is_recorded_and_replays_as_the_same_failure(live, tmp_path, monkeypatch, capsys):
    live.script({"fault": "cut", "cut_after": 2, "json": REVIEW_A}, model="gpt-5.5")
    script_round(live, GENERATOR, REVIEWERS)
    record = tmp_path / "rec"
    code, original = run(capsys, "run", TASK, *session_args(GENERATOR, REVIEWERS),
                         "--record", str(record), "--headless", "--json")
    assert code == 1
    (failed,) = [e for e in original if e["event"] == "step_failed"]
    cassette = load_cassette(record / cassette_name("openai:gpt-5.5"))
    (exchange,) = cassette["exchanges"]
    assert exchange["error"]["kind"] == "stream-cut"
    assert exchange["text"] == failed["partial_text"] != ""
    assert exchange["error"]["after_chunks"] == len(exchange["chunks"])

    go_offline(monkeypatch)
    session = json.loads((record / "session.json").read_text())
    code, replayed = run(capsys, "run", TASK, *replay_args(session), "--headless", "--json")
    assert code == 1
    (again,) = [e for e in replayed if e["event"] == "step_failed"]
    assert (again["model"], again["kind"], again["partial_text"]) == (
        failed["model"], failed["kind"], failed["partial_text"])


async def test_a_repaired_answer_is_recorded_as_the_answer_that_was_used(model_server, tmp_path):  # noqa: F811
    model_server.script({"text": "not json"}, {"json": REVIEW_A}, model="gpt-5.5")

    def make(spec: str, *args):
        return OpenAIProvider(spec.partition(":")[2], api_key=OPENAI_KEY,
                              base_url=model_server.openai_base_url, max_retries=0)

    record = tmp_path / "rec"
    provider = recording_factory(make, record)("openai:gpt-5.5")
    request = ModelRequest(role="reviewer", system="Review.", context=("ctx",),
                           schema=review_schema(), schema_name="submit_review", round=3)
    deltas, done = await collect(provider, request)
    assert "not json" in "".join(deltas) and done.data == REVIEW_A
    (exchange,) = load_cassette(record / "openai-gpt-5.5.json")["exchanges"]
    assert exchange["round"] == 3 and exchange["data"] == REVIEW_A
    assert "chunks" not in exchange  # the deltas held the rejected answer as well
    assert exchange["usage"]["input_tokens"] > 0 and exchange["usage"]["output_tokens"] > 0
    replayed = ReplayProvider(record / "openai-gpt-5.5.json")
    _, again = await collect(replayed, request)
    assert (again.text, again.data, again.usage) == (done.text, done.data, done.usage)


def test_record_into_a_file_is_a_usage_error(live, tmp_path, capsys):
    target = tmp_path / "file.json"
    target.write_text("{}")
    code = cli.main(["run", TASK, *session_args(GENERATOR, REVIEWERS), "--record", str(target),
                     "--headless", "--json"])
    assert code == 2
    assert "give a directory" in capsys.readouterr().err
    assert live.requests == []
