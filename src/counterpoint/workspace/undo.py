"""Undo an apply, and finish the rollback of an apply a crash cut off.

Both run under the repository lock (`workspace/lock.py`), taken by `Workspace`.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import replace
from pathlib import Path

from counterpoint.workspace import records
from counterpoint.workspace.apply import (
    FileWrite,
    NotRegular,
    file_mode,
    missing_dirs,
    read_regular,
    rollback,
    run,
)
from counterpoint.workspace.errors import NothingToUndo, UndoConflict, UnsafePath, WorkspaceError
from counterpoint.workspace.records import APPLYING, UNDONE, ApplyRecord, UndoPoint
from counterpoint.workspace.safety import check_symlinks


def undo_point(root: Path, undo_id: str | None) -> UndoPoint:
    """The named undo point of this repository, or its latest one still standing."""
    if undo_id is None:
        for point in records.all_points(str(root)):
            if point.state != UNDONE:
                return point
        raise NothingToUndo(f"nothing to undo in {root}: no apply is left to undo")
    point = records.load(undo_id)
    if point.repo != str(root):
        raise WorkspaceError(f"undo point {undo_id} belongs to {point.repo}, not to {root}")
    if point.state == UNDONE:
        raise WorkspaceError(
            f"undo point {undo_id} was already undone (at {point.record.undone_at})"
        )
    return point


def undo(root: Path, point: UndoPoint) -> ApplyRecord:
    """Put back the files the apply of `point` replaced; see `Workspace.undo`."""
    name = point.record.undo_id
    conflicts: dict[str, str] = {}
    steps: list[FileWrite] = []
    for entry in point.entries:
        real = check_symlinks(root, entry.path)
        try:
            current = read_regular(real)
        except NotRegular as exc:
            conflicts[entry.path] = exc.what
            continue
        except OSError as exc:
            conflicts[entry.path] = f"cannot be read ({exc.strerror or exc})"
            continue
        mode = file_mode(real) if current is not None else None
        if current == entry.before and (current is None or mode == entry.before_mode):
            continue
        if current != entry.before and current != entry.after:
            if current is None:
                conflicts[entry.path] = "deleted since the apply"
            elif entry.after is None:
                conflicts[entry.path] = "exists again since the apply"
            else:
                conflicts[entry.path] = "changed since the apply"
            continue
        if entry.before is None:
            created = []
            prune = [root / d for d in entry.created_dirs]
        else:
            created = missing_dirs(root, real.parent)
            prune = []
        steps.append(
            FileWrite(entry.path, real, entry.before, entry.before_mode, current, mode, created, prune)
        )
    if conflicts:
        raise UndoConflict(name, conflicts)
    run(steps, f"undo {name}")
    return _mark_undone(point)


def _mark_undone(point: UndoPoint) -> ApplyRecord:
    record = replace(point.record, undone_at=records.now_iso())
    point.record, point.state = record, UNDONE
    records.save(point)
    return record


def _remove_temp_files(root: Path, point: UndoPoint) -> int:
    """Delete the `.NAME.*.counterpoint` temp files a cut-off write left next to its files."""
    removed = 0
    for entry in point.entries:
        target = root / entry.path
        with contextlib.suppress(OSError):
            for tmp in target.parent.glob(f".{target.name}.*.counterpoint"):
                if tmp.is_file() and not tmp.is_symlink():
                    os.unlink(tmp)
                    removed += 1
    return removed


def recover(root: Path) -> list[str]:
    """Finish the rollback of every apply in `root` a crash interrupted (its undo point
    still "applying"): all its files back as before, temp files gone. One sentence each."""
    said: list[str] = []
    for point in records.all_points(str(root)):
        if point.state != APPLYING:
            continue
        name = point.record.undo_id
        steps: list[FileWrite] = []
        for entry in point.entries:
            try:
                real = check_symlinks(root, entry.path)
            except UnsafePath:
                continue
            steps.append(
                FileWrite(entry.path, real, entry.after, entry.after_mode, entry.before,
                     entry.before_mode, [root / d for d in entry.created_dirs])
            )
        failures = rollback(steps)
        removed = _remove_temp_files(root, point)
        files = ", ".join(point.record.files)
        temps = f", removed {removed} temp file{'s' if removed != 1 else ''}" if removed else ""
        if failures:
            said.append(
                f"an apply was interrupted ({name}): put back what could be{temps}; left as "
                f"they are: {'; '.join(failures)} (their original bytes stay in undo point {name})"
            )
            continue
        _mark_undone(point)
        said.append(
            f"an apply was interrupted ({name}): rolled it back, {files} as before it{temps}"
        )
    return said
