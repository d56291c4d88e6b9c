"""Settings: built-in defaults, then TOML files, each overriding the one before.

1. built-in defaults (providers anthropic and openai, presets for local servers, prices)
2. the user file: `paths.config_dir()/config.toml`
3. the repository's `<repo>/.counterpoint.toml`
4. the file named by `COUNTERPOINT_CONFIG`

A missing file is an empty layer; a file that cannot be read or parsed, an unknown key or a
value of the wrong type is a `ConfigError` naming the file, the dotted key and what was
expected. The repository's file comes with the code, so it may not choose where API keys are
sent (`api_key_env`, or the `base_url` of a provider that uses a key).
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from counterpoint import paths
from counterpoint.core.context import ContextRules
from counterpoint.core.pricing import DEFAULT_PRICES, Price

ProviderKind = Literal["anthropic", "openai"]
KINDS: tuple[str, ...] = ("anthropic", "openai")
STRUCTURED: dict[str, tuple[str, ...]] = {
    "openai": ("json_schema", "fenced"),
    "anthropic": ("tool", "output_config"),
}
REPLAY = "replay"
REPO_FILE = ".counterpoint.toml"
ENV_CONFIG = "COUNTERPOINT_CONFIG"

DEFAULT_TIMEOUT = 600.0
"""Seconds between bytes; reasoning models can be silent for minutes before they stream."""
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_AFTER = 30.0

_BUILTIN: dict[str, tuple[ProviderKind, str, str]] = {
    "anthropic": ("anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"),
    "openai": ("openai", "OPENAI_API_KEY", "OPENAI_BASE_URL"),
}
"""name -> (kind, key variable, base URL variable)."""
_LOCAL_PRESETS: dict[str, str] = {
    "ollama": "http://127.0.0.1:11434/v1",
    "vllm": "http://127.0.0.1:8000/v1",
    "llamacpp": "http://127.0.0.1:8080/v1",
    "lmstudio": "http://127.0.0.1:1234/v1",
}
"""OpenAI-compatible local servers at their default ports; override under [providers.NAME]."""

_PROVIDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_SPEC_EXAMPLE = "like 'openai:gpt-5.5'"


class ConfigError(Exception):
    """A settings file that cannot be used; the message names file, key and expectation."""


@dataclass(frozen=True)
class ProviderSettings:
    name: str
    kind: ProviderKind
    base_url: str | None
    api_key_env: str | None
    structured: str | None
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER

    @property
    def builtin(self) -> bool:
        return self.name in _BUILTIN


@dataclass(frozen=True)
class Settings:
    generator: str | None = None
    reviewers: tuple[str, ...] = ()
    planner: str | None = None
    providers: dict[str, ProviderSettings] = field(default_factory=dict)
    prices: dict[str, Price] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    context: ContextRules = field(default_factory=ContextRules)
    theme: str | None = None
    sources: dict[str, str] = field(default_factory=dict)
    """Dotted key -> the file it came from, or "default" / "env"."""
    files: tuple[tuple[str, str, bool], ...] = ()
    """The layers consulted: (label, path, whether the file exists)."""


# --- dotted keys -----------------------------------------------------------------------------

Key = tuple[str, ...]


def dotted(key: Key) -> str:
    """("prices", "openai:gpt-5.5", "input") -> 'prices."openai:gpt-5.5".input' (TOML style)."""
    return ".".join(part if _BARE_KEY.match(part) else f'"{part}"' for part in key)


def parse_dotted(text: str) -> Key:
    """The inverse of `dotted`: bare parts separated by dots, or "quoted" parts."""
    parts: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == '"':
            end = text.find('"', i + 1)
            if end == -1:
                raise ConfigError(f"{text}: unterminated quote in key")
            parts.append(text[i + 1 : end])
            i = end + 1
        else:
            end = text.find(".", i)
            end = len(text) if end == -1 else end
            part = text[i:end].strip()
            if not _BARE_KEY.match(part):
                raise ConfigError(f"{text}: bad key part {part!r}")
            parts.append(part)
            i = end
        if i < len(text):
            if text[i] != ".":
                raise ConfigError(f"{text}: expected '.' after {parts[-1]!r}")
            i += 1
    if not parts:
        raise ConfigError("empty key")
    return tuple(parts)


# --- reading one file ------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any] | None:
    """The parsed file, or None when it does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        if message.endswith("(at end of document)"):
            line = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
            message = message.replace("(at end of document)", f"(at line {line}, column 1)")
        where = re.search(r"\(at line (\d+), column (\d+)\)", message)
        if where:
            message = message[: where.start()].strip()
            raise ConfigError(
                f"{path}: line {where.group(1)}, column {where.group(2)}: invalid TOML: {message}"
            ) from exc
        raise ConfigError(f"{path}: invalid TOML: {message}") from exc


