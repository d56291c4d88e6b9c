"""Where Counterpoint keeps its files, and where its bundled data lives."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def home() -> Path:
    """COUNTERPOINT_HOME, else the platform's user data dir: sessions, undo records, stats."""
    env = os.environ.get("COUNTERPOINT_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("counterpoint", appauthor=False))


def sessions_dir() -> Path:
    return home() / "sessions"


def undo_dir() -> Path:
    return home() / "undo"


def scratch_dir() -> Path:
    """Scratch trees of running checks (removed when done; a crash's are swept next start).

    COUNTERPOINT_SCRATCH, else a private folder in memory (`$XDG_RUNTIME_DIR` or /dev/shm:
    writing thousands of small files to a busy disk took 10-17 s where tmpfs took 0.35 s),
    one per COUNTERPOINT_HOME; else COUNTERPOINT_HOME/scratch.
    """
    env = os.environ.get("COUNTERPOINT_SCRATCH")
    if env:
        return Path(env).expanduser()
    import hashlib

    tag = hashlib.sha1(str(home()).encode()).hexdigest()[:10]
    for memory in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):
        if memory and _private_dir(Path(memory) / f"counterpoint-{os.getuid()}-{tag}"):
            return Path(memory) / f"counterpoint-{os.getuid()}-{tag}"
    return home() / "scratch"


def _private_dir(path: Path) -> bool:
    """`path` exists (made if need be) as a real folder only this user can enter."""
    import stat

    try:
        path.mkdir(mode=0o700, exist_ok=True)
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("counterpoint", appauthor=False))


def bundled(name: str) -> Path:
    """A top-level data folder of the project (`sample_repos`, `themes`).

    A wheel carries them inside the package as `counterpoint/_data/NAME` (see pyproject.toml, force-include);
    a source checkout or editable install finds them at the repository root.
    """
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent.parent / name


def locks_dir() -> Path:
    """Advisory locks: one per repository (applies, undos) and per open session journal."""
    return home() / "locks"


def cache_dir() -> Path:
    """COUNTERPOINT_HOME/cache when that is set (tests, portable setups), else the platform's
    user cache dir: the repository index, rebuilt at will."""
    if os.environ.get("COUNTERPOINT_HOME"):
        return home() / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("counterpoint", appauthor=False))
