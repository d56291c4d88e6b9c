"""The WSGI application: routing, JSON responses and configuration from the environment."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .ratelimit import RateLimiter
from .storage import Storage
from .webhooks import WebhookHandler

MAX_BODY = 256 * 1024

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
}


@dataclass(frozen=True)
class Config:
    webhook_secret: str
    db_path: str = ":memory:"
    rate_capacity: float = 20.0
    rate_refill_per_second: float = 10.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        try:
            secret = env["PAYMENTS_WEBHOOK_SECRET"]
        except KeyError:
            raise SystemExit("PAYMENTS_WEBHOOK_SECRET is not set") from None
        return cls(
            webhook_secret=secret,
            db_path=env.get("PAYMENTS_DB", ":memory:"),
            rate_capacity=float(env.get("RATE_LIMIT_BURST", 20)),
            rate_refill_per_second=float(env.get("RATE_LIMIT_PER_SECOND", 10)),
        )


def json_response(
    start_response: StartResponse, status: int, payload: dict[str, Any]
) -> Iterable[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        f"{status} {REASONS.get(status, '')}".strip(),
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def read_body(environ: dict[str, Any]) -> bytes | None:
    """The request body, or None when it is larger than MAX_BODY."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        return None
    return environ["wsgi.input"].read(length) if length else b""


def create_app(
    config: Config,
    *,
    storage: Storage | None = None,
    limiter: RateLimiter | None = None,
    clock: Callable[[], float] = time.time,
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    storage = storage or Storage(config.db_path, clock=clock)
    limiter = limiter or RateLimiter(config.rate_capacity, config.rate_refill_per_second)
    handler = WebhookHandler(storage, config.webhook_secret, clock=clock)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")

        if path == "/healthz":
            return json_response(start_response, 200, {"status": "ok"})

        if path == "/webhooks":
            if method != "POST":
                return json_response(start_response, 405, {"error": "POST only"})
            body = read_body(environ)
            if body is None:
                return json_response(start_response, 413, {"error": "body too large"})
            status, payload = handler.handle(body, environ.get("HTTP_PAYMENTS_SIGNATURE"))
            return json_response(start_response, status, payload)

        if path.startswith("/payments/") and method == "GET":
            if not limiter.allow(environ.get("REMOTE_ADDR", "unknown")):
                return json_response(start_response, 429, {"error": "rate limited"})
            payment = storage.get_payment(path.removeprefix("/payments/"))
            if payment is None:
                return json_response(start_response, 404, {"error": "no such payment"})
            return json_response(start_response, 200, payment.__dict__)

        return json_response(start_response, 404, {"error": "not found"})

    return app


def main() -> None:  # pragma: no cover - manual entry point
    from wsgiref.simple_server import make_server

    config = Config.from_env()
    port = int(os.environ.get("PORT", 8080))
    with make_server("", port, create_app(config)) as server:
        print(f"listening on :{port}")
        server.serve_forever()


if __name__ == "__main__":  # pragma: no cover
    main()
