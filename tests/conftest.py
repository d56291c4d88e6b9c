import ipaddress
import os
import socket
import subprocess
from pathlib import Path

import pytest

from fakes import model_server  # noqa: F401  (the loopback model server fixture, for every layer)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def _loopback(host) -> bool:
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse_off_machine(function, host_of):
    """Wrap a socket function so that any address but loopback (or a unix socket) raises:
    no test, and nothing the tests run in this process, may reach beyond 127.0.0.1."""

    def guarded(*args, **kwargs):
        host = host_of(*args)
        if host is not None and not _loopback(host):
            raise OSError(f"tests may only contact loopback addresses, not {host!r}")
        return function(*args, **kwargs)

    return guarded


def _inet_host(sock, address, *_):
    return address[0] if sock.family in (socket.AF_INET, socket.AF_INET6) else None


socket.socket.connect = _refuse_off_machine(socket.socket.connect, _inet_host)
socket.socket.connect_ex = _refuse_off_machine(socket.socket.connect_ex, _inet_host)
socket.getaddrinfo = _refuse_off_machine(socket.getaddrinfo, lambda host, *_: host)


LAYERS = ("unit", "integration", "tui", "e2e")


def pytest_collection_modifyitems(items):
    """Mark each test with its layer, the folder it lives in (`pytest -m unit`, `-m "not e2e"`)."""
    for item in items:
        layer = Path(item.fspath).parent.name
        if layer in LAYERS:
            item.add_marker(layer)


@pytest.fixture(autouse=True)
def counterpoint_home(tmp_path_factory, monkeypatch):
    """Every test gets its own COUNTERPOINT_HOME and no real API settings."""
    home = tmp_path_factory.mktemp("cphome")
    monkeypatch.setenv("COUNTERPOINT_HOME", str(home))
    monkeypatch.setenv("COUNTERPOINT_CONFIG", str(home / "no-config.toml"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))  # the user's config.toml too
    monkeypatch.setenv("COUNTERPOINT_SCRATCH", str(home / "scratch"))  # checks' scratch trees
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "OPENAI_")):
            monkeypatch.delenv(name)
    return home


def git(cwd, *args) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def demo(tmp_path):
    """A fresh copy of the demo: the sample repository and its scripted cassettes."""
    from counterpoint.workflow.demo import prepare_demo

    return prepare_demo(dest=tmp_path / "demo")


@pytest.fixture
def git_repo(tmp_path):
    """A real git repository with one committed file."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "Test")
    (repo / "app.py").write_text("def add(a, b):\n    return a + b\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo

