"""AnthropicProvider through the real `anthropic` SDK against the loopback fake server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes import collect, failure

from counterpoint.core.findings import ReviewOutput, review_schema
from counterpoint.providers.anthropic_provider import AnthropicProvider
from counterpoint.providers.base import Message, ModelRequest, ProviderError, Usage

KEY = "sk-ant-test-SECRET-0123456789abcdef"
MODEL = "claude-test-1"
TEXT = "The quick brown fox jumps over the lazy dog"

FINDING = {
    "path": "app.py",
    "start_line": 1,
    "end_line": 2,
    "severity": "high",
    "category": "correctness",
    "title": "add ignores overflow",
    "rationale": "Large ints are fine in Python, but the spec says 32-bit.",
    "suggestion": None,
    "confidence": 0.7,
}
REVIEW = {"summary": "One problem.", "verdict": "needs-changes", "findings": [FINDING]}


def provider(server, **overrides) -> AnthropicProvider:
    options = dict(
        api_key=KEY,
        base_url=server.anthropic_base_url,
        timeout=0.5,
        connect_timeout=0.5,
        max_retries=2,
        max_retry_after=2.0,
        backoff=0.01,
    )
    options.update(overrides)
    made = AnthropicProvider(MODEL, **options)
    _OPEN.append(made)
    return made


_OPEN: list[AnthropicProvider] = []


@pytest.fixture(autouse=True)
async def close_providers():
    """Close every SDK client a test opened, on the test's own event loop."""
    yield
    while _OPEN:
        await _OPEN.pop().aclose()


def text_request(first: str = "Write it.") -> ModelRequest:
    return ModelRequest(
        role="generator",
        system="You write code.",
        context=("repo map: app.py", "file app.py:\ndef add(a, b): ..."),
        messages=(Message("user", first),),
        max_tokens=1000,
    )


def review_request() -> ModelRequest:
    return ModelRequest(
        role="reviewer",
        system="You review code.",
        context=("the proposal diff",),
        messages=(Message("user", "Review the proposal."),),
        schema=review_schema(),
        schema_name="review",
    )


async def test_streams_text_and_maps_usage_with_cache(model_server):
    model_server.script(
        {
            "text": TEXT,
            "usage": {
                "input_tokens": 5,
                "output_tokens": 9,
                "cache_read_input_tokens": 100,
                "cache_creation_input_tokens": 20,
            },
        }
    )
    deltas, done = await collect(provider(model_server), text_request())
    assert len(deltas) > 1
    assert "".join(deltas) == TEXT == done.text
    assert done.stop_reason == "end_turn"
    assert done.data is None
    # input_tokens counts all input: uncached + cache read + cache write
    assert done.usage == Usage(
        input_tokens=125, output_tokens=9, cached_input_tokens=100, cache_write_tokens=20
    )


async def test_request_marks_cache_and_keeps_prefix_identical(model_server):
    p = provider(model_server)
    await collect(p, text_request("First question."))
    await collect(p, text_request("Second, different question."))
    first, second = (r.body for r in model_server.requests)
    assert first["system"] == [
        {"type": "text", "text": "You write code.", "cache_control": {"type": "ephemeral"}}
    ]
    blocks = first["messages"][0]["content"]
    assert [b["text"] for b in blocks] == [
        "repo map: app.py",
        "file app.py:\ndef add(a, b): ...",
        "First question.",
    ]
    assert "cache_control" not in blocks[0]
    assert blocks[1]["cache_control"] == {"type": "ephemeral"}  # end of the context
    assert blocks[2]["cache_control"] == {"type": "ephemeral"}  # end of the conversation
    # the stable prefix (system + context blocks) is byte-identical across requests
    prefix = lambda body: json.dumps([body["system"], body["messages"][0]["content"][:2]])  # noqa: E731
    assert prefix(first) == prefix(second)
    assert first["messages"][0]["content"][2] != second["messages"][0]["content"][2]
    assert first["model"] == MODEL and first["max_tokens"] == 1000 and first["stream"] is True
    headers = model_server.requests[0].headers
    assert KEY in (headers.get("x-api-key", "") + headers.get("authorization", ""))


async def test_later_messages_follow_as_given(model_server):
    request = ModelRequest(
        role="generator",
        system="s",
        context=("ctx",),
        messages=(Message("user", "one"), Message("assistant", "two"), Message("user", "three")),
    )
    await collect(provider(model_server), request)
    messages = model_server.requests[0].body["messages"]
    assert messages[1:] == [
        {"role": "assistant", "content": "two"},
        {"role": "user", "content": [{"type": "text", "text": "three", "cache_control": {"type": "ephemeral"}}]},
    ]
    assert "cache_control" not in messages[0]["content"][-1]  # "one": only the last block is marked


async def test_a_growing_conversation_is_cached_up_to_its_end(model_server):
    """Round N+1 of a role extends round N's request: its cache mark moves to the new end, so
    everything the previous request sent (not only the context) can be read from the cache."""
    p = provider(model_server)
    turns = [Message("user", "write it"), Message("assistant", "done: " + "x" * 500)]
    await collect(p, ModelRequest(role="generator", system="s", context=("ctx",), messages=tuple(turns[:1])))
    await collect(p, ModelRequest(role="generator", system="s", context=("ctx",),
                                  messages=(*turns, Message("user", "revise it"))))
    first, second = (r.body for r in model_server.requests)

    def marks(body: dict) -> list[str]:
        blocks = [*body["system"]] + [
            b for m in body["messages"] for b in (m["content"] if isinstance(m["content"], list) else [])
        ]
        return [b["text"][:10] for b in blocks if "cache_control" in b]

    assert marks(first) == ["s", "ctx", "write it"]
    assert marks(second) == ["s", "ctx", "revise it"]  # at most 4 breakpoints are allowed
    text = lambda m: m["content"] if isinstance(m["content"], str) else "".join(b["text"] for b in m["content"])  # noqa: E731
    assert [text(m) for m in first["messages"]] == [text(m) for m in second["messages"]][:1]


async def test_structured_output_through_forced_tool(model_server):
    model_server.script({"json": REVIEW})
    deltas, done = await collect(provider(model_server), review_request())
    assert done.data == REVIEW
    ReviewOutput.model_validate(done.data)
    assert done.stop_reason == "tool_use"
    assert len(deltas) > 1, "the tool input JSON streams as deltas"
    assert json.loads("".join(deltas)) == REVIEW
    body = model_server.requests[0].body
    assert body["tools"][0]["name"] == "review"
    assert body["tools"][0]["input_schema"] == review_schema()
    assert body["tool_choice"] == {"type": "tool", "name": "review"}
    assert "output_config" not in body


async def test_structured_output_through_output_config(model_server):
    model_server.script({"json": REVIEW})
    _, done = await collect(provider(model_server, structured="output_config"), review_request())
    assert done.data == REVIEW
    body = model_server.requests[0].body
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": review_schema()}}
    assert "tools" not in body


async def test_one_repair_request_then_success(model_server):
    bad = {"summary": "x", "verdict": "maybe", "findings": []}
    model_server.script(
        {"json": bad, "usage": {"input_tokens": 10, "output_tokens": 3}},
        {"json": REVIEW, "usage": {"input_tokens": 20, "output_tokens": 4}},
    )
    deltas, done = await collect(provider(model_server), review_request())
    assert done.data == REVIEW
    assert done.usage.input_tokens == 30 and done.usage.output_tokens == 7
    assert model_server.attempts() == 2
    repair = model_server.requests[1].body["messages"]
    assert repair[-2] == {"role": "assistant", "content": json.dumps(bad)}
    assert repair[-1]["role"] == "user"
    asked = repair[-1]["content"][-1]["text"]
    assert "maybe" in asked and "verdict" in asked
    unmarked = lambda m: [{k: v for k, v in b.items() if k != "cache_control"} for b in m["content"]]  # noqa: E731
    assert unmarked(repair[0]) == unmarked(model_server.requests[0].body["messages"][0])
    assert json.dumps(REVIEW) in "".join(deltas)


async def test_bad_output_after_one_repair(model_server):
    model_server.script({"text": "I think it is fine."}, {"json": {"summary": "x"}})
    err = await failure(provider(model_server), review_request())
    assert err.kind == "bad-output"
    assert err.retryable is False
    assert "not valid JSON" in err.message and "missing required property" in err.message
    assert err.partial_text.startswith("I think it is fine.")
    assert model_server.attempts() == 2


# fault, kind, retryable, attempts the server sees, partial text
FAULTS = [
    ("401", "auth", False, 1, ""),
    ("429", "rate-limit", True, 3, ""),
    ("500", "server", True, 3, ""),
    ("529", "overloaded", True, 3, ""),
    ("refuse_connection", "connection", True, 3, ""),
    ("timeout", "timeout", True, 3, ""),
    ("cut", "stream-cut", True, 1, "The quick brown fox "),
    ("no_end", "incomplete", True, 1, TEXT),
    ("error_event", "overloaded", True, 1, "The quick brown fox "),
    ("refusal", "refusal", False, 1, "The quick brown fox "),
]


