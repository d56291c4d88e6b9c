"""The session journal: one JSON object per line, appended and flushed as events happen.

A crash can tear the last line; reading reports it and skips it, and reopening the journal
for appending moves the torn bytes aside (`<id>.jsonl.torn`) so the file stays valid.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from counterpoint.core import locks
from counterpoint.core.events import Delta, Event, event_from_dict, event_to_dict


class JournalError(Exception):
    pass


@dataclass
class JournalContents:
    events: list[Event] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """One sentence per line that could not be read (torn or malformed), with its number."""


def read_journal(path: Path) -> JournalContents:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise JournalError(f"no session journal at {path}") from None
    out = JournalContents()
    lines = raw.split(b"\n")
    torn_tail = lines[-1] != b""
    if not torn_tail:
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        is_last = number == len(lines)
        try:
            out.events.append(event_from_dict(json.loads(line)))
        except (ValueError, ValidationError) as exc:
            what = "torn last line (the session was cut off while writing)" if (
                is_last and torn_tail
            ) else "unreadable line"
            reason = str(exc).splitlines()[0][:160]
            out.problems.append(f"{path.name} line {number}: {what}, skipped: {reason}")
    return out


def _unwritable(path: Path, exc: OSError) -> JournalError:
    return JournalError(
        f"cannot write the session journal {path}: {exc.strerror or exc}; check that "
        "COUNTERPOINT_HOME is a folder you can write, with free space"
    )


class Journal:
    """Appends events to `path`. Deltas are flushed; every other event is also fsynced.

    One process at a time writes a session: the journal holds the session's lock
    (`<id>.jsonl.lock`) while it is open, and a second writer gets a JournalError naming
    the pid that has it. An event that cannot be written is a JournalError too.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._locked = False
        self._lock = locks.lock(path.with_name(path.name + ".lock"), f"session {path.stem}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lock.acquire("writing its journal")
            self._locked = True
        except locks.Busy as exc:
            raise JournalError(str(exc)) from None
        except OSError as exc:
            raise _unwritable(path, exc) from None
        try:
            self._set_aside_torn_tail()
            self._file = open(path, "ab", buffering=0)
        except OSError as exc:
            self._locked = False
            self._lock.release()
            raise _unwritable(path, exc) from None

    def _set_aside_torn_tail(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if not data or data.endswith(b"\n"):
            return
        cut = data.rfind(b"\n") + 1
        torn = self.path.with_suffix(self.path.suffix + ".torn")
        with open(torn, "ab") as side:
            side.write(data[cut:] + b"\n")
        with open(self.path, "r+b") as f:
            f.truncate(cut)

    def append(self, event: BaseModel) -> None:
        line = json.dumps(event_to_dict(event), ensure_ascii=False, separators=(",", ":"))
        try:
            self._file.write(line.encode("utf-8") + b"\n")
            if not isinstance(event, Delta):
                os.fsync(self._file.fileno())
        except OSError as exc:
            raise _unwritable(self.path, exc) from None

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        if self._locked:
            self._locked = False
            self._lock.release()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
