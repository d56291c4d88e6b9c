"""Running a check's command in a sandbox: no network, writes only to its scratch tree.

On Linux the sandbox is bubblewrap (`bwrap`, Debian package `bubblewrap`): the whole file
system read-only, the scratch tree and its private temp dir (mounted at /tmp) writable, new
user, pid, network (loopback only, no route out — the host's 127.0.0.1 is unreachable), IPC
and UTS namespaces, folders that hold credentials hidden. The command runs under `watched`:
a pipe only Counterpoint holds ends the whole group when Counterpoint dies, even by kill -9
(bwrap's `--die-with-parent` ties the command to bwrap, not bwrap to us). Variables that look like credentials are
not passed on.

Where there is no working sandbox a run is refused with `SandboxUnavailable`, unless the user
opted in to running unsandboxed (then the command runs in its own process group, still with
the time limit and the output cap, and `Sandbox.kind` says "none" so the UI can say so).

On timeout, cancel or quit the whole process group is killed (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from counterpoint.workspace.scratch import ENVIRONMENT_DIRS

OUTPUT_CAP = 1_000_000
"""Bytes of output a run keeps: the first quarter and the last three quarters."""

KILL_GRACE_S = 2.0

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|^ANTHROPIC_|^OPENAI_", re.I)

HIDDEN_IN_HOME = (
    ".ssh", ".gnupg", ".aws", ".azure", ".docker", ".kube", ".config/gcloud",
    ".config/gh", ".config/counterpoint", ".netrc", ".git-credentials", ".pypirc", ".npmrc",
)
"""Paths under the user's home that a check never sees (its output goes back to models)."""


class SandboxUnavailable(Exception):
    """No sandbox on this machine and no opt-in to run without one; the message says what to do."""


@dataclass(frozen=True)
class Sandbox:
    kind: str
    """"bwrap" or "none" (the user opted in to unsandboxed runs)."""
    bwrap: str | None = None

    @property
    def sandboxed(self) -> bool:
        return self.kind != "none"


@dataclass
class RunResult:
    exit_code: int | None
    """None when the run was killed (timeout)."""
    output: str
    seconds: float
    timed_out: bool = False
    truncated: bool = False


@functools.cache
def _bwrap_works(path: str) -> str | None:
    """None when bwrap can build the namespaces here, else why not."""
    try:
        done = subprocess.run(
            [path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all",
             "--die-with-parent", "true"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode != 0:
        return done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
    return None


def find_sandbox(*, allow_unsandboxed: bool = False) -> Sandbox:
    """The sandbox to run checks in. Raises SandboxUnavailable when there is none."""
    path = shutil.which("bwrap")
    problem = "bubblewrap (bwrap) is not installed" if path is None else _bwrap_works(path)
    if path is not None and problem is None:
        return Sandbox("bwrap", path)
    if allow_unsandboxed:
        return Sandbox("none")
    raise SandboxUnavailable(
        f"checks run model-written code, and there is no sandbox to run it in: {problem}. "
        "Install bubblewrap (apt-get install bubblewrap), or, if you trust the code, run "
        "with --checks-unsandboxed"
    )


def check_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not _SECRET_NAME.search(k)}
    env.update(TMPDIR=str(tmp), XDG_CACHE_HOME=str(tmp / "cache"), PYTHONDONTWRITEBYTECODE="1")
    return env


def watched(command: str, lifeline: int) -> list[str]:
    """`command` under a shell that kills its whole process group when `lifeline` (the read
    end of a pipe Counterpoint holds) reaches end of file: Counterpoint died, even by kill -9.
    Inside bwrap the group's end ends the sandbox's pid namespace, and everything in it."""
    script = (
        f'(cat <&{lifeline}; kill -KILL 0) >/dev/null 2>&1 & watcher=$!; '
        f'/bin/sh -c "$1" {lifeline}<&-; status=$?; kill "$watcher" 2>/dev/null; exit $status'
    )
    return ["/bin/sh", "-c", script, "check", command]


def _kept_under_tmp(root: Path) -> list[str]:
    """Folders under the real /tmp that a check still needs once /tmp is its private one: the
    interpreter's prefixes and the targets of the scratch tree's environment links (a
    repository or its virtualenv may well live under /tmp). Shown read-only, outermost only."""
    real_tmp = Path("/tmp").resolve()
    wanted = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}
    for name in ENVIRONMENT_DIRS:
        link = root / name
        if link.is_symlink():
            wanted.add(link)
    kept: list[Path] = []
    for path in sorted({w.resolve() for w in wanted}):
        if path != real_tmp and path.is_relative_to(real_tmp) and path.is_dir():
            if not any(path.is_relative_to(k) for k in kept):
                kept.append(path)
    return [str(k) for k in kept]


