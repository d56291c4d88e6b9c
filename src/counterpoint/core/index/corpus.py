"""The whole repository at once: BM25 over the files' terms, and the reference graph.

BM25 is `bm25s` (fed our own terms: identifiers split into their words, docstrings and
comments, and the path's words): it computes each term's score in each file once, when the
tree is indexed. The reference graph links a file to the files defining the names it uses,
each edge weighted by the name's rarity (a name defined in many files says little); it is
built as a `scipy.sparse` matrix (scipy comes with bm25s; networkx would first copy the
graph into Python dicts, hundreds of milliseconds on 5,000 files, then convert it to scipy
anyway). Both are kept as plain compressed-sparse arrays (`Sparse`): a query sums its terms'
columns of the scores (what bm25s's `get_scores_from_ids` does) and personalised PageRank
multiplies by the graph a few dozen times, both a numpy line each, so choosing a context from
the cached corpus imports neither bm25s nor scipy (a tenth of a second of every
`counterpoint context`).
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


@dataclass(frozen=True)
class Sparse:
    """A compressed sparse matrix as its three arrays (scipy's CSR / CSC layout): the values
    of major row (or column) k are data[indptr[k]:indptr[k + 1]], at minor positions
    indices[...]."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray

    def sum_of(self, majors: Sequence[int], size: int) -> np.ndarray:
        """The sum of these major rows (columns), as a dense vector of `size`."""
        picked = np.concatenate([np.arange(self.indptr[k], self.indptr[k + 1]) for k in majors])
        return np.bincount(self.indices[picked], weights=self.data[picked], minlength=size)

    def times(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """CSR matrix @ vector; `rows` is the row of each stored value (`row_of_values`)."""
        return np.bincount(rows, weights=self.data * vector[self.indices], minlength=len(self.indptr) - 1)

    def row_of_values(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))


@dataclass
class Corpus:
    paths: tuple[str, ...]
    """Sorted; the row of each file in the matrices."""
    scores: Sparse
    """BM25, by term: column t holds term t's score in each file that has it (CSC)."""
    vocab: Mapping[str, int]
    """term -> column (a dict when built, a `Vocabulary` over an array when loaded)."""
    graph: Sparse | None
    """CSR, column-stochastic: graph[b, a] = share of a's links going to b."""
    definers: Mapping[str, tuple[str, ...]]
    """Symbol name (last component) -> the paths that define it, sorted (a dict when built,
    `Definers` over arrays when loaded)."""
    _central: np.ndarray | None = None
    _graph_rows: np.ndarray | None = None

    def lexical(self, terms: Sequence[str]) -> np.ndarray:
        """BM25 score of each file for the query terms."""
        ids = sorted({self.vocab[t] for t in terms if t in self.vocab})
        if not ids:
            return np.zeros(len(self.paths))
        return self.scores.sum_of(ids, len(self.paths))

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
        if self._graph_rows is None:
            self._graph_rows = self.graph.row_of_values()
        p = seeds / total
        rank = p.copy()
        for _ in range(iterations):
            spread = self.graph.times(rank, self._graph_rows)
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
        csr = (adjacency @ sparse.diags(1.0 / out)).tocsr()
        graph = Sparse(csr.data, csr.indices, csr.indptr)
    scores = Sparse(bm25.scores["data"], bm25.scores["indices"], bm25.scores["indptr"])
    return Corpus(paths, scores, vocab, graph, definers)


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


class Definers(Mapping[str, tuple[str, ...]]):
    """name -> the paths defining it, over the saved arrays (the sorted names, each name's
    rows), without building a dict of every name (a query looks up a handful)."""

    def __init__(self, names: np.ndarray, ptr: np.ndarray, rows: np.ndarray, paths: tuple[str, ...]) -> None:
        self._names, self._ptr, self._rows, self._paths = names, ptr, rows, paths

    def __getitem__(self, name: str) -> tuple[str, ...]:
        at = int(np.searchsorted(self._names, name))
        if at < len(self._names) and self._names[at] == name:
            return tuple(self._paths[r] for r in self._rows[self._ptr[at] : self._ptr[at + 1]].tolist())
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (str(n) for n in self._names)

    def __len__(self) -> int:
        return len(self._names)


def save_corpus(corpus: Corpus, path: Path, fingerprint: str) -> None:
    """One .npz (no pickles); a cache that cannot be written only costs time next run."""
    names = list(corpus.definers)
    rows = {p: i for i, p in enumerate(corpus.paths)}
    flat = [rows[p] for name in names for p in corpus.definers[name]]
    ptr = np.cumsum([0] + [len(corpus.definers[name]) for name in names])
    graph = corpus.graph
    arrays: dict[str, Any] = {  # Any: numpy's stubs take a ** of arrays for its own keywords
        "fingerprint": np.array(fingerprint),
        "paths": np.array(corpus.paths, dtype=str),
        "vocab": (vocab := np.array(sorted(corpus.vocab, key=corpus.vocab.__getitem__), dtype=str)),
        "vocab_order": np.argsort(vocab, kind="stable"),
        "bm25_data": corpus.scores.data,
        "bm25_indices": corpus.scores.indices,
        "bm25_indptr": corpus.scores.indptr,
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
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["fingerprint"]) != fingerprint:
                return None
            paths = tuple(str(p) for p in data["paths"])
            vocab = Vocabulary(data["vocab"], data["vocab_order"])
            scores = Sparse(data["bm25_data"], data["bm25_indices"], data["bm25_indptr"])
            graph = None
            if "graph_data" in data:
                graph = Sparse(data["graph_data"], data["graph_indices"], data["graph_indptr"])
            definers = Definers(data["names"], data["definers_ptr"], data["definers_rows"], paths)
    except (OSError, KeyError, ValueError, EOFError):
        return None
    return Corpus(paths, scores, vocab, graph, definers)


def rarity(df: int, n: int) -> float:
    """0..1: how much a name defined in `df` of `n` files singles them out."""
    if df <= 0 or n <= 1:
        return 1.0
    return math.log(1 + n / df) / math.log(1 + n)
