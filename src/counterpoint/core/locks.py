"""Advisory locks between Counterpoint processes (filelock: `flock` on POSIX).

A lock is a file under COUNTERPOINT_HOME; its holder writes its pid and what it is doing
into it, so whoever finds it taken can say "in use by pid N (apply)". One `Lock` object per
file and process (re-entrant: the same process may take it again while holding it).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


class Busy(Exception):
    """Another process holds the lock; the message names it and its pid."""


class Lock:
    """The lock at `path`; `name` is what it guards, for messages ("repository /x")."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name
        self.what = ""
        import filelock  # here: commands that take no lock do not pay for importing it

        self._lock = filelock.FileLock(
            path, thread_local=False, preserve_lock_file=True, on_acquired=self._note_holder
        )

    def _note_holder(self, fd: int) -> None:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {self.what}\n".encode(), 0)

    def acquire(self, what: str, *, wait: float = 0.0) -> None:
        """Take the lock (waiting up to `wait` seconds) for `what`, else raise Busy.

        Raises OSError when the lock file cannot be created (COUNTERPOINT_HOME unwritable).
        """
        if not self._lock.is_locked:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.what = what
        import filelock

        try:
            self._lock.acquire(timeout=wait)
        except filelock.Timeout:
            raise Busy(
                f"{self.name} is in use by {holder(self.path)}; try again when it has finished"
            ) from None

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()


_LOCKS: dict[Path, Lock] = {}
_GUARD = threading.Lock()


def lock(path: Path, name: str) -> Lock:
    """The one `Lock` of this process for `path` (flock is per open file, not per process:
    a second object on the same file would wait for the first)."""
    with _GUARD:
        found = _LOCKS.get(path)
        if found is None:
            found = _LOCKS[path] = Lock(path, name)
        return found


def holder(path: Path) -> str:
    """`pid N (what)` as written by the process holding `path`, or a vaguer phrase."""
    try:
        pid, _, what = path.read_text(encoding="utf-8").strip().partition(" ")
    except (OSError, UnicodeDecodeError):
        pid, what = "", ""
    if not pid.isdigit():
        return "another Counterpoint process"
    return f"pid {pid}" + (f" ({what})" if what else "")
