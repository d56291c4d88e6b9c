"""Which models a new session offers and preselects, by the product's own rule: never review
with the writer's blind spots, so the default reviewer comes from another model family than
the generator, and a generator and reviewer of one family get a warning.

- `usable_providers`: the providers a session can call now (a key in the environment, or a
  server the user configured in a file);
- `model_choices`: the roles the settings name, then the known (priced) models of usable
  providers, in the price table's order (newest and strongest first, as shipped);
- `default_roles`: the roles to preselect when the settings leave them unset;
- `same_family_warning`: what to tell the human when a reviewer shares the generator's family.

A model's family is `core.scoreboard.family` (the one place); scripted `replay:` models have none.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from counterpoint.config import REPLAY, Settings, dotted
from counterpoint.core.scoreboard import family


def spec_family(spec: str) -> str | None:
    """The model family of `spec`; None for a scripted replay model."""
    if spec.partition(":")[0] == REPLAY:
        return None
    return family(spec)


def usable_providers(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """Providers a session can call: those whose API key variable is set, and servers without
    a key that a config file defines (a built-in preset nobody configured does not count)."""
    env = os.environ if environ is None else environ
    usable = []
    for name, prov in settings.providers.items():
        if prov.api_key_env:
            if env.get(prov.api_key_env, "").strip():
                usable.append(name)
            continue
        prefix = dotted(("providers", name)) + "."
        if any(key.startswith(prefix) and source not in ("default", "env")
               for key, source in settings.sources.items()):
            usable.append(name)
    return usable


def model_choices(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """The roles the settings name, then the priced models of usable providers."""
    usable = set(usable_providers(settings, environ))
    seen: list[str] = []

    def add(spec: str | None) -> None:
        if spec and spec not in seen and not spec.endswith(":*"):
            seen.append(spec)

    add(settings.generator)
    for spec in settings.reviewers:
        add(spec)
    add(settings.planner)
    for spec in settings.prices:
        if spec.partition(":")[0] in usable:
            add(spec)
    return seen


def default_roles(settings: Settings, choices: Sequence[str]) -> tuple[str | None, list[str]]:
    """(generator, reviewers) to preselect: the configured ones; for a role left unset, the
    first choice, and a reviewer of another family than the generator (of the same family
    only when no other is usable: `same_family_warning` then says so)."""
    generator = settings.generator or (choices[0] if choices else None)
    if settings.reviewers:
        return generator, list(settings.reviewers)
    others = [c for c in choices if c != generator]
    gen_family = spec_family(generator) if generator else None
    cross = [c for c in others if spec_family(c) != gen_family]
    pick = (cross or others)[:1]
    return generator, pick


def same_family_warning(generator: str | None, reviewers: Sequence[str]) -> str | None:
    """A one-line warning when a reviewer is of the generator's model family; else None."""
    gen_family = spec_family(generator) if generator else None
    if gen_family is None:
        return None
    same = [r for r in reviewers if r != generator and spec_family(r) == gen_family]
    if not same:
        return None
    return (
        f"same model family ({gen_family}): generator {generator}, reviewer {', '.join(same)};"
        " a reviewer of the writer's family shares its blind spots, add one from another family"
    )
