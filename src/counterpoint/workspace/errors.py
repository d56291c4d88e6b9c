"""The errors of the workspace layer. `str(error)` is always a sentence a user can act on."""

from __future__ import annotations

from collections.abc import Mapping


class WorkspaceError(Exception):
    """Anything that went wrong between Counterpoint and the git working tree."""


class NotAGitRepo(WorkspaceError):
    """The folder is not inside a git working tree."""


class UnsafePath(WorkspaceError):
    """A path a model proposed could write outside the repository or into `.git/`."""


def _describe(conflicts: Mapping[str, str]) -> str:
    return "; ".join(f"{path}: {reason}" for path, reason in sorted(conflicts.items()))


class ApplyConflict(WorkspaceError):
    """Files changed since the proposal was made; nothing was written."""

    def __init__(self, conflicts: Mapping[str, str]) -> None:
        self.conflicts: dict[str, str] = dict(conflicts)
        count = len(self.conflicts)
        noun = "file has" if count == 1 else "files have"
        super().__init__(
            f"nothing was written: {count} {noun} changed since the proposal was made "
            f"({_describe(self.conflicts)})"
        )


class UndoConflict(WorkspaceError):
    """Files changed since the apply; undo would destroy that work, so nothing was restored."""

    def __init__(self, undo_id: str, conflicts: Mapping[str, str]) -> None:
        self.undo_id = undo_id
        self.conflicts: dict[str, str] = dict(conflicts)
        count = len(self.conflicts)
        noun = "file has" if count == 1 else "files have"
        super().__init__(
            f"cannot undo {undo_id}, nothing was restored: {count} {noun} changed since "
            f"the apply ({_describe(self.conflicts)})"
        )


class NothingToUndo(WorkspaceError):
    """No apply in this repository is left to undo."""
