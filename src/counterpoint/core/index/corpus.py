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

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from counterpoint.core.index.parse import FileEntry, split_identifier

MAX_TF = 20
"""Occurrences of a term counted per file: BM25 saturates long before."""
PATH_WEIGHT = 4
"""A word of the path counts as this many occurrences."""
MAX_DEFINERS = 12
"""A name defined in more files than this is too common to link files."""
DAMPING = 0.85
_PATH_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def path_terms(path: str) -> list[str]:
    words: list[str] = []
    for word in _PATH_WORD.findall(path):
        words.extend(split_identifier(word))
    return words


@dataclass
class Corpus:
    paths: tuple[str, ...]
    """Sorted; the row of each file in the matrices."""
    bm25: Any
    vocab: dict[str, int]
    graph: Any
    """scipy CSR, column-stochastic: graph[b, a] = share of a's links going to b."""
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


def build_corpus(entries: Mapping[str, FileEntry], definers: Mapping[str, Sequence[str]]) -> Corpus:
    import bm25s
    from bm25s.tokenization import Tokenized
    from scipy import sparse

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
    return Corpus(paths, bm25, vocab, graph)


def rarity(df: int, n: int) -> float:
    """0..1: how much a name defined in `df` of `n` files singles them out."""
    if df <= 0 or n <= 1:
        return 1.0
    return math.log(1 + n / df) / math.log(1 + n)
