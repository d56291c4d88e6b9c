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
    """Scratch trees of running checks (removed when done; a crash's are swept next start)."""
    return home() / "scratch"


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