def _describe_value(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


class _Layer:
    """Validates one file's document into leaves: (key) -> value."""

    def __init__(self, path: str, trusted: bool) -> None:
        self.path = path
        self.trusted = trusted
        self.leaves: dict[Key, Any] = {}

    def fail(self, key: Key, expected: str, value: Any = None, *, got: bool = True) -> None:
        tail = f", got {_describe_value(value)}" if got else ""
        raise ConfigError(f"{self.path}: {dotted(key)}: expected {expected}{tail}")

    def table(self, key: Key, value: Any, allowed: tuple[str, ...] | None) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(key, "a table", value)
        if allowed is not None:
            for name in value:
                if name not in allowed:
                    choices = ", ".join(allowed)
                    raise ConfigError(
                        f"{self.path}: {dotted((*key, name))}: unknown key"
                        f" (expected one of: {choices})"
                    )
        return value

    def spec(self, key: Key, value: Any, expected: str) -> str:
        if not isinstance(value, str) or not _spec_ok(value):
            self.fail(key, expected, value)
        return value

    def number(self, key: Key, value: Any, *, minimum: float, integer: bool = False) -> Any:
        kind = "an integer" if integer else "a number"
        ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            self.fail(key, f"{kind} >= {minimum:g}", value)
        if value < minimum:
            self.fail(key, f"{kind} >= {minimum:g}", value)
        return value if integer else float(value)

    def strings(self, key: Key, value: Any, expected: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.fail(key, expected, value)
        for item in value:
            if not isinstance(item, str):
                self.fail(key, expected, item)
        return tuple(value)

    def load(self, doc: dict[str, Any]) -> None:
        root = self.table((), doc, ("roles", "providers", "prices", "context", "ui"))
        if "roles" in root:
            self._roles(root["roles"])
        if "providers" in root:
            providers = self.table(("providers",), root["providers"], None)
            for name, body in providers.items():
                self._provider(name, body)
        if "prices" in root:
            prices = self.table(("prices",), root["prices"], None)
            for spec, body in prices.items():
                self._price(spec, body)
        if "context" in root:
            self._context(root["context"])
        if "ui" in root:
            ui = self.table(("ui",), root["ui"], ("theme",))
            if "theme" in ui:
                theme = ui["theme"]
                if not isinstance(theme, str) or not theme.strip():
                    self.fail(("ui", "theme"), "a theme name like 'counterpoint-dark'", theme)
                self.leaves[("ui", "theme")] = theme.strip()

    def _roles(self, value: Any) -> None:
        roles = self.table(("roles",), value, ("generator", "reviewers", "planner"))
        for role in ("generator", "planner"):
            if role in roles:
                spec = roles[role]
                if spec == "":
                    self.leaves[("roles", role)] = None
                else:
                    self.leaves[("roles", role)] = self.spec(
                        ("roles", role), spec, f"a model spec {_SPEC_EXAMPLE} (or \"\")"
                    )
        if "reviewers" in roles:
            key = ("roles", "reviewers")
            expected = f"a list of model specs {_SPEC_EXAMPLE}"
            specs = self.strings(key, roles["reviewers"], expected)
            for spec in specs:
                self.spec(key, spec, expected)
            self.leaves[key] = specs

    def _provider(self, name: str, value: Any) -> None:
        base: Key = ("providers", name)
        if name == REPLAY:
            raise ConfigError(
                f"{self.path}: {dotted(base)}: 'replay' is reserved for cassettes"
                " (replay:PATH); pick another name"
            )
        if not _PROVIDER_NAME.match(name):
            self.fail(base, "a provider name of letters, digits, '_', '-' or '.'", name)
        fields = ("kind", "base_url", "api_key_env", "structured", "timeout", "max_retries",
                  "max_retry_after")
        body = self.table(base, value, fields)
        for key, item in body.items():
            full = (*base, key)
            if key == "kind":
                if item not in KINDS:
                    self.fail(full, '"openai" or "anthropic"', item)
            elif key == "base_url":
                if not isinstance(item, str) or not item.startswith(("http://", "https://")):
                    self.fail(full, "an http:// or https:// URL", item)
            elif key == "api_key_env":
                if not isinstance(item, str) or not _ENV_NAME.match(item):
                    self.fail(full, "the name of an environment variable", item)
                if not self.trusted:
                    raise ConfigError(
                        f"{self.path}: {dotted(full)}: a repository's {REPO_FILE} may not"
                        " choose API keys; set it in your user config"
                        f" ({user_config_path()}) or in the file named by {ENV_CONFIG}"
                    )
            elif key == "structured":
                every = sorted({s for options in STRUCTURED.values() for s in options})
                if item not in every:
                    self.fail(full, "one of " + ", ".join(f'"{s}"' for s in every), item)
            elif key == "timeout":
                item = self.number(full, item, minimum=1)
            elif key == "max_retries":
                item = self.number(full, item, minimum=0, integer=True)
            elif key == "max_retry_after":
                item = self.number(full, item, minimum=0)
            self.leaves[full] = item

    def _price(self, spec: str, value: Any) -> None:
        base: Key = ("prices", spec)
        if not _spec_ok(spec) and not re.match(r"^[^:\s]+:\*$", spec):
            raise ConfigError(
                f"{self.path}: {dotted(base)}: expected a model spec {_SPEC_EXAMPLE}"
                " (or 'provider:*') as the table name"
            )
        body = self.table(base, value, ("input", "output", "cached_input", "cache_write"))
        for key, item in body.items():
            self.leaves[(*base, key)] = self.number((*base, key), item, minimum=0)

    def _context(self, value: Any) -> None:
        body = self.table(("context",), value, ("include", "exclude", "budget_tokens"))
        for key in ("include", "exclude"):
            if key in body:
                self.leaves[("context", key)] = self.strings(
                    ("context", key), body[key], "a list of glob patterns like '*.lock'"
                )
        if "budget_tokens" in body:
            self.leaves[("context", "budget_tokens")] = self.number(
                ("context", "budget_tokens"), body["budget_tokens"], minimum=1000, integer=True
            )


def _spec_ok(spec: str) -> bool:
    provider, colon, model = spec.partition(":")
    return bool(colon and provider.strip() and model.strip()) and spec == spec.strip()


# --- layering --------------------------------------------------------------------------------


def user_config_path() -> Path:
    return paths.config_dir() / "config.toml"


def _layer_files(repo_root: Path | None) -> list[tuple[str, Path, bool]]:
    """(label, path, trusted) in override order."""
    files: list[tuple[str, Path, bool]] = [("user", user_config_path(), True)]
    if repo_root is not None:
        files.append(("repo", Path(repo_root) / REPO_FILE, False))
    env = os.environ.get(ENV_CONFIG)
    if env:
        files.append((ENV_CONFIG, Path(env).expanduser(), True))
    return files


def load_settings(repo_root: Path | None = None) -> Settings:
    """The effective settings for a session in `repo_root` (None: no repository layer)."""
    leaves: dict[Key, Any] = {}
    sources: dict[Key, str] = {}
    consulted: list[tuple[str, str, bool]] = []
    untrusted: set[str] = set()
    for label, path, trusted in _layer_files(repo_root):
        doc = _read_toml(path)
        consulted.append((label, str(path), doc is not None))
        if doc is None:
            continue
        layer = _Layer(str(path), trusted)
        if not trusted:
            untrusted.add(str(path))
        layer.load(doc)
        for key, value in layer.leaves.items():
            leaves[key] = value
            sources[key] = str(path)
    return _assemble(leaves, sources, tuple(consulted), untrusted)


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
        theme=theme,
        sources=out_sources,
        files=files,
    )


def _providers(
    leaves: dict[Key, Any], sources: dict[Key, str], out: dict[str, str], untrusted: set[str]
) -> dict[str, ProviderSettings]:
    names = set(_BUILTIN) | set(_LOCAL_PRESETS)
    names |= {key[1] for key in leaves if key[0] == "providers"}
    result: dict[str, ProviderSettings] = {}
    for name in sorted(names, key=lambda n: (n not in _BUILTIN, n not in _LOCAL_PRESETS, n)):
        base = ("providers", name)

        def take(field_name: str, default: Any, default_source: str = "default", base: Key = base) -> Any:
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
            preset = _LOCAL_PRESETS.get(name)
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


# --- describing ------------------------------------------------------------------------------


def _safe_url(url: str | None) -> str:
    """A URL without credentials or query string (they can hold keys)."""
    if not url:
        return "(SDK default)"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username or parts.password:
        host = f"***@{host}"
    query = "?…" if parts.query else ""
    return urlunsplit((parts.scheme, host, parts.path, "", "")) + query


def _toml_value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


def describe(settings: Settings) -> str:
    """The effective settings and where each came from, for `counterpoint config`.

    Never prints an API key: only the variable's name and whether it is set.
    """
    rows: list[tuple[str, str, str]] = []

    def row(key: Key, shown: str) -> None:
        rows.append((dotted(key), shown, settings.sources.get(dotted(key), "default")))

    row(("roles", "generator"), _toml_value(settings.generator))
    row(("roles", "reviewers"), _toml_value(settings.reviewers))
    row(("roles", "planner"), _toml_value(settings.planner))
    roles = [s for s in (settings.generator, settings.planner, *settings.reviewers) if s]
    used = {spec.partition(":")[0] for spec in roles}
    for name, prov in settings.providers.items():
        base = ("providers", name)
        prefix = dotted(base) + "."
        touched = any(
            key.startswith(prefix) and source != "default"
            for key, source in settings.sources.items()
        )
        if name not in used and not touched:
            key_note = f"key {prov.api_key_env}" if prov.api_key_env else "no key"
            rows.append((dotted(base), f"{prov.kind} at {_safe_url(prov.base_url)}, {key_note}",
                         "default"))
            continue
        row((*base, "kind"), _toml_value(prov.kind))
        row((*base, "base_url"), _safe_url(prov.base_url))
        if prov.api_key_env:
            state = "set" if os.environ.get(prov.api_key_env) else "NOT SET"
            row((*base, "api_key_env"), f"{prov.api_key_env} ({state})")
        else:
            row((*base, "api_key_env"), "(none: a placeholder key is sent)")
        row((*base, "structured"), prov.structured or "(provider default)")
        row((*base, "timeout"), f"{prov.timeout:g}")
        row((*base, "max_retries"), str(prov.max_retries))
        row((*base, "max_retry_after"), f"{prov.max_retry_after:g}")
    for spec, price in settings.prices.items():
        source = settings.sources.get(dotted(("prices", spec)), "default")
        if source != "default" or spec in roles:
            row(("prices", spec), f"input {price.input:g}, output {price.output:g},"
                f" cached_input {price.cached_input:g} USD/Mtok")
    row(("context", "include"), _toml_value(settings.context.include))
    row(("context", "exclude"), _toml_value(settings.context.exclude))
    row(("context", "budget_tokens"), str(settings.context.budget_tokens))
    row(("ui", "theme"), _toml_value(settings.theme))

    lines = ["Files (later ones override earlier ones):"]
    for label, path, exists in settings.files:
        lines.append(f"  {label:<19} {path}{'' if exists else '  (not found)'}")
    lines.append("")
    width = max(len(f"{k} = {v}") for k, v, _ in rows)
    for key, shown, source in rows:
        lines.append(f"{f'{key} = {shown}':<{width}}  # {source}")
    unpriced = [s for s in roles if not s.startswith(f"{REPLAY}:") and not _priced(s, settings)]
    for spec in unpriced:
        lines.append(f"# no price for {spec}: its cost shows as '?' (add [prices.\"{spec}\"])")
    return "\n".join(lines) + "\n"


def _priced(spec: str, settings: Settings) -> bool:
    from counterpoint.core.pricing import price_known

    return price_known(spec, settings.prices)


# --- writing ---------------------------------------------------------------------------------


def save_user_setting(dotted_key: str, value: Any) -> Path:
    """Set one key in the user file, keeping the others; returns the file's path.

    The result is validated before it is written (a bad value raises `ConfigError` and
    leaves the file alone). tomli-w does not keep comments.
    """
    import tomli_w

    key = parse_dotted(dotted_key)
    path = user_config_path()
    doc = _read_toml(path) or {}
    node: dict[str, Any] = doc
    for part in key[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{path}: {dotted_key}: {part!r} is not a table")
        node = child
    node[key[-1]] = list(value) if isinstance(value, tuple) else value
    _Layer(str(path), trusted=True).load(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(tomli_w.dumps(doc), encoding="utf-8")
    os.replace(tmp, path)
    return path


def known_providers(settings: Settings) -> list[str]:
    return sorted([*settings.providers, REPLAY])


__all__ = [
    "ConfigError",
    "ProviderSettings",
    "Settings",
    "describe",
    "dotted",
    "known_providers",
    "load_settings",
    "parse_dotted",
    "save_user_setting",
    "user_config_path",
]
