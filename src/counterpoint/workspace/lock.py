"""The repository lock: one advisory lock per repository root under COUNTERPOINT_HOME.

Applies, undos, commits and the recovery of an interrupted apply hold it from their first
check to their last write, so two Counterpoint processes never write one tree at once. A
second process waits a few seconds (an apply takes milliseconds), then gives up naming the
holder: "repository /x is in use by pid N (apply)".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from counterpoint import paths
from counterpoint.core.locks import Busy, lock
from counterpoint.workspace.errors import WorkspaceError

WAIT = 15.0
"""Seconds a second apply or undo waits for the first to finish."""


class RepositoryBusy(WorkspaceError):
    """Another process holds the repository lock."""


@contextmanager
def locked(root: Path, what: str, *, wait: float = WAIT) -> Iterator[None]:
    """Hold the lock of the repository at `root` while doing `what` ("apply", "undo")."""
    digest = hashlib.sha256(str(root).encode("utf-8")).hexdigest()[:20]
    held = lock(paths.locks_dir() / f"repo-{digest}.lock", f"repository {root}")
    try:
        held.acquire(what, wait=wait)
    except Busy as exc:
        raise RepositoryBusy(str(exc)) from None
    except OSError as exc:
        raise WorkspaceError(
            f"cannot lock the repository: {held.path.parent} is not writable "
            f"({exc.strerror or exc}); check COUNTERPOINT_HOME; nothing was written"
        ) from None
    try:
        yield
    finally:
        held.release()
