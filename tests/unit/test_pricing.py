"""Cost of model calls from usage and the price table."""

import math

import pytest

from counterpoint.core.pricing import DEFAULT_PRICES, Price, cost_usd, find_price, price_known
from counterpoint.providers.base import Usage

PRICES = {
    "openai:gpt-5.5": Price(input=1.25, output=10.0, cached_input=0.125),
    "anthropic:claude-x": Price(input=5.0, output=25.0, cached_input=0.5, cache_write=6.25),
    "ollama:*": Price(0.0, 0.0, 0.0),
}


def test_uncached_input_and_output():
    usage = Usage(input_tokens=2_000_000, output_tokens=500_000)
    # 2M * 1.25 + 0.5M * 10
    assert math.isclose(cost_usd("openai:gpt-5.5", usage, PRICES), 2.5 + 5.0)


def test_cached_input_is_part_of_input_and_charged_at_cached_price():
    usage = Usage(input_tokens=1_000_000, output_tokens=0, cached_input_tokens=800_000)
    # 200k plain at 1.25 + 800k cached at 0.125
    expected = 0.2 * 1.25 + 0.8 * 0.125
    assert math.isclose(cost_usd("openai:gpt-5.5", usage, PRICES), expected)


def test_cache_writes_at_their_own_price():
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=100_000,
        cached_input_tokens=500_000,
        cache_write_tokens=300_000,
    )
    expected = 0.2 * 5.0 + 0.5 * 0.5 + 0.3 * 6.25 + 0.1 * 25.0
    assert math.isclose(cost_usd("anthropic:claude-x", usage, PRICES), expected)


def test_cache_write_without_own_price_costs_input_price():
    usage = Usage(input_tokens=1_000_000, cache_write_tokens=1_000_000)
    assert math.isclose(cost_usd("openai:gpt-5.5", usage, PRICES), 1.25)


def test_inconsistent_usage_is_clamped_not_negative():
    usage = Usage(input_tokens=100, cached_input_tokens=1_000)
    assert cost_usd("openai:gpt-5.5", usage, PRICES) == pytest.approx(100 * 0.125 / 1e6)


def test_unknown_model_costs_zero_and_is_not_known():
    usage = Usage(input_tokens=10_000, output_tokens=10_000)
    assert cost_usd("openai:mystery", usage, PRICES) == 0.0
    assert not price_known("openai:mystery", PRICES)
    assert price_known("openai:gpt-5.5", PRICES)


def test_wildcard_prices_local_provider_at_zero():
    usage = Usage(input_tokens=10_000, output_tokens=10_000)
    assert price_known("ollama:qwen3:8b", PRICES)
    assert cost_usd("ollama:qwen3:8b", usage, PRICES) == 0.0


def test_dated_snapshot_uses_longest_prefix():
    prices = {
        "openai:gpt-5.5": Price(1.0, 2.0, 0.5),
        "openai:gpt-5.5-mini": Price(0.1, 0.2, 0.05),
    }
    assert find_price("openai:gpt-5.5-mini-2026-01-01", prices) == prices["openai:gpt-5.5-mini"]
    assert find_price("openai:gpt-5.5-2026-01-01", prices) == prices["openai:gpt-5.5"]
    assert find_price("openai:gpt-5.55", prices) is None


def test_shipped_table_covers_current_models_and_local_servers():
    for spec in (
        "anthropic:claude-opus-5-5",
        "anthropic:claude-sonnet-5",
        "anthropic:claude-haiku-5",
        "openai:gpt-5.5",
        "openai:gpt-5.5-mini",
    ):
        price = DEFAULT_PRICES[spec]
        assert price.output > price.input > price.cached_input > 0
    for local in ("ollama", "vllm", "llamacpp", "lmstudio"):
        assert cost_usd(f"{local}:m", Usage(1000, 1000), DEFAULT_PRICES) == 0.0
        assert price_known(f"{local}:m", DEFAULT_PRICES)
