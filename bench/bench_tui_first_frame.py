"""Time to the first painted frame of `counterpoint demo`, against a bare Textual app.

Run: .venv/bin/python bench/bench_tui_first_frame.py   (or `python -m bench tui_first_frame`)

Definition, the same for both apps: each app is started as a new process
(`python -m counterpoint demo` / `python -c <bare app>`) on a real pseudo-terminal of
120×40; the clock runs from just before the process is spawned until the terminal has
received the end of the first synchronized-output frame (ESC[?2026l; the pty answers
Textual's DECRQM query the way a terminal with synchronized output does) that carries the
app's first-screen marker:
`payments-webhooks@main` (the workbench header) for the demo, `bare app ready` for the
baseline. So it counts interpreter start-up, imports, the app's mount and its first full
frame — what a user waits for before seeing the app. (The demo draws the workbench —
header, pane borders and titles, footer — before its repository is copied and its session
started; those follow in the next frames.) Each app is run RUNS times, alternating, and
the medians are compared. Target: ratio <= 1.3.

Both run with compiled bytecode cached, as an installed app does (pip compiles it at install
time): an inherited PYTHONDONTWRITEBYTECODE=1 is dropped and the cache kept in the scratch
dir, filled by the warm-up runs. Otherwise every run would compile the project's modules
from source while Textual's come precompiled from site-packages.

The baseline is a bare `App` with a `Static` and a `Footer` (Textual's own floor).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

RUNS = 7
WIDTH, HEIGHT = 120, 40
TIMEOUT = 20.0
FRAME_END = b"\x1b[?2026l"
SYNC_QUERY = b"\x1b[?2026$p"
"""Textual asks whether the terminal supports synchronized output (DECRQM 2026) ..."""
SYNC_SUPPORTED = b"\x1b[?2026;2$y"
"""... and, told yes, wraps every frame in ESC[?2026h ... ESC[?2026l."""
ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")

BARE_APP = """
from textual.app import App
from textual.widgets import Footer, Static

class Bare(App):
    BINDINGS = [("q", "quit", "Quit")]
    def compose(self):
        yield Static("bare app ready")
        yield Footer()

Bare().run()
"""

ROOT = Path(__file__).resolve().parent.parent


def first_frame(command: list[str], marker: bytes, env: dict[str, str]) -> float:
    """Seconds from spawn until a frame containing `marker` has been fully written."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", HEIGHT, WIDTH, 0, 0))
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=env["TMPDIR"],
        start_new_session=True, close_fds=True,
    )
    os.close(slave)
    seen = b""
    answered = False
    elapsed: float | None = None
    try:
        deadline = started + TIMEOUT
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            seen += chunk
            if not answered and SYNC_QUERY in seen:
                os.write(master, SYNC_SUPPORTED)  # as a terminal with synchronized output does
                answered = True
            at = seen.find(marker)
            if at >= 0 and seen.find(FRAME_END, at) >= 0:
                elapsed = time.perf_counter() - started
                break
    finally:
        _stop(proc, master)
    if elapsed is None:
        tail = ANSI.sub(b"", seen)[-600:].decode("utf-8", "replace")
        raise RuntimeError(f"{' '.join(command)}: no frame with {marker!r} within {TIMEOUT} s:\n{tail}")
    return elapsed


def _stop(proc: subprocess.Popen[bytes], master: int) -> None:
    """Quit the app (ctrl+q), then make sure the process and its group are gone."""
    try:
        os.write(master, b"\x11")
        end = time.perf_counter() + 3
        while proc.poll() is None and time.perf_counter() < end:
            try:  # keep draining, or the app blocks writing its last frames
                if select.select([master], [], [], 0.05)[0]:
                    os.read(master, 65536)
            except OSError:
                break
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="cp-bench-first-frame-") as scratch:
        env = dict(os.environ)
        env.update(
            TMPDIR=scratch,  # the demo's repository copies land here
            COUNTERPOINT_HOME=str(Path(scratch) / "home"),
            COUNTERPOINT_CONFIG=str(Path(scratch) / "none.toml"),
            XDG_CONFIG_HOME=str(Path(scratch) / "xdg"),
            TERM="xterm-256color",
            COLORTERM="truecolor",
            PYTHONPATH=os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        )
        env.pop("TEXTUAL", None)
        # Measure the app as installed, where the bytecode is compiled once (pip does it at
        # install time): a PYTHONDONTWRITEBYTECODE=1 in the environment would make every run
        # compile the project's modules from source while Textual's come precompiled. The
        # cache lives in the scratch dir (the warm-up runs fill it), not in the source tree.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(scratch) / "pycache")
        demo_cmd = [sys.executable, "-m", "counterpoint", "demo"]
        bare_cmd = [sys.executable, "-c", BARE_APP]
        first_frame(bare_cmd, b"bare app ready", env)  # warm the OS file cache for both
        first_frame(demo_cmd, b"payments-webhooks@main", env)
        bare: list[float] = []
        demo: list[float] = []
        for _ in range(RUNS):
            bare.append(first_frame(bare_cmd, b"bare app ready", env))
            demo.append(first_frame(demo_cmd, b"payments-webhooks@main", env))
    b, d = statistics.median(bare), statistics.median(demo)
    print(f"first painted frame on a {WIDTH}x{HEIGHT} pty, spawn -> end of the first frame "
          f"showing the app's content, median of {RUNS} runs")
    print(f"  bare Textual app (Static + Footer):  {b * 1000:7.1f} ms  "
          f"(min {min(bare) * 1000:.1f}, max {max(bare) * 1000:.1f})")
    print(f"  counterpoint demo (workbench):      {d * 1000:7.1f} ms  "
          f"(min {min(demo) * 1000:.1f}, max {max(demo) * 1000:.1f})")
    verdict = "OK" if d / b <= 1.3 else "ABOVE TARGET"
    print(f"  ratio demo / bare: {d / b:.2f}  (target <= 1.3: {verdict})")


if __name__ == "__main__":
    main()
