"""Claude through the official `anthropic` SDK (Messages API, streaming).

The SDK is imported when a provider is built, never when this module is imported, so the
CLI starts fast and replay/demo sessions never load it.

Request shape (so the stable prefix is byte-identical across requests of one role):
- `system` is one text block marked `cache_control: ephemeral`;
- the first user message holds one text block per context item (the last one marked
  `cache_control: ephemeral`) followed by the first message's text; later messages follow
  as given, and the last block of the last message is marked too, so a later request of the
  role (which extends this one) reads the whole conversation so far from the cache.

Usage: `Usage.input_tokens` counts ALL input tokens (Anthropic's uncached `input_tokens` plus
`cache_read_input_tokens` plus `cache_creation_input_tokens`), `cached_input_tokens` the part
read from the cache, `cache_write_tokens` the part written to it.

Read-only tools (`ModelRequest.tools`) go out as `tools`; their `tool_use` blocks are
collected (input JSON pieces joined per block) into `Completion.tool_calls`, never streamed as
text; results go back as `tool_result` blocks. With a schema as well, the structured tool is
offered beside them and `tool_choice` is `any` (look further, or submit the answer).

Structured output: `structured="tool"` (default) forces a tool whose input schema is the
requested schema and streams its input JSON as text deltas; `structured="output_config"` asks
for a JSON-schema formatted text answer instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

from counterpoint.core.tools import ToolCall
from counterpoint.providers.base import Message, ModelRequest, Usage
from counterpoint.providers.sdk_support import AttemptResult, CallState, SDKProviderBase, tool_call
from counterpoint.providers.structured import tool_name

EPHEMERAL = {"type": "ephemeral"}


class _Counts:
    """Anthropic usage fields; `message_delta` carries running totals, so values replace."""

    def __init__(self) -> None:
        self.input = self.output = self.read = self.write = 0

    def update(self, usage: Any) -> None:
        if usage is None:
            return
        for attr, name in (
            ("input", "input_tokens"),
            ("output", "output_tokens"),
            ("read", "cache_read_input_tokens"),
            ("write", "cache_creation_input_tokens"),
        ):
            value = getattr(usage, name, None)
            if value is not None:
                setattr(self, attr, int(value))

    def to_usage(self) -> Usage:
        return Usage(
            input_tokens=self.input + self.read + self.write,
            output_tokens=self.output,
            cached_input_tokens=self.read,
            cache_write_tokens=self.write,
        )


class AnthropicProvider(SDKProviderBase):
    key_env = "ANTHROPIC_API_KEY"
    sdk_module = "anthropic"
    client_class = "AsyncAnthropic"

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str | None = None,
        provider: str = "anthropic",
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        max_retries: int = 2,
        max_retry_after: float = 30.0,
        structured: Literal["tool", "output_config"] = "tool",
        backoff: float = 0.5,
    ) -> None:
        super().__init__(
            model,
            api_key=api_key,
            base_url=base_url,
            provider=provider,
            timeout=timeout,
            connect_timeout=connect_timeout,
            max_retries=max_retries,
            max_retry_after=max_retry_after,
            backoff=backoff,
        )
        if structured not in ("tool", "output_config"):
            raise self.error("config", f"unknown structured mode {structured!r}", retryable=False)
        self.structured = structured

    # -- request ------------------------------------------------------------------------
    def request_params(self, request: ModelRequest, extra: tuple[Message, ...] = ()) -> dict[str, Any]:
        """The keyword arguments of `messages.create` for this request (without `stream`)."""
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "messages": self._messages(request, extra),
        }
        if request.system:
            params["system"] = [
                {"type": "text", "text": request.system, "cache_control": dict(EPHEMERAL)}
            ]
        lookups = [
            {"name": t.name, "description": t.description, "input_schema": dict(t.parameters)}
            for t in request.tools
        ]
        if lookups:
            params["tools"] = lookups
        if request.schema is not None:
            name = tool_name(request.schema_name)
            if self.structured == "tool":
                params["tools"] = [
                    *lookups,
                    {
                        "name": name,
                        "description": f"Submit the {name} as structured data.",
                        "input_schema": request.schema,
                    },
                ]
                # With read-only tools: any tool (look further, or submit the answer).
                params["tool_choice"] = (
                    {"type": "any"} if lookups else {"type": "tool", "name": name}
                )
            else:
                params["output_config"] = {
                    "format": {"type": "json_schema", "schema": request.schema}
                }
        return params

    @staticmethod
    def _messages(request: ModelRequest, extra: tuple[Message, ...]) -> list[dict[str, Any]]:
        messages = list(request.messages) + list(extra)
        blocks: list[dict[str, Any]] = [
            {"type": "text", "text": item} for item in request.context if item
        ]
        out: list[dict[str, Any]] = []
        if blocks:
            blocks[-1]["cache_control"] = dict(EPHEMERAL)
            if messages and messages[0].role == "user":
                first = messages.pop(0)
                blocks.append({"type": "text", "text": first.content})
            out.append({"role": "user", "content": blocks})
        out.extend(_message(m) for m in messages)
        if out:
            # The conversation only grows at its end: marking its last block lets the next
            # request of the role read everything sent so far from the cache, not only the
            # context (system + context + this mark: 3 of the 4 breakpoints allowed).
            last = out[-1]
            if isinstance(last["content"], str):
                last["content"] = [{"type": "text", "text": last["content"]}]
            final = last["content"][-1] if last["content"] else {}
            if final.get("text") or final.get("type") == "tool_result":
                final["cache_control"] = dict(EPHEMERAL)
        return out

    # -- one attempt --------------------------------------------------------------------
    async def attempt(
        self, request: ModelRequest, extra: tuple[Message, ...], state: CallState
    ) -> AsyncIterator[str | AttemptResult]:
        counts = _Counts()
        started = False
        pieces: list[str] = []
        tool_parts: list[str] | None = None
        lookups = {t.name for t in request.tools}
        calls: dict[int, tuple[str, str, list[str]]] = {}
        """content block index -> (id, name, input JSON pieces) of a read-only tool's call."""
        stop_reason: str | None = None
        ended = False
        try:
            stream = await self._client().messages.create(
                **self.request_params(request, extra), stream=True
            )
            started = True
            try:
                async for event in stream:
                    kind = getattr(event, "type", None)
                    if kind == "message_start":
                        counts.update(getattr(event.message, "usage", None))
                    elif kind == "content_block_start":
                        block = event.content_block
                        if block.type == "tool_use" and block.name in lookups:
                            calls[event.index] = (block.id, block.name, [])
                        elif block.type == "tool_use":
                            tool_parts = tool_parts if tool_parts is not None else []
                        elif block.type == "text" and block.text:
                            pieces.append(block.text)
                            yield block.text
                    elif kind == "content_block_delta":
                        delta = event.delta
                        if delta.type == "text_delta" and delta.text:
                            pieces.append(delta.text)
                            yield delta.text
                        elif delta.type == "input_json_delta" and event.index in calls:
                            calls[event.index][2].append(delta.partial_json or "")
                        elif delta.type == "input_json_delta" and delta.partial_json:
                            tool_parts = tool_parts if tool_parts is not None else []
                            tool_parts.append(delta.partial_json)
                            pieces.append(delta.partial_json)
                            yield delta.partial_json
                    elif kind == "message_delta":
                        stop_reason = event.delta.stop_reason or stop_reason
                        counts.update(event.usage)
                    elif kind == "message_stop":
                        ended = True
            finally:
                await stream.close()
        except Exception as exc:
            raise self.map_exception(
                exc, self._sdk, started=started, partial=state.partial
            ) from exc
        finally:
            state.usage = state.usage + counts.to_usage()
        if stop_reason == "refusal":
            raise self.error(
                "refusal",
                "the model refused to answer (stop_reason refusal)",
                retryable=False,
                partial=state.partial,
            )
        if not ended or stop_reason is None:
            missing = "message_stop" if not ended else "a stop_reason"
            raise self.error(
                "incomplete",
                f"the stream ended without {missing} after {len(''.join(pieces))} characters",
                partial=state.partial,
            )
        yield AttemptResult(
            text="".join(pieces),
            stop_reason=stop_reason,
            tool_json="".join(tool_parts) if tool_parts is not None else None,
            tool_calls=tuple(tool_call(i, n, "".join(p)) for _, (i, n, p) in sorted(calls.items())),
        )


def _message(m: Message) -> dict[str, Any]:
    """One message of the conversation, with its tool calls or tool results as blocks."""
    if not (m.tool_calls or m.tool_results):
        return {"role": m.role, "content": m.content}
    blocks: list[dict[str, Any]] = [
        {"type": "tool_result", "tool_use_id": r.call_id, "content": r.text, "is_error": r.refused}
        for r in m.tool_results
    ]
    if m.content:
        blocks.append({"type": "text", "text": m.content})
    blocks.extend(_tool_use(c) for c in m.tool_calls)
    return {"role": m.role, "content": blocks}


def _tool_use(call: ToolCall) -> dict[str, Any]:
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": dict(call.arguments)}
