"""The index's on-disk cache: file entries keyed by git blob id, one file per repository.

The cache lives under the platform's cache dir (the caller passes the folder). A blob id
names the content exactly, so an entry never goes stale: a changed file has a new id and is
parsed again, an unchanged one is read back. Entries of blobs no longer in the tree are
dropped when the cache is written. `marshal` stores plain tuples only (no objects, no code
is run on load); a damaged or foreign file is ignored and rewritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import tempfile
from pathlib import Path

INDEX_VERSION = 4
"""Bump when an entry's shape or what it holds changes: old caches are then ignored."""


def repo_key(root: str) -> str:
    return hashlib.sha1(root.encode("utf-8", "surrogateescape")).hexdigest()[:16]


class EntryStore:
    def __init__(self, folder: Path | None, key: str) -> None:
        self.path = folder / f"v{INDEX_VERSION}" / f"{key}.entries" if folder else None

    def load(self) -> dict[str, tuple[object, ...]]:
        if self.path is None:
            return {}
        try:
            raw = marshal.loads(self.path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        if not isinstance(raw, dict):
            return {}
        return raw

    def save(self, entries: dict[str, tuple[object, ...]]) -> None:
        """Write atomically; a cache that cannot be written only costs time next run."""
        if self.path is None:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".entries.")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(marshal.dumps(entries))
                os.replace(tmp, self.path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
