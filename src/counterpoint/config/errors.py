"""`ConfigError`, dotted keys, and pydantic's validation errors in the words users read.

Every message names the file, the dotted key and what was expected ("FILE: KEY: expected X,
got Y"); the models in `models.py` put the wording into their errors' context.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_LONGEST_VALUE = 80

Key = tuple[str, ...]


class ConfigError(Exception):
    """A settings file that cannot be used; the message names file, key and expectation."""


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


def describe_value(value: Any) -> str:
    """How a found value is quoted after "got": strings repr'd, tables named, long ones cut."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        shown = repr(value)
    except ValueError:  # an integer past Python's digit limit
        shown = "a number with too many digits"
    if len(shown) > _LONGEST_VALUE:
        shown = shown[: _LONGEST_VALUE - 1] + "…"
    return shown


def key_text(loc: tuple[Any, ...]) -> str:
    """A validation location as a dotted key; list positions as `[i]` (`checks[0].command`)."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + dotted((str(part),))
    return text


def from_validation(path: str, exc: ValidationError) -> ConfigError:
    """The first problem pydantic found in the file at `path`, as a `ConfigError`."""
    error = exc.errors(include_url=False)[0]
    context = error.get("ctx") or {}
    key = key_text((*error["loc"], *context.get("at", ())))
    kind = error["type"]
    if kind == "counterpoint_unknown":
        message = f"unknown key (expected one of: {', '.join(context['allowed'])})"
    elif kind == "counterpoint_expected":
        message = f"expected {context['expected']}"
        if "got" in context:
            message += f", got {describe_value(context['got'])}"
    elif kind == "counterpoint_message":
        message = context["message"]
    else:
        message = str(error["msg"])
    return ConfigError(f"{path}: {key}: {message}" if key else f"{path}: {message}")
