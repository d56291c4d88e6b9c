"""A fake Anthropic / OpenAI model server on 127.0.0.1, for driving the real SDKs in tests.

Raw HTTP/1.1 over asyncio streams, in a background thread with its own event loop, so sync
tests, async tests and subprocess CLI tests can all use it. Streaming responses use chunked
transfer encoding, so a cut mid-stream is a real protocol error for the client.

Routes: `POST /v1/messages` (Anthropic SSE with `event:` lines) and
`POST /v1/chat/completions` (OpenAI data-only SSE ending in `[DONE]`). Only streaming
requests are served (a non-stream request gets 400).

Scripting: `server.script(response, ..., api=None, model=None)` queues responses for a model
name (matched against the request body), an API ("anthropic" / "openai"), or any request.
A response is a dict with any of:

    text          str   text answer (streamed in word-sized pieces, or `chunks`)
    chunks        list  explicit text pieces
    json          obj   structured answer: tool_use input (Anthropic tool mode), the text
                        (output_config / json_schema), or a fenced ```json block (plain)
    usage         dict  wire-format usage fields, merged over computed defaults
    latency       s     wait before the response head
    chunk_delay   s     wait between events
    fault         None | "401" | "429" | "500" | "529" | "refuse_connection" | "timeout" |
                  "cut" | "no_end" | "error_event" | "refusal" | "stall"
                  ("stall": send `cut_after` text pieces, then go silent for `stall` s)
    status        int   any other error status (with `error_message`, `error_type`)
    retry_after   s     sent as `retry-after` with error statuses
    cut_after     int   text pieces sent before cut / error_event (default: half)
    stop_reason / finish_reason   override the end reason
    refusal_text  str   OpenAI refusal delta text
    tool_calls    list  calls of the request's read-only tools, each {"name", "arguments",
                        "id"?}: Anthropic `tool_use` blocks with `input_json_delta` pieces
                        (stop_reason tool_use), OpenAI `delta.tool_calls` pieces
                        (finish_reason tool_calls); any text is sent before them
    stall         s     how long "timeout" stalls (default 30, ends early when the client goes)

With an empty queue, a default answer derived from the request is sent: the smallest valid
instance of the requested schema (tools / output_config / response_format / the fenced-mode
instruction's schema), or a short text. Every request is recorded (`server.requests`).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from counterpoint.core.tools import TOOL_NAMES
from counterpoint.providers.structured import SCHEMA_FENCE, minimal_instance

HOST = "127.0.0.1"
ROUTES = {"/v1/messages": "anthropic", "/v1/chat/completions": "openai"}
_STATUS_TEXT = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    529: "Overloaded",
}
_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def api(self) -> str | None:
        return ROUTES.get(self.path)

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None


def _pieces(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


def _split(text: str, parts: int = 3) -> list[str]:
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


class ModelServer:
    """The fake server. Use as a context manager or call `start()` / `stop()`."""

    def __init__(self, *, reject_response_format: bool = False) -> None:
        self.reject_response_format = reject_response_format
        """Answer 400 to any OpenAI request with `response_format` (like a plain local server)."""
        self.port = 0
        self._queues: dict[tuple[str, str], deque[dict[str, Any]]] = {}
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> ModelServer:
        self._thread = threading.Thread(target=self._run, name="fake-model-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake model server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._handle, HOST, 0)
        host, port = server.sockets[0].getsockname()[:2]
        assert host == HOST, f"the fake server must bind {HOST} only, not {host}"
        self.port = port
        self._ready.set()
        async with server:
            await self._stopping.wait()
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- addresses ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def anthropic_base_url(self) -> str:
        """What `AsyncAnthropic(base_url=...)` / ANTHROPIC_BASE_URL takes (no /v1)."""
        return self.url

    @property
    def openai_base_url(self) -> str:
        """What `AsyncOpenAI(base_url=...)` / OPENAI_BASE_URL takes (ends in /v1)."""
        return f"{self.url}/v1"

    # -- scripting and records ----------------------------------------------------------
    def script(self, *responses: dict[str, Any], api: str | None = None, model: str | None = None) -> None:
        """Queue responses for a model name, an API, or (neither given) any request."""
        key = ("model", model) if model else ("api", api) if api else ("any", "")
        with self._lock:
            self._queues.setdefault(key, deque()).extend(dict(r) for r in responses)

    def pending(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values())

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def attempts(self, api: str | None = None) -> int:
        """How many requests reached the server (for one API, or all)."""
        return sum(1 for r in self.requests if api is None or r.api == api)

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()
            self._requests.clear()

    def _next(self, api: str, model: str | None) -> dict[str, Any] | None:
        with self._lock:
            for key in (("model", model or ""), ("api", api), ("any", "")):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
        return None

    # -- HTTP ---------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; return whether the connection stays open."""
        line = await reader.readline()
        if not line.strip():
            return False
        method, target, _version = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            raw = await reader.readline()
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await self._read_body(reader, headers)
        path = target.split("?", 1)[0]
        api = ROUTES.get(path)
        if api is None:
            await self._send_json(writer, 404, {"error": {"message": f"no route {path}"}})
            return True
        if method != "POST":
            await self._send_json(writer, 405, {"error": {"message": "POST only"}})
            return True
        try:
            data = json.loads(body or b"null")
        except json.JSONDecodeError:
            data = body.decode("utf-8", "replace")
        with self._lock:
            self._requests.append(RecordedRequest(path, headers, data))
        if not isinstance(data, dict) or not data.get("stream"):
            await self._send_error(writer, api, 400, "the fake server serves streaming requests only")
            return True
        spec = self._next(api, data.get("model")) or {}
        return await self._respond(api, data, headers, spec, reader, writer)

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        if "content-length" in headers:
            return await reader.readexactly(int(headers["content-length"]))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    await reader.readline()
                    return bytes(out)
                out += await reader.readexactly(size)
                await reader.readline()
        return b""

    async def _send_json(
        self, writer: asyncio.StreamWriter, status: int, payload: Any, extra: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(payload).encode()
        head = [f"HTTP/1.1 {status} {_STATUS_TEXT.get(status, 'Error')}",
                "Content-Type: application/json", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()

    async def _send_error(
        self,
        writer: asyncio.StreamWriter,
        api: str,
        status: int,
        message: str,
        error_type: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        extra = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
        if api == "anthropic":
            kind = error_type or _ANTHROPIC_ERROR_TYPES.get(status, "api_error")
            payload: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
        else:
            kind = error_type or ("rate_limit_exceeded" if status == 429 else "server_error")
            payload = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
        await self._send_json(writer, status, payload, extra)

    async def _respond(
        self,
        api: str,
        body: dict[str, Any],
        headers: dict[str, str],
        spec: dict[str, Any],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        if spec.get("latency"):
            await asyncio.sleep(float(spec["latency"]))
        fault = spec.get("fault")
        if fault == "refuse_connection":
            writer.transport.abort()
            return False
        if fault == "timeout":
            await _wait_for_client(reader, float(spec.get("stall", 30)))
            return False
        status = spec.get("status") or (int(fault) if fault and str(fault).isdigit() else None)
        if status:
            key = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
            default = f"invalid x-api-key {key}" if status == 401 else f"fake {status}"
            await self._send_error(
                writer, api, int(status), spec.get("error_message", default),
                spec.get("error_type"), spec.get("retry_after"),
            )
            return True
        if api == "openai" and self.reject_response_format and "response_format" in body:
            await self._send_error(writer, api, 400, "response_format is not supported")
            return True
        events = anthropic_events(body, spec) if api == "anthropic" else openai_events(body, spec)
        return await self._stream(reader, writer, events, spec)

    async def _stream(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        events: list[Any],
        spec: dict[str, Any],
    ) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        delay = float(spec.get("chunk_delay", 0) or 0)
        for event in events:
            if event is STALL:
                await writer.drain()
                await _wait_for_client(reader, float(spec.get("stall", 30)))
                return False
            if event is CUT:
                await writer.drain()
                writer.transport.abort()  # no terminating chunk: a protocol error for the client
                return False
            payload = event.encode()
            writer.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
            await writer.drain()
            if delay:
                await asyncio.sleep(delay)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True


CUT = object()
"""Marker in an event list: drop the connection here."""
STALL = object()
"""Marker in an event list: go silent here until the client gives up."""


async def _wait_for_client(reader: asyncio.StreamReader, seconds: float) -> None:
    """Stay silent until the client closes the connection or `seconds` pass."""
    try:
        await asyncio.wait_for(reader.read(1), timeout=seconds)
    except asyncio.TimeoutError:
        pass


def _sse(name: str | None, data: Any) -> str:
    text = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {name}\n" if name else "") + f"data: {text}\n\n"


def requested_schema(api: str, body: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The schema the request asks for and how: "tool", "output_config", "json_schema",
    "fenced" or "" (none)."""
    if api == "anthropic":
        tools = [t for t in body.get("tools") or [] if t.get("name") not in TOOL_NAMES]
        choice = body.get("tool_choice") or {}
        for tool in tools:
            if choice.get("name") in (None, tool.get("name")):
                return tool.get("input_schema"), "tool"
        fmt = (body.get("output_config") or {}).get("format") or {}
        if fmt.get("schema"):
            return fmt["schema"], "output_config"
    else:
        fmt = body.get("response_format") or {}
        if fmt.get("type") == "json_schema":
            return (fmt.get("json_schema") or {}).get("schema"), "json_schema"
    match = re.search(rf"```{SCHEMA_FENCE}\n(.*?)\n```", _all_text(body), re.S)
    if match:
        try:
            return json.loads(match.group(1)), "fenced"
        except json.JSONDecodeError:
            pass
    return None, ""


def _all_text(body: dict[str, Any]) -> str:
    parts: list[str] = []
    system = body.get("system")
    if isinstance(system, str):
        parts.append(system)
    elif isinstance(system, list):
        parts.extend(b.get("text", "") for b in system if isinstance(b, dict))
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(b.get("text", "") for b in content if isinstance(b, dict))
    return "\n".join(parts)


def _answer(api: str, body: dict[str, Any], spec: dict[str, Any]) -> tuple[list[str], str | None, str]:
    """(text pieces, tool JSON or None, structured mode) for a response."""
    schema, mode = requested_schema(api, body)
    data = spec.get("json")
    quiet = "text" in spec or "chunks" in spec or "tool_calls" in spec
    if data is None and schema is not None and not quiet:
        data = minimal_instance(schema)
    text = spec.get("text")
    if text is None and data is None and not quiet:
        text = f"Fake answer from {body.get('model')}."
    pieces = list(spec.get("chunks") or _pieces(text or ""))
    tool_json = None
    if data is not None:
        encoded = json.dumps(data)
        if mode == "tool":
            tool_json = encoded
        elif mode == "fenced" or (mode == "" and api == "openai"):
            pieces += _pieces("Here is my answer.\n") + ["```json\n", *_split(encoded), "\n```\n"]
        else:
            pieces += _split(encoded)
    return pieces, tool_json, mode


def _cut_index(spec: dict[str, Any], count: int) -> int:
    return int(spec.get("cut_after", max(1, count // 2)))


def anthropic_events(body: dict[str, Any], spec: dict[str, Any]) -> list[Any]:
    pieces, tool_json, _mode = _answer("anthropic", body, spec)
    fault = spec.get("fault")
    usage = {
        "input_tokens": max(1, len(json.dumps(body)) // 4),
        "output_tokens": max(1, len(pieces) + (3 if tool_json else 0)),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        **(spec.get("usage") or {}),
    }
    events: list[Any] = [
        _sse("message_start", {"type": "message_start", "message": {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": body.get("model"),
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {**usage, "output_tokens": 1}}}),
        _sse("ping", {"type": "ping"}),
    ]
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    if pieces:
        blocks.append(({"type": "text", "text": ""},
                       [{"type": "text_delta", "text": p} for p in pieces]))
    for n, call in enumerate(spec.get("tool_calls") or (), start=1):
        encoded = json.dumps(call.get("arguments", {}))
        blocks.append(({"type": "tool_use", "id": call.get("id", f"toolu_{n}"), "name": call["name"],
                        "input": {}},
                       [{"type": "input_json_delta", "partial_json": p} for p in _split(encoded)]))
    if tool_json is not None:
        structured = [t.get("name") for t in body.get("tools") or [] if t.get("name") not in TOOL_NAMES]
        name = (body.get("tool_choice") or {}).get("name") or (structured or ["answer"])[-1]
        blocks.append(({"type": "tool_use", "id": "toolu_fake", "name": name, "input": {}},
                       [{"type": "input_json_delta", "partial_json": p} for p in _split(tool_json)]))
    total = sum(len(deltas) for _, deltas in blocks)
    stop_early = fault in ("cut", "error_event", "refusal", "stall")
    cut_at = _cut_index(spec, total) if stop_early else total
    sent = 0
    for index, (start, deltas) in enumerate(blocks):
        if sent >= cut_at:
            break
        events.append(_sse("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": start}))
        for delta in deltas:
            if sent >= cut_at:
                break
            events.append(_sse("content_block_delta", {"type": "content_block_delta",
                                                       "index": index, "delta": delta}))
            sent += 1
        events.append(_sse("content_block_stop", {"type": "content_block_stop", "index": index}))
    if fault in ("cut", "stall"):
        return [*events, CUT if fault == "cut" else STALL]
    if fault == "error_event":
        return [*events, _sse("error", {"type": "error", "error": {
            "type": spec.get("error_type", "overloaded_error"),
            "message": spec.get("error_message", "Overloaded")}})]
    if fault == "no_end":
        return events
    stop = spec.get("stop_reason") or (
        "refusal" if fault == "refusal"
        else "tool_use" if tool_json or spec.get("tool_calls") else "end_turn")
    events.append(_sse("message_delta", {"type": "message_delta",
                                         "delta": {"stop_reason": stop, "stop_sequence": None},
                                         "usage": usage}))
    events.append(_sse("message_stop", {"type": "message_stop"}))
    return events


def openai_events(body: dict[str, Any], spec: dict[str, Any]) -> list[Any]:
    pieces, _tool, _mode = _answer("openai", body, spec)
    fault = spec.get("fault")
    model = body.get("model")

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        return _sse(None, {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
                           "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    events: list[Any] = [chunk({"role": "assistant", "content": ""})]
    if fault == "refusal":
        pieces = []
        for part in _pieces(spec.get("refusal_text", "I can't help with that.")):
            events.append(chunk({"refusal": part}))
    cut_at = _cut_index(spec, len(pieces))
    for sent, piece in enumerate(pieces):
        if fault in ("cut", "error_event", "stall") and sent == cut_at:
            break
        events.append(chunk({"content": piece}))
    if fault in ("cut", "stall"):
        return [*events, CUT if fault == "cut" else STALL]
    if fault == "error_event":
        return [*events, _sse(None, {"error": {"message": spec.get("error_message", "The server had an error"),
                                               "type": spec.get("error_type", "server_error"),
                                               "param": None, "code": None}})]
    if fault == "no_end":
        return events
    for n, call in enumerate(spec.get("tool_calls") or ()):
        events.append(chunk({"tool_calls": [{"index": n, "id": call.get("id", f"call_{n + 1}"),
                                             "type": "function",
                                             "function": {"name": call["name"], "arguments": ""}}]}))
        for part in _split(json.dumps(call.get("arguments", {}))):
            events.append(chunk({"tool_calls": [{"index": n, "function": {"arguments": part}}]}))
    finish = "tool_calls" if spec.get("tool_calls") else "stop"
    events.append(chunk({}, spec.get("finish_reason", finish)))
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {"prompt_tokens": max(1, len(json.dumps(body)) // 4),
                 "completion_tokens": max(1, len(pieces)), "cached_tokens": 0,
                 **(spec.get("usage") or {})}
        cached = usage.pop("cached_tokens")
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
        events.append(_sse(None, {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
                                  "model": model, "choices": [], "usage": usage}))
    events.append(_sse(None, "[DONE]"))
    return events
