"""From a model SPEC (`PROVIDER:MODEL`) to a provider object.

- `replay:PATH` plays a cassette (PATH relative to `base_dir`);
- `anthropic:MODEL` and `openai:MODEL` use the official SDKs;
- `NAME:MODEL` uses a provider named in the settings (an OpenAI-compatible server such as
  Ollama or vLLM, or an Anthropic-compatible one), through the SDK of its `kind`.

The SDK-backed modules are imported only when such a provider is built, so replay sessions
never load an SDK. `check_keys` runs before any work, so a missing key is reported up front
rather than after the generator has spent a minute.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from counterpoint.config import REPLAY, ProviderSettings, Settings
from counterpoint.providers.base import Provider

LOCAL_PLACEHOLDER_KEY = "counterpoint-local"
"""Sent to servers configured without `api_key_env`: the SDKs insist on a non-empty key."""


class SpecError(Exception):
    """A model spec that names no known provider, or is not PROVIDER:MODEL."""


class MissingKey(Exception):
    """The API key a spec needs is not in the environment."""

    def __init__(self, spec: str, env_var: str) -> None:
        super().__init__(f"{spec} needs an API key: set {env_var}")
        self.spec = spec
        self.env_var = env_var


def parse_spec(spec: str) -> tuple[str, str]:
    """"openai:gpt-5.5" -> ("openai", "gpt-5.5"). The model part may itself hold colons
    (ollama tags such as "ollama:qwen3:8b")."""
    provider, colon, model = spec.strip().partition(":")
    if not colon or not provider or not model:
        raise SpecError(
            f"{spec!r} is not a model spec: expected PROVIDER:MODEL,"
            " e.g. 'anthropic:claude-opus-5-5', 'openai:gpt-5.5' or 'replay:cassette.json'"
        )
    return provider, model


def _known(settings: Settings) -> str:
    return ", ".join(sorted([*settings.providers, REPLAY]))


def _provider_settings(spec: str, settings: Settings) -> tuple[ProviderSettings | None, str]:
    """(settings of the spec's provider, model); None for replay."""
    name, model = parse_spec(spec)
    if name == REPLAY:
        return None, model
    found = settings.providers.get(name)
    if found is None:
        raise SpecError(
            f"{spec}: unknown provider {name!r}; known providers: {_known(settings)}"
            f" (define others under [providers.{name}] in the config file)"
        )
    return found, model


def _api_key(spec: str, prov: ProviderSettings) -> str:
    if prov.api_key_env is None:
        return LOCAL_PLACEHOLDER_KEY
    value = os.environ.get(prov.api_key_env, "").strip()
    if not value:
        raise MissingKey(spec, prov.api_key_env)
    return value


def check_keys(specs: Iterable[str], settings: Settings) -> None:
    """Raise `SpecError` or `MissingKey` for the first spec that cannot be built."""
    for spec in specs:
        prov, _ = _provider_settings(spec, settings)
        if prov is not None:
            _api_key(spec, prov)


def make_provider(
    spec: str,
    settings: Settings,
    *,
    speed: float | None = None,
    base_dir: Path | None = None,
) -> Provider:
    """Build the provider for `spec`. Raises `SpecError`, `MissingKey`, or the provider's own
    `ProviderError` (kind "cassette" for a broken cassette, "config" for a client that cannot
    be built)."""
    prov, model = _provider_settings(spec, settings)
    if prov is None:
        from counterpoint.providers.replay import ReplayProvider

        path = Path(model).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        return ReplayProvider(path, speed=speed)
    kwargs: dict[str, Any] = {
        "api_key": _api_key(spec, prov),
        "base_url": prov.base_url,
        "provider": prov.name,
        "timeout": prov.timeout,
        "max_retries": prov.max_retries,
        "max_retry_after": prov.max_retry_after,
    }
    if prov.structured is not None:
        kwargs["structured"] = prov.structured
    if prov.tools is not None and prov.kind == "openai":
        kwargs["tool_protocol"] = prov.tools
    if prov.kind == "anthropic":
        from counterpoint.providers.anthropic_provider import AnthropicProvider

        return AnthropicProvider(model, **kwargs)
    from counterpoint.providers.openai_provider import OpenAIProvider

    return OpenAIProvider(model, **kwargs)
