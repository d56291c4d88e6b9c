"""Layering and provenance: from the files' models to the effective `Settings`.

1. built-in defaults (providers anthropic and openai, presets for local servers, prices)
2. the user file: `paths.config_dir()/config.toml`
3. the repository's `<repo>/.counterpoint.toml`
4. the file named by `COUNTERPOINT_CONFIG`

Each file is validated alone (`files.validate`); its set keys become leaves, and a later
file's leaf replaces an earlier one's (a `[[checks]]` entry replaces the one of the same name).
The repository's file comes with the code, so it may not choose API keys, may not send an API
key elsewhere, may not decide for the user (`[repositories]`), and may choose where requests
go (`base_url`) only with the user's consent (`consent.py`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from counterpoint.config import consent
from counterpoint.config.errors import ConfigError, Key, dotted
from counterpoint.config.files import layer_files, read_toml, user_config_path, validate
from counterpoint.config.models import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_TIMEOUT,
    ENV_CONFIG,
    REPLAY,
    REPO_FILE,
    STRUCTURED,
    CheckSettings,
    ProviderKind,
    RepositoryFile,
    SettingsFile,
)
from counterpoint.core.pricing import DEFAULT_PRICES, Price
from counterpoint.core.secrets import ContextRules

_BUILTIN: dict[str, tuple[ProviderKind, str, str]] = {
    "anthropic": ("anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"),
    "openai": ("openai", "OPENAI_API_KEY", "OPENAI_BASE_URL"),
}
"""name -> (kind, key variable, base URL variable)."""
LOCAL_PRESETS: dict[str, str] = {
    "ollama": "http://127.0.0.1:11434/v1",
    "vllm": "http://127.0.0.1:8000/v1",
    "llamacpp": "http://127.0.0.1:8080/v1",
    "lmstudio": "http://127.0.0.1:1234/v1",
}
"""OpenAI-compatible local servers at their default ports; override under [providers.NAME]."""


@dataclass(frozen=True)
class ProviderSettings:
    name: str
    kind: ProviderKind
    base_url: str | None
    api_key_env: str | None
    structured: str | None
    timeout: float = DEFAULT_TIMEOUT
    tools: str | None = None
    """How the read-only tools are offered: "native" or "text" (None: native)."""
    max_retries: int = DEFAULT_MAX_RETRIES
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER


@dataclass(frozen=True)
class RepoURL:
    """A `base_url` the repository's own file sets, and who allowed it (None: nobody yet)."""

    provider: str
    url: str
    file: str
    allowed_by: str | None


@dataclass(frozen=True)
class Settings:
    generator: str | None = None
    reviewers: tuple[str, ...] = ()
    planner: str | None = None
    providers: dict[str, ProviderSettings] = field(default_factory=dict)
    prices: dict[str, Price] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    context: ContextRules = field(default_factory=ContextRules)
    tools: bool = False
    """`context.tools`: offer the read-only tools to the generator and the reviewers."""
    theme: str | None = None
    checks: tuple[CheckSettings, ...] = ()
    """Every layer's `[[checks]]`, merged by name; whether they run is `checks_enabled`'s call."""
    repo_root: Path | None = None
    repository: RepositoryFile = RepositoryFile()
    """What the user's own files decide for `repo_root` (`[repositories."PATH"]`)."""
    repo_urls: tuple[RepoURL, ...] = ()
    """The provider URLs the repository's file chooses."""
    sources: dict[str, str] = field(default_factory=dict)
    """Dotted key -> the file it came from, or "default" / "env"."""
    files: tuple[tuple[str, str, bool], ...] = ()
    """The layers consulted: (label, path, whether the file exists)."""

    @property
    def repo_file(self) -> str | None:
        """The repository's `.counterpoint.toml` (whether or not it exists)."""
        return next((path for label, path, _ in self.files if label == "repo"), None)


def _leaves(model: SettingsFile) -> dict[Key, Any]:
    """The keys a file sets, as (dotted key parts) -> value."""
    out: dict[Key, Any] = {}
    for section in ("roles", "context", "ui"):
        table = getattr(model, section)
        for name in table.model_fields_set:
            out[(section, name)] = getattr(table, name)
    for section in ("providers", "prices"):
        for entry, table in getattr(model, section).items():
            for name in table.model_fields_set:
                out[(section, entry, name)] = getattr(table, name)
    return out


def _refuse_in_repository(path: str, model: SettingsFile) -> None:
    """What a repository's own file may not decide, whatever the user allowed."""
    yours = f"set it in your user config ({user_config_path()}) or in the file named by {ENV_CONFIG}"
    for name, table in model.providers.items():
        if "api_key_env" in table.model_fields_set:
            raise ConfigError(
                f"{path}: {dotted(('providers', name, 'api_key_env'))}: a repository's"
                f" {REPO_FILE} may not choose API keys; {yours}"
            )
    if model.repositories:
        raise ConfigError(
            f"{path}: repositories: a repository's {REPO_FILE} may not decide for you"
            f" (switch on checks, allow URLs); {yours}"
        )


