"""The fake model server itself, spoken to with plain http.client (no SDK)."""

from __future__ import annotations

import http.client
import json
import socket

import jsonschema
import pytest
from fakes import HOST, ModelServer

from counterpoint.core.findings import review_schema
from counterpoint.providers.structured import fenced_instruction


def post(server: ModelServer, path: str, body: dict, timeout: float = 5.0):
    conn = http.client.HTTPConnection(HOST, server.port, timeout=timeout)
    conn.request("POST", path, body=json.dumps(body), headers={
        "Content-Type": "application/json", "x-api-key": "test-key"})
    return conn, conn.getresponse()


def sse_data(raw: str) -> list[tuple[str | None, str]]:
    events = []
    for block in raw.strip().split("\n\n"):
        name = None
        data = ""
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
        events.append((name, data))
    return events


def anthropic_body(**extra) -> dict:
    return {"model": "m1", "max_tokens": 10, "stream": True,
            "messages": [{"role": "user", "content": "hi"}], **extra}


def openai_body(**extra) -> dict:
    return {"model": "m1", "stream": True, "messages": [{"role": "user", "content": "hi"}], **extra}


def test_binds_loopback_only(model_server):
    assert model_server.url.startswith(f"http://{HOST}:") and model_server.port > 0
    with socket.create_connection((HOST, model_server.port), timeout=2):
        pass


def test_anthropic_stream_has_event_lines_and_records_the_request(model_server):
    model_server.script({"text": "Hello there", "usage": {"cache_read_input_tokens": 7}})
    conn, response = post(model_server, "/v1/messages", anthropic_body())
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    events = sse_data(response.read().decode())
    conn.close()
    names = [name for name, _ in events]
    assert names[0] == "message_start" and "ping" in names and names[-1] == "message_stop"
    text = "".join(json.loads(d)["delta"]["text"] for n, d in events if n == "content_block_delta")
    assert text == "Hello there"
    start = json.loads(events[0][1])
    assert start["message"]["usage"]["cache_read_input_tokens"] == 7
    [recorded] = model_server.requests
    assert (recorded.path, recorded.api, recorded.model) == ("/v1/messages", "anthropic", "m1")
    assert recorded.headers["x-api-key"] == "test-key"
    assert recorded.body["messages"][0]["content"] == "hi"


def test_openai_stream_ends_with_done_and_usage_only_when_asked(model_server):
    conn, response = post(model_server, "/v1/chat/completions", openai_body())
    without = [d for _, d in sse_data(response.read().decode())]
    conn.close()
    conn, response = post(model_server, "/v1/chat/completions",
                          openai_body(stream_options={"include_usage": True}))
    with_usage = [d for _, d in sse_data(response.read().decode())]
    conn.close()
    assert without[-1] == with_usage[-1] == "[DONE]"
    assert not any("usage" in json.loads(d) for d in without[:-1])
    usage = json.loads(with_usage[-2])["usage"]
    assert usage["prompt_tokens"] > 0 and "cached_tokens" in usage["prompt_tokens_details"]


def test_queues_by_model_before_api_before_any(model_server):
    model_server.script({"text": "any"})
    model_server.script({"text": "api"}, api="openai")
    model_server.script({"text": "model"}, model="m1")

    def answer() -> str:
        conn, response = post(model_server, "/v1/chat/completions", openai_body())
        chunks = [json.loads(d) for _, d in sse_data(response.read().decode())[:-1]]
        conn.close()
        return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])

    assert [answer(), answer(), answer()] == ["model", "api", "any"]
    assert answer() == "Fake answer from m1."
    assert model_server.pending() == 0


def test_default_answers_fill_the_requested_schema(model_server):
    schema = review_schema()
    tool_body = anthropic_body(tools=[{"name": "review", "input_schema": schema}],
                               tool_choice={"type": "tool", "name": "review"})
    conn, response = post(model_server, "/v1/messages", tool_body)
    events = sse_data(response.read().decode())
    conn.close()
    partial = "".join(json.loads(d)["delta"]["partial_json"]
                      for n, d in events if n == "content_block_delta")
    jsonschema.validate(json.loads(partial), schema)
    assert json.loads(events[-2][1])["delta"]["stop_reason"] == "tool_use"

    fenced = openai_body(messages=[{"role": "system", "content": fenced_instruction(schema, "review")},
                                   {"role": "user", "content": "review"}])
    conn, response = post(model_server, "/v1/chat/completions", fenced)
    chunks = [json.loads(d) for _, d in sse_data(response.read().decode())[:-1]]
    conn.close()
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    block = text.split("```json\n", 1)[1].split("\n```", 1)[0]
    jsonschema.validate(json.loads(block), schema)


def test_error_statuses_carry_retry_after_and_provider_bodies(model_server):
    model_server.script({"fault": "429", "retry_after": 7})
    conn, response = post(model_server, "/v1/messages", anthropic_body())
    assert response.status == 429 and response.getheader("retry-after") == "7"
    assert json.loads(response.read())["error"]["type"] == "rate_limit_error"
    conn.close()
    model_server.script({"fault": "500"})
    conn, response = post(model_server, "/v1/chat/completions", openai_body())
    assert response.status == 500 and "message" in json.loads(response.read())["error"]
    conn.close()


def test_non_stream_requests_and_unknown_routes_are_refused(model_server):
    conn, response = post(model_server, "/v1/messages", {**anthropic_body(), "stream": False})
    assert response.status == 400
    response.read()
    conn.close()
    conn, response = post(model_server, "/v1/nothing", {})
    assert response.status == 404
    conn.close()


def test_cut_is_a_broken_chunked_body(model_server):
    model_server.script({"text": "one two three four", "fault": "cut"})
    conn, response = post(model_server, "/v1/chat/completions", openai_body())
    with pytest.raises(http.client.IncompleteRead):
        response.read()
    conn.close()


def test_refused_connection_sends_nothing(model_server):
    model_server.script({"fault": "refuse_connection"})
    conn = http.client.HTTPConnection(HOST, model_server.port, timeout=5)
    conn.request("POST", "/v1/messages", body=json.dumps(anthropic_body()))
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        conn.getresponse()
    conn.close()
    assert model_server.attempts("anthropic") == 1


def test_timeout_stalls_until_the_client_gives_up(model_server):
    model_server.script({"fault": "timeout", "stall": 5})
    conn = http.client.HTTPConnection(HOST, model_server.port, timeout=0.3)
    conn.request("POST", "/v1/messages", body=json.dumps(anthropic_body()))
    with pytest.raises(TimeoutError):
        conn.getresponse()
    conn.close()


def test_keeps_the_connection_alive_between_requests(model_server):
    conn = http.client.HTTPConnection(HOST, model_server.port, timeout=5)
    for _ in range(2):
        conn.request("POST", "/v1/chat/completions", body=json.dumps(openai_body()))
        response = conn.getresponse()
        assert response.status == 200
        response.read()
    conn.close()
    assert model_server.attempts("openai") == 2


def test_reject_response_format_option():
    with ModelServer(reject_response_format=True) as server:
        body = openai_body(response_format={"type": "json_schema", "json_schema": {
            "name": "x", "strict": True, "schema": {"type": "object"}}})
        conn, response = post(server, "/v1/chat/completions", body)
        assert response.status == 400
        conn.close()
    assert server.attempts() == 1