def bwrap_argv(bwrap: str, root: Path, tmp: Path, command: list[str]) -> list[str]:
    argv = [
        bwrap,
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/dev/shm",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
    ]
    home = Path.home()
    for name in HIDDEN_IN_HOME:
        hidden = home / name
        if hidden.is_dir() and not hidden.is_symlink():
            argv += ["--tmpfs", str(hidden)]
        elif hidden.is_file():
            argv += ["--ro-bind", "/dev/null", str(hidden)]
    argv += ["--bind", str(tmp), "/tmp"]
    for kept in _kept_under_tmp(root):
        argv += ["--ro-bind", kept, kept]
    argv += [
        "--bind", str(root), str(root),
        "--chdir", str(root),
        "--setenv", "TMPDIR", "/tmp",
        "--setenv", "XDG_CACHE_HOME", "/tmp/cache",
        "--",
        *command,
    ]
    return argv


class _Capped:
    """Keeps the head and the tail of a stream within `cap` bytes."""

    def __init__(self, cap: int) -> None:
        self.head_cap = cap // 4
        self.tail_cap = cap - self.head_cap
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        self.tail += data
        if len(self.tail) > self.tail_cap:
            extra = len(self.tail) - self.tail_cap
            del self.tail[:extra]
            self.dropped += extra

    def text(self) -> str:
        middle = f"\n… {self.dropped} bytes of output left out …\n".encode() if self.dropped else b""
        return bytes(self.head + middle + self.tail).decode("utf-8", "replace")


async def run_command(
    command: str,
    *,
    sandbox: Sandbox,
    root: Path,
    tmp: Path,
    timeout_s: float,
    on_output: Callable[[str], None] | None = None,
    output_cap: int = OUTPUT_CAP,
) -> RunResult:
    """Run `command` (a shell line) in `root`. Cancelling the task kills the process group."""
    tmp.mkdir(parents=True, exist_ok=True)
    env = check_env(tmp)
    lifeline, holder = os.pipe()  # only we hold `holder`: it closes when we die
    if sandbox.sandboxed:
        assert sandbox.bwrap is not None
        argv = bwrap_argv(sandbox.bwrap, root, tmp, watched(command, lifeline))
    else:
        argv = watched(command, lifeline)
    started = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=(lifeline,),
        )
    except BaseException:
        os.close(holder)
        raise
    finally:
        os.close(lifeline)
    try:
        return await _collect(proc, timeout_s, on_output, output_cap, started)
    finally:
        os.close(holder)


async def _collect(
    proc: asyncio.subprocess.Process,
    timeout_s: float,
    on_output: Callable[[str], None] | None,
    output_cap: int,
    started: float,
) -> RunResult:
    captured = _Capped(output_cap)

    async def pump() -> None:
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(65536):
            captured.add(chunk)
            if on_output is not None:
                on_output(chunk.decode("utf-8", "replace"))
        await proc.wait()

    timed_out = False
    try:
        await asyncio.wait_for(pump(), timeout_s)
    except TimeoutError:
        timed_out = True
        await _kill_group(proc)
    except BaseException:
        await _kill_group(proc)
        raise
    return RunResult(
        exit_code=None if timed_out else proc.returncode,
        output=captured.text(),
        seconds=time.monotonic() - started,
        timed_out=timed_out,
        truncated=captured.dropped > 0,
    )


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            await asyncio.wait_for(asyncio.shield(proc.wait()), wait)
            break
        except TimeoutError:
            continue
    # The group may outlive its leader (a child that ignored SIGTERM): finish it off.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
