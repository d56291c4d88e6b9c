"""Undo points: what an apply replaced, stored as JSON under `paths.undo_dir()`.

One file per apply, `<undo_id>.json`, written (and fsynced) before the first byte of the
working tree changes, so even a crash mid-apply leaves a way back. File contents are kept
as base64 so any bytes (CRLF, no final newline, odd encodings) come back exactly.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from counterpoint import paths
from counterpoint.workspace.errors import WorkspaceError

FORMAT_VERSION = 1

# States of an undo point. "applying" survives only if the process died mid-apply.
APPLYING, APPLIED, UNDONE = "applying", "applied", "undone"


@dataclass(frozen=True)
class ApplyRecord:
    """What one apply wrote; `undo_id` names its undo point."""

    undo_id: str
    session_id: str
    round: int
    files: list[str]
    hunk_ids: list[str]
    created_at: str
    commit: str | None
    undone_at: str | None = None
    """When the apply was undone (None while it stands). Added beyond the agreed fields."""


@dataclass
class FileEntry:
    """One file of an apply: its bytes and mode before and after (None = absent)."""

    path: str
    before: bytes | None
    before_mode: int | None
    after: bytes | None
    after_mode: int | None
    created_dirs: list[str] = field(default_factory=list)
    """Folders (repo-relative, deepest first) the apply created for this file."""


@dataclass
class UndoPoint:
    record: ApplyRecord
    repo: str
    state: str
    entries: list[FileEntry]


def new_undo_id(now: datetime | None = None) -> str:
    """Short, sortable and readable: `u20261121-101530-3f2a` (local time + random)."""
    moment = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return f"u{moment}-{secrets.token_hex(2)}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text.encode("ascii"))


def _to_json(point: UndoPoint) -> dict[str, Any]:
    rec = point.record
    return {
        "version": FORMAT_VERSION,
        "undo_id": rec.undo_id,
        "repo": point.repo,
        "state": point.state,
        "session_id": rec.session_id,
        "round": rec.round,
        "files": rec.files,
        "hunk_ids": rec.hunk_ids,
        "created_at": rec.created_at,
        "commit": rec.commit,
        "undone_at": rec.undone_at,
        "entries": [
            {
                "path": e.path,
                "before": _b64(e.before),
                "before_mode": e.before_mode,
                "after": _b64(e.after),
                "after_mode": e.after_mode,
                "created_dirs": e.created_dirs,
            }
            for e in point.entries
        ],
    }


def _from_json(data: dict[str, Any]) -> UndoPoint:
    record = ApplyRecord(
        undo_id=data["undo_id"],
        session_id=data["session_id"],
        round=int(data["round"]),
        files=list(data["files"]),
        hunk_ids=list(data["hunk_ids"]),
        created_at=data["created_at"],
        commit=data.get("commit"),
        undone_at=data.get("undone_at"),
    )
    entries = [
        FileEntry(
            path=e["path"],
            before=_unb64(e["before"]),
            before_mode=e["before_mode"],
            after=_unb64(e["after"]),
            after_mode=e["after_mode"],
            created_dirs=list(e.get("created_dirs", [])),
        )
        for e in data["entries"]
    ]
    return UndoPoint(record=record, repo=data["repo"], state=data["state"], entries=entries)


def _file(undo_id: str) -> Path:
    if not undo_id or "/" in undo_id or "\\" in undo_id or undo_id.startswith("."):
        raise WorkspaceError(f"no undo point named {undo_id!r}")
    return paths.undo_dir() / f"{undo_id}.json"


def save(point: UndoPoint) -> None:
    """Write the undo point atomically and durably (temp file, fsync, replace, fsync dir)."""
    folder = paths.undo_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".undo-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(_to_json(point), handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, _file(point.record.undo_id))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        fsync_dir(folder)
    except OSError as exc:
        raise WorkspaceError(
            f"could not save the undo point in {folder}: {exc.strerror or exc}; nothing was written"
        ) from exc


def load(undo_id: str) -> UndoPoint:
    target = _file(undo_id)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkspaceError(f"no undo point named {undo_id!r} (looked in {target.parent})") from None
    except (OSError, ValueError) as exc:
        raise WorkspaceError(f"the undo point {target} cannot be read: {exc}") from exc
    try:
        return _from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise WorkspaceError(f"the undo point {target} is damaged: {exc!r}") from exc


def remove(undo_id: str) -> None:
    with contextlib.suppress(OSError):
        _file(undo_id).unlink()


def all_points(repo: str) -> list[UndoPoint]:
    """Every readable undo point of `repo`, newest first; damaged files are skipped."""
    folder = paths.undo_dir()
    if not folder.is_dir():
        return []
    points = []
    for item in folder.glob("u*.json"):
        try:
            point = _from_json(json.loads(item.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if point.repo == repo:
            points.append(point)
    points.sort(key=lambda p: (p.record.created_at, p.record.undo_id), reverse=True)
    return points


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable; best effort (not every platform allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

