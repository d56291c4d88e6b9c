import pytest
from helpers import NOW, SECRET, signed

from payments_webhooks.signing import SignatureError, compute_signature, parse_header, verify


def test_valid_signature_returns_timestamp():
    assert verify(signed(b"{}"), b"{}", SECRET, now=NOW + 10) == NOW


def test_any_of_several_signatures_may_match():
    header = f"t={NOW},v1=deadbeef,v1={compute_signature(SECRET, NOW, b'x')}"
    assert verify(header, b"x", SECRET, now=NOW) == NOW


@pytest.mark.parametrize(
    "header, message",
    [
        (None, "missing"),
        ("", "missing"),
        ("v1=abc", "no timestamp"),
        (f"t={NOW}", "no v1"),
        ("t=soon,v1=abc", "not an integer"),
    ],
)
def test_malformed_headers(header, message):
    with pytest.raises(SignatureError, match=message):
        verify(header, b"{}", SECRET, now=NOW)


def test_tampered_body_is_rejected():
    with pytest.raises(SignatureError, match="mismatch"):
        verify(signed(b'{"amount": 1}'), b'{"amount": 1000}', SECRET, now=NOW)


def test_wrong_secret_is_rejected():
    with pytest.raises(SignatureError, match="mismatch"):
        verify(signed(b"{}", secret="other"), b"{}", SECRET, now=NOW)


def test_stale_timestamp_is_rejected():
    with pytest.raises(SignatureError, match="tolerance"):
        verify(signed(b"{}"), b"{}", SECRET, now=NOW + 301)


def test_parse_header_ignores_unknown_parts():
    assert parse_header(f"t={NOW}, v0=old, v1=abc, junk") == (NOW, ["abc"])
