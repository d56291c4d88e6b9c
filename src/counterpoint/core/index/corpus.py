"""The whole repository at once: BM25 over the files' terms, and the reference graph.

BM25 is `bm25s` (sparse matrices, fed our own terms: identifiers split into their words,
docstrings and comments, and the path's words). The reference graph links a file to the
files defining the names it uses, each edge weighted by the name's rarity (a name defined in
many files says little); personalised PageRank over it ranks files near what the task
mentions. It is a power iteration over a `scipy.sparse` matrix: scipy already comes with
bm25s, a 5,000-file graph converges in a few milliseconds, while networkx would first copy
the graph into Python dicts (hundreds of milliseconds) and then convert it to scipy anyway.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from counterpoint.core.index.parse import FileEntry, split_identifier, stem

MAX_TF = 20
"""Occurrences of a term counted per file: BM25 saturates long before."""
PATH_WEIGHT = 2
"""A word of the path counts as this many occurrences."""
MAX_DEFINERS = 12
"""A name defined in more files than this is too common to link files."""
DAMPING = 0.85
_PATH_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def path_terms(path: str) -> list[str]:
    words: list[str] = []
    for word in _PATH_WORD.findall(path):
        words.extend(stem(part) for part in split_identifier(word))
    return words


@dataclass
class Corpus:
    paths: tuple[str, ...]
    """Sorted; the row of each file in the matrices."""
    bm25: Any
    vocab: Mapping[str, int]
    """term -> column (a dict when built, a `Vocabulary` over an array when loaded)."""
    graph: Any
    """scipy CSR, column-stochastic: graph[b, a] = share of a's links going to b."""
    definers: Mapping[str, tuple[str, ...]]
    """Symbol name (last component) -> the paths that define it, sorted."""
    _central: np.ndarray | None = None

    def lexical(self, terms: Sequence[str]) -> np.ndarray:
        """BM25 score of each file for the query terms."""
        ids = sorted({self.vocab[t] for t in terms if t in self.vocab})
        if not ids:
            return np.zeros(len(self.paths), dtype=np.float32)
        return np.asarray(self.bm25.get_scores_from_ids(ids), dtype=np.float64)

    def centrality(self) -> np.ndarray:
        """Plain PageRank (uniform start): how much of the code leads to each file."""
        if self._central is None:
            self._central = self.proximity(np.ones(len(self.paths)))
        return self._central

    def proximity(self, seeds: np.ndarray, iterations: int = 30) -> np.ndarray:
        """Personalised PageRank from the seed weights (one per file)."""
        total = float(seeds.sum())
        if total <= 0 or self.graph is None:
            return np.zeros(len(self.paths))
        p = seeds / total
        rank = p.copy()
        for _ in range(iterations):
            spread = self.graph @ rank
            lost = 1.0 - float(spread.sum())  # files that link nowhere give their rank back
            new = DAMPING * spread + (1 - DAMPING + DAMPING * lost) * p
            if float(np.abs(new - rank).sum()) < 1e-6:
                rank = new
                break
            rank = new
        return rank


def _definers(entries: Mapping[str, FileEntry]) -> dict[str, tuple[str, ...]]:
    found: dict[str, set[str]] = {}
    for path, entry in entries.items():
        for definition in entry.definitions:
            found.setdefault(definition.name.rsplit(".", 1)[-1], set()).add(path)
    return {name: tuple(sorted(paths)) for name, paths in sorted(found.items())}


def build_corpus(entries: Mapping[str, FileEntry]) -> Corpus:
    import bm25s
    from bm25s.tokenization import Tokenized
    from scipy import sparse

    definers = _definers(entries)
    paths = tuple(sorted(entries))
    row = {path: i for i, path in enumerate(paths)}
    vocab: dict[str, int] = {}
    docs: list[list[int]] = []
    for path in paths:
        ids: list[int] = []
        for term, count in entries[path].terms:
            ids.extend([vocab.setdefault(term, len(vocab))] * min(count, MAX_TF))
        for term in path_terms(path):
            ids.extend([vocab.setdefault(term, len(vocab))] * PATH_WEIGHT)
        docs.append(ids or [vocab.setdefault("", len(vocab))])
    bm25 = bm25s.BM25()
    bm25.index(Tokenized(ids=docs, vocab=vocab), show_progress=False)

    linked = {name: files for name, files in definers.items() if len(files) <= MAX_DEFINERS}
    names = set(linked)
    sources: list[int] = []
    targets: list[int] = []
    weights: list[float] = []
    for path in paths:
        a = row[path]
        for name in sorted(entries[path].names & names):
            files = linked[name]
            w = (0.2 if name.startswith("_") else 1.0) * (1.0 if len(name) >= 8 else 0.5) / len(files)
            for other in files:
                if other != path:
                    sources.append(a)
                    targets.append(row[other])
                    weights.append(w)
    graph = None
    if sources:
        n = len(paths)
        adjacency = sparse.csr_matrix((weights, (targets, sources)), shape=(n, n))
        out = np.asarray(adjacency.sum(axis=0)).ravel()
        out[out == 0] = 1.0
        graph = (adjacency @ sparse.diags(1.0 / out)).tocsr()
    return Corpus(paths, bm25, vocab, graph, definers)


