"""Test fakes: a loopback model server speaking the Anthropic and OpenAI wire formats.

The `model_server` fixture is offered to every test by `tests/conftest.py`:

    def test_x(model_server): ...
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from counterpoint.providers.base import Completion, ProviderError, TextDelta

from .model_server import HOST, ModelServer, RecordedRequest

__all__ = ["HOST", "ModelServer", "RecordedRequest", "collect", "failure", "model_server"]


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    """A fresh fake model server on 127.0.0.1 for one test."""
    with ModelServer() as server:
        yield server


async def collect(provider, request) -> tuple[list[str], Completion]:
    """Run a provider's stream to the end: (text deltas, completion)."""
    deltas: list[str] = []
    completion: Completion | None = None
    async for item in provider.stream(request):
        if isinstance(item, TextDelta):
            assert completion is None, "a delta came after the completion"
            deltas.append(item.text)
        else:
            assert completion is None, "more than one completion"
            completion = item
    assert completion is not None, "the stream ended without a completion"
    return deltas, completion


async def failure(provider, request) -> ProviderError:
    """Run a stream that must fail; return its ProviderError."""
    with pytest.raises(ProviderError) as info:
        await collect(provider, request)
    return info.value
