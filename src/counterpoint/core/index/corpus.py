"""The whole repository at once: BM25 over the files' terms, and the reference graph.

BM25 scores each file for our own terms (identifiers split into their words, docstrings and
comments, and the path's words), computed once per tree from the term counts the entries
hold (`bm25`: Lucene's formula, as bm25s computes it by default; bm25s itself wants every
document as its list of tokens and counts them again, 2 million ids and 0.3 s for a
5,000-file repository, and pulls in scipy). The reference graph links a file to the files defining the names it
uses, each edge weighted by the name's rarity (a name defined in many files says little).
Both are plain compressed-sparse arrays (`Sparse`): a query sums its terms' columns of the
scores and personalised PageRank multiplies by the graph a few dozen times, a numpy line
each (networkx would first copy the graph into Python dicts, hundreds of milliseconds on
5,000 files).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from itertools import chain, count
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
K1 = 1.5
B = 0.75
_PATH_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def path_terms(path: str) -> list[str]:
    words: list[str] = []
    for word in _PATH_WORD.findall(path):
        words.extend(stem(part) for part in split_identifier(word))
    return words


@dataclass(frozen=True)
class Sparse:
    """A compressed sparse matrix as its three arrays (the CSR / CSC layout): the values
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
    """term -> column."""
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


Document = tuple[Iterable[str], Set[str], Sequence[tuple[str, int]]]
"""What the corpus reads of a file: the names it defines (last components), the names it
uses, its (term, count) pairs."""


def document_of(entry: FileEntry) -> Document:
    return tuple(d.name.rsplit(".", 1)[-1] for d in entry.definitions), entry.names, entry.terms


def _definers(documents: Mapping[str, Document]) -> dict[str, tuple[str, ...]]:
    found: dict[str, set[str]] = {}
    for path, (defined, _, _) in documents.items():
        for name in defined:
            found.setdefault(name, set()).add(path)
    return {name: tuple(sorted(paths)) for name, paths in sorted(found.items())}


def bm25(term_ids: np.ndarray, counts: np.ndarray, docs: np.ndarray, n_docs: int, n_terms: int) -> Sparse:
    """BM25 (Lucene's variant, bm25s's default: k1 1.5, b 0.75) of each (doc, term, count),
    as a CSC matrix by term."""
    width = max(n_terms, 1)  # a path's word may be among its terms too: one count each
    pairs, at = np.unique(docs * width + term_ids, return_inverse=True)
    tf = np.bincount(at, weights=counts, minlength=len(pairs))
    docs, term_ids = pairs // width, pairs % width
    lengths = np.bincount(docs, weights=tf, minlength=n_docs)
    average = float(lengths.mean()) if n_docs else 1.0
    df = np.bincount(term_ids, minlength=n_terms)
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
    score = idf[term_ids] * tf / (K1 * ((1 - B) + B * lengths[docs] / average) + tf)
    order = np.lexsort((docs, term_ids))
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    return Sparse(score[order].astype(np.float32), docs[order].astype(np.int32), indptr)


def build_corpus(documents: Mapping[str, Document]) -> Corpus:
    definers = _definers(documents)
    paths = tuple(sorted(documents))
    words: list[Iterable[str]] = []
    counts: list[Iterable[int]] = []
    sizes: list[int] = []
    for path in paths:  # C-level from here on: half a million (term, count) pairs
        pairs = documents[path][2]
        extra = path_terms(path) or ([] if pairs else [""])
        found, many = zip(*pairs) if pairs else ((), ())
        words += (found, extra)
        counts += (many, [PATH_WEIGHT] * len(extra))
        sizes.append(len(found) + len(extra))
    vocab = dict(zip(dict.fromkeys(chain.from_iterable(words)), count()))
    total = sum(sizes)
    term_ids = np.fromiter(map(vocab.__getitem__, chain.from_iterable(words)), dtype=np.int64, count=total)
    tf = np.minimum(np.fromiter(chain.from_iterable(counts), dtype=np.int64, count=total), MAX_TF)
    n = len(paths)
    docs = np.repeat(np.arange(n, dtype=np.int64), sizes)
    scores = bm25(term_ids, tf, docs, n, len(vocab))

    return Corpus(paths, scores, vocab, _graph(documents, paths, definers), definers)


