"""Replay provider: plays a cassette of model exchanges instead of calling a model.

A cassette is a JSON file (format described in docs/cassettes.md) holding, per role, the
exchanges a model had in a session: the text it streamed, its structured output, usage and
stop reason, optionally an error. Playback keeps one queue per role in file order: each
request takes the next exchange not yet played for its role. Cassettes drive the offline
demo (hand-written, `"scripted": true`) and tests, and `--record` writes them from real runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, get_args

from counterpoint.core.model_json import find_json
from counterpoint.core.tools import ToolCall

from . import scripted
from .base import Completion, ErrorKind, ModelRequest, ProviderError, TextDelta, Usage

FORMAT = "counterpoint-cassette"
VERSION = 1
ROLES: tuple[str, ...] = ("planner", "generator", "reviewer", "responder")
ERROR_KINDS: tuple[str, ...] = get_args(ErrorKind)

_EXCHANGE_KEYS = {
    "role",
    "round",
    "label",
    "text",
    "chunks",
    "data",
    "usage",
    "stop_reason",
    "latency_ms",
    "error",
    "request",
    "tool_calls",
    "tool_protocol",
    "compose",
}
_USAGE_KEYS = {"input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens"}
_ERROR_KEYS = {"kind", "message", "after_chunks", "retryable", "status"}

_PIECE = re.compile(r"\s*\S{1,4}|\s+")
"""A token-like piece: leading whitespace plus up to four visible characters."""


class CassetteError(ValueError):
    """A cassette file that cannot be played; the message says where and why."""


def split_text(text: str) -> list[str]:
    """Cut text into token-like chunks (~4 characters, whitespace kept with the next word).

    The chunks join back to exactly `text`.
    """
    return _PIECE.findall(text)


# -- validation ---------------------------------------------------------------------------


def _check_exchange(index: int, exchange: Any) -> None:
    where = f"exchange {index}"
    if not isinstance(exchange, dict):
        raise CassetteError(f"{where} is not an object")
    unknown = set(exchange) - _EXCHANGE_KEYS
    if unknown:
        raise CassetteError(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
    role = exchange.get("role")
    if role not in ROLES:
        raise CassetteError(f"{where}: role must be one of {', '.join(ROLES)}, got {role!r}")
    where = f"exchange {index} ({role})"
    text, chunks = exchange.get("text"), exchange.get("chunks")
    if text is None and chunks is None:
        raise CassetteError(f"{where} has neither 'text' nor 'chunks'")
    if text is not None and not isinstance(text, str):
        raise CassetteError(f"{where}: 'text' must be a string")
    if chunks is not None:
        if not isinstance(chunks, list) or not all(isinstance(c, str) for c in chunks):
            raise CassetteError(f"{where}: 'chunks' must be a list of strings")
        if text is not None and "".join(chunks) != text:
            raise CassetteError(f"{where}: 'chunks' do not join up to 'text'")
    if "round" in exchange and not _is_int(exchange["round"]):
        raise CassetteError(f"{where}: 'round' must be an integer")
    if exchange.get("data") is not None and not isinstance(exchange["data"], dict):
        raise CassetteError(f"{where}: 'data' must be an object or null")
    usage = exchange.get("usage")
    if usage is not None:
        if not isinstance(usage, dict) or set(usage) - _USAGE_KEYS:
            raise CassetteError(f"{where}: 'usage' may only hold {', '.join(sorted(_USAGE_KEYS))}")
        if not all(_is_int(v) and v >= 0 for v in usage.values()):
            raise CassetteError(f"{where}: usage counts must be non-negative integers")
    if exchange.get("stop_reason") is not None and not isinstance(exchange["stop_reason"], str):
        raise CassetteError(f"{where}: 'stop_reason' must be a string or null")
    latency = exchange.get("latency_ms")
    if latency is not None and (not isinstance(latency, (int, float)) or latency < 0):
        raise CassetteError(f"{where}: 'latency_ms' must be a non-negative number")
    if exchange.get("request") is not None and not isinstance(exchange["request"], dict):
        raise CassetteError(f"{where}: 'request' must be an object or null")
    if exchange.get("error") is not None:
        _check_error(where, exchange["error"])
    calls = exchange.get("tool_calls")
    if calls is not None and not (
        isinstance(calls, list)
        and all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in calls)
    ):
        raise CassetteError(f"{where}: 'tool_calls' must be a list of objects with a 'name'")
    if exchange.get("tool_protocol") not in (None, "native", "text"):
        raise CassetteError(f"{where}: 'tool_protocol' must be \"native\" or \"text\"")
    if exchange.get("compose") is not None:
        try:
            scripted.check_compose(role, exchange["compose"])
        except scripted.ComposeError as exc:
            raise CassetteError(f"{where}: {exc}") from None


def _check_error(where: str, error: Any) -> None:
    if not isinstance(error, dict):
        raise CassetteError(f"{where}: 'error' must be an object or null")
    unknown = set(error) - _ERROR_KEYS
    if unknown:
        raise CassetteError(f"{where}: error has unknown keys: {', '.join(sorted(unknown))}")
    if error.get("kind") not in ERROR_KINDS:
        raise CassetteError(f"{where}: error kind must be one of {', '.join(ERROR_KINDS)}")
    if not isinstance(error.get("message", ""), str):
        raise CassetteError(f"{where}: error message must be a string")
    after = error.get("after_chunks", 0)
    if not _is_int(after) or after < 0:
        raise CassetteError(f"{where}: error after_chunks must be a non-negative integer")
    if not isinstance(error.get("retryable", True), bool):
        raise CassetteError(f"{where}: error retryable must be true or false")
    status = error.get("status")
    if status is not None and not _is_int(status):
        raise CassetteError(f"{where}: error status must be an integer or null")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_cassette(data: Any) -> dict[str, Any]:
    """Check a decoded cassette; return it. Raises CassetteError naming the first problem."""
    if not isinstance(data, dict):
        raise CassetteError("the top level is not a JSON object")
    if data.get("format") != FORMAT:
        raise CassetteError(f"'format' must be {FORMAT!r}, got {data.get('format')!r}")
    if data.get("version") != VERSION:
        raise CassetteError(
            f"version {data.get('version')!r} is not supported (this build plays version {VERSION})"
        )
    model = data.get("model")
    if not isinstance(model, str) or not model.strip():
        raise CassetteError("'model' must be a non-empty string such as 'openai:gpt-5.5'")
    if not isinstance(data.get("scripted", False), bool):
        raise CassetteError("'scripted' must be true or false")
    exchanges = data.get("exchanges")
    if not isinstance(exchanges, list):
        raise CassetteError("'exchanges' must be a list")
    for index, exchange in enumerate(exchanges):
        _check_exchange(index, exchange)
    return data


def load_cassette(path: str | Path) -> dict[str, Any]:
    """Read and validate a cassette. Raises ProviderError(kind="cassette") when broken."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _broken(path, f"cannot read it ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _broken(path, f"not JSON (line {exc.lineno}: {exc.msg})") from None
    try:
        return validate_cassette(data)
    except CassetteError as exc:
        raise _broken(path, str(exc)) from None


