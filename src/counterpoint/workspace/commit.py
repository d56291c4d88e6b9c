"""Commit exactly the files of one apply, with Counterpoint's trailers."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from counterpoint.workspace import records
from counterpoint.workspace.errors import WorkspaceError
from counterpoint.workspace.records import ApplyRecord
from counterpoint.workspace.undo import undo_point

if TYPE_CHECKING:
    from counterpoint.workspace.repo import Workspace

_NO_IDENTITY = (
    "git does not know who you are, so nothing was committed: set your name and email with "
    '`git config --global user.name "Your Name"` and '
    "`git config --global user.email you@example.com`"
)
_IDENTITY_SIGNS = ("please tell me who you are", "unable to auto-detect", "empty ident name")


def _trailer_value(text: str) -> str:
    return " ".join(str(text).split())



def _check_identity(ws: Workspace) -> None:
    for var in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        status, _, err = ws._git("var", var, ok=(0, 1, 128))
        if status != 0:
            if any(sign in err.lower() for sign in _IDENTITY_SIGNS) or not err.strip():
                raise WorkspaceError(_NO_IDENTITY)
            raise WorkspaceError(f"git cannot tell who you are: {err.strip()}")

def _tracked(ws: Workspace, rels: Sequence[str]) -> set[str]:
    """Those of `rels` that are in the index or in HEAD (one or two git calls in all)."""
    if not rels:
        return set()
    _, out, _ = ws._git("ls-files", "-z", "--", *rels)
    known = set(filter(None, out.split("\0")))
    if ws.head is not None:
        _, out, _ = ws._git("ls-tree", "-r", "-z", "--name-only", "HEAD", "--", *rels)
        known |= set(filter(None, out.split("\0")))
    return known & set(rels)

def _ignored(ws: Workspace, rels: Sequence[str]) -> set[str]:
    if not rels:
        return set()
    names = "\0".join(rels).encode("utf-8") + b"\0"
    _, out, _ = ws._git("check-ignore", "-z", "--stdin", ok=(0, 1), literal=False, stdin=names)
    return set(filter(None, out.split("\0")))

def commit(
    ws: Workspace, record: ApplyRecord, message: str, *, generator: str, reviewers: Sequence[str]
) -> str:
    """Commit exactly the apply's files (other staged changes stay staged) with trailers.

    The message is followed by a blank line and `Generated-by:`, one `Reviewed-by:` per
    reviewer and `Counterpoint-Session:`. Returns the new commit's sha.
    """
    point = undo_point(ws.root, record.undo_id)
    if point.record.commit:
        raise WorkspaceError(
            f"apply {record.undo_id} was already committed as {point.record.commit[:12]}"
        )
    body = message.strip()
    if not body:
        raise WorkspaceError("cannot commit: the commit message is empty")
    _check_identity(ws)

    files = point.record.files
    tracked = _tracked(ws, files)
    present = [rel for rel in files if os.path.lexists(ws.root / rel)]
    ignored = _ignored(ws, [rel for rel in present if rel not in tracked])
    present = [rel for rel in present if rel not in ignored]
    gone = [rel for rel in files if rel in tracked and not os.path.lexists(ws.root / rel)]
    paths = present + gone
    if not paths:
        raise WorkspaceError(f"nothing to commit: the files of apply {record.undo_id} are not tracked")
    if present:
        ws._git("add", "--", *present)
    if gone:
        ws._git("rm", "--cached", "--quiet", "--ignore-unmatch", "--", *gone)

    trailers = [f"Generated-by: {_trailer_value(generator)}"]
    trailers += [f"Reviewed-by: {_trailer_value(name)}" for name in reviewers]
    trailers.append(f"Counterpoint-Session: {_trailer_value(record.session_id)}")
    full = body + "\n\n" + "\n".join(trailers) + "\n"
    sha = _commit_paths(ws, full, paths)

    updated = replace(point.record, commit=sha)
    point.record = updated
    records.save(point)
    return sha

def _commit_paths(ws: Workspace, message: str, paths: Sequence[str]) -> str:
    fd, message_file = tempfile.mkstemp(prefix="counterpoint-commit-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(message)
        status, out, err = ws._git(
            "commit", "--quiet", "--file", message_file, "--", *paths, ok=range(256)
        )
    finally:
        with contextlib.suppress(OSError):
            os.unlink(message_file)
    if status != 0:
        detail = (err.strip() or out.strip() or f"exit status {status}")
        if any(sign in detail.lower() for sign in _IDENTITY_SIGNS):
            raise WorkspaceError(_NO_IDENTITY)
        raise WorkspaceError(f"git commit failed: {detail}")
    head = ws.head
    if head is None:
        raise WorkspaceError("git commit reported success but HEAD has no commit")
    return head
