"""The tool loop through the real `anthropic` and `openai` SDKs against the fake server.

The model asks for every kind of file that may not be sent (secrets, ignored and excluded
files, links to a secret, to an ignored file and outside the repository, paths outside it);
the bytes the fake server receives afterwards hold none of them, only the refusals and the
honest answers. Also: the wire shapes of streamed tool calls and results, the bounds, the
plain-text protocol for servers without tools, and a reviewer that looks before it answers.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from counterpoint.core.context import ContextRules
from counterpoint.core.events import StepFailed, ToolUsed, UsageRecorded
from counterpoint.core.findings import review_schema
from counterpoint.core.tools import ToolBounds
from counterpoint.providers.anthropic_provider import AnthropicProvider
from counterpoint.providers.base import Message, ModelRequest
from counterpoint.providers.openai_provider import OpenAIProvider
from counterpoint.workflow.context import index_workspace
from counterpoint.workflow.steps import ModelCall
from counterpoint.workflow.tool_loop import ToolSession
from counterpoint.workspace import Workspace
from counterpoint.workspace.lookup import RepoLookup
from support.tool_repo import EXCLUDE, MARKERS, fill, hostile_calls

KEY = "sk-test-tools-0123456789abcdef"
MODEL = {"anthropic": "claude-tools", "openai": "gpt-tools"}


def make_provider(server, api, **options):
    if api == "anthropic":
        return AnthropicProvider(MODEL[api], api_key=KEY, base_url=server.anthropic_base_url,
                                 timeout=5, max_retries=0)
    return OpenAIProvider(MODEL[api], api_key=KEY, base_url=server.openai_base_url, timeout=5,
                          max_retries=0, **options)


@pytest.fixture
def workspace(git_repo, tmp_path):
    ws = Workspace.open(fill(git_repo, tmp_path))
    yield ws
    ws.close()


def session(workspace, bounds=None):
    rules = ContextRules(exclude=EXCLUDE)
    lookup = RepoLookup(workspace, rules, index=lambda: index_workspace(workspace, rules)[2])
    return ToolSession(lookup, bounds or ToolBounds())


def call(provider, request, tools):
    events = []

    async def go():
        try:
            return await ModelCall(events.append, {}).stream(
                1, "generate", provider.spec, provider, request, tools=tools)
        finally:
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()

    return asyncio.run(go()), events


REQUEST = ModelRequest(role="generator", system="You write code.", context=("the map",),
                       messages=(Message("user", "Make total() skip None."),))


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_the_model_looks_and_the_never_sent_rules_hold_at_the_server(model_server, workspace, api):
    calls = hostile_calls()
    model_server.script({"text": "Let me look.", "tool_calls": calls},
                        {"text": "total() now skips None."}, model=MODEL[api])
    done, events = call(make_provider(model_server, api), REQUEST,
                        session(workspace, ToolBounds(max_calls=20)))
    assert done is not None and done.text == "total() now skips None."
    used = [e for e in events if isinstance(e, ToolUsed)]
    assert [e.call["id"] for e in used] == [c["id"] for c in calls]
    assert [e.refused for e in used] == [True] * 11 + [False] * 5  # every private read, with a reason
    assert [e.tool_calls for e in events if isinstance(e, UsageRecorded)] == [len(calls)]
    first, second = (r.body for r in model_server.requests)
    assert {t["name"] for t in (first["tools"] if api == "anthropic" else
                                [t["function"] for t in first["tools"]])} == {
        "read_file", "search", "list_files", "find_symbol"}
    wire = json.dumps(second)
    # what the server got besides the model's own calls (which name what it asked for)
    sent = json.dumps([m for m in second["messages"] if m["role"] != "assistant"]
                      + [second.get("system")])
    for marker in MARKERS:
        assert marker not in sent, f"{marker} reached the server"
    assert "    def total(self, items):\\n        return sum(items)" in wire
    assert "calc.py:2-3: method def total(self, items)" in wire
    if api == "anthropic":
        assistant, results = second["messages"][-2:]
        assert [b["type"] for b in assistant["content"]] == ["text"] + ["tool_use"] * len(calls)
        assert assistant["content"][1] == {"type": "tool_use", "id": "call_1", "name": "read_file",
                                           "input": {"path": ".env"}}
        blocks = results["content"]
        assert [b["tool_use_id"] for b in blocks] == [c["id"] for c in calls]
        assert blocks[0]["is_error"] is True and blocks[0]["content"].startswith("refused: .env")
        assert blocks[-1]["cache_control"] == {"type": "ephemeral"}
    else:
        tail = second["messages"][-(len(calls) + 1):]
        assert tail[0]["role"] == "assistant" and tail[0]["content"] == "Let me look."
        assert [c["function"]["name"] for c in tail[0]["tool_calls"]] == [c["name"] for c in calls]
        assert json.loads(tail[0]["tool_calls"][0]["function"]["arguments"]) == {"path": ".env"}
        assert [m["role"] for m in tail[1:]] == ["tool"] * len(calls)
        assert [m["tool_call_id"] for m in tail[1:]] == [c["id"] for c in calls]


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_bounds_cut_and_refuse_and_a_model_that_keeps_calling_fails(model_server, workspace, api):
    read = {"name": "read_file", "arguments": {"path": "calc.py"}}
    bounds = ToolBounds(max_calls=2, max_result_bytes=60, max_step_bytes=4000)
    model_server.script({"tool_calls": [read, read, read]}, {"text": "done"}, model=MODEL[api])
    done, events = call(make_provider(model_server, api), REQUEST, session(workspace, bounds))
    assert done is not None and done.text == "done"
    used = [e for e in events if isinstance(e, ToolUsed)]
    assert [e.truncated for e in used] == [True, True, False]
    kept, note = used[0].result.split("\n[truncated: ")
    assert len(kept.encode()) <= 60 and kept.startswith("calc.py, lines 1-6 of 6:\n")
    assert note.startswith(f"{len(kept.encode())} of ")
    assert used[2].refused and "limit of 2 tool calls" in used[2].result
    second = json.dumps(model_server.requests[1].body)
    assert "limit of 2 tool calls" in second

    model_server.clear()
    model_server.script(*[{"tool_calls": [read]}] * 10, model=MODEL[api])
    done, events = call(make_provider(model_server, api), REQUEST, session(workspace, bounds))
    assert done is None
    failed = [e for e in events if isinstance(e, StepFailed)]
    assert failed[0].kind == "bad-output" and "kept calling tools" in failed[0].message
    assert len(model_server.requests) == bounds.max_calls + 3


def test_the_plain_text_protocol_for_a_server_without_tools(model_server, workspace):
    block = ('I need the file.\n```tool\n{"name": "read_file", "arguments": {"path": ".env"}}\n```\n'
             '```tool\n{"name": "read_file", "arguments": {"path": "calc.py", "start_line": 1, '
             '"end_line": 3}}\n```\n')
    model_server.script({"text": block}, {"text": "Now I know."}, model=MODEL["openai"])
    provider = make_provider(model_server, "openai", tool_protocol="text")
    done, events = call(provider, REQUEST, session(workspace))
    assert done is not None and done.text == "Now I know."
    first, second = (r.body for r in model_server.requests)
    assert "tools" not in first and "```tool" in first["messages"][0]["content"]
    answer = second["messages"][-1]
    assert answer["role"] == "user"
    assert answer["content"].startswith("Results of your tool calls:\n\n#### read_file(.env)\n")
    assert "class Calculator:" in answer["content"]
    assert "hunter2" not in json.dumps(second)
    assert [e.refused for e in events if isinstance(e, ToolUsed)] == [True, False]


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_a_reviewer_checks_a_claim_then_answers_in_its_schema(model_server, workspace, api):
    request = ModelRequest(role="reviewer", system="Review.", messages=(Message("user", "the change"),),
                           schema=review_schema(), schema_name="review")
    model_server.script({"tool_calls": [{"name": "find_symbol", "arguments": {"name": "total"}}]},
                        model=MODEL[api])
    done, events = call(make_provider(model_server, api), request, session(workspace))
    assert done is not None and done.data is not None and "findings" in done.data
    first = model_server.requests[0].body
    if api == "anthropic":
        assert first["tool_choice"] == {"type": "any"}
        assert [t["name"] for t in first["tools"]][-1] == "review"
    else:
        assert first["response_format"]["type"] == "json_schema" and len(first["tools"]) == 4
    assert [e.call["name"] for e in events if isinstance(e, ToolUsed)] == ["find_symbol"]


@pytest.mark.parametrize("api,protocol", [("anthropic", "native"), ("openai", "native"),
                                          ("openai", "text")])
def test_a_tool_session_is_recorded_and_replayed(model_server, workspace, tmp_path, api, protocol):
    from counterpoint.providers.recording import Recorder, RecordingProvider
    from counterpoint.providers.replay import ReplayProvider

    read = {"name": "read_file", "arguments": {"path": "calc.py", "start_line": 1, "end_line": 2}}
    look = ({"tool_calls": [read, {"name": "read_file", "arguments": {"path": ".env"}}]}
            if protocol == "native" else
            {"text": '```tool\n{"name": "read_file", "arguments": {"path": "calc.py", '
                     '"start_line": 1, "end_line": 2}}\n```\n'})
    model_server.script(look, {"text": "Recorded answer."}, model=MODEL[api])
    options = {"tool_protocol": "text"} if protocol == "text" else {}
    recorder = Recorder(tmp_path / "rec")
    live = RecordingProvider(make_provider(model_server, api, **options), recorder)
    done, events = call(live, REQUEST, session(workspace))
    assert done is not None and done.text == "Recorded answer."
    cassette = json.loads(recorder.path_for(live.spec).read_text())
    assert len(cassette["exchanges"]) == 2
    if protocol == "native":
        assert cassette["exchanges"][0]["tool_calls"][0]["arguments"] == read["arguments"]
    else:
        assert cassette["exchanges"][0]["tool_protocol"] == "text"
    asked = len(model_server.requests)

    replayed, again = call(ReplayProvider(recorder.path_for(live.spec)), REQUEST, session(workspace))
    assert replayed is not None and replayed.text == "Recorded answer."
    assert len(model_server.requests) == asked  # nothing asked of the server on replay

    def tools(evs):
        return [(e.call, e.result, e.refused, e.turn) for e in evs if isinstance(e, ToolUsed)]

    assert tools(again) == tools(events) and tools(events)
