import pytest
from helpers import Clock

from payments_webhooks.tokens import TokenClient, TokenError


class FakeTokenServer:
    """Answers token requests like the provider does and records what it was sent."""

    def __init__(self, lifetime: float = 3600) -> None:
        self.requests: list[dict[str, str]] = []
        self.lifetime = lifetime
        self.reject_refresh = False
        self.issued = 0

    def __call__(self, url: str, fields: dict[str, str]) -> dict:
        self.requests.append(fields)
        if fields["grant_type"] == "refresh_token" and self.reject_refresh:
            raise TokenError("refresh token revoked", error="invalid_grant")
        self.issued += 1
        return {
            "access_token": f"at_{self.issued}",
            "expires_in": self.lifetime,
            "refresh_token": f"rt_{self.issued}",
        }


def make_client(server, clock):
    return TokenClient("https://auth.example/token", "cid", "csecret", transport=server, clock=clock)


def test_token_is_cached_until_near_expiry():
    server, clock = FakeTokenServer(lifetime=100), Clock(0)
    client = make_client(server, clock)
    assert client.access_token() == "at_1"
    clock.advance(60)
    assert client.access_token() == "at_1"
    clock.advance(15)  # 75 s: inside the 30 s margin
    assert client.access_token() == "at_2"
    assert [r["grant_type"] for r in server.requests] == ["client_credentials", "refresh_token"]
    assert server.requests[1]["refresh_token"] == "rt_1"


def test_revoked_refresh_token_falls_back_to_a_new_grant():
    server, clock = FakeTokenServer(lifetime=10), Clock(0)
    client = make_client(server, clock)
    client.access_token()
    server.reject_refresh = True
    clock.advance(10)
    assert client.access_token() == "at_2"
    assert [r["grant_type"] for r in server.requests] == [
        "client_credentials",
        "refresh_token",
        "client_credentials",
    ]


def test_invalidate_forces_a_new_grant():
    server, clock = FakeTokenServer(), Clock(0)
    client = make_client(server, clock)
    client.access_token()
    client.invalidate()
    assert client.access_token() == "at_2"
    assert server.requests[-1]["grant_type"] == "client_credentials"


def test_malformed_token_response_is_an_error():
    client = make_client(lambda url, fields: {"token": "x"}, Clock(0))
    with pytest.raises(TokenError, match="access_token"):
        client.access_token()
