"""Path safety: a proposed path may only name a file inside the working tree, never `.git/`.

Paths come from model output, so they are hostile until checked. The rules:

- no NUL bytes, no empty path, no absolute path (`/x`, `C:\\x`, `\\\\server\\x`), no `~`;
- backslashes are separators (a model on Windows habits writes `src\\app.py`);
- no `..` component at all, even one that would stay inside the repository;
- nothing named `.git` at any depth (case-insensitive; also the Windows spellings `.git.`,
  `.git ` and `git~1`), so neither this repository's nor a submodule's git data is touched;
- every component that exists on disk and is a symlink must resolve inside the repository
  (and not into `.git/`); a symlink that stays inside is fine to write through;
- no folder on the way may be a submodule or another repository (it holds a `.git`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from counterpoint.core.pathnames import to_posix
from counterpoint.workspace.errors import UnsafePath

_DRIVE = re.compile(r"^[A-Za-z]:")


def _is_git_dir_name(part: str) -> bool:
    name = part.lower().rstrip(". ")
    return name == ".git" or name == "git~1"


def normalise(path: str) -> str:
    """Check `path` lexically and return it as a clean repo-relative posix path.

    Raises UnsafePath naming the path and the reason.
    """
    if not isinstance(path, str):
        raise UnsafePath(f"unsafe path {path!r}: a path must be a string")
    shown = path.replace("\x00", "\\0")
    if "\x00" in path:
        raise UnsafePath(f"unsafe path {shown!r}: it contains a NUL byte")
    text = path.strip()
    if not text:
        raise UnsafePath("unsafe path '': the path is empty")
    text = to_posix(text)
    parts = [part for part in text.split("/") if part not in ("", ".")]
    # Checked on the cleaned parts too, so "./~/x" or "./C:/x" cannot slip through.
    if text.startswith("/") or _DRIVE.match(text) or (parts and _DRIVE.match(parts[0])):
        raise UnsafePath(f"unsafe path {shown!r}: absolute paths are not allowed")
    if text.startswith("~") or (parts and parts[0].startswith("~")):
        raise UnsafePath(f"unsafe path {shown!r}: paths starting with '~' are not allowed")
    if not parts:
        raise UnsafePath(f"unsafe path {shown!r}: it names the repository root, not a file")
    if ".." in parts:
        raise UnsafePath(f"unsafe path {shown!r}: '..' components are not allowed")
    if any(_is_git_dir_name(part) for part in parts):
        raise UnsafePath(f"unsafe path {shown!r}: it is inside .git/, which Counterpoint never touches")
    return "/".join(parts)


def _inside(target: Path, root: Path) -> bool:
    return target == root or target.is_relative_to(root)


def _into_git_dir(target: Path, root: Path) -> bool:
    if target == root:
        return False
    return _is_git_dir_name(target.relative_to(root).parts[0])


def check_symlinks(root: Path, rel: str) -> Path:
    """Check every existing component of `rel` under `root` (already resolved).

    Returns the real path to read or write: symlinks inside the repository are followed, so
    writing through them updates their target and leaves the link in place.
    """
    current = root
    for part in rel.split("/"):
        current = current / part
        if os.path.islink(current):
            target = current.resolve()
            link = current.relative_to(root).as_posix()
            if not _inside(target, root):
                raise UnsafePath(
                    f"unsafe path {rel!r}: {link} is a symlink to {target}, outside the repository"
                )
            if _into_git_dir(target, root):
                raise UnsafePath(f"unsafe path {rel!r}: {link} is a symlink into .git/")
        elif not os.path.lexists(current):
            break
        if current != root / rel and os.path.lexists(current / ".git"):
            inner = current.relative_to(root).as_posix()
            raise UnsafePath(
                f"unsafe path {rel!r}: {inner} is a submodule (or a repository of its own); "
                "Counterpoint edits only this repository's files"
            )
    real = (root / rel).resolve()
    if not _inside(real, root) or real == root:
        raise UnsafePath(f"unsafe path {rel!r}: it resolves to {real}, outside the repository")
    if _into_git_dir(real, root):
        raise UnsafePath(f"unsafe path {rel!r}: it resolves into .git/")
    return real
