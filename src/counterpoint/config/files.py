"""The settings files: where they are, reading and validating one, writing the user's."""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from counterpoint import paths
from counterpoint.config.errors import ConfigError, from_validation, parse_dotted
from counterpoint.config.models import ENV_CONFIG, REPO_FILE, SettingsFile

MAX_FILE_BYTES = 1 << 20
"""A settings file is a few hundred bytes; a megabyte is not one."""


def user_config_path() -> Path:
    return paths.config_dir() / "config.toml"


def layer_files(repo_root: Path | None) -> list[tuple[str, Path, bool]]:
    """(label, path, trusted) in override order: user, repository, COUNTERPOINT_CONFIG."""
    files: list[tuple[str, Path, bool]] = [("user", user_config_path(), True)]
    if repo_root is not None:
        files.append(("repo", Path(repo_root) / REPO_FILE, False))
    env = os.environ.get(ENV_CONFIG)
    if env:
        files.append((ENV_CONFIG, Path(env).expanduser(), True))
    return files


def read_toml(path: Path) -> dict[str, Any] | None:
    """The parsed file, or None when it does not exist."""
    try:
        if path.exists() and not path.is_file() and not path.is_dir():
            raise ConfigError(f"{path}: cannot read: not a regular file")  # a FIFO would block
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES >> 20} MiB; not a settings file")
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(path, raw, str(exc)) from exc
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: arrays or tables nested too deeply") from None
    except ValueError as exc:  # e.g. an integer longer than Python converts
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _syntax_error(path: Path, raw: bytes, message: str) -> ConfigError:
    if message.endswith("(at end of document)"):
        line = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
        message = message.replace("(at end of document)", f"(at line {line}, column 1)")
    where = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if where:
        message = message[: where.start()].strip()
        return ConfigError(
            f"{path}: line {where.group(1)}, column {where.group(2)}: invalid TOML: {message}"
        )
    return ConfigError(f"{path}: invalid TOML: {message}")


def validate(path: Path | str, doc: dict[str, Any]) -> SettingsFile:
    """One file's document as a model, or a `ConfigError` naming file, key and expectation."""
    try:
        return SettingsFile.model_validate(doc)
    except ValidationError as exc:
        raise from_validation(str(path), exc) from None
    except RecursionError:
        raise ConfigError(f"{path}: values nested too deeply") from None


def save_user_setting(dotted_key: str, value: Any) -> Path:
    """Set one key in the user file, keeping the others; returns the file's path.

    The result is validated before it is written (a bad value raises `ConfigError` and
    leaves the file alone). tomli-w does not keep comments.
    """
    import tomli_w

    key = parse_dotted(dotted_key)
    path = user_config_path()
    doc = read_toml(path) or {}
    node: dict[str, Any] = doc
    for part in key[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{path}: {dotted_key}: {part!r} is not a table")
        node = child
    node[key[-1]] = list(value) if isinstance(value, tuple) else value
    validate(path, doc)
    write_atomically(path, tomli_w.dumps(doc))
    return path


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file, or raise `ConfigError`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None