def _same_repository(name: str, repo_root: Path) -> bool:
    try:
        return Path(name).expanduser().resolve() == repo_root.resolve()
    except (OSError, RuntimeError):
        return False


def load_settings(repo_root: Path | None = None, *, require_consent: bool = True) -> Settings:
    """The effective settings for a session in `repo_root` (None: no repository layer).

    With `require_consent` (the default), a `base_url` chosen by the repository's file that the
    user has not allowed is a `ConfigError` saying how to allow it; without, it is only listed
    in `repo_urls` (for `counterpoint config`, which shows it before the user allows it).
    """
    leaves: dict[Key, Any] = {}
    sources: dict[Key, str] = {}
    checks: dict[str, tuple[CheckSettings, str]] = {}
    repository: dict[str, tuple[Any, str, str]] = {}
    consulted: list[tuple[str, str, bool]] = []
    untrusted: set[str] = set()
    for label, path, trusted in layer_files(repo_root):
        doc = read_toml(path)
        consulted.append((label, str(path), doc is not None))
        if doc is None:
            continue
        model = validate(path, doc)
        if not trusted:
            untrusted.add(str(path))
            _refuse_in_repository(str(path), model)
        for key, value in _leaves(model).items():
            leaves[key] = value
            sources[key] = str(path)
        for check in model.checks:
            checks[check.name] = (check, str(path))
        if repo_root is not None:
            for table_name, table in model.repositories.items():
                if _same_repository(table_name, Path(repo_root)):
                    for field_name in table.model_fields_set:
                        repository[field_name] = (getattr(table, field_name), str(path),
                                                  table_name)
    settings = _assemble(leaves, sources, tuple(consulted), untrusted)
    out_sources = dict(settings.sources)
    for check_name, (_, file) in checks.items():
        out_sources[dotted(("checks", check_name))] = file
    for field_name, (_, file, table_name) in repository.items():
        out_sources[dotted(("repositories", table_name, field_name))] = file
    yours = RepositoryFile(**{name: value for name, (value, _, _) in repository.items()})
    urls = tuple(
        RepoURL(name, prov.base_url, sources[_url_key(name)],
                consent.url_allowed(repo_root, yours, name, prov.base_url))
        for name, prov in settings.providers.items()
        if prov.base_url and sources.get(_url_key(name)) in untrusted and repo_root is not None
    )
    if require_consent:
        for url in urls:
            if url.allowed_by is None:
                raise ConfigError(consent.url_refusal(url.file, url.provider, url.url))
    return replace(
        settings,
        checks=tuple(check for check, _ in checks.values()),
        repo_root=None if repo_root is None else Path(repo_root),
        repository=yours,
        repo_urls=urls,
        sources=out_sources,
    )


def _url_key(provider: str) -> Key:
    return ("providers", provider, "base_url")


def _assemble(
    leaves: dict[Key, Any],
    sources: dict[Key, str],
    files: tuple[tuple[str, str, bool], ...],
    untrusted: set[str],
) -> Settings:
    out_sources: dict[str, str] = {}

    def take(key: Key, default: Any) -> Any:
        if key in leaves:
            out_sources[dotted(key)] = sources[key]
            return leaves[key]
        out_sources[dotted(key)] = "default"
        return default

    generator = take(("roles", "generator"), None)
    reviewers = take(("roles", "reviewers"), ())
    planner = take(("roles", "planner"), None)
    providers = _providers(leaves, sources, out_sources, untrusted)
    prices = _prices(leaves, sources, out_sources)
    context = ContextRules(
        include=take(("context", "include"), ContextRules.include),
        exclude=take(("context", "exclude"), ContextRules.exclude),
        budget_tokens=take(("context", "budget_tokens"), ContextRules.budget_tokens),
    )
    tools = bool(take(("context", "tools"), False))
    theme = take(("ui", "theme"), None)
    known = sorted([*providers, REPLAY])
    for role, specs in (("generator", [generator]), ("reviewers", reviewers),
                        ("planner", [planner])):
        for spec in specs:
            if spec is None:
                continue
            name = spec.partition(":")[0]
            if name not in providers and name != REPLAY:
                where = sources.get(("roles", role), "default")
                raise ConfigError(
                    f"{where}: roles.{role}: unknown provider {name!r} in {spec!r}"
                    f" (expected one of: {', '.join(known)}; or define [providers.{name}])"
                )
    return Settings(
        generator=generator,
        reviewers=tuple(reviewers),
        planner=planner,
        providers=providers,
        prices=prices,
        context=context,
        tools=tools,
        theme=theme,
        sources=out_sources,
        files=files,
    )


