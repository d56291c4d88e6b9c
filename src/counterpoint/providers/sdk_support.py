"""What the Anthropic and OpenAI providers share: error mapping, bounded retries, redaction.

Both SDKs are built with `max_retries=0` and retried here instead, because neither caps a
server's `retry-after` sensibly (Anthropic sleeps for any value, OpenAI for up to 120 s). The
rules: retry 408/409/429/5xx/529, connection errors and timeouts, only while nothing of the
attempt has been yielded; wait `min(retry-after, max_retry_after)` or `0.5 * 2**n` (capped at
8 s); when the server asks for longer than `max_retry_after`, fail at once and say so.

Nothing here imports an SDK: the SDK module is passed in by the provider that imported it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from counterpoint.core.tools import ToolCall
from counterpoint.providers.base import (
    Completion,
    ErrorKind,
    Message,
    ModelRequest,
    ProviderError,
    StreamItem,
    TextDelta,
    Usage,
)
from counterpoint.providers.structured import BadOutput, parse_structured, repair_instruction

MAX_BACKOFF = 8.0

_KEY_PATTERNS = (
    re.compile(r"sk-[A-Za-z0-9_\-]{6,}"),
    re.compile(r"(?i)(bearer\s+)[^\s'\",}]+"),
    re.compile(r"(?i)(x-api-key['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"),
)


# Credentials a URL can carry: `user:pass@` before the host, and its query string.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@'\"]+@")
_URL_QUERY = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s?#'\"]*\?)[^\s#'\"]+")


def url_secrets(url: str | None) -> list[str]:
    """The parts of a URL that may be credentials: user, password and query values."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
        found = [parts.username or "", parts.password or ""]
    except ValueError:
        return []
    found += [unquote(value) for _, value in parse_qsl(parts.query, keep_blank_values=False)]
    found += [value for _, value in parse_qsl(parts.query, keep_blank_values=False)]
    return [value for value in found if len(value) >= 4]


def safe_url(url: str) -> str:
    """`url` as it may be shown: without `user:pass@` and with its query string elided."""
    return _URL_QUERY.sub(r"\1[redacted]", _URL_USERINFO.sub(r"\1[redacted]@", url))


