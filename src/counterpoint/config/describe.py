"""`counterpoint config`: the effective settings, where each came from, and what needs consent."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from counterpoint.config import consent
from counterpoint.config.consent import ALLOW_URLS, checks_enabled, safe_url
from counterpoint.config.errors import ConfigError, Key, dotted
from counterpoint.config.layers import Settings, load_settings
from counterpoint.config.models import REPLAY


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

    def row(key: Key, shown: str, note: str = "") -> None:
        source = settings.sources.get(dotted(key), "default")
        rows.append((dotted(key), shown, source + note))

    row(("roles", "generator"), _toml_value(settings.generator))
    row(("roles", "reviewers"), _toml_value(settings.reviewers))
    row(("roles", "planner"), _toml_value(settings.planner))
    roles = [s for s in (settings.generator, settings.planner, *settings.reviewers) if s]
    used = {spec.partition(":")[0] for spec in roles}
    repo_urls = {url.provider: url for url in settings.repo_urls}
    for name, prov in settings.providers.items():
        base = ("providers", name)
        prefix = dotted(base) + "."
        touched = any(
            key.startswith(prefix) and source != "default"
            for key, source in settings.sources.items()
        )
        if name not in used and not touched:
            key_note = f"key {prov.api_key_env}" if prov.api_key_env else "no key"
            rows.append((dotted(base), f"{prov.kind} at {safe_url(prov.base_url)}, {key_note}",
                         "default"))
            continue
        row((*base, "kind"), _toml_value(prov.kind))
        url = repo_urls.get(name)
        note = "" if url is None else (
            f" (allowed by {url.allowed_by})" if url.allowed_by else
            f" (NOT ALLOWED: {ALLOW_URLS})")
        row((*base, "base_url"), safe_url(prov.base_url), note)
        if prov.api_key_env:
            state = "set" if os.environ.get(prov.api_key_env) else "NOT SET"
            row((*base, "api_key_env"), f"{prov.api_key_env} ({state})")
        else:
            row((*base, "api_key_env"), "(none: a placeholder key is sent)")
        row((*base, "structured"), prov.structured or "(provider default)")
        row((*base, "tools"), prov.tools or "native")
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
    row(("context", "tools"), "true" if settings.tools else "false")
    row(("ui", "theme"), _toml_value(settings.theme))
    for check in settings.checks:
        shown = f"{_toml_value(check.command)}, timeout_s {check.timeout_s:g}"
        row(("checks", check.name), shown + f", format {check.format or '(detected)'}")

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
    lines.extend(_consent_lines(settings))
    return "\n".join(lines) + "\n"


def _consent_lines(settings: Settings) -> list[str]:
    """What the repository's file may not decide alone, and how the user decides it."""
    if settings.repo_root is None:
        return []
    lines = ["", "Decided by you for this repository (its .counterpoint.toml cannot):"]
    pending = [url for url in settings.repo_urls if url.allowed_by is None]
    if pending:
        names = ", ".join(url.provider for url in pending)
        lines.append(f"  provider URLs     NOT ALLOWED ({names}): review them above, then"
                     f" `{ALLOW_URLS}`")
    elif settings.repo_urls:
        lines.append("  provider URLs     allowed")
    else:
        lines.append("  provider URLs     the repository's file sets none")
    decision = checks_enabled(settings)
    state = "on" if decision.enabled else "off"
    lines.append(f"  checks            {state} ({decision.reason.removeprefix('off: ')})")
    lines.append("  `counterpoint config --revoke` forgets what you allowed here.")
    return lines


def _priced(spec: str, settings: Settings) -> bool:
    from counterpoint.core.pricing import price_known

    return price_known(spec, settings.prices)


def review(
    repo_root: Path | None, *, allow_urls: bool = False, allow_checks: bool = False,
    revoke: bool = False,
) -> str:
    """`counterpoint config [--revoke] [--allow-urls] [--allow-checks]`: decide, then describe.

    The settings are read without requiring consent, so the user sees what they allow.
    """
    said: list[str] = []
    if (allow_urls or allow_checks or revoke) and repo_root is None:
        raise ConfigError("not in a git repository: consent is given per repository")
    if revoke:
        assert repo_root is not None
        forgot = consent.revoke(repo_root)
        said.append(f"{'forgot what you allowed' if forgot else 'nothing was allowed'}"
                    f" for {repo_root}")
    settings = load_settings(repo_root, require_consent=False)
    if allow_urls:
        allowed = consent.allow_urls(settings)
        said.extend(f"allowed for {repo_root}: {line}" for line in allowed)
        if not allowed:
            said.append("nothing to allow: the repository's file sets no provider URL that"
                        " needs your consent")
    if allow_checks:
        consent.allow_checks(settings)
        said.append(f"checks allowed for {repo_root}: the commands listed below (asked again"
                    " if the repository changes them)")
    if allow_urls or allow_checks:
        settings = load_settings(repo_root, require_consent=False)
    return "".join(f"{line}\n" for line in said) + ("\n" if said else "") + describe(settings)
