"""The sandbox refuses what a model-written check must not do; limits hold."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from pathlib import Path

import pytest

from counterpoint.workflow import sandbox as sandbox_mod
from counterpoint.workflow.sandbox import SandboxUnavailable, find_sandbox, run_command
from counterpoint.workspace.scratch import ScratchTrees


def _run(tree, command: str, **kw):
    return asyncio.run(
        run_command(command, sandbox=find_sandbox(), root=tree.root, tmp=tree.tmp, timeout_s=kw.pop("timeout_s", 60), **kw)
    )


def _py(code: str) -> str:
    return f"{sys.executable} -c {code!r}"


@pytest.fixture
def tree(git_repo: Path):
    with ScratchTrees(git_repo).create({"app.py": "changed\n"}) as t:
        yield t


def test_a_check_cannot_write_to_the_users_home(tree) -> None:
    target = Path.home() / f".counterpoint-escape-{id(tree)}"
    result = _run(tree, _py(f"open({str(target)!r}, 'w').write('x')"))
    assert result.exit_code != 0
    assert "Read-only file system" in result.output or "Permission denied" in result.output
    assert not target.exists()


def test_a_check_cannot_write_into_the_real_working_tree(tree, git_repo: Path) -> None:
    result = _run(tree, _py(f"open({str(git_repo / 'app.py')!r}, 'w').write('pwned')"))
    assert result.exit_code != 0
    assert (git_repo / "app.py").read_text().startswith("def add")
    # while its own scratch tree and temp dir are writable
    ok = _run(tree, _py("import tempfile; open('app.py', 'w').write('ok'); tempfile.mkstemp()"))
    assert ok.exit_code == 0, ok.output
    assert (tree.root / "app.py").read_text() == "ok"


def test_a_check_cannot_connect_to_localhost(tree) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    port = listener.getsockname()[1]
    socket.create_connection(("127.0.0.1", port)).close()  # it answers from outside
    listener.accept()[0].close()
    result = _run(tree, _py(f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5)"))
    listener.settimeout(0.5)
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()
    assert result.exit_code != 0
    assert "ConnectionRefused" in result.output or "unreachable" in result.output


def test_timeout_kills_the_whole_process_group(tree) -> None:
    started = time.monotonic()
    result = _run(tree, "sleep 50 & sleep 50; echo never", timeout_s=1)
    assert result.timed_out and result.exit_code is None
    assert time.monotonic() - started < 10
    assert "never" not in result.output


def test_output_is_capped(tree) -> None:
    result = _run(tree, _py("print('a' * 300000); print('END')"), output_cap=10000)
    assert result.truncated
    assert len(result.output) < 11000
    assert result.output.rstrip().endswith("END")


def test_no_sandbox_refuses_unless_the_user_opted_in(monkeypatch) -> None:
    monkeypatch.setattr(sandbox_mod.shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        find_sandbox()
    assert find_sandbox(allow_unsandboxed=True).kind == "none"


def test_credentials_in_the_environment_are_not_passed_on(tree, monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-secret")
    monkeypatch.setenv("MY_TOKEN", "t0ken")
    result = _run(tree, "env")
    assert "sk-secret" not in result.output and "t0ken" not in result.output


def test_the_repositorys_environment_under_tmp_stays_usable(git_repo: Path) -> None:
    """The sandbox's /tmp is private, yet a repository (and its .venv) under the real /tmp, as
    pytest's temp dirs and many CI checkouts are, is still seen from inside."""
    assert str(git_repo.resolve()).startswith(str(Path("/tmp").resolve()))
    (git_repo / ".gitignore").write_text(".venv/\n")
    (git_repo / ".venv").mkdir()
    (git_repo / ".venv" / "marker").write_text("environment\n")
    with ScratchTrees(git_repo).create({"app.py": "changed\n"}) as t:
        result = _run(t, "cat .venv/marker")
    assert result.exit_code == 0, result.output
    assert "environment" in result.output