@pytest.mark.parametrize(("fault", "kind", "retryable", "attempts", "partial"), FAULTS)
async def test_fault(model_server, fault, kind, retryable, attempts, partial):
    spec = {"text": TEXT, "fault": fault, "cut_after": 4, "retry_after": 0.01, "stall": 5}
    model_server.script(*[spec] * 3, api="anthropic")
    err = await failure(provider(model_server, timeout=0.3), text_request())
    assert (err.kind, err.retryable, err.partial_text) == (kind, retryable, partial)
    assert model_server.attempts("anthropic") == attempts
    assert err.provider == "anthropic" and err.model == MODEL
    assert f"anthropic:{MODEL}" in str(err)
    assert KEY not in str(err) and KEY not in repr(err.to_dict())
    if fault.isdigit():
        assert err.status == int(fault)


async def test_error_message_echoing_the_key_is_redacted(model_server):
    model_server.script({"fault": "401", "error_message": f"invalid x-api-key: {KEY}"})
    err = await failure(provider(model_server), text_request())
    assert err.kind == "auth"
    assert KEY not in str(err)
    assert "[redacted]" in err.message and "ANTHROPIC_API_KEY" in err.message


async def test_stall_mid_stream_is_a_timeout_keeping_partial_text(model_server):
    model_server.script({"text": TEXT, "fault": "stall", "cut_after": 2, "stall": 5})
    err = await failure(provider(model_server, timeout=0.3), text_request())
    assert err.kind == "timeout"
    assert err.partial_text == "The quick "
    assert model_server.attempts() == 1, "no retry once text has been streamed"


async def test_retry_after_over_the_cap_fails_fast(model_server):
    model_server.script({"fault": "429", "retry_after": 300})
    started = time.monotonic()
    err = await failure(provider(model_server, max_retry_after=2.0), text_request())
    assert time.monotonic() - started < 5
    assert err.kind == "rate-limit" and err.status == 429
    assert "asked to wait 300 s" in err.message
    assert model_server.attempts() == 1


async def test_retry_after_within_the_cap_retries_then_succeeds(model_server):
    model_server.script({"fault": "529", "retry_after": 0.2}, {"text": TEXT})
    _, done = await collect(provider(model_server), text_request())
    assert done.text == TEXT
    assert model_server.attempts() == 2


async def test_other_client_errors_are_not_retried(model_server):
    model_server.script({"status": 404, "error_message": "model: claude-nope not found"})
    err = await failure(provider(model_server), text_request())
    assert (err.kind, err.retryable, err.status) == ("config", False, 404)
    assert "claude-nope not found" in err.message
    assert model_server.attempts() == 1


def test_missing_key_is_a_config_error():
    with pytest.raises(ProviderError) as info:
        AnthropicProvider(MODEL, api_key="")
    assert info.value.kind == "config" and "ANTHROPIC_API_KEY" in info.value.message


def test_one_provider_serves_several_event_loops(model_server):
    p = provider(model_server)
    _OPEN.remove(p)

    clients: list[object] = []

    async def twice(close: bool) -> list[str]:
        texts = []
        for _ in range(2):  # one client per loop, reused within it
            texts.append((await collect(p, text_request()))[1].text)
            clients.append(p._client_obj)
        if close:
            await p.aclose()
        return texts

    first = asyncio.run(twice(close=False))
    second = asyncio.run(twice(close=True))
    assert clients[0] is clients[1] and clients[2] is clients[3]
    assert clients[0] is not clients[2], "a new event loop gets a new client"
    assert first == second and first[0].startswith(f"Fake answer from {MODEL}")
    assert model_server.attempts() == 4


def test_the_sdk_is_imported_at_the_first_request_not_before():
    code = (
        "import sys, counterpoint.providers.anthropic_provider as m\n"
        "assert 'anthropic' not in sys.modules, 'anthropic imported'\n"
        "assert 'httpx2' not in sys.modules, 'httpx2 imported'\n"
        "p = m.AnthropicProvider('m', api_key='k')\n"
        "assert 'anthropic' not in sys.modules, 'building a provider imports the SDK'\n"
        "import asyncio\n"
        "async def first_request():\n"
        "    p._client()\n"
        "    await p.aclose()\n"
        "asyncio.run(first_request())\n"
        "assert 'anthropic' in sys.modules\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
