"""HMAC-SHA256 signatures for webhook payloads.

The provider sends a header like ``t=1718000000,v1=5f2b...``: a timestamp and one or more
signatures of ``"{timestamp}." + body``. Several ``v1`` entries appear while a secret is
being rotated; any one of them may match.
"""

from __future__ import annotations

import hashlib
import hmac
import time

DEFAULT_TOLERANCE = 300
"""Seconds a signed timestamp may differ from our clock (replay protection)."""


class SignatureError(Exception):
    """The signature header is missing, malformed, stale or does not match."""


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign_header(secret: str, body: bytes, timestamp: int) -> str:
    """Build the header the provider would send (used by tests and the CLI replayer)."""
    return f"t={timestamp},v1={compute_signature(secret, timestamp, body)}"


def parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("timestamp is not an integer") from None
        elif key == "v1":
            signatures.append(value)
    if timestamp is None:
        raise SignatureError("no timestamp in signature header")
    if not signatures:
        raise SignatureError("no v1 signature in signature header")
    return timestamp, signatures


def verify(
    header: str | None,
    body: bytes,
    secret: str,
    *,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> int:
    """Check the header against the body; return the signed timestamp."""
    if not header:
        raise SignatureError("missing signature header")
    timestamp, signatures = parse_header(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance window")
    expected = compute_signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError("signature mismatch")
    return timestamp
