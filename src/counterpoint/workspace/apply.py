"""Writing files all-or-nothing: the mechanics behind apply and undo.

A transaction is a list of file steps (write these bytes with this mode, or delete). Each
write goes to a temp file in the target's own folder, is fsynced, gets the target's mode,
and replaces the target with `os.replace` (atomic on POSIX and Windows). If any step
fails, the steps already done are reversed from the saved original bytes, folders the
transaction created are removed again if empty, and a WorkspaceError says what happened.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from counterpoint.workspace.errors import WorkspaceError
from counterpoint.workspace.records import fsync_dir


def current_umask() -> int:
    """The process umask (read by setting and restoring it: there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    return 0o666 & ~current_umask()


def read_bytes(real: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist. Raises IsADirectoryError etc."""
    try:
        with open(real, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def file_mode(real: Path) -> int | None:
    try:
        return stat.S_IMODE(os.stat(real).st_mode)
    except FileNotFoundError:
        return None


def uses_crlf(data: bytes) -> bool:
    """True when most line endings of `data` are CRLF (so new text is written with CRLF)."""
    crlf = data.count(b"\r\n")
    return crlf > 0 and crlf >= data.count(b"\n") - crlf


def decode(data: bytes) -> str:
    """UTF-8 text with CRLF normalised to "\\n". Raises UnicodeDecodeError."""
    return data.decode("utf-8").replace("\r\n", "\n")


def encode(content: str, crlf: bool) -> bytes:
    """Bytes to write for `content` ("\\n" line endings), converted back to CRLF if asked."""
    text = content.replace("\r\n", "\n")
    if crlf:
        text = text.replace("\n", "\r\n")
    return text.encode("utf-8")


def missing_dirs(root: Path, folder: Path) -> list[Path]:
    """Folders between `root` and `folder` (inclusive) that do not exist, deepest first."""
    missing: list[Path] = []
    current = folder
    while current != root and not os.path.lexists(current):
        missing.append(current)
        current = current.parent
    return missing


def blocking_file(root: Path, folder: Path) -> Path | None:
    """An existing non-folder among `folder` and its ancestors below `root`, if any."""
    current = folder
    while current != root:
        if os.path.lexists(current) and not current.is_dir():
            return current
        current = current.parent
    return None


class NotRegular(Exception):
    """The path exists but is not a regular file (a folder, a FIFO, a device)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def read_regular(real: Path) -> bytes | None:
    """Bytes of a regular file, None if missing; never opens a FIFO or a device."""
    try:
        info = os.stat(real)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    if stat.S_ISDIR(info.st_mode):
        raise NotRegular("is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise NotRegular("is not a regular file")
    with open(real, "rb") as handle:
        return handle.read()


class TransactionFailed(WorkspaceError):
    """A write failed midway; `clean` tells whether every file was put back."""

    def __init__(self, message: str, clean: bool) -> None:
        super().__init__(message)
        self.clean = clean


@dataclass
class FileWrite:
    """Put `data` (None = delete) at `real`; `undo_data` is what was there before."""

    path: str
    real: Path
    data: bytes | None
    mode: int | None
    undo_data: bytes | None
    undo_mode: int | None
    dirs_to_create: list[Path] = field(default_factory=list)
    """Deepest first; created before the write, removed again (if empty) on rollback."""
    dirs_to_prune: list[Path] = field(default_factory=list)
    """Deepest first; removed if empty after the whole transaction succeeded."""


def write_atomic(real: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".counterpoint")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(real.parent)


def _put(real: Path, data: bytes | None, mode: int | None) -> None:
    if data is None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(real)
        fsync_dir(real.parent)
    else:
        write_atomic(real, data, mode if mode is not None else new_file_mode())


def prune_dirs(dirs: Sequence[Path]) -> None:
    """Remove each folder (deepest first) if it is empty; leave it otherwise."""
    for folder in dirs:
        with contextlib.suppress(OSError):
            folder.rmdir()


class ChangedMeanwhile(OSError):
    """The file changed between the check and the write (the user saved it just then)."""


def _do(step: FileWrite) -> None:
    # Checked again right before the write, so a save made while the apply runs is never
    # overwritten (the window left is the few microseconds up to os.replace).
    if read_bytes(step.real) != step.undo_data:
        raise ChangedMeanwhile(errno.EBUSY, "it changed while the files were being written")
    for folder in reversed(step.dirs_to_create):
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
    _put(step.real, step.data, step.mode)


def _reverse(step: FileWrite) -> None:
    """Put the step's original bytes back (skipped when they are already there).

    A file that holds neither the original nor the written bytes was saved by someone
    else meanwhile; it is left alone and reported.
    """
    current = read_bytes(step.real)
    if current != step.undo_data and current != step.data:
        raise ChangedMeanwhile(errno.EBUSY, "changed by someone else meanwhile, left as it is")
    if current != step.undo_data or (
        step.undo_data is not None and file_mode(step.real) != step.undo_mode
    ):
        _put(step.real, step.undo_data, step.undo_mode)
    prune_dirs(step.dirs_to_create)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def run(steps: Sequence[FileWrite], what: str) -> None:
    """Perform every step, or none: on failure reverse the done ones and raise WorkspaceError.

    `what` names the operation for messages ("apply", "undo u2026...").
    """
    done: list[FileWrite] = []
    for step in steps:
        try:
            _do(step)
        except (KeyboardInterrupt, SystemExit):
            rollback([*done, step])  # interrupted: put back what we can, then stop
            raise
        except OSError as exc:
            # A step that failed its own check wrote nothing: leave that file alone.
            failures = rollback(done if isinstance(exc, ChangedMeanwhile) else [*done, step])
            cause = f"could not write {step.path}: {_reason(exc)}"
            if failures:
                raise TransactionFailed(
                    f"{what} failed ({cause}) and these files could not be put back: "
                    + "; ".join(failures),
                    clean=False,
                ) from exc
            raise TransactionFailed(
                f"{what} failed, every file was left as it was before: {cause}", clean=True
            ) from exc
        done.append(step)
    for step in steps:
        prune_dirs(step.dirs_to_prune)


def rollback(steps: Sequence[FileWrite]) -> list[str]:
    failures = []
    for step in reversed(steps):
        try:
            _reverse(step)
        except OSError as exc:
            failures.append(f"{step.path} ({_reason(exc)})")
    return failures
