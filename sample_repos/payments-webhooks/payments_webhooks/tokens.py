"""An OAuth-style access-token client for the payments provider's API.

The provider issues short-lived access tokens (client-credentials grant) together with a
refresh token. `TokenClient.access_token()` returns a valid token, refreshing it shortly
before it expires; when the refresh token is rejected it falls back to a fresh grant.
The HTTP call is injected (`transport`) so the client can be tested without a network.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

Transport = Callable[[str, dict[str, str]], dict]
"""POST form fields to a URL, return the decoded JSON body (raise TokenError on 4xx)."""

EXPIRY_MARGIN = 30.0
"""Refresh this many seconds before the token expires, so it never expires in flight."""


class TokenError(Exception):
    def __init__(self, message: str, *, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: float
    refresh_token: str | None = None

    def expired(self, now: float, margin: float = EXPIRY_MARGIN) -> bool:
        return now >= self.expires_at - margin


def urllib_transport(url: str, fields: dict[str, str]) -> dict:
    """The real transport: a form POST with urllib (used in production only)."""
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = json.loads(exc.read() or b"{}")
        raise TokenError(f"token endpoint said {exc.code}", error=body.get("error")) from None


class TokenClient:
    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        transport: Transport = urllib_transport,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self._transport = transport
        self._clock = clock
        self._token: AccessToken | None = None
        self._lock = threading.Lock()

    def access_token(self) -> str:
        with self._lock:
            token = self._token
            if token is None:
                token = self._grant()
            elif token.expired(self._clock()):
                token = self._refresh(token)
            self._token = token
            return token.value

    def invalidate(self) -> None:
        """Forget the cached token (e.g. after the API answered 401)."""
        with self._lock:
            self._token = None

    def _grant(self) -> AccessToken:
        return self._request(
            {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            }
        )

    def _refresh(self, token: AccessToken) -> AccessToken:
        if not token.refresh_token:
            return self._grant()
        try:
            return self._request(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": token.refresh_token,
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                }
            )
        except TokenError as exc:
            if exc.error == "invalid_grant":
                return self._grant()
            raise

    def _request(self, fields: dict[str, str]) -> AccessToken:
        body = self._transport(self.token_url, fields)
        try:
            value = body["access_token"]
            lifetime = float(body["expires_in"])
        except (KeyError, TypeError, ValueError):
            raise TokenError("token response lacks access_token/expires_in") from None
        return AccessToken(value, self._clock() + lifetime, body.get("refresh_token"))
