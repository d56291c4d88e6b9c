"""A whole headless session with `context.tools = true`, through the real SDKs.

The generator looks before it writes its edit blocks (asking for secrets too), a reviewer
checks a claim before it answers, and so does the generator before it answers the findings: every call is a `tool_used` event in the JSON output and
in the journal, counted in the summary's usage, and nothing private reaches the server.
"""

from __future__ import annotations

import json

from counterpoint import cli
from support.fake_models import (
    GENERATOR_TEXT,
    RESPONSES,
    REVIEW_A,
    REVIEW_B,
    TASK,
    events,
    fake_env,
    journal_events,
    session_args,
    write_config,
)
from support.tool_repo import MARKERS, fill, hostile_calls


def test_a_session_with_tools_on(model_server, git_repo, tmp_path, monkeypatch, capsys,
                                 counterpoint_home):
    fill(git_repo, tmp_path)
    generator, reviewers = "anthropic:claude-opus-5-5", ["openai:gpt-5.5", "anthropic:claude-sonnet-5"]
    calls = hostile_calls()[:8] + hostile_calls()[-3:]
    model_server.script({"text": "Looking first.", "tool_calls": calls},
                        {"text": GENERATOR_TEXT}, model="claude-opus-5-5")
    model_server.script({"tool_calls": [{"name": "search", "arguments": {"pattern": "def add"}}]},
                        {"json": REVIEW_A}, model="gpt-5.5")
    model_server.script({"json": REVIEW_B}, model="claude-sonnet-5")
    model_server.script({"tool_calls": [{"name": "find_symbol", "arguments": {"name": "add"}}]},
                        {"json": RESPONSES}, model="claude-opus-5-5")  # checks a claim first
    config = write_config(tmp_path / "cp.toml",
                          extra='[context]\nexclude = ["vendor/"]\ntools = true\n')
    for name, value in fake_env(model_server, config=config).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(git_repo)
    cli.main(["run", TASK, *session_args(generator, reviewers), "--headless", "--json"])
    evs = events(capsys.readouterr().out)
    summary = evs[-1]
    assert summary["errors"] == [] and summary["failed_edits"] == []
    assert [e["edits"] for e in evs if e["event"] == "proposal_ready"] == [1]
    used = [e for e in evs if e["event"] == "tool_used"]
    steps = [(e["step"], e["call"]["name"]) for e in used]
    assert ("review", "search") in steps and steps[-1] == ("respond", "find_symbol")
    assert len(used) == len(calls) + 2
    assert [e["event"] for e in journal_events(counterpoint_home)].count("tool_used") == len(used)
    assert summary["usage"]["anthropic:claude-opus-5-5"]["tool_calls"] == len(calls) + 1
    assert summary["usage"]["openai:gpt-5.5"]["tool_calls"] == 1
    for request in model_server.requests:
        body = request.body
        sent = json.dumps([m for m in body["messages"] if m["role"] != "assistant"]
                          + [body.get("system")])
        for marker in MARKERS:
            assert marker not in sent, f"{marker} reached the server"
    assert len(model_server.requests) == 7  # 2 generator turns, 2 + 1 reviews, 2 respond turns
    respond = model_server.requests[-1].body
    assert respond["tools"] and respond["messages"][-1]["content"][0]["type"] == "tool_result"


def test_a_local_server_without_tools_gets_the_plain_text_protocol(model_server, git_repo, tmp_path,
                                                                   monkeypatch, capsys):
    fill(git_repo, tmp_path)
    generator, reviewers = "local:qwen-coder", ["anthropic:claude-sonnet-5"]
    block = ('```tool\n{"name": "read_file", "arguments": {"path": "settings/client_secret.json"}}\n'
             '```\n```tool\n{"name": "find_symbol", "arguments": {"name": "add"}}\n```\n')
    model_server.script({"text": block}, {"text": GENERATOR_TEXT}, {"json": RESPONSES},
                        model="qwen-coder")
    model_server.script({"json": REVIEW_B}, model="claude-sonnet-5")
    config = write_config(tmp_path / "cp.toml", extra=(
        f'[providers.local]\nkind = "openai"\nbase_url = "{model_server.openai_base_url}"\n'
        'api_key_env = "OPENAI_API_KEY"\ntools = "text"\n\n[context]\ntools = true\n'))
    for name, value in fake_env(model_server, config=config).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(git_repo)
    cli.main(["run", TASK, *session_args(generator, reviewers), "--headless", "--json"])
    evs = events(capsys.readouterr().out)
    assert evs[-1]["errors"] == []
    from counterpoint.headless import render_summary

    assert "cached" in render_summary(evs[-1]) and "  2 tool calls\n" in render_summary(evs[-1])
    used = [(e["call"]["name"], e["refused"]) for e in evs if e["event"] == "tool_used"]
    assert used == [("read_file", True), ("find_symbol", False)]
    local = [r.body for r in model_server.requests if r.body["model"] == "qwen-coder"]
    assert "tools" not in local[0] and "```tool" in local[0]["messages"][0]["content"]
    answer = local[1]["messages"][-1]
    assert answer["role"] == "user" and answer["content"].startswith("Results of your tool calls:")
    assert "app.py:1-2: function def add(a, b):" in answer["content"]
    assert "clientsecretmarker" not in json.dumps(local[1])
    claude = [r.body for r in model_server.requests if r.body["model"] == "claude-sonnet-5"]
    assert claude[0]["tool_choice"] == {"type": "any"}  # native for the others


def test_resume_after_a_round_with_tool_turns_plays_the_right_exchanges(git_repo, tmp_path):
    """Round 1's generator asked for a file first (two generator exchanges): the resumed
    session's round 2 plays the third, not round 1's answer again."""
    import asyncio

    from counterpoint.config.layers import Settings
    from counterpoint.providers.replay import ReplayProvider, load_cassette, write_cassette
    from counterpoint.workflow.launch import resume_session, start_session
    from counterpoint.workspace import Workspace
    from support.cassettes import tiny_session

    gen, revs = tiny_session(tmp_path)
    path = gen.removeprefix("replay:")
    exchanges = load_cassette(path)["exchanges"]
    look = {"role": "generator", "text": "Looking.", "stop_reason": "tool_use",
            "tool_calls": [{"id": "t1", "name": "read_file", "arguments": {"path": "app.py"}}]}
    write_cassette(path, "openai:gpt-5.5", [look, *exchanges], scripted=True)

    def replay(spec, speed=None):
        return ReplayProvider(spec.removeprefix("replay:"))

    orch = start_session(workspace=Workspace.open(git_repo), task="Validate add", generator=gen,
                         reviewers=revs, rounds=2, settings=Settings(tools=True),
                         make_provider=replay)
    assert orch.tool_bounds is not None
    assert asyncio.run(orch.run_round())
    spec = orch.session.current.generator
    assert [e.call["name"] for e in orch.session.current.tools[("generate", spec)]] == ["read_file"]
    sid = orch.session.id
    orch.close()

    resumed = resume_session(sid, make_provider=replay).orchestrator
    assert resumed.tool_bounds is not None  # the session said tools were on
    assert resumed.session.played(spec) == {"generator": 2, "responder": 1}
    resumed.accept_policy("all")
    assert asyncio.run(resumed.revise())
    assert "(int, float)" in resumed.session.current.proposal.files["app.py"]
    resumed.close()