def _graph(documents: Mapping[str, Document], paths: tuple[str, ...], definers: Mapping[str, tuple[str, ...]]) -> Sparse | None:
    """The column-stochastic CSR matrix of the links: graph[b, a] = w(a→b) / Σ w(a→·),
    where a uses a name b defines, w its rarity. A pair linked by several names keeps one
    value per name (a product sums them alike)."""
    row = {path: i for i, path in enumerate(paths)}
    linked = [name for name, files in definers.items() if len(files) <= MAX_DEFINERS]
    at = dict(zip(linked, range(len(linked))))
    sizes = np.array([len(definers[name]) for name in linked], dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    definer_rows = np.array([row[p] for name in linked for p in definers[name]], dtype=np.int64)
    rarity_of = np.array(
        [(0.2 if n.startswith("_") else 1.0) * (1.0 if len(n) >= 8 else 0.5) for n in linked], dtype=np.float64
    ) / np.maximum(sizes, 1)
    used: list[int] = []
    uses: list[int] = []
    for path in paths:  # each name a file uses and some file defines, in name order
        found = sorted(at[name] for name in documents[path][1] & at.keys())
        used += found
        uses.append(len(found))
    name_ids = np.array(used, dtype=np.int64)
    links = sizes[name_ids]
    source = np.repeat(np.repeat(np.arange(len(paths), dtype=np.int64), uses), links)
    weight = np.repeat(rarity_of[name_ids], links)
    starts = np.repeat(first[name_ids] - (np.cumsum(links) - links), links)
    target = definer_rows[starts + np.arange(int(links.sum()))]
    other = target != source
    source, target, weight = source[other], target[other], weight[other]
    if not len(source):
        return None
    n = len(paths)
    out = np.bincount(source, weights=weight, minlength=n)
    order = np.lexsort((source, target))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(target, minlength=n), out=indptr[1:])
    return Sparse((weight / out[source])[order], source[order].astype(np.int32), indptr)


class Definers(Mapping[str, tuple[str, ...]]):
    """name -> the paths defining it, over the saved arrays (each name's rows), without
    building a tuple of paths for every name (a query looks up a handful)."""

    def __init__(self, names: list[str], ptr: np.ndarray, rows: np.ndarray, paths: tuple[str, ...]) -> None:
        self._at = dict(zip(names, range(len(names))))
        self._ptr, self._rows, self._paths = ptr, rows, paths

    def __getitem__(self, name: str) -> tuple[str, ...]:
        at = self._at[name]
        return tuple(self._paths[r] for r in self._rows[self._ptr[at] : self._ptr[at + 1]].tolist())

    def __iter__(self) -> Iterator[str]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)


def _pack(strings: Iterable[str]) -> np.ndarray:
    """Strings as one NUL-separated UTF-8 array: numpy's own string arrays are as wide as
    the longest (43,000 terms of a 5,000-file repository took 8 MB, its names 13 MB)."""
    text = "".join(f"{s}\0" for s in strings)
    return np.frombuffer(text.encode("utf-8", "surrogateescape"), dtype=np.uint8)


def _unpack(packed: np.ndarray) -> list[str]:
    return packed.tobytes().decode("utf-8", "surrogateescape").split("\0")[:-1]


def save_corpus(corpus: Corpus, path: Path, fingerprint: str) -> None:
    """One .npz (no pickles); a cache that cannot be written only costs time next run."""
    names = list(corpus.definers)
    rows = {p: i for i, p in enumerate(corpus.paths)}
    flat = [rows[p] for name in names for p in corpus.definers[name]]
    ptr = np.cumsum([0] + [len(corpus.definers[name]) for name in names])
    graph = corpus.graph
    arrays: dict[str, Any] = {  # Any: numpy's stubs take a ** of arrays for its own keywords
        "fingerprint": np.array(fingerprint),
        "paths": _pack(corpus.paths),
        "vocab": _pack(sorted(corpus.vocab, key=corpus.vocab.__getitem__)),
        "bm25_data": corpus.scores.data,
        "bm25_indices": corpus.scores.indices,
        "bm25_indptr": corpus.scores.indptr,
        "names": _pack(names),
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
            paths = tuple(_unpack(data["paths"]))
            terms = _unpack(data["vocab"])
            scores = Sparse(data["bm25_data"], data["bm25_indices"], data["bm25_indptr"])
            graph = None
            if "graph_data" in data:
                graph = Sparse(data["graph_data"], data["graph_indices"], data["graph_indptr"])
            definers = Definers(_unpack(data["names"]), data["definers_ptr"], data["definers_rows"], paths)
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        return None
    if len(terms) != len(scores.indptr) - 1:
        return None
    return Corpus(paths, scores, dict(zip(terms, range(len(terms)))), graph, definers)


def rarity(df: int, n: int) -> float:
    """0..1: how much a name defined in `df` of `n` files singles them out."""
    if df <= 0 or n <= 1:
        return 1.0
    return math.log(1 + n / df) / math.log(1 + n)
