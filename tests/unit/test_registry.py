"""Model specs to providers: dispatch, key checks, error messages."""

import json

import pytest

from counterpoint.config import load_settings
from counterpoint.providers.registry import (
    LOCAL_PLACEHOLDER_KEY,
    MissingKey,
    SpecError,
    check_keys,
    make_provider,
    parse_spec,
)


def write_config(tmp_path, monkeypatch, text):
    path = tmp_path / "cfg.toml"
    path.write_text(text)
    monkeypatch.setenv("COUNTERPOINT_CONFIG", str(path))
    return path


def cassette(path, model="openai:gpt-5.5"):
    path.write_text(
        json.dumps(
            {
                "format": "counterpoint-cassette",
                "version": 1,
                "model": model,
                "scripted": True,
                "exchanges": [{"role": "generator", "text": "hello"}],
            }
        )
    )
    return path


def test_parse_spec():
    assert parse_spec("openai:gpt-5.5") == ("openai", "gpt-5.5")
    assert parse_spec("ollama:qwen3:8b") == ("ollama", "qwen3:8b")
    for bad in ("gpt-5.5", ":m", "openai:", ""):
        with pytest.raises(SpecError, match="PROVIDER:MODEL"):
            parse_spec(bad)


def test_unknown_provider_lists_known_ones():
    settings = load_settings()
    with pytest.raises(SpecError) as info:
        make_provider("foo:bar", settings)
    message = str(info.value)
    assert "'foo'" in message
    for known in ("anthropic", "openai", "ollama", "replay"):
        assert known in message


def test_missing_key_names_the_variable():
    settings = load_settings()
    with pytest.raises(MissingKey) as info:
        check_keys(["replay:x.json", "anthropic:claude-opus-5-5"], settings)
    assert str(info.value) == (
        "anthropic:claude-opus-5-5 needs an API key: set ANTHROPIC_API_KEY"
    )
    assert info.value.env_var == "ANTHROPIC_API_KEY"
    with pytest.raises(MissingKey, match="set OPENAI_API_KEY"):
        make_provider("openai:gpt-5.5", settings)


def test_check_keys_reports_first_missing(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    settings = load_settings()
    check_keys(["anthropic:claude-opus-5-5"], settings)
    with pytest.raises(MissingKey, match="openai:gpt-5.5 needs an API key: set OPENAI_API_KEY"):
        check_keys(["anthropic:claude-opus-5-5", "openai:gpt-5.5", "x:y"], settings)


def test_replay_relative_to_base_dir(tmp_path):
    cassette(tmp_path / "gen.json", model="anthropic:claude-opus-5-5")
    provider = make_provider("replay:gen.json", load_settings(), base_dir=tmp_path, speed=2.0)
    assert type(provider).__name__ == "ReplayProvider"
    assert provider.path == tmp_path / "gen.json"
    assert provider.spec == "anthropic:claude-opus-5-5"
    assert provider.speed == 2.0


def test_replay_absolute_path_ignores_base_dir(tmp_path):
    path = cassette(tmp_path / "abs.json")
    provider = make_provider(f"replay:{path}", load_settings(), base_dir=tmp_path / "elsewhere")
    assert provider.path == path


def test_anthropic_builtin(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/")
    provider = make_provider("anthropic:claude-opus-5-5", load_settings())
    assert type(provider).__name__ == "AnthropicProvider"
    assert (provider.provider, provider.model) == ("anthropic", "claude-opus-5-5")
    assert provider.base_url == "http://127.0.0.1:9/"
    assert provider._api_key == "sk-ant-test"
    assert provider.max_retries == 2
    assert "sk-ant-test" not in repr(provider)


def test_openai_builtin_with_config_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    write_config(
        tmp_path,
        monkeypatch,
        '[providers.openai]\ntimeout = 33.0\nmax_retries = 5\nmax_retry_after = 7\n'
        'structured = "fenced"\n',
    )
    provider = make_provider("openai:gpt-5.5", load_settings())
    assert type(provider).__name__ == "OpenAIProvider"
    assert provider.base_url is None  # the SDK default
    assert (provider.timeout, provider.max_retries, provider.max_retry_after) == (33.0, 5, 7.0)
    assert provider.structured == "fenced"


def test_named_openai_compatible_provider_gets_placeholder_key(tmp_path, monkeypatch):
    write_config(
        tmp_path,
        monkeypatch,
        '[providers.local]\nbase_url = "http://127.0.0.1:8001/v1"\n',
    )
    provider = make_provider("local:qwen3-coder", load_settings())
    assert type(provider).__name__ == "OpenAIProvider"
    assert provider.spec == "local:qwen3-coder"
    assert provider.base_url == "http://127.0.0.1:8001/v1"
    assert provider._api_key == LOCAL_PLACEHOLDER_KEY


def test_preset_ollama_needs_no_config():
    provider = make_provider("ollama:qwen3:8b", load_settings())
    assert provider.provider == "ollama"
    assert provider.model == "qwen3:8b"
    assert provider.base_url == "http://127.0.0.1:11434/v1"


def test_named_provider_with_key_env(tmp_path, monkeypatch):
    write_config(
        tmp_path,
        monkeypatch,
        '[providers.gateway]\nkind = "anthropic"\nbase_url = "http://127.0.0.1:8002"\n'
        'api_key_env = "GATEWAY_KEY"\nstructured = "output_config"\n',
    )
    monkeypatch.delenv("GATEWAY_KEY", raising=False)
    settings = load_settings()
    with pytest.raises(MissingKey, match="gateway:claude-x needs an API key: set GATEWAY_KEY"):
        check_keys(["gateway:claude-x"], settings)
    monkeypatch.setenv("GATEWAY_KEY", "gw-secret")
    provider = make_provider("gateway:claude-x", settings)
    assert type(provider).__name__ == "AnthropicProvider"
    assert provider.provider == "gateway"
    assert provider.structured == "output_config"
    assert provider._api_key == "gw-secret"


def test_replay_does_not_import_sdks(tmp_path):
    import subprocess
    import sys

    cassette(tmp_path / "c.json")
    code = (
        "import sys; from pathlib import Path\n"
        "from counterpoint.config import load_settings\n"
        "from counterpoint.providers.registry import make_provider\n"
        f"make_provider('replay:c.json', load_settings(), base_dir=Path({str(tmp_path)!r}))\n"
        "assert 'anthropic' not in sys.modules and 'openai' not in sys.modules, 'SDK loaded'\n"
        "assert 'textual' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
