"""Default roles by the product's rule: a reviewer from another model family than the generator."""

import dataclasses

from counterpoint.config import load_settings
from counterpoint.workflow.model_choice import (
    default_roles,
    model_choices,
    same_family_warning,
    spec_family,
    usable_providers,
)

BOTH = {"ANTHROPIC_API_KEY": "sk-ant", "OPENAI_API_KEY": "sk-oai"}


def test_family_of_a_spec():
    assert spec_family("anthropic:claude-opus-5-5") == "anthropic"
    assert spec_family("openai:gpt-5.5") == "openai"
    assert spec_family("ollama:qwen3:8b") == "qwen"
    assert spec_family("replay:cassette.json") is None


def test_usable_providers_are_those_with_a_key_or_a_configured_server(tmp_path, monkeypatch):
    settings = load_settings(None)
    assert usable_providers(settings, {}) == []
    assert usable_providers(settings, {"OPENAI_API_KEY": " "}) == []
    assert usable_providers(settings, {"OPENAI_API_KEY": "sk"}) == ["openai"]
    config = tmp_path / "c.toml"
    config.write_text('[providers.ollama]\nbase_url = "http://127.0.0.1:11434/v1"\n')
    monkeypatch.setenv("COUNTERPOINT_CONFIG", str(config))
    assert usable_providers(load_settings(None), {}) == ["ollama"]


def test_choices_list_only_models_of_usable_providers():
    settings = load_settings(None)
    assert model_choices(settings, {}) == []
    only_openai = model_choices(settings, {"OPENAI_API_KEY": "sk"})
    assert only_openai and all(c.startswith("openai:") for c in only_openai)
    configured = dataclasses.replace(settings, generator="ollama:qwen3:8b")
    assert model_choices(configured, {})[0] == "ollama:qwen3:8b"  # a role named is always listed


def test_default_pair_comes_from_two_families():
    settings = load_settings(None)
    generator, reviewers = default_roles(settings, model_choices(settings, BOTH))
    assert (generator, reviewers) == ("anthropic:claude-opus-5-5", ["openai:gpt-5.5"])
    assert same_family_warning(generator, reviewers) is None


def test_one_family_only_picks_a_sibling_and_warns():
    settings = load_settings(None)
    generator, reviewers = default_roles(settings, model_choices(settings, {"OPENAI_API_KEY": "sk"}))
    assert generator == "openai:gpt-5.5" and reviewers == ["openai:gpt-5.5-mini"]
    warning = same_family_warning(generator, reviewers)
    assert warning and "openai" in warning and "openai:gpt-5.5-mini" in warning


def test_configured_roles_are_kept_and_a_missing_reviewer_is_cross_family():
    settings = dataclasses.replace(load_settings(None), generator="openai:gpt-5.5")
    assert default_roles(settings, model_choices(settings, BOTH)) == (
        "openai:gpt-5.5", ["anthropic:claude-opus-5-5"])
    both = dataclasses.replace(settings, reviewers=("openai:gpt-5-mini",))
    assert default_roles(both, model_choices(both, BOTH)) == ("openai:gpt-5.5", ["openai:gpt-5-mini"])
    assert default_roles(load_settings(None), []) == (None, [])


def test_no_warning_across_families_or_for_scripted_models():
    assert same_family_warning("openai:gpt-5.5", ["anthropic:claude-sonnet-5"]) is None
    assert same_family_warning("replay:g.json", ["replay:r.json"]) is None
    assert same_family_warning(None, ["openai:gpt-5.5"]) is None
    assert same_family_warning("ollama:qwen3:8b", ["vllm:Qwen/Qwen3-Coder", "openai:gpt-5"])
