"""Shared helpers for the tests: signed events and a WSGI request runner."""

from __future__ import annotations

import io
import json
from typing import Any

from payments_webhooks.signing import sign_header

SECRET = "whsec_test"
NOW = 1_718_000_000


def event(event_id: str = "evt_1", kind: str = "payment_intent.succeeded", **obj: Any) -> bytes:
    payload = {"id": "pi_1", "amount": 1999, "currency": "eur", **obj}
    return json.dumps({"id": event_id, "type": kind, "data": {"object": payload}}).encode()


def signed(body: bytes, secret: str = SECRET, timestamp: int = NOW) -> str:
    return sign_header(secret, body, timestamp)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def call(app, method: str, path: str, body: bytes = b"", **environ: Any):
    """Run one request through a WSGI app; return (status code, headers, JSON body)."""
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"] = int(status.split()[0])
        seen["headers"] = dict(headers)

    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "REMOTE_ADDR": "203.0.113.7",
        **environ,
    }
    chunks = app(env, start_response)
    return seen["status"], seen["headers"], json.loads(b"".join(chunks))
