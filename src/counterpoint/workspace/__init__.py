"""The git workspace: path safety, reading files, atomic apply with undo points, commit.

Everything that touches the user's working tree goes through `Workspace`; GitPython is
used only inside this package.
"""

from counterpoint.workspace.errors import (
    ApplyConflict,
    NotAGitRepo,
    NothingToUndo,
    UndoConflict,
    UnsafePath,
    WorkspaceError,
)
from counterpoint.workspace.records import ApplyRecord
from counterpoint.workspace.repo import Workspace

__all__ = [
    "ApplyConflict",
    "ApplyRecord",
    "NotAGitRepo",
    "NothingToUndo",
    "UndoConflict",
    "UnsafePath",
    "Workspace",
    "WorkspaceError",
]
