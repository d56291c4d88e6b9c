"""The provider interface every model backend implements.

A provider streams text for one request and ends with a `Completion` carrying the whole text,
the parsed structured output (when a schema was asked for), token usage and the stop reason.
Failures are raised as `ProviderError`, which names provider, model and cause, says whether a
retry makes sense, and keeps the text received before the failure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from counterpoint.core.tools import ToolCall, ToolResult, ToolSpec

Role = Literal["planner", "generator", "reviewer", "responder"]
"""What a request is for. The responder is the generator model answering findings."""

ErrorKind = Literal[
    "auth",  # 401/403: bad or missing key
    "rate-limit",  # 429
    "server",  # 5xx
    "overloaded",  # 529 / overloaded_error
    "connection",  # refused, reset, DNS
    "timeout",  # read/connect timeout
    "stream-cut",  # the stream broke mid-way
    "incomplete",  # the stream ended cleanly without its end marker / stop reason
    "stream-error",  # an error event inside the stream
    "bad-output",  # structured output not JSON or not matching the schema (after repair)
    "refusal",  # the model refused
    "cassette",  # replay: no exchange left / cassette broken
    "config",  # the provider cannot be built (missing key, unknown spec)
]


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    """Input tokens served from the provider's prompt cache (read)."""
    cache_write_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "cache_write_tokens": self.cache_write_tokens,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Usage:
        data = data or {}
        return cls(
            int(data.get("input_tokens", 0)),
            int(data.get("output_tokens", 0)),
            int(data.get("cached_input_tokens", 0)),
            int(data.get("cache_write_tokens", 0)),
        )


@dataclass(frozen=True)
class Message:
    role: Literal["user", "assistant"]
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    """An assistant message: the tools it called (after its text)."""
    tool_results: tuple[ToolResult, ...] = ()
    """A user message: the answers to the previous message's calls (before its text)."""


@dataclass(frozen=True)
class FindingVerdict:
    """The human's verdict on one cluster of findings of the round being revised.

    The revise message says the same in words; this structured copy lets a scripted
    player (the demo's cassettes) answer the verdicts. Real providers ignore it.
    """

    cluster_id: str
    finding_ids: tuple[str, ...]
    verdict: Literal["accepted", "rejected", "pending"]
    title: str
    note: str | None = None


@dataclass(frozen=True)
class ModelRequest:
    """One request to a model.

    `context` is the stable prefix of every request of the session for this role (repository
    map, files, task, plan): providers send it first and mark it for prompt caching, so later
    requests reuse it byte for byte. `messages` follow it. With `schema` set, the provider asks
    for structured output through its own mechanism and returns the parsed object in
    `Completion.data`. `verdicts` (requests of a revised round) are the human's verdicts on
    the round it revises: only the replay provider reads them.
    """

    role: Role
    system: str
    context: tuple[str, ...] = ()
    messages: tuple[Message, ...] = ()
    schema: dict[str, Any] | None = None
    schema_name: str | None = None
    max_tokens: int = 8192
    round: int = 1
    tools: tuple[ToolSpec, ...] = ()
    """Read-only tools the model may call (`core/tools.py`); sent natively (Anthropic tools,
    OpenAI functions). A `Completion` with `tool_calls` asks for their results."""
    verdicts: tuple[FindingVerdict, ...] = ()


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage = field(default_factory=Usage)
    stop_reason: str | None = None
    data: dict[str, Any] | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    """The model stopped to call these tools (then `data` is None): answer and ask again."""


StreamItem = TextDelta | Completion


class ProviderError(Exception):
    def __init__(
        self,
        *,
        provider: str,
        model: str,
        kind: ErrorKind,
        message: str,
        retryable: bool = True,
        partial_text: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(f"{provider}:{model}: {kind}: {message}")
        self.provider = provider
        self.model = model
        self.kind = kind
        self.message = message
        self.retryable = retryable
        self.partial_text = partial_text
        self.status = status

    @property
    def spec(self) -> str:
        return f"{self.provider}:{self.model}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "kind": self.kind,
            "message": self.message,
            "retryable": self.retryable,
            "status": self.status,
        }


@runtime_checkable
class Provider(Protocol):
    provider: str
    """e.g. "anthropic", "openai", "ollama", "replay"."""
    model: str

    @property
    def spec(self) -> str:
        """PROVIDER:MODEL, as the user wrote it."""
        ...

    def stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]:
        """Yield `TextDelta`s as text arrives, then exactly one `Completion`.

        Raise `ProviderError` on any failure (after the provider's own bounded retries).
        """
        ...


async def complete(provider: Provider, request: ModelRequest) -> Completion:
    """Run a request to the end, ignoring the deltas."""
    async for item in provider.stream(request):
        if isinstance(item, Completion):
            return item
    raise incomplete_stream(provider.provider, provider.model)


def incomplete_stream(provider: str, model: str) -> ProviderError:
    """The error for a stream that ended without its `Completion`."""
    return ProviderError(
        provider=provider, model=model, kind="incomplete", message="the stream ended without a completion"
    )
