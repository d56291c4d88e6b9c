"""`--record CASSETTE`: wrap the provider factory so every exchange of a session is saved.

Each provider built through `recording_factory` passes its stream through untouched and,
when the request ends (with a completion or an error), appends one exchange to the cassette
of its model: role, round, the text and the chunks as they arrived, the structured output,
usage, stop reason, the time to the first chunk, the error if there was one, and a `request`
summary that holds no prompt text and no secret (role, schema name, a sha256 of the system
text and context, the number of messages).

On-disk layout (docs/cassettes.md, "Recording"): CASSETTE is a directory holding

    <provider>-<model>.json   one cassette per model (written by `replay.write_cassette`)
    session.json              the roles as `replay:` specs and a ready-to-run command line

Cassettes are rewritten (atomically) after every exchange, so a session that fails or is
interrupted still leaves everything it received on disk. Replaying them with
`counterpoint run --generator replay:DIR/<gen>.json --reviewer replay:DIR/<rev>.json ...`
gives the same proposal, findings, stances, usage and cost.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from counterpoint.providers.base import (
    Completion,
    ModelRequest,
    Provider,
    ProviderError,
    StreamItem,
    TextDelta,
)
from counterpoint.providers.replay import ERROR_KINDS, write_cassette

SESSION_FILE = "session.json"
SESSION_FORMAT = "counterpoint-recording"
SESSION_VERSION = 1

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SECRET_ENV = re.compile(r"(?i)(api_?key|token|secret|password)")


class RecordingError(ValueError):
    """The CASSETTE path cannot hold a recording (e.g. it is an existing file)."""


def cassette_name(spec: str) -> str:
    """'anthropic:claude-opus-5-5' -> 'anthropic-claude-opus-5-5.json' (file-name safe)."""
    provider, _, model = spec.partition(":")
    stem = f"{provider}-{model}" if model else provider
    stem = _UNSAFE.sub("_", stem).strip("._") or "model"
    return f"{stem}.json"


def request_summary(request: ModelRequest) -> dict[str, Any]:
    """What a cassette keeps of a request: enough to compare prefixes, no text, no secret."""
    digest = hashlib.sha256()
    for part in (request.system, *request.context):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return {
        "role": request.role,
        "schema_name": request.schema_name,
        "sha256": digest.hexdigest(),
        "messages": len(request.messages),
    }


def _secret_values() -> list[str]:
    """Values of environment variables that look like credentials (to scrub from errors)."""
    return sorted(
        (v for k, v in os.environ.items() if _SECRET_ENV.search(k) and len(v.strip()) >= 8),
        key=len,
        reverse=True,
    )


def _scrub(text: str) -> str:
    for value in _secret_values():
        text = text.replace(value, "[redacted]")
    return text


class Recorder:
    """Collects the exchanges of every model of one session and writes them under `root`."""

    def __init__(self, root: Path) -> None:
        root = Path(root).expanduser()
        if root.exists() and not root.is_dir():
            raise RecordingError(
                f"--record {root}: that is a file; give a directory to hold one cassette per"
                " model and a session.json"
            )
        self.root = root.resolve()
        self.exchanges: dict[str, list[dict[str, Any]]] = {}
        self.order: list[str] = []
        """Specs in the order the session built them: generator, reviewers, then planner."""
        self.roles: dict[str, set[str]] = {}

    def path_for(self, spec: str) -> Path:
        return self.root / cassette_name(spec)

    def register(self, spec: str) -> None:
        if spec not in self.exchanges:
            self.exchanges[spec] = []
            self.order.append(spec)
            self.roles[spec] = set()
        self._write_session()

    def add(self, spec: str, exchange: dict[str, Any]) -> None:
        self.exchanges.setdefault(spec, []).append(exchange)
        self.roles.setdefault(spec, set()).add(exchange["role"])
        write_cassette(self.path_for(spec), spec, self.exchanges[spec], scripted=False)
        self._write_session()

    # -- session.json ---------------------------------------------------------------------
    def session(self) -> dict[str, Any]:
        """The roles as replay specs. The first model built is the generator; a model that
        answered planner requests is the planner (it runs first, so it is known as soon as
        anything was recorded); the other models review, in the order they were given."""
        specs = list(self.order)
        generator = specs[0] if specs else None
        planner = next((s for s in specs if "planner" in self.roles.get(s, ())), None)
        reviewers = [
            s for s in specs[1:] if s != planner or "reviewer" in self.roles.get(s, ())
        ]

        def replay(spec: str) -> str:
            return f"replay:{self.path_for(spec)}"

        command = ["counterpoint", "run", "TASK"]
        if generator:
            command += ["--generator", replay(generator)]
        for spec in reviewers:
            command += ["--reviewer", replay(spec)]
        if planner:
            command += ["--planner", replay(planner)]
        return {
            "format": SESSION_FORMAT,
            "version": SESSION_VERSION,
            "models": {spec: cassette_name(spec) for spec in specs},
            "generator": replay(generator) if generator else None,
            "reviewers": [replay(s) for s in reviewers],
            "planner": replay(planner) if planner else None,
            "command": command,
        }

    def _write_session(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / SESSION_FILE
        fd, tmp = tempfile.mkstemp(prefix=f".{SESSION_FILE}.", dir=self.root)
        try:
            os.chmod(tmp, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.session(), handle, indent=1, ensure_ascii=False)
                handle.write("\n")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class RecordingProvider:
    """A provider that passes everything through and records each exchange."""

    def __init__(self, inner: Provider, recorder: Recorder) -> None:
        self.inner = inner
        self.recorder = recorder
        self.provider = inner.provider
        self.model = inner.model
        recorder.register(self.spec)

    @property
    def spec(self) -> str:
        return self.inner.spec

    def __getattr__(self, name: str) -> Any:  # aclose, rewind_to, structured ...
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"RecordingProvider({self.inner!r})"

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]:
        chunks: list[str] = []
        started = time.monotonic()
        first: float | None = None
        done = False
        try:
            async for item in self.inner.stream(request):
                if isinstance(item, TextDelta):
                    if first is None:
                        first = time.monotonic()
                    if item.text:
                        chunks.append(item.text)
                elif isinstance(item, Completion):
                    if first is None:
                        first = time.monotonic()
                    self._record(request, chunks, started, first, completion=item)
                    done = True
                yield item
        except ProviderError as exc:
            if not done:
                self._record(request, chunks, started, first, error=exc)
            raise
        except BaseException as exc:
            # Cancelled mid-stream, or a provider bug: the step still counts as played. Once
            # the completion is recorded, the consumer closing the stream is not an error.
            if not done and not isinstance(exc, GeneratorExit):
                kind = "incomplete" if isinstance(exc, asyncio.CancelledError) else "stream-error"
                message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                self._record(request, chunks, started, first, error=ProviderError(
                    provider=self.provider, model=self.model, kind=kind,  # type: ignore[arg-type]
                    message=message,
                ))
            raise

    def _record(
        self,
        request: ModelRequest,
        chunks: list[str],
        started: float,
        first: float | None,
        *,
        completion: Completion | None = None,
        error: ProviderError | None = None,
    ) -> None:
        exchange: dict[str, Any] = {"role": request.role, "round": request.round}
        if completion is not None:
            exchange["text"] = completion.text
            if chunks and "".join(chunks) == completion.text:
                exchange["chunks"] = list(chunks)
            # else: the deltas held a repaired answer too; replay splits the final text
            exchange["data"] = completion.data
            exchange["usage"] = completion.usage.to_dict()
            exchange["stop_reason"] = completion.stop_reason
            if completion.tool_calls:
                exchange["tool_calls"] = [c.to_dict() for c in completion.tool_calls]
            if getattr(self.inner, "tool_protocol", "native") == "text":
                exchange["tool_protocol"] = "text"
        else:
            assert error is not None
            exchange["text"] = "".join(chunks)
            exchange["chunks"] = list(chunks)
            kind = error.kind if error.kind in ERROR_KINDS else "stream-error"
            exchange["error"] = {
                "kind": kind,
                "message": _scrub(error.message),
                "after_chunks": len(chunks),
                "retryable": bool(error.retryable),
                "status": error.status,
            }
        if first is not None:
            exchange["latency_ms"] = round((first - started) * 1000.0, 1)
        exchange["request"] = request_summary(request)
        self.recorder.add(self.spec, exchange)


def recording_factory(
    make: Callable[..., Provider], root: Path
) -> Callable[..., Provider]:
    """Wrap a provider factory (`make(spec, ...)`) so its providers record into `root`.

    Raises `RecordingError` at once when `root` cannot be a directory.
    """
    recorder = Recorder(root)

    def make_recording(spec: str, *args: Any, **kwargs: Any) -> Provider:
        return RecordingProvider(make(spec, *args, **kwargs), recorder)

    make_recording.recorder = recorder  # type: ignore[attr-defined]
    return make_recording
