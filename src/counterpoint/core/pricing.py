"""What a model call costs, from token usage and a price table.

Usage convention (the providers normalise to it): `Usage.input_tokens` counts every input
token of the request, including those served from the prompt cache; `cached_input_tokens` is
the part of them read from the cache, `cache_write_tokens` the part written to it (Anthropic
charges a premium for that). What is left is plain input.

Prices are USD per million tokens, keyed by "provider:model". A key "provider:*" prices every
model of that provider (local servers cost nothing). A dated snapshot such as
"anthropic:claude-sonnet-5-20260101" falls back to the undated entry it starts with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class Usage(Protocol):
    """The token counts of one model call (`providers.base.Usage` has them)."""

    @property
    def input_tokens(self) -> int: ...
    @property
    def output_tokens(self) -> int: ...
    @property
    def cached_input_tokens(self) -> int: ...
    @property
    def cache_write_tokens(self) -> int: ...

PER_TOKENS = 1_000_000


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cached_input: float
    cache_write: float | None = None
    """Writing to the prompt cache; None: the input price."""


def _anthropic(input: float, output: float) -> Price:
    """Anthropic: cache reads at 0.1x the input price, 5-minute cache writes at 1.25x."""
    return Price(input=input, output=output, cached_input=input / 10, cache_write=input * 1.25)


# List prices as shipped with this release, USD per million tokens. They change; override
# any of them (or add models) in the config file under [prices."provider:model"].
DEFAULT_PRICES: dict[str, Price] = {
    # Anthropic
    "anthropic:claude-opus-5-5": _anthropic(5.0, 25.0),
    "anthropic:claude-opus-5": _anthropic(5.0, 25.0),
    "anthropic:claude-sonnet-5": _anthropic(3.0, 15.0),
    "anthropic:claude-haiku-5": _anthropic(1.0, 5.0),
    "anthropic:claude-opus-4-5": _anthropic(5.0, 25.0),
    "anthropic:claude-sonnet-4-5": _anthropic(3.0, 15.0),
    "anthropic:claude-haiku-4-5": _anthropic(1.0, 5.0),
    # OpenAI
    "openai:gpt-5.5": Price(input=1.25, output=10.0, cached_input=0.125),
    "openai:gpt-5.5-mini": Price(input=0.25, output=2.0, cached_input=0.025),
    "openai:gpt-5.5-nano": Price(input=0.05, output=0.4, cached_input=0.005),
    "openai:gpt-5": Price(input=1.25, output=10.0, cached_input=0.125),
    "openai:gpt-5-mini": Price(input=0.25, output=2.0, cached_input=0.025),
    "openai:gpt-5-nano": Price(input=0.05, output=0.4, cached_input=0.005),
    "openai:gpt-4.1": Price(input=2.0, output=8.0, cached_input=0.5),
    "openai:gpt-4.1-mini": Price(input=0.4, output=1.6, cached_input=0.1),
    # Local OpenAI-compatible servers run on your own hardware.
    "ollama:*": Price(input=0.0, output=0.0, cached_input=0.0),
    "vllm:*": Price(input=0.0, output=0.0, cached_input=0.0),
    "llamacpp:*": Price(input=0.0, output=0.0, cached_input=0.0),
    "lmstudio:*": Price(input=0.0, output=0.0, cached_input=0.0),
}


def find_price(spec: str, prices: Mapping[str, Price]) -> Price | None:
    """The price of `spec`: exact key, else the longest "KEY-..." snapshot prefix, else
    "provider:*"."""
    exact = prices.get(spec)
    if exact is not None:
        return exact
    snapshot = [key for key in prices if spec.startswith(key + "-")]
    if snapshot:
        return prices[max(snapshot, key=len)]
    provider, _, _ = spec.partition(":")
    return prices.get(f"{provider}:*")


def price_known(spec: str, prices: Mapping[str, Price]) -> bool:
    """Whether a cost can be shown for `spec` (the UI shows "?" otherwise)."""
    return find_price(spec, prices) is not None


def cost_usd(spec: str, usage: Usage, prices: Mapping[str, Price]) -> float:
    """USD for `usage` on `spec`; 0.0 when the model has no price (see `price_known`)."""
    price = find_price(spec, prices)
    if price is None:
        return 0.0
    total_input = max(usage.input_tokens, 0)
    cached = min(max(usage.cached_input_tokens, 0), total_input)
    written = min(max(usage.cache_write_tokens, 0), total_input - cached)
    plain = total_input - cached - written
    write_price = price.input if price.cache_write is None else price.cache_write
    total = (
        plain * price.input
        + cached * price.cached_input
        + written * write_price
        + max(usage.output_tokens, 0) * price.output
    )
    return total / PER_TOKENS
