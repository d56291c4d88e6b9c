"""Scratch trees: the working tree as it is now, plus a proposal, outside the working tree.

A scratch tree holds the tracked and the untracked-but-not-ignored files with the user's
uncommitted edits, then the proposal's files on top (or only the selected hunks' result).
It is built through a *temporary* index: a copy of the user's index (so git's stat cache
spares hashing unchanged files), `git add -A` into it, the proposal's blobs put in with
`update-index`, `write-tree` for the tree id (the cache key of check results), and
`checkout-index --prefix` to write the files. The user's index, stash, branch and files are
never touched; only new objects enter `.git/objects` (git's gc prunes them).

The repository's environment stays usable: the ignored top-level `.venv`, `venv` and
`node_modules` of the repository are symlinked into the tree.

Every tree lives in `scratch_dir()/<id>/` (`tree/`, `tmp/` and a `lock` that the owning
process holds with `flock` while the tree exists). `sweep_stale` removes the folders whose
lock nobody holds (the process died, even by kill -9); it runs when checks are set up.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from counterpoint.paths import scratch_dir
from counterpoint.workspace.apply import encode, uses_crlf
from counterpoint.workspace.errors import WorkspaceError
from counterpoint.workspace.safety import normalise

ENVIRONMENT_DIRS = (".venv", "venv", "node_modules")
"""Ignored top-level folders of the repository linked into a scratch tree (its tools)."""

_STALE_UNLOCKED_S = 30.0
"""A folder without a lock file older than this was left by a crash during creation."""

_live: set[ScratchTree] = set()


@dataclass(eq=False)
class ScratchTree:
    """One materialised tree. `close()` (or leaving the `with`) removes it."""

    home: Path
    """The tree's own folder: `tree/`, `tmp/`, `index`, `lock`."""
    tree_id: str
    """git's tree id of the files in `root` (the environment links excluded)."""
    _lock: int | None = field(default=None, repr=False)

    @property
    def root(self) -> Path:
        return self.home / "tree"

    @property
    def tmp(self) -> Path:
        """A private temp folder that goes away with the tree."""
        return self.home / "tmp"

    def close(self) -> None:
        _live.discard(self)
        _remove(self.home)
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
        with contextlib.suppress(OSError):
            self.home.parent.rmdir()  # the last tree leaves no empty folder behind

    def __enter__(self) -> ScratchTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _remove(home: Path) -> None:
    """Rename out of the way first, so a removal cut short is still seen as garbage."""
    if not home.exists():
        return
    trash = home.with_name(home.name + ".trash")
    try:
        home.rename(trash)
    except OSError:
        trash = home
    shutil.rmtree(trash, ignore_errors=True)


@atexit.register
def _close_all() -> None:
    for tree in list(_live):
        tree.close()


def sweep_stale(base: Path | None = None) -> list[Path]:
    """Remove the scratch folders no living process holds. Returns what was removed."""
    base = base or scratch_dir()
    removed: list[Path] = []
    try:
        entries = list(base.iterdir())
    except FileNotFoundError:
        return removed
    now = time.time()
    for home in entries:
        if not home.is_dir() or home.is_symlink():
            continue
        lock = home / "lock"
        if home.name.endswith(".trash"):
            stale = True
        elif not lock.exists():
            try:
                stale = now - home.stat().st_mtime > _STALE_UNLOCKED_S
            except FileNotFoundError:
                continue
        else:
            stale = _unheld(lock)
        if stale:
            shutil.rmtree(home, ignore_errors=True)
            removed.append(home)
    return removed


