"""The suite's own guard (tests/conftest.py): nothing in the test process reaches beyond
loopback, so the SDKs can only ever talk to the fake server on 127.0.0.1."""

import socket

import pytest


def test_off_machine_addresses_are_refused():
    with pytest.raises(OSError, match="only contact loopback"):
        socket.create_connection(("example.com", 443), timeout=1)
    with pytest.raises(OSError, match="only contact loopback"):
        socket.socket().connect(("192.0.2.1", 80))


def test_loopback_is_allowed():
    server = socket.create_server(("127.0.0.1", 0))
    try:
        client = socket.create_connection(server.getsockname(), timeout=1)
        client.close()
    finally:
        server.close()