class Vocabulary(Mapping[str, int]):
    """term -> column over the saved array of terms, without building a dict of them all
    (a query looks up a handful of terms; a repository has a hundred thousand)."""

    def __init__(self, terms: np.ndarray, order: np.ndarray | None = None) -> None:
        self._terms = terms
        self._order = np.argsort(terms, kind="stable") if order is None else order
        self._sorted = terms[self._order]

    def __getitem__(self, term: str) -> int:
        at = int(np.searchsorted(self._sorted, term))
        if at < len(self._sorted) and self._sorted[at] == term:
            return int(self._order[at])
        raise KeyError(term)

    def __iter__(self) -> Iterator[str]:
        return (str(t) for t in self._terms)

    def __len__(self) -> int:
        return len(self._terms)


def save_corpus(corpus: Corpus, path: Path, fingerprint: str) -> None:
    """One .npz (no pickles); a cache that cannot be written only costs time next run."""
    names = list(corpus.definers)
    rows = {p: i for i, p in enumerate(corpus.paths)}
    flat = [rows[p] for name in names for p in corpus.definers[name]]
    ptr = np.cumsum([0] + [len(corpus.definers[name]) for name in names])
    graph = corpus.graph
    arrays = {
        "fingerprint": np.array(fingerprint),
        "paths": np.array(corpus.paths, dtype=str),
        "vocab": (vocab := np.array(sorted(corpus.vocab, key=corpus.vocab.__getitem__), dtype=str)),
        "vocab_order": np.argsort(vocab, kind="stable"),
        "bm25_data": corpus.bm25.scores["data"],
        "bm25_indices": corpus.bm25.scores["indices"],
        "bm25_indptr": corpus.bm25.scores["indptr"],
        "names": np.array(names, dtype=str),
        "definers_ptr": np.asarray(ptr, dtype=np.int64),
        "definers_rows": np.asarray(flat, dtype=np.int64),
    }
    if graph is not None:
        arrays.update(graph_data=graph.data, graph_indices=graph.indices, graph_indptr=graph.indptr)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".corpus.", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **arrays)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def load_corpus(path: Path, fingerprint: str) -> Corpus | None:
    """The cached corpus of exactly this tree, or None."""
    import bm25s
    from scipy import sparse

    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["fingerprint"]) != fingerprint:
                return None
            paths = tuple(str(p) for p in data["paths"])
            vocab = Vocabulary(data["vocab"], data["vocab_order"])
            bm25 = bm25s.BM25()
            bm25.scores = {
                "data": data["bm25_data"],
                "indices": data["bm25_indices"],
                "indptr": data["bm25_indptr"],
                "num_docs": len(paths),
            }
            bm25.vocab_dict = vocab
            bm25.nonoccurrence_array = None  # the lucene variant has none
            graph = None
            if "graph_data" in data:
                graph = sparse.csr_matrix(
                    (data["graph_data"], data["graph_indices"], data["graph_indptr"]),
                    shape=(len(paths), len(paths)),
                )
            names = [str(n) for n in data["names"]]
            ptr = data["definers_ptr"].tolist()
            rows = data["definers_rows"].tolist()
    except (OSError, KeyError, ValueError, EOFError):
        return None
    definers = {
        name: tuple(paths[r] for r in rows[ptr[i] : ptr[i + 1]]) for i, name in enumerate(names)
    }
    return Corpus(paths, bm25, vocab, graph, definers)


def rarity(df: int, n: int) -> float:
    """0..1: how much a name defined in `df` of `n` files singles them out."""
    if df <= 0 or n <= 1:
        return 1.0
    return math.log(1 + n / df) / math.log(1 + n)
