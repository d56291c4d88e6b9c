"""OpenAIProvider through the real `openai` SDK against the loopback fake server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes import collect, failure

from counterpoint.core.findings import ResponseOutput, response_schema, review_schema
from counterpoint.providers.base import Message, ModelRequest, ProviderError, Usage
from counterpoint.providers.openai_provider import OpenAIProvider
from counterpoint.providers.structured import SCHEMA_FENCE

KEY = "sk-proj-test-SECRET-0123456789abcdef"
MODEL = "gpt-test-1"
TEXT = "The quick brown fox jumps over the lazy dog"
RESPONSES = {"responses": [{"finding_id": "r1-a1", "stance": "dispute", "reply": "Not a bug."}]}
REVIEW = {"summary": "Looks fine.", "verdict": "approve", "findings": []}


def provider(server, **overrides) -> OpenAIProvider:
    options = dict(
        api_key=KEY,
        base_url=server.openai_base_url,
        timeout=0.5,
        connect_timeout=0.5,
        max_retries=2,
        max_retry_after=2.0,
        backoff=0.01,
    )
    options.update(overrides)
    made = OpenAIProvider(MODEL, **options)
    _OPEN.append(made)
    return made


_OPEN: list[OpenAIProvider] = []


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


def responder_request() -> ModelRequest:
    return ModelRequest(
        role="responder",
        system="You answer findings.",
        context=("the findings",),
        messages=(Message("user", "Answer each finding."),),
        schema=response_schema(),
        schema_name="responses",
    )


async def test_streams_text_and_maps_usage_with_cache(model_server):
    model_server.script(
        {"text": TEXT, "usage": {"prompt_tokens": 120, "completion_tokens": 9, "cached_tokens": 100}}
    )
    deltas, done = await collect(provider(model_server), text_request())
    assert len(deltas) > 1
    assert "".join(deltas) == TEXT == done.text
    assert done.stop_reason == "stop"
    assert done.usage == Usage(input_tokens=120, output_tokens=9, cached_input_tokens=100)


async def test_request_shape_and_identical_prefix(model_server):
    p = provider(model_server)
    await collect(p, text_request("First question."))
    await collect(p, text_request("Second, different question."))
    first, second = (r.body for r in model_server.requests)
    assert first["messages"][0] == {"role": "system", "content": "You write code."}
    assert first["messages"][1] == {
        "role": "user",
        "content": "repo map: app.py\n\nfile app.py:\ndef add(a, b): ...\n\nFirst question.",
    }
    assert first["stream"] is True
    assert first["stream_options"] == {"include_usage": True}
    assert first["max_completion_tokens"] == 1000 and "max_tokens" not in first
    assert "response_format" not in first
    prefix = "You write code." + "repo map: app.py\n\nfile app.py:\ndef add(a, b): ...\n\n"
    for body in (first, second):
        sent = body["messages"][0]["content"] + body["messages"][1]["content"]
        assert sent.startswith(prefix)
    assert model_server.requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_compatible_servers_get_max_tokens(model_server):
    await collect(provider(model_server, provider="ollama"), text_request())
    body = model_server.requests[0].body
    assert body["max_tokens"] == 1000 and "max_completion_tokens" not in body


async def test_structured_output_through_json_schema(model_server):
    model_server.script({"json": RESPONSES})
    deltas, done = await collect(provider(model_server), responder_request())
    assert done.data == RESPONSES
    ResponseOutput.model_validate(done.data)
    assert len(deltas) > 1 and json.loads("".join(deltas)) == RESPONSES
    assert model_server.requests[0].body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "responses", "strict": True, "schema": response_schema()},
    }


async def test_structured_output_fenced_mode(model_server):
    model_server.script({"json": RESPONSES})
    p = provider(model_server, structured="fenced")
    deltas, done = await collect(p, responder_request())
    assert done.data == RESPONSES
    assert "```json" in "".join(deltas)
    body = model_server.requests[0].body
    assert "response_format" not in body
    system = body["messages"][0]["content"]
    assert system.startswith("You answer findings.") and "```json" in system
    assert f"```{SCHEMA_FENCE}" in system


async def test_fenced_mode_takes_the_last_json_block(model_server):
    text = (
        "An example:\n```json\n{\"responses\": []\n```\nNo wait, the answer:\n"
        f"```json\n{json.dumps(RESPONSES)}\n```\n"
    )
    model_server.script({"text": text})
    _, done = await collect(provider(model_server, structured="fenced"), responder_request())
    assert done.data == RESPONSES


async def test_falls_back_to_fenced_after_400_and_remembers(model_server):
    model_server.reject_response_format = True
    p = provider(model_server)
    _, done = await collect(p, responder_request())
    assert done.data == {"responses": []}  # the fake's default: the smallest valid answer
    assert p.structured == "fenced"
    first, second = (r.body for r in model_server.requests)
    assert "response_format" in first and "response_format" not in second
    _, done = await collect(p, responder_request())
    assert done.data == {"responses": []}
    assert model_server.attempts() == 3, "the second call goes straight to fenced mode"
    assert "response_format" not in model_server.requests[2].body


async def test_400_unrelated_to_response_format_is_reported(model_server):
    model_server.script(*[{"status": 400, "error_message": "context too long"}] * 2)
    p = provider(model_server)
    err = await failure(p, responder_request())
    assert (err.kind, err.status, err.retryable) == ("config", 400, False)
    assert "context too long" in err.message
    assert p.structured == "json_schema", "fenced mode is kept only when it was accepted"


async def test_one_repair_request_then_success(model_server):
    bad = {"responses": [{"finding_id": "r1-a1", "stance": "meh", "reply": "?"}]}
    model_server.script(
        {"json": bad, "usage": {"prompt_tokens": 10, "completion_tokens": 3}},
        {"json": RESPONSES, "usage": {"prompt_tokens": 20, "completion_tokens": 4}},
    )
    _, done = await collect(provider(model_server), responder_request())
    assert done.data == RESPONSES
    assert (done.usage.input_tokens, done.usage.output_tokens) == (30, 7)
    messages = model_server.requests[1].body["messages"]
    assert messages[-2] == {"role": "assistant", "content": json.dumps(bad)}
    assert "meh" in messages[-1]["content"] and "stance" in messages[-1]["content"]
    assert model_server.attempts() == 2


async def test_bad_output_after_one_repair(model_server):
    model_server.script({"json": [1, 2]}, {"text": "{not json"})
    err = await failure(provider(model_server), responder_request())
    assert (err.kind, err.retryable) == ("bad-output", False)
    assert "expected object" in err.message and "not valid JSON" in err.message
    assert model_server.attempts() == 2


async def test_review_schema_validation_catches_wrong_types(model_server):
    wrong = {**REVIEW, "findings": [{"path": 3}]}
    model_server.script({"json": wrong}, {"json": REVIEW})
    _, done = await collect(provider(model_server), ModelRequest(
        role="reviewer", system="s", messages=(Message("user", "review"),),
        schema=review_schema(), schema_name="review"))
    assert done.data == REVIEW
    repair = model_server.requests[1].body["messages"][-1]["content"]
    assert "$.findings[0].path: expected string" in repair


FAULTS = [
    ("401", "auth", False, 1, ""),
    ("429", "rate-limit", True, 3, ""),
    ("500", "server", True, 3, ""),
    ("529", "overloaded", True, 3, ""),
    ("refuse_connection", "connection", True, 3, ""),
    ("timeout", "timeout", True, 3, ""),
    ("cut", "stream-cut", True, 1, "The quick brown fox "),
    ("no_end", "incomplete", True, 1, TEXT),
    ("error_event", "stream-error", True, 1, "The quick brown fox "),
    ("refusal", "refusal", False, 1, ""),
]


@pytest.mark.parametrize(("fault", "kind", "retryable", "attempts", "partial"), FAULTS)
async def test_fault(model_server, fault, kind, retryable, attempts, partial):
    spec = {"text": TEXT, "fault": fault, "cut_after": 4, "retry_after": 0.01, "stall": 5}
    model_server.script(*[spec] * 3, api="openai")
    err = await failure(provider(model_server, timeout=0.3), text_request())
    assert (err.kind, err.retryable, err.partial_text) == (kind, retryable, partial)
    assert model_server.attempts("openai") == attempts
    assert err.provider == "openai" and err.model == MODEL
    assert f"openai:{MODEL}" in str(err)
    assert KEY not in str(err) and KEY not in repr(err.to_dict())
    if fault.isdigit():
        assert err.status == int(fault)


async def test_refusal_text_is_in_the_message(model_server):
    model_server.script({"fault": "refusal", "refusal_text": "I cannot review malware."})
    err = await failure(provider(model_server), text_request())
    assert err.kind == "refusal" and "I cannot review malware." in err.message


async def test_content_filter_is_a_refusal(model_server):
    model_server.script({"text": "Partial", "finish_reason": "content_filter"})
    err = await failure(provider(model_server), text_request())
    assert (err.kind, err.partial_text) == ("refusal", "Partial")


async def test_error_message_echoing_the_key_is_redacted(model_server):
    model_server.script({"fault": "401", "error_message": f"Incorrect API key provided: {KEY}."})
    err = await failure(provider(model_server), text_request())
    assert KEY not in str(err) and "[redacted]" in err.message
    assert "OPENAI_API_KEY" in err.message


async def test_stall_mid_stream_is_a_timeout_keeping_partial_text(model_server):
    model_server.script({"text": TEXT, "fault": "stall", "cut_after": 2, "stall": 5})
    err = await failure(provider(model_server, timeout=0.3), text_request())
    assert (err.kind, err.partial_text) == ("timeout", "The quick ")
    assert model_server.attempts() == 1


async def test_retry_after_over_the_cap_fails_fast(model_server):
    model_server.script({"fault": "429", "retry_after": 300})
    started = time.monotonic()
    err = await failure(provider(model_server, max_retry_after=2.0), text_request())
    assert time.monotonic() - started < 5
    assert (err.kind, err.status) == ("rate-limit", 429)
    assert "asked to wait 300 s" in err.message
    assert model_server.attempts() == 1


async def test_retry_then_success(model_server):
    model_server.script({"fault": "500", "retry_after": 0.1}, {"fault": "refuse_connection"}, {"text": TEXT})
    _, done = await collect(provider(model_server), text_request())
    assert done.text == TEXT
    assert model_server.attempts() == 3


async def test_named_provider_appears_in_errors(model_server):
    model_server.script({"fault": "401"})
    err = await failure(provider(model_server, provider="ollama"), text_request())
    assert err.spec == f"ollama:{MODEL}" and f"ollama:{MODEL}" in str(err)


def test_missing_key_is_a_config_error():
    with pytest.raises(ProviderError) as info:
        OpenAIProvider(MODEL, api_key="")
    assert info.value.kind == "config" and "OPENAI_API_KEY" in info.value.message


def test_the_sdk_is_imported_at_the_first_request_not_before():
    code = (
        "import sys, counterpoint.providers.openai_provider as m\n"
        "assert 'openai' not in sys.modules, 'openai imported'\n"
        "assert 'httpx2' not in sys.modules, 'httpx2 imported'\n"
        "p = m.OpenAIProvider('m', api_key='k')\n"
        "assert 'openai' not in sys.modules, 'building a provider imports the SDK'\n"
        "import asyncio\n"
        "async def first_request():\n"
        "    p._client()\n"
        "    await p.aclose()\n"
        "asyncio.run(first_request())\n"
        "assert 'openai' in sys.modules\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
