"""The repository index: per file, definitions, the names it uses and its search terms.

`build_index` takes the shareable paths with their git blob ids and a reader; entries come
from the on-disk cache by blob id when they can (`store.py`), else from parsing
(`parse.py`, tree-sitter). The caller passes only paths that may be shared (secrets, ignored
and excluded files never reach here), so nothing secret is ever indexed or cached; a file
whose content looks secret is indexed as empty.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from counterpoint.core.index.parse import Definition, FileEntry, parse_file, split_identifier
from counterpoint.core.index.store import EntryStore
from counterpoint.core.secrets import looks_secret

if TYPE_CHECKING:  # numpy, imported with the corpus: the parsing workers never need it
    from counterpoint.core.index.corpus import Corpus, Document

__all__ = [
    "Definition",
    "FileEntry",
    "RepoIndex",
    "blob_id",
    "build_index",
    "split_identifier",
]

_BINARY_SUFFIXES = frozenset(
    ["png", "jpg", "jpeg", "gif", "bmp", "ico", "webp", "svgz", "tif", "tiff", "psd", "mo", "gz", "tgz", "bz2", "xz", "zst", "zip", "jar", "war", "whl", "egg", "7z", "rar", "pdf", "woff", "woff2", "ttf", "otf", "eot", "mp3", "mp4", "m4a", "ogg", "wav", "flac", "avi", "mov", "webm", "so", "dylib", "dll", "exe", "bin", "o", "a", "lib", "pyc", "pyd", "class", "db", "sqlite", "sqlite3", "pickle", "pkl", "npy", "npz", "parquet"]
)
EMPTY = FileEntry("", (), frozenset(), ())


PARALLEL_FROM = 400
"""Files to parse from which the work is shared between processes (one per core, at most 4)."""


Dumped = tuple[tuple[object, ...], tuple[object, ...]]
"""An entry as the cache keeps it: (head, words) (`FileEntry.dump`)."""


def _parse_one(item: tuple[str, str]) -> Dumped | None:
    path, text = item
    if looks_secret(text):
        return None
    entry = parse_file(path, text)
    return entry.dump() if entry.definitions or entry.terms else None


def _parse_all(texts: Iterable[tuple[str, str]], count: int) -> list[Dumped | None]:
    """Parse the `count` (path, text) pairs, in worker processes when there are many (a cold
    index): they start on the first ones while the rest are still being read."""
    workers = min(4, os.cpu_count() or 1)
    if count < PARALLEL_FROM or workers < 2:
        return [_parse_one(item) for item in texts]
    given: list[tuple[str, str]] = []
    try:
        _start_resource_tracker()
        context = multiprocessing.get_context("spawn")  # never fork a process with threads
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            return list(pool.map(_parse_one, _kept(texts, given), chunksize=64))
    except (OSError, RuntimeError, ValueError, BrokenProcessPool):
        return [_parse_one(item) for item in (*given, *texts)]


def _kept(items: Iterable[tuple[str, str]], into: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """`items`, each also kept in `into` (what a pool that failed was already given)."""
    for item in items:
        into.append(item)
        yield item


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with the process's real stderr. It hands the
    tracker `sys.stderr.fileno()`, which is -1 under a Textual app (its capture of prints):
    the pool then failed with "bad value(s) in fds_to_keep" (the task screen's first
    context of a large repository). Swapped for the few milliseconds of starting it only."""
    from multiprocessing import resource_tracker

    try:
        if sys.stderr is not None and sys.stderr.fileno() >= 0:
            return
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        pass
    if sys.__stderr__ is None:
        return
    captured, sys.stderr = sys.stderr, sys.__stderr__
    try:
        resource_tracker.ensure_running()
    finally:
        sys.stderr = captured


P = ParamSpec("P")
R = TypeVar("R")


