"""OpenAI and OpenAI-compatible servers through the official `openai` SDK (Chat Completions).

Chat Completions is what local servers (Ollama, vLLM, llama.cpp, LM Studio) share, so one
provider serves all of them; `provider` names the endpoint in specs and messages. The SDK is
imported when a provider is built, never when this module is imported.

Request shape: `[system, user(context items joined by blank lines + first message), ...]`;
OpenAI caches identical prefixes by itself, so the system text and context come first and
never vary within a role. `stream_options={"include_usage": true}` asks for the usage chunk;
`Usage.input_tokens` is `prompt_tokens` (all input), `cached_input_tokens` is
`prompt_tokens_details.cached_tokens`.

Structured output: `structured="json_schema"` (default) sends a strict `response_format`; when
the server answers 400/422 to it, the provider switches to `"fenced"` for the rest of its life
(the system text then asks for one fenced json block, and the last such block is parsed).
Read-only tools (`ModelRequest.tools`) go out as `tools` (functions); streamed
`delta.tool_calls` pieces are joined per index into `Completion.tool_calls`, and the
conversation sends them back as an assistant message's `tool_calls` plus one `tool` message
per result. `tool_protocol="text"` is for servers without function calling.
The token limit goes out as `max_completion_tokens` to OpenAI itself (its newer models reject
`max_tokens`) and as `max_tokens` to every other server (what compatible servers understand).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, Literal

from counterpoint.providers.base import Message, ModelRequest, Usage
from counterpoint.providers.sdk_support import AttemptResult, CallState, SDKProviderBase, tool_call
from counterpoint.providers.structured import fenced_instruction, tool_name

StructuredMode = Literal["json_schema", "fenced"]


def _usage(raw: Any) -> Usage:
    details = getattr(raw, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) if details is not None else None
    return Usage(
        input_tokens=int(getattr(raw, "prompt_tokens", 0) or 0),
        output_tokens=int(getattr(raw, "completion_tokens", 0) or 0),
        cached_input_tokens=int(cached or 0),
    )


class OpenAIProvider(SDKProviderBase):
    key_env = "OPENAI_API_KEY"
    sdk_module = "openai"
    client_class = "AsyncOpenAI"

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str | None = None,
        provider: str = "openai",
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        max_retries: int = 2,
        max_retry_after: float = 30.0,
        structured: StructuredMode = "json_schema",
        backoff: float = 0.5,
        tool_protocol: Literal["native", "text"] = "native",
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
        if structured not in ("json_schema", "fenced"):
            raise self.error("config", f"unknown structured mode {structured!r}", retryable=False)
        if tool_protocol not in ("native", "text"):
            raise self.error("config", f"unknown tool protocol {tool_protocol!r}", retryable=False)
        self.tool_protocol = tool_protocol
        """"native": tools go out as functions; "text": a server without tool support is
        offered them as the plain-text protocol (`workflow/tool_loop.py`)."""
        self.structured: StructuredMode = structured
        """Current mode; becomes "fenced" after the server rejected `response_format`."""

    def fenced_now(self) -> bool:
        return self.structured == "fenced"

    # -- request ------------------------------------------------------------------------
    def request_params(
        self,
        request: ModelRequest,
        extra: tuple[Message, ...] = (),
        mode: StructuredMode | None = None,
    ) -> dict[str, Any]:
        """The keyword arguments of `chat.completions.create` (stream options included)."""
        mode = mode or self.structured
        system = request.system
        if request.schema is not None and mode == "fenced":
            instruction = fenced_instruction(request.schema, request.schema_name)
            system = f"{system}\n\n{instruction}" if system else instruction
        messages: list[dict[str, Any]] = []
        if system:
            messages.append({"role": "system", "content": system})
        rest = list(request.messages) + list(extra)
        context = "\n\n".join(item for item in request.context if item)
        if context:
            if rest and rest[0].role == "user":
                first = rest.pop(0)
                messages.append({"role": "user", "content": f"{context}\n\n{first.content}"})
            else:
                messages.append({"role": "user", "content": context})
        for m in rest:
            messages.extend(_messages(m))
        params: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            params["tools"] = [
                {"type": "function", "function": {"name": t.name, "description": t.description,
                                                  "parameters": dict(t.parameters)}}
                for t in request.tools
            ]
        limit = "max_completion_tokens" if self.provider == "openai" else "max_tokens"
        params[limit] = request.max_tokens
        if request.schema is not None and mode == "json_schema":
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": tool_name(request.schema_name),
                    "strict": True,
                    "schema": request.schema,
                },
            }
        return params

    async def _open(self, request: ModelRequest, extra: tuple[Message, ...]) -> Any:
        """Start the stream, falling back to fenced mode if `response_format` is rejected."""
        create = self._client().chat.completions.create
        try:
            return await create(**self.request_params(request, extra))
        except self._sdk.APIStatusError as exc:
            rejected = exc.status_code in (400, 422)
            if not (rejected and request.schema is not None and self.structured == "json_schema"):
                raise
        stream = await create(**self.request_params(request, extra, mode="fenced"))
        self.structured = "fenced"  # the fenced request was accepted: remember it
        return stream

    # -- one attempt --------------------------------------------------------------------
    async def attempt(
        self, request: ModelRequest, extra: tuple[Message, ...], state: CallState
    ) -> AsyncIterator[str | AttemptResult]:
        usage = Usage()
        started = False
        pieces: list[str] = []
        refusal: list[str] = []
        finish: str | None = None
        calls: dict[int, list[str]] = {}
        """tool call index -> [id, name, arguments pieces...]"""
        try:
            stream = await self._open(request, extra)
            started = True
            try:
                async for chunk in stream:
                    if getattr(chunk, "usage", None) is not None:
                        usage = _usage(chunk.usage)
                    for choice in chunk.choices or ():
                        if choice.index != 0:
                            continue
                        delta = choice.delta
                        if delta is not None and delta.content:
                            pieces.append(delta.content)
                            yield delta.content
                        for piece in (getattr(delta, "tool_calls", None) or ()) if delta else ():
                            entry = calls.setdefault(piece.index, ["", ""])
                            entry[0] = piece.id or entry[0]
                            function = piece.function
                            if function is not None:
                                entry[1] = function.name or entry[1]
                                entry.append(function.arguments or "")
                        if delta is not None and getattr(delta, "refusal", None):
                            refusal.append(delta.refusal)
                        finish = choice.finish_reason or finish
            finally:
                await stream.close()
        except Exception as exc:
            raise self.map_exception(
                exc, self._sdk, started=started, partial=state.partial
            ) from exc
        finally:
            state.usage = state.usage + usage
        if refusal or finish == "content_filter":
            said = "".join(refusal).strip()
            reason = f": {said}" if said else f" (finish_reason {finish})"
            raise self.error(
                "refusal", f"the model refused{reason}", retryable=False, partial=state.partial
            )
        if finish is None:
            raise self.error(
                "incomplete",
                f"the stream ended without a finish_reason after {len(''.join(pieces))} "
                "characters",
                partial=state.partial,
            )
        yield AttemptResult(
            text="".join(pieces),
            stop_reason=finish,
            tool_calls=tuple(
                tool_call(entry[0] or f"call_{n}", entry[1], "".join(entry[2:]))
                for n, entry in sorted(calls.items())
            ),
        )


def _messages(m: Message) -> list[dict[str, Any]]:
    """One message of the conversation on the wire: an assistant's tool calls ride on it,
    tool results are one `tool` message each (before the user's text, if any)."""
    if m.tool_calls:
        return [{
            "role": "assistant",
            "content": m.content or None,
            "tool_calls": [
                {"id": c.id, "type": "function",
                 "function": {"name": c.name, "arguments": json.dumps(dict(c.arguments))}}
                for c in m.tool_calls
            ],
        }]
    out: list[dict[str, Any]] = [
        {"role": "tool", "tool_call_id": r.call_id, "content": r.text} for r in m.tool_results
    ]
    if m.content or not m.tool_results:
        out.append({"role": m.role, "content": m.content})
    return out