def _providers(
    leaves: dict[Key, Any], sources: dict[Key, str], out: dict[str, str], untrusted: set[str]
) -> dict[str, ProviderSettings]:
    names = set(_BUILTIN) | set(LOCAL_PRESETS)
    names |= {key[1] for key in leaves if key[0] == "providers"}
    result: dict[str, ProviderSettings] = {}
    for name in sorted(names, key=lambda n: (n not in _BUILTIN, n not in LOCAL_PRESETS, n)):
        base = ("providers", name)

        def take(field_name: str, default: Any, default_source: str = "default",
                 base: Key = base) -> Any:
            key = (*base, field_name)
            if key in leaves:
                out[dotted(key)] = sources[key]
                return leaves[key]
            out[dotted(key)] = default_source
            return default

        if name in _BUILTIN:
            builtin_kind, key_env, url_env = _BUILTIN[name]
            env_url = os.environ.get(url_env) or None
            kind = take("kind", builtin_kind)
            if kind != builtin_kind:
                raise ConfigError(
                    f"{sources[(*base, 'kind')]}: {dotted((*base, 'kind'))}: expected"
                    f" {builtin_kind!r} (the built-in {name} provider), got {kind!r};"
                    " name your own provider differently"
                )
            base_url = take("base_url", env_url, "env" if env_url else "default")
            api_key_env = take("api_key_env", key_env)
        else:
            kind = take("kind", "openai")
            preset = LOCAL_PRESETS.get(name)
            base_url = take("base_url", preset)
            if base_url is None:
                raise ConfigError(
                    f"{_first_source(leaves, sources, base)}: {dotted((*base, 'base_url'))}:"
                    " expected the server's URL, e.g. 'http://127.0.0.1:11434/v1'"
                )
            api_key_env = take("api_key_env", None)
        structured = take("structured", None)
        if structured is not None and structured not in STRUCTURED[kind]:
            options = " or ".join(f'"{s}"' for s in STRUCTURED[kind])
            raise ConfigError(
                f"{sources[(*base, 'structured')]}: {dotted((*base, 'structured'))}:"
                f" expected {options} for a provider of kind {kind!r}, got {structured!r}"
            )
        tools = take("tools", None)
        if tools == "text" and kind != "openai":
            raise ConfigError(
                f"{sources[(*base, 'tools')]}: {dotted((*base, 'tools'))}: the plain-text tool"
                f' protocol is for OpenAI-compatible servers; a provider of kind {kind!r} takes "native"'
            )
        url_key = (*base, "base_url")
        if api_key_env and url_key in leaves and sources[url_key] in untrusted:
            raise ConfigError(
                f"{sources[url_key]}: {dotted(url_key)}: a repository's {REPO_FILE} may not"
                f" redirect a provider that sends an API key ({api_key_env}); set it in your"
                f" user config ({user_config_path()}) or in the file named by {ENV_CONFIG}"
            )
        result[name] = ProviderSettings(
            name=name,
            kind=kind,
            base_url=base_url,
            api_key_env=api_key_env,
            structured=structured,
            tools=tools,
            timeout=take("timeout", DEFAULT_TIMEOUT),
            max_retries=take("max_retries", DEFAULT_MAX_RETRIES),
            max_retry_after=take("max_retry_after", DEFAULT_MAX_RETRY_AFTER),
        )
    return result


def _first_source(leaves: dict[Key, Any], sources: dict[Key, str], prefix: Key) -> str:
    for key in leaves:
        if key[: len(prefix)] == prefix:
            return sources[key]
    return "default"


def _prices(
    leaves: dict[Key, Any], sources: dict[Key, str], out: dict[str, str]
) -> dict[str, Price]:
    prices = dict(DEFAULT_PRICES)
    for spec in DEFAULT_PRICES:
        out[dotted(("prices", spec))] = "default"
    specs = sorted({key[1] for key in leaves if key[0] == "prices"})
    for spec in specs:
        base = ("prices", spec)
        given = {key[2]: leaves[key] for key in leaves if key[:2] == base}
        known = prices.get(spec)
        if known is None:
            missing = [f for f in ("input", "output") if f not in given]
            if missing:
                raise ConfigError(
                    f"{_first_source(leaves, sources, base)}: {dotted((*base, missing[0]))}:"
                    " expected a price in USD per million tokens (required for a model"
                    " without a shipped price)"
                )
            cached = given.get("cached_input", given["input"])
            known = Price(given["input"], given["output"], cached)
        prices[spec] = Price(
            input=given.get("input", known.input),
            output=given.get("output", known.output),
            cached_input=given.get("cached_input", known.cached_input),
            cache_write=given.get("cache_write", known.cache_write),
        )
        for name in ("input", "output", "cached_input", "cache_write"):
            key = (*base, name)
            out[dotted(key)] = sources[key] if key in leaves else "default"
        out[dotted(base)] = _first_source(leaves, sources, base)
    return prices