def _bulk(function: Callable[P, R]) -> Callable[P, R]:
    """Run without cyclic garbage collection. Indexing makes hundreds of thousands of
    tuples and strings (the cached entries, the corpus's terms) that hold no cycles, and
    each full collection walked all of them again: a quarter of a second of the first
    context of a 5,000-file repository (0.79 -> 0.55 s for its corpus)."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return run


def blob_id(text: str) -> str:
    """Git's blob id of a text (what `git hash-object` prints for its UTF-8 bytes)."""
    data = text.encode("utf-8", "surrogateescape")
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def maybe_text(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return "." not in name or name.rsplit(".", 1)[-1] not in _BINARY_SUFFIXES


def _document(head: Any, words: Any) -> Document:
    """`document_of` the entry these cached parts hold (`FileEntry.dump`), without building
    the entry."""
    try:
        defined = tuple(str(d[0]).rsplit(".", 1)[-1] for d in head[1])
        names, terms = words
        return defined, frozenset(str(names).split()), tuple(terms)
    except (TypeError, ValueError, IndexError):
        return (), frozenset(), ()


def _decode(head: object) -> FileEntry:
    if head is None:
        return EMPTY
    try:
        return FileEntry.load(head)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return EMPTY


class Entries(Mapping[str, FileEntry]):
    """path -> entry, decoded from the cache only when asked for (most never are): its
    definitions, without the names and terms (`RepoIndex.documents` has those)."""

    def __init__(self, raw: dict[str, object]) -> None:
        self._raw = raw
        self._decoded: dict[str, FileEntry] = {}

    def __getitem__(self, path: str) -> FileEntry:
        found = self._decoded.get(path)
        if found is None:
            found = self._decoded[path] = _decode(self._raw[path])
        return found

    def __contains__(self, path: object) -> bool:
        return path in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


@dataclass
class RepoIndex:
    entries: Mapping[str, FileEntry]
    """path -> entry, for every indexed path (EMPTY for binary or unreadable files)."""
    sizes: dict[str, int]
    """path -> characters, for the files that could be read."""
    parsed: int = 0
    """Entries parsed this time (the rest came from the cache)."""
    seconds: float = 0.0
    fingerprint: str = ""
    """Names the whole tree (paths and blob ids): the key of the cached corpus."""
    corpus_path: Path | None = None
    documents: Callable[[], Mapping[str, Document]] | None = field(default=None, repr=False, compare=False)
    """path -> what building the corpus reads of it (defined names, names used, terms);
    None when `entries` have them."""
    _corpus: Corpus | None = field(default=None, repr=False, compare=False)

    @_bulk
    def corpus(self) -> Corpus:
        """BM25, the reference graph and the definers over the whole index: from the cache
        when the tree is the same, else built (and cached)."""
        if self._corpus is None:
            from counterpoint.core.index.corpus import build_corpus, document_of, load_corpus, save_corpus

            found = load_corpus(self.corpus_path, self.fingerprint) if self.corpus_path else None
            if found is None or found.paths != tuple(sorted(self.entries)):
                documents = self.documents() if self.documents else {p: document_of(e) for p, e in self.entries.items()}
                found = build_corpus(documents)
                if self.corpus_path is not None:
                    save_corpus(found, self.corpus_path, self.fingerprint)
            self._corpus = found
        return self._corpus

    @property
    def definers(self) -> Mapping[str, tuple[str, ...]]:
        """Symbol name (last component) -> the paths that define it, sorted."""
        return self.corpus().definers


def fingerprint_of(blobs: Mapping[str, str]) -> str:
    digest = hashlib.sha1()
    for path in sorted(blobs):
        digest.update(f"{path}\0{blobs[path]}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


@_bulk
def build_index(
    blobs: Mapping[str, str],
    read: Callable[[str], str | None],
    *,
    cache_dir: Path | None = None,
    cache_key: str = "",
    announce: Callable[[int], None] | None = None,
) -> RepoIndex:
    """Index `blobs` (path -> git blob id), reading only what the cache does not hold;
    `announce` is told how many files are to be parsed when they are PARALLEL_FROM or more
    (a first index: seconds on a large repository)."""
    started = time.perf_counter()
    store = EntryStore(cache_dir, cache_key) if cache_dir is not None and cache_key else None
    cached = store.load() if store is not None else {}
    heads: dict[str, object] = {}
    sizes: dict[str, int] = {}
    kept: dict[str, tuple[object, ...]] = {}
    """blob -> (size, head) of every file of the tree, for the cache."""
    fresh: dict[str, tuple[object, ...]] = {}
    """blob -> words, of the files parsed this time."""
    todo: list[tuple[str, str]] = []
    for path in sorted(blobs):
        blob = blobs[path]
        raw = cached.get(blob)
        if isinstance(raw, tuple) and len(raw) == 2:
            size, head = raw
            heads[path] = head
            if isinstance(size, int) and size >= 0:
                sizes[path] = size
            kept[blob] = raw
            continue
        todo.append((path, blob))
    if announce is not None and len(todo) >= PARALLEL_FROM:
        announce(len(todo))
    texts: list[str] = []
    """The paths read, in order."""

    def readable() -> Iterator[tuple[str, str]]:
        for path, blob in todo:
            text = read(path) if maybe_text(path) else None
            if text is None or "\x00" in text:
                heads[path] = None
                kept[blob] = (-1, None)
            else:
                sizes[path] = len(text)
                texts.append(path)
                yield path, text

    for path, dumped in zip(texts, _parse_all(readable(), len(todo))):
        head, words = dumped if dumped is not None else (None, None)
        heads[path] = head
        kept[blobs[path]] = (sizes[path], head)
        if words is not None:
            fresh[blobs[path]] = words
    parsed = len(todo)
    loaded: dict[str, tuple[object, ...]] | None = None
    if store is not None and (parsed or len(kept) != len(cached)):
        loaded = {**store.load_words(), **fresh}
        store.save(kept, {b: loaded[b] for b in kept if b in loaded})

    def documents() -> dict[str, Document]:
        words = loaded if loaded is not None else {**(store.load_words() if store else {}), **fresh}
        out: dict[str, Document] = {}
        for path, head in heads.items():
            found = words.get(blobs[path])
            if head is not None and found is None:  # the words file lost it: parse again
                text = read(path)
                dumped = _parse_one((path, text)) if text is not None and "\x00" not in text else None
                head, found = dumped if dumped is not None else (None, None)
            out[path] = _document(head, found)
        return out

    return RepoIndex(
        Entries(heads),
        sizes,
        parsed,
        time.perf_counter() - started,
        fingerprint=fingerprint_of(blobs),
        corpus_path=store.path.with_suffix(".corpus.npz") if store is not None and store.path else None,
        documents=documents,
    )
