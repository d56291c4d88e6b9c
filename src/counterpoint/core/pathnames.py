"""Repository-relative path names as text: one spelling of "a path with forward slashes".

Models and users write `app\\x.py`, `./app/x.py` or `app//x.py` for the same file; the
alignment, the never-sent rules, the path safety check and the SARIF export all compare
paths in this one form.
"""

from __future__ import annotations

import posixpath
from functools import lru_cache


def to_posix(path: str) -> str:
    """`path` with forward slashes (backslashes turned round), nothing else changed."""
    return path.replace("\\", "/")


@lru_cache(maxsize=4096)
def normalise_path(path: str) -> str:
    """``./app/x.py``, ``app//x.py`` and ``app\\x.py`` all become ``app/x.py``."""
    p = to_posix(path.strip())
    while p.startswith("./"):
        p = p[2:]
    p = posixpath.normpath(p) if p else p
    return "" if p == "." else p
