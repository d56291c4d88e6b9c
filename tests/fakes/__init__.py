"""Test fakes: a loopback model server speaking the Anthropic and OpenAI wire formats.

Use the `model_server` fixture by importing it into a test module (or a conftest):

    from fakes import ModelServer, model_server  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .model_server import HOST, ModelServer, RecordedRequest

__all__ = ["HOST", "ModelServer", "RecordedRequest", "model_server"]


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    """A fresh fake model server on 127.0.0.1 for one test."""
    with ModelServer() as server:
        yield server