def _unheld(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


class ScratchTrees:
    """Makes scratch trees of one repository (`repo_root`, its working tree's top)."""

    def __init__(self, repo_root: Path, base: Path | None = None) -> None:
        self.repo_root = Path(repo_root).resolve()
        self.base = base or scratch_dir()
        self._git_index: Path | None = None

    # -- git ---------------------------------------------------------------------------
    def _git(self, *args: str, index: Path, stdin: bytes | None = None) -> str:
        env = dict(os.environ, GIT_INDEX_FILE=str(index), GIT_LITERAL_PATHSPECS="1")
        env.pop("GIT_DIR", None)
        env.pop("GIT_WORK_TREE", None)
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=self.repo_root,
                env=env,
                input=stdin,
                capture_output=True,
                check=False,
            )
        except OSError as exc:
            raise WorkspaceError(f"could not run git {args[0]}: {exc}") from exc
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
            raise WorkspaceError(f"cannot build a scratch tree of {self.repo_root}: git {args[0]}: {detail}")
        return done.stdout.decode("utf-8", "replace")

    def _user_index(self) -> Path:
        if self._git_index is None:
            done = subprocess.run(
                ["git", "rev-parse", "--path-format=absolute", "--git-path", "index"],
                cwd=self.repo_root,
                capture_output=True,
                check=False,
            )
            if done.returncode != 0:
                raise WorkspaceError(f"{self.repo_root} is not a git working tree")
            self._git_index = Path(done.stdout.decode().strip())
        return self._git_index

    def _stage(self, index: Path, files: Mapping[str, str | None]) -> str:
        """Fill `index` with the working-tree state plus `files`; return its tree id."""
        user = self._user_index()
        if user.exists():
            shutil.copyfile(user, index)
        self._git("add", "-A", "--", ".", index=index)
        if files:
            self._stage_files(index, files)
        return self._git("write-tree", index=index).strip()

    def _stage_files(self, index: Path, files: Mapping[str, str | None]) -> None:
        paths = {normalise(p): content for p, content in files.items()}
        listed = self._git("ls-files", "-s", "-z", "--", *paths, index=index)
        modes: dict[str, str] = {}
        for entry in listed.split("\0"):
            if entry:
                meta, _, path = entry.partition("\t")
                modes[path] = meta.split()[0]
        lines: list[str] = []
        for path, content in sorted(paths.items()):
            if content is None:
                lines.append(f"0 {'0' * 40}\t{path}")
                continue
            old = self.repo_root / path
            crlf = old.is_file() and not old.is_symlink() and uses_crlf(old.read_bytes())
            blob = self._git(
                "hash-object", "-w", "--no-filters", "--stdin", index=index,
                stdin=encode(content, crlf),
            ).strip()
            mode = modes.get(path, "100644")
            if mode == "120000":
                mode = "100644"  # a proposal writes a file, never a link
            lines.append(f"{mode} {blob}\t{path}")
        self._git("update-index", "-z", "--index-info", index=index,
                  stdin="\0".join(lines).encode("utf-8") + b"\0")

    # -- public ------------------------------------------------------------------------
    def tree_id(self, files: Mapping[str, str | None] | None = None) -> str:
        """The tree id of the working-tree state plus `files`, without writing any tree."""
        self.base.mkdir(parents=True, exist_ok=True)
        index = self.base / f".index-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            return self._stage(index, files or {})
        finally:
            with contextlib.suppress(FileNotFoundError):
                index.unlink()

    def create(self, files: Mapping[str, str | None] | None = None) -> ScratchTree:
        """Materialise the working-tree state plus `files` (path → text, None deletes)."""
        home = self.base / f"{os.getpid()}-{secrets.token_hex(4)}"
        for _ in range(3):  # another process's last tree may remove the folder meanwhile
            self.base.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                home.mkdir()
                break
            except FileNotFoundError:
                continue
        else:
            raise WorkspaceError(f"cannot make a scratch tree in {self.base}")
        lock = os.open(home / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX)
        tree = ScratchTree(home=home, tree_id="", _lock=lock)
        _live.add(tree)
        try:
            (home / "tmp").mkdir()
            index = home / "index"
            tree.tree_id = self._stage(index, files or {})
            self._git("checkout-index", "-a", "-f", f"--prefix={tree.root}/", index=index)
            tree.root.mkdir(exist_ok=True)  # an empty repository checks out nothing
            self._link_environment(tree.root)
        except BaseException:
            tree.close()
            raise
        return tree

    def _link_environment(self, root: Path) -> None:
        for name in ENVIRONMENT_DIRS:
            source = self.repo_root / name
            target = root / name
            if source.is_dir() and not os.path.lexists(target):
                target.symlink_to(source, target_is_directory=True)