def redact(text: str, api_key: str | None, secrets: Sequence[str] = ()) -> str:
    """Remove the API key, the given secrets (a base URL's credentials), URL credentials and
    query strings, and anything shaped like a key, from a message."""
    for secret in sorted({*secrets, *([api_key] if api_key and len(api_key) >= 4 else [])},
                         key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    text = safe_url(text)
    text = _KEY_PATTERNS[0].sub("sk-[redacted]", text)
    for pattern in _KEY_PATTERNS[1:]:
        text = pattern.sub(lambda m: m.group(1) + "[redacted]", text)
    return text


@dataclass
class CallState:
    """What one `stream()` call has seen so far, across retries and the repair request."""

    parts: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    attempts: int = 0

    @property
    def partial(self) -> str:
        return "".join(self.parts)


@dataclass
class AttemptResult:
    """The end of one successful SDK stream."""

    text: str
    stop_reason: str | None
    tool_json: str | None = None
    """The forced tool's input JSON (Anthropic tool mode), when the model called it."""
    tool_calls: tuple[ToolCall, ...] = ()
    """Calls of the request's read-only tools (`ModelRequest.tools`)."""


def tool_call(call_id: str, name: str, arguments_json: str) -> ToolCall:
    """A streamed tool call; arguments that are not a JSON object arrive as {"invalid": ...}."""
    try:
        arguments = json.loads(arguments_json) if arguments_json.strip() else {}
    except ValueError:
        arguments = None
    if not isinstance(arguments, dict):
        arguments = {"invalid": arguments_json[:200]}
    return ToolCall(call_id, name, arguments)


def _status_kind(status: int) -> tuple[ErrorKind, bool]:
    if status in (401, 403):
        return "auth", False
    if status == 429:
        return "rate-limit", True
    if status == 529:
        return "overloaded", True
    if status == 408:
        return "timeout", True
    if status == 409 or status >= 500:
        return "server", True
    return "config", False


def _stream_error_kind(error_type: str) -> ErrorKind:
    kinds: dict[str, ErrorKind] = {
        "overloaded_error": "overloaded",
        "rate_limit_error": "rate-limit",
        "authentication_error": "auth",
    }
    return kinds.get(error_type, "stream-error")


def error_detail(body: object, fallback: str) -> tuple[str, str]:
    """(error type, message) from an Anthropic or OpenAI error body."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            message = inner.get("message") or fallback
            return str(inner.get("type") or inner.get("code") or ""), str(message)
    if isinstance(body, str) and body.strip():
        return "", body.strip()
    return "", fallback


def retry_after_seconds(headers: Any) -> float | None:
    """The server's requested wait from `retry-after-ms` or `retry-after`, if any."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    import datetime as _dt

    return max((when - _dt.datetime.now(when.tzinfo)).total_seconds(), 0.0)


class SDKProviderBase:
    """Common state and behaviour of the SDK-backed providers."""

    key_env: str = ""
    sdk_module: str = ""
    """The SDK's module, imported on the first request, never before."""
    client_class: str = ""

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str | None,
        provider: str,
        timeout: float,
        connect_timeout: float,
        max_retries: int,
        max_retry_after: float,
        backoff: float,
    ) -> None:
        self.provider = provider
        self.model = model
        self.base_url = base_url
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_retries = max(0, max_retries)
        self.max_retry_after = max_retry_after
        self.backoff = backoff
        self._api_key = api_key
        self._url_secrets = url_secrets(base_url)
        self._client_obj: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        if not api_key:
            raise self.error(
                "config",
                f"no API key: set {self.key_env or 'the provider key'} or configure one",
                retryable=False,
            )

    @property
    def spec(self) -> str:
        return f"{self.provider}:{self.model}"

    @property
    def _sdk(self) -> Any:
        import importlib

        try:
            return importlib.import_module(self.sdk_module)
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise self.error("config", f"the {self.sdk_module} SDK is not installed ({exc})") from exc

    def _client(self) -> Any:
        """The SDK client, built once (and again only if used from another event loop)."""
        loop = asyncio.get_running_loop()
        if self._client_obj is None or self._client_loop is not loop:
            import httpx2

            try:
                self._client_obj = getattr(self._sdk, self.client_class)(
                    api_key=self._api_key,
                    base_url=self.base_url,
                    timeout=httpx2.Timeout(self.timeout, connect=self.connect_timeout),
                    max_retries=0,  # retried by with_retries
                )
            except ProviderError:
                raise
            except Exception as exc:
                raise self.error(
                    "config", f"cannot build the {self.sdk_module} client: {exc}", retryable=False
                ) from exc
            self._client_loop = loop
        return self._client_obj

    async def aclose(self) -> None:
        if self._client_obj is not None:
            await self._client_obj.close()
            self._client_obj = None

    def __repr__(self) -> str:  # never show the key
        shown = safe_url(self.base_url) if self.base_url else None
        return f"{type(self).__name__}({self.spec!r}, base_url={shown!r})"

    # -- the request flow ------------------------------------------------------------------
    def attempt(
        self, request: ModelRequest, extra: tuple[Message, ...], state: CallState
    ) -> AsyncIterator[str | AttemptResult]:
        """One SDK request: yield text pieces, then one `AttemptResult`; raise ProviderError."""
        raise NotImplementedError

    def fenced_now(self) -> bool:
        """Whether structured answers are currently asked for as a fenced block in text."""
        return False

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]:
        """Stream one request; with a schema, parse and check the answer, repairing it once.

        Deltas cover everything received, including a repair answer (preceded by a blank
        line); `Completion.text` is the text of the answer that was finally used, and its
        usage adds up every request made for this call.
        """
        state = CallState()
        result: AttemptResult | None = None
        async for item in self.with_retries(state, lambda: self.attempt(request, (), state)):
            if isinstance(item, str):
                yield TextDelta(item)
            else:
                result = item
        assert result is not None
        if request.schema is None or result.tool_calls:
            yield Completion(text=result.text, usage=state.usage, stop_reason=result.stop_reason,
                             tool_calls=result.tool_calls)
            return
        answer = result.tool_json if result.tool_json is not None else result.text
        try:
            data = parse_structured(answer, request.schema)
        except BadOutput as bad:
            first_problem = str(bad)
        else:
            yield Completion(result.text, state.usage, result.stop_reason, data)
            return
        repair = (
            Message("assistant", answer or "(empty answer)"),
            Message("user", repair_instruction(first_problem)),
        )
        separator = "\n\n"
        state.parts.append(separator)
        yield TextDelta(separator)
        fixed: AttemptResult | None = None
        async for item in self.with_retries(state, lambda: self.attempt(request, repair, state)):
            if isinstance(item, str):
                yield TextDelta(item)
            else:
                fixed = item
        assert fixed is not None
        answer = fixed.tool_json if fixed.tool_json is not None else fixed.text
        try:
            data = parse_structured(answer, request.schema)
        except BadOutput as bad:
            raise self.error(
                "bad-output",
                f"the structured answer was unusable ({first_problem}) and still unusable "
                f"after one repair request ({bad})",
                retryable=False,
                partial=state.partial,
            ) from bad
        yield Completion(fixed.text, state.usage, fixed.stop_reason, data)

    # -- errors -------------------------------------------------------------------------
    def error(
        self,
        kind: ErrorKind,
        message: str,
        *,
        retryable: bool = True,
        partial: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        should_retry: bool | None = None,
    ) -> ProviderError:
        err = ProviderError(
            provider=self.provider,
            model=self.model,
            kind=kind,
            message=redact(message, self._api_key, self._url_secrets),
            retryable=retryable,
            partial_text=partial,
            status=status,
        )
        err.retry_after = retry_after  # type: ignore[attr-defined]
        err.should_retry = retryable if should_retry is None else should_retry  # type: ignore[attr-defined]
        return err

    @property
    def _where(self) -> str:
        return safe_url(self.base_url) if self.base_url else "the default endpoint"

    def map_exception(
        self, exc: BaseException, sdk: ModuleType, *, started: bool, partial: str
    ) -> ProviderError:
        """Turn an SDK or transport exception into a `ProviderError`.

        `started` says whether the HTTP response had begun (a 200 with a stream): a transport
        failure after that is a cut stream, before it a connection problem.
        """
        import httpx2

        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, sdk.APIStatusError):
            return self._status_error(exc, partial)
        if isinstance(exc, (sdk.APITimeoutError, httpx2.TimeoutException)):
            what = "the stream stalled" if started else "no answer"
            return self.error(
                "timeout",
                f"{what}: nothing received within {self.timeout:g} s from {self._where}",
                partial=partial,
            )
        if isinstance(exc, (sdk.APIConnectionError, httpx2.TransportError)):
            cause = _cause_text(exc)
            if started:
                return self.error(
                    "stream-cut",
                    f"the stream broke after {len(partial)} characters ({cause})",
                    partial=partial,
                    should_retry=not partial,
                )
            return self.error(
                "connection", f"could not connect to {self._where} ({cause})", partial=partial
            )
        if isinstance(exc, sdk.APIError):  # an error object inside the stream (OpenAI)
            error_type, message = error_detail(getattr(exc, "body", None), str(exc))
            kind = _stream_error_kind(error_type)
            label = f"{error_type}: " if error_type else ""
            return self.error(
                kind, f"error event in the stream: {label}{message}", partial=partial
            )
        if isinstance(exc, TypeError) and "api_key" in str(exc).lower():
            return self.error("config", "no API key was given", retryable=False)
        return self.error(
            "connection", f"unexpected {type(exc).__name__}: {exc}", partial=partial
        )

    def _status_error(self, exc: Any, partial: str) -> ProviderError:
        status = int(getattr(exc, "status_code", 0) or 0)
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
        error_type, message = error_detail(getattr(exc, "body", None), str(exc))
        if status == 200:  # an error event inside an Anthropic stream
            kind = _stream_error_kind(error_type)
            label = f"{error_type}: " if error_type else ""
            return self.error(kind, f"error event in the stream: {label}{message}", partial=partial)
        kind, retryable = _status_kind(status)
        if kind == "auth":
            text = f"the server rejected the API key (HTTP {status}): {message}"
            if self.key_env:
                text += f"; check {self.key_env}"
        elif kind == "config":
            text = f"the server rejected the request (HTTP {status}): {message}"
        else:
            text = f"HTTP {status} from {self._where}: {message}"
        should_retry = retryable
        if headers is not None and headers.get("x-should-retry") in ("true", "false"):
            should_retry = headers.get("x-should-retry") == "true"
        return self.error(
            kind,
            text,
            retryable=retryable,
            partial=partial,
            status=status,
            retry_after=retry_after_seconds(headers),
            should_retry=should_retry,
        )

    # -- retries ------------------------------------------------------------------------
    async def with_retries(
        self,
        state: CallState,
        attempt: Callable[[], AsyncIterator[str | AttemptResult]],
    ) -> AsyncIterator[str | AttemptResult]:
        """Run `attempt` until it succeeds, retrying within the bounds described above.

        `attempt` yields text pieces and finally one `AttemptResult`, and raises
        `ProviderError`. Pieces are passed through (and recorded in `state`) as they come.
        """
        retries = 0
        while True:
            state.attempts += 1
            yielded = False
            try:
                async for item in attempt():
                    if isinstance(item, str):
                        yielded = True
                        state.parts.append(item)
                    yield item
                return
            except ProviderError as err:
                if yielded or not getattr(err, "should_retry", False):
                    raise
                if retries >= self.max_retries:
                    raise self._gave_up(err, retries + 1) from err
                delay = self._delay(err, retries)
                retries += 1
            await asyncio.sleep(delay)

    def _delay(self, err: ProviderError, retries: int) -> float:
        asked = getattr(err, "retry_after", None)
        if asked is not None:
            if asked > self.max_retry_after:
                raise self.error(
                    err.kind,
                    f"{err.message}; the server asked to wait {asked:g} s, more than the "
                    f"{self.max_retry_after:g} s limit, so not retrying",
                    retryable=err.retryable,
                    partial=err.partial_text,
                    status=err.status,
                ) from err
            return asked
        return min(self.backoff * 2**retries, MAX_BACKOFF)

    def _gave_up(self, err: ProviderError, attempts: int) -> ProviderError:
        if attempts <= 1:
            return err
        return self.error(
            err.kind,
            f"{err.message} (gave up after {attempts} attempts)",
            retryable=err.retryable,
            partial=err.partial_text,
            status=err.status,
        )


def _cause_text(exc: BaseException) -> str:
    seen: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < 4:
        text = str(current).strip()
        if text and text not in seen:
            seen.append(text)
        current = current.__cause__ or current.__context__
    return ": ".join(seen) or type(exc).__name__

