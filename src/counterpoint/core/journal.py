"""The session journal: one JSON object per line, appended and flushed as events happen.

A crash can tear the last line; reading reports it and skips it, and reopening the journal
for appending moves the torn bytes aside (`<id>.jsonl.torn`) so the file stays valid.
A stream's deltas are written a few per second, not one line per token (`Journal.append`).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from counterpoint.core import locks
from counterpoint.core.events import Delta, Event, event_from_dict, event_to_dict

FLUSH_CHARS = 64 * 1024
FLUSH_SECONDS = 0.25
"""Streamed text is written at least this often (a crash loses at most that much of a
stream, which resume runs again anyway)."""


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
    """Appends events to `path`. Deltas are coalesced and written; every other event is
    also fsynced.

    One process at a time writes a session: the journal holds the session's lock
    (`<id>.jsonl.lock`) while it is open, and a second writer gets a JournalError naming
    the pid that has it. An event that cannot be written is a JournalError too.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pending: list[Delta] = []
        self._pending_key: tuple[int, str, str] = (0, "", "")
        self._pending_chars = 0
        self._pending_since = 0.0
        self._failed = False
        """A write failed: later events are not written (the first failure was raised)."""
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
        """Write `event`. Consecutive deltas of one stream are coalesced into one line
        (written when the stream moves on, another event comes, FLUSH_CHARS of text have
        gathered or FLUSH_SECONDS have passed): their text joined is the same, so the
        session folds to the same state, and a 5 MB answer is not a million lines."""
        if isinstance(event, Delta):
            key = (event.round, event.step, event.model)
            if self._pending and key != self._pending_key:
                self._flush_deltas()
            if not self._pending:
                self._pending_key, self._pending_since = key, time.monotonic()
            self._pending.append(event)
            self._pending_chars += len(event.text)
            if (
                self._pending_chars >= FLUSH_CHARS
                or time.monotonic() - self._pending_since >= FLUSH_SECONDS
            ):
                self._flush_deltas()
            return
        self._flush_deltas()
        self._write(event, sync=True)

    def _flush_deltas(self) -> None:
        if not self._pending:
            return
        first = self._pending[0]
        text = "".join(d.text for d in self._pending) if len(self._pending) > 1 else first.text
        self._pending, self._pending_chars = [], 0
        self._write(first.model_copy(update={"text": text}), sync=False)

    def _write(self, event: BaseModel, *, sync: bool) -> None:
        if self._failed:
            return  # raised once already; the session is ending (tasks being cancelled)
        line = json.dumps(event_to_dict(event), ensure_ascii=False, separators=(",", ":"))
        try:
            self._file.write(line.encode("utf-8") + b"\n")
            if sync:
                os.fsync(self._file.fileno())
        except OSError as exc:
            self._failed = True
            raise _unwritable(self.path, exc) from None

    def close(self) -> None:
        if not self._file.closed:
            try:
                self._flush_deltas()
            finally:
                self._file.close()
        if self._locked:
            self._locked = False
            self._lock.release()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
