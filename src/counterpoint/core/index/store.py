"""The index's on-disk cache: file entries keyed by git blob id, two files per repository.

The cache lives under the platform's cache dir (the caller passes the folder). A blob id
names the content exactly, so an entry never goes stale: a changed file has a new id and is
parsed again, an unchanged one is read back. Entries of blobs no longer in the tree are
dropped when the cache is written. `marshal` stores plain tuples only (no objects, no code
is run on load); a damaged or foreign file is ignored and rewritten.

`.entries` holds what choosing a context reads (blob -> (size, (language, definitions,
head chars))); `.words` what only building the corpus reads (blob -> (names used, search
terms)): three quarters of the bytes, which a warm run on an unchanged tree does not load.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import tempfile
from pathlib import Path

INDEX_VERSION = 7
"""Bump when an entry's shape or what it holds changes: old caches are then ignored."""


def repo_key(root: str) -> str:
    return hashlib.sha1(root.encode("utf-8", "surrogateescape")).hexdigest()[:16]


class EntryStore:
    def __init__(self, folder: Path | None, key: str) -> None:
        self.path = folder / f"v{INDEX_VERSION}" / f"{key}.entries" if folder else None
        self.words_path = self.path.with_suffix(".words") if self.path else None

    def load(self) -> dict[str, tuple[object, ...]]:
        return _read(self.path)

    def load_words(self) -> dict[str, tuple[object, ...]]:
        return _read(self.words_path)

    def save(self, entries: dict[str, tuple[object, ...]], words: dict[str, tuple[object, ...]]) -> None:
        """Words first: entries whose words are missing (a write that failed half-way) are
        parsed again when the corpus is built."""
        _write(self.words_path, words)
        _write(self.path, entries)


def _read(path: Path | None) -> dict[str, tuple[object, ...]]:
    if path is None:
        return {}
    try:
        raw = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return raw if isinstance(raw, dict) else {}


def _write(path: Path | None, data: dict[str, tuple[object, ...]]) -> None:
    """Atomically; a cache that cannot be written only costs time next run."""
    if path is None:
        return
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.suffix.lstrip('.')}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(marshal.dumps(data))
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