def write_cassette(
    path: str | Path, model: str, exchanges: list[dict[str, Any]], scripted: bool
) -> None:
    """Write a cassette atomically (validated first, so a bad one is never left on disk)."""
    path = Path(path)
    data = {
        "format": FORMAT,
        "version": VERSION,
        "model": model,
        "scripted": scripted,
        "exchanges": exchanges,
    }
    try:
        validate_cassette(data)
    except CassetteError as exc:
        raise _broken(path, str(exc)) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cassette is an ordinary file
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, ensure_ascii=False)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _broken(path: Path, why: str) -> ProviderError:
    return ProviderError(
        provider="replay",
        model=str(path),
        kind="cassette",
        message=f"cassette {path} is broken: {why}",
        retryable=False,
    )


# -- the provider ---------------------------------------------------------------------------


class ReplayProvider:
    """Plays a cassette as the model named in it (`provider`, `model`, `spec`).

    `speed` None or 0 plays without any sleeping; `speed` X > 0 paces the stream at about
    `tokens_per_second * X` chunks per second after waiting `latency_ms / X` for the first.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float | None = None,
        tokens_per_second: float = 80.0,
    ) -> None:
        self.path = Path(path)
        self.cassette = load_cassette(self.path)
        self.spec: str = self.cassette["model"]
        provider, sep, model = self.spec.partition(":")
        self.provider: str = provider if sep else "replay"
        self.model: str = model if sep else self.spec
        self.scripted: bool = bool(self.cassette.get("scripted", False))
        if speed is not None and speed < 0:
            raise ValueError("speed must be >= 0")
        if tokens_per_second <= 0:
            raise ValueError("tokens_per_second must be > 0")
        self.speed = speed or 0.0
        self.tokens_per_second = tokens_per_second
        self._queues: dict[str, list[dict[str, Any]]] = {role: [] for role in ROLES}
        for exchange in self.cassette["exchanges"]:
            self._queues[exchange["role"]].append(exchange)
        self.played: dict[str, int] = {role: 0 for role in ROLES}
        """How many exchanges of each role have been played (an error counts as played)."""

    def tool_protocol_for(self, role: str) -> str:
        """How the next exchange of `role` was recorded: "text" (the plain-text tool
        protocol, its calls in the text) or "native"."""
        queue = self._queues.get(role, [])
        done = self.played.get(role, 0)
        return str(queue[done].get("tool_protocol", "native")) if done < len(queue) else "native"

    def remaining(self, role: str) -> int:
        return len(self._queues.get(role, ())) - self.played.get(role, 0)

    def rewind_to(self, played: dict[str, int]) -> None:
        """Mark the first N exchanges of each role as played (roles not named: none).

        Used on resume, so a reopened session continues with the exchanges it had not used.
        """
        counts = {role: 0 for role in ROLES}
        for role, count in played.items():
            if role not in self._queues:
                raise self._error(f"cannot rewind: unknown role {role!r}", retryable=False)
            if not _is_int(count) or not 0 <= count <= len(self._queues[role]):
                raise self._error(
                    f"cannot rewind {role} to {count!r}: the cassette holds "
                    f"{len(self._queues[role])} {role} exchange(s)",
                    retryable=False,
                )
            counts[role] = count
        self.played = counts

    def _error(self, message: str, *, retryable: bool, kind: str = "cassette") -> ProviderError:
        return ProviderError(
            provider=self.provider,
            model=self.model,
            kind=kind,  # type: ignore[arg-type]
            message=message,
            retryable=retryable,
        )

    def _next(self, role: str) -> dict[str, Any]:
        queue = self._queues.get(role)
        if queue is None:
            raise self._error(f"unknown role {role!r}", retryable=False)
        done = self.played[role]
        if done >= len(queue):
            raise self._error(
                f"cassette {self.path} has no {role} exchange left "
                f"({done} of {len(queue)} played)",
                retryable=False,
            )
        self.played[role] = done + 1
        return queue[done]

    async def stream(self, request: ModelRequest) -> AsyncIterator[TextDelta | Completion]:
        exchange = self._next(request.role)
        text = exchange.get("text")
        chunks = exchange.get("chunks")
        if exchange.get("compose") is not None and request.verdicts:
            text = scripted.compose(request.role, exchange["compose"], request)
            chunks = None
        if chunks is None:
            chunks = split_text(text or "")
        if text is None:
            text = "".join(chunks)
        error = exchange.get("error")
        limit = len(chunks) if error is None else min(error.get("after_chunks", 0), len(chunks))

        pace = _Pacer(self.speed, self.tokens_per_second, exchange.get("latency_ms") or 0)
        sent: list[str] = []
        for chunk in chunks[:limit]:
            await pace.wait()
            sent.append(chunk)
            yield TextDelta(chunk)

        if error is not None:
            raise ProviderError(
                provider=self.provider,
                model=self.model,
                kind=error["kind"],
                message=error.get("message") or f"scripted {error['kind']} error",
                retryable=error.get("retryable", True),
                partial_text="".join(sent),
                status=error.get("status"),
            )

        data = exchange.get("data")
        if data is None and request.schema is not None and not exchange.get("tool_calls"):
            data = find_json(text, request.schema)
            if not isinstance(data, dict):
                raise ProviderError(
                    provider=self.provider,
                    model=self.model,
                    kind="bad-output",
                    message=f"the {request.role} output in {self.path.name} is not a JSON object",
                    retryable=False,
                    partial_text=text,
                )
        calls = tuple(ToolCall.from_dict(c) for c in exchange.get("tool_calls") or ())
        yield Completion(
            text=text,
            usage=Usage.from_dict(exchange.get("usage")),
            stop_reason=exchange.get("stop_reason", "end_turn"),
            data=None if calls else data,
            tool_calls=calls,
        )


UNPACED_BURST = 64
"""Unpaced playback (speed 0) yields to the event loop once per this many chunks."""


class _Pacer:
    """Sleeps so chunk i goes out at latency + i / rate (a schedule, so sleeps do not drift)."""

    def __init__(self, speed: float, tokens_per_second: float, latency_ms: float) -> None:
        self.enabled = speed > 0
        self.interval = 1.0 / (tokens_per_second * speed) if self.enabled else 0.0
        self.latency = latency_ms / 1000.0 / speed if self.enabled else 0.0
        self.start = time.monotonic()
        self.count = 0

    async def wait(self) -> None:
        if not self.enabled:
            # No pause, but let concurrent streams (and a TUI's keys) interleave: every
            # UNPACED_BURST chunks, not every chunk (a million event-loop turns for 5 MB).
            self.count += 1
            if self.count % UNPACED_BURST == 0:
                await asyncio.sleep(0)
            return
        due = self.start + self.latency + self.count * self.interval
        self.count += 1
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
