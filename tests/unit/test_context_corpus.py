"""The corpus: BM25 from the entries' counts, the reference graph, its saved form."""

import gc
import math

import numpy as np
import pytest

from counterpoint.core.index import build_index
from counterpoint.core.index.corpus import (
    MAX_DEFINERS,
    PATH_WEIGHT,
    build_corpus,
    load_corpus,
    path_terms,
    save_corpus,
)


def _lucene(tf: float, df: int, n: int, length: float, average: float) -> float:
    """BM25 as Lucene scores it (k1 1.5, b 0.75), written out independently."""
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return idf * tf / (1.5 * (0.25 + 0.75 * length / average) + tf)


DOCS = {
    "a.txt": ((), frozenset(), (("voucher", 3), ("total", 1))),
    "b.txt": ((), frozenset(), (("total", 2),)),
    "c.txt": ((), frozenset(), (("other", 50),)),
}


def test_bm25_scores_each_term_in_each_file_by_lucenes_formula():
    corpus = build_corpus(DOCS)
    # each file's length: its counts, capped at MAX_TF (20), and its path's words
    capped = {"a.txt": 4, "b.txt": 2, "c.txt": 20}
    lengths = {p: n + PATH_WEIGHT * len(path_terms(p)) for p, n in capped.items()}
    average = sum(lengths.values()) / 3
    voucher = corpus.lexical(["voucher"])
    assert voucher[0] == pytest.approx(_lucene(3, 1, 3, lengths["a.txt"], average), rel=1e-6)
    assert voucher[1] == voucher[2] == 0
    total = corpus.lexical(["total"])
    assert total[0] == pytest.approx(_lucene(1, 2, 3, lengths["a.txt"], average), rel=1e-6)
    assert total[1] == pytest.approx(_lucene(2, 2, 3, lengths["b.txt"], average), rel=1e-6)
    other = corpus.lexical(["other"])  # 50 occurrences count as MAX_TF
    assert other[2] == pytest.approx(_lucene(20, 1, 3, lengths["c.txt"], average), rel=1e-6)
    assert corpus.lexical(["voucher", "total"])[0] == pytest.approx(voucher[0] + total[0])
    assert not corpus.lexical(["absent"]).any()


def test_a_word_of_the_path_that_is_also_a_term_is_counted_once_with_both_counts():
    corpus = build_corpus({"total.py": ((), frozenset(), (("total", 1),)), "x.py": ((), frozenset(), (("y", 1),))})
    assert path_terms("total.py") == ["total", "py"]
    score = corpus.lexical(["total"])
    # total.py: "total" 1 + PATH_WEIGHT, "py" PATH_WEIGHT; x.py: "y" 1, "x" and "py" PATH_WEIGHT
    lengths = (1 + 2 * PATH_WEIGHT, 1 + 2 * PATH_WEIGHT)
    assert score[0] == pytest.approx(_lucene(1 + PATH_WEIGHT, 1, 2, lengths[0], sum(lengths) / 2), rel=1e-6)


def test_the_graph_links_a_user_to_the_definers_of_its_names_by_rarity():
    documents = {
        "app.py": ((), frozenset({"checkout_total", "helper"}), (("x", 1),)),
        "checkout.py": (("checkout_total",), frozenset(), (("x", 1),)),
        "util.py": (("helper", "checkout_total"), frozenset({"helper"}), (("x", 1),)),
    }
    corpus = build_corpus(documents)
    graph = corpus.graph
    assert graph is not None
    dense = np.zeros((3, 3))
    rows = graph.row_of_values()
    np.add.at(dense, (rows, graph.indices), graph.data)  # one value per linking name
    app, checkout, util = 0, 1, 2
    # app uses checkout_total (2 definers, 8+ characters: 1/2 to each) and helper (1
    # definer, a short name: 0.5): 1.5 of links in all, each column summing to 1
    assert dense[checkout, app] == pytest.approx(0.5 / 1.5)
    assert dense[util, app] == pytest.approx((0.5 + 0.5) / 1.5)
    assert dense[:, checkout].sum() == 0  # uses nothing
    assert dense[util, util] == 0  # its own helper is no link
    assert np.allclose(dense[:, app].sum(), 1.0)
    seeds = np.array([1.0, 0, 0])
    near = corpus.proximity(seeds)
    assert near[util] > near[checkout] > 0


def test_a_name_defined_in_too_many_files_links_nothing():
    documents = {f"m{i}.py": (("run",), frozenset(), (("x", 1),)) for i in range(MAX_DEFINERS + 1)}
    documents["main.py"] = ((), frozenset({"run"}), (("x", 1),))
    corpus = build_corpus(documents)
    assert corpus.graph is None
    assert len(corpus.definers["run"]) == MAX_DEFINERS + 1


def test_the_saved_corpus_is_the_same_corpus(tmp_path):
    documents = {
        "pkg/é.py": (("Voucher",), frozenset({"total"}), (("voucher", 2),)),
        "pkg/total.py": (("total",), frozenset({"Voucher"}), (("total", 1),)),
        "empty": ((), frozenset(), ()),  # nothing but its path word
        "1": ((), frozenset(), ()),  # no word at all: the empty term
    }
    corpus = build_corpus(documents)
    assert "" in corpus.vocab
    target = tmp_path / "c.npz"
    save_corpus(corpus, target, "tree-1")
    loaded = load_corpus(target, "tree-1")
    assert loaded is not None
    assert loaded.paths == corpus.paths
    assert dict(loaded.vocab) == dict(corpus.vocab)
    assert dict(loaded.definers) == dict(corpus.definers)
    for terms in (["voucher"], ["total"], [""], ["empty"]):
        assert np.array_equal(loaded.lexical(terms), corpus.lexical(terms))
    seeds = np.array([1.0, 0, 0, 0])
    assert np.array_equal(loaded.proximity(seeds), corpus.proximity(seeds))
    assert load_corpus(target, "tree-2") is None  # another tree
    target.write_bytes(target.read_bytes()[:100])
    assert load_corpus(target, "tree-1") is None  # damaged


def test_indexing_pauses_the_garbage_collector_and_always_restarts_it(tmp_path):
    files = {f"m{i}.py": f"def f{i}():\n    return {i}\n" for i in range(5)}
    index = build_index({p: str(i) for i, p in enumerate(files)}, files.get, cache_dir=tmp_path, cache_key="k")
    assert gc.isenabled()
    seen = []

    def read(path: str) -> str:
        seen.append(gc.isenabled())
        raise OSError("disk gone")

    with pytest.raises(OSError):
        build_index({"x.py": "1"}, read, cache_dir=tmp_path, cache_key="k2")
    assert seen == [False] and gc.isenabled()
    assert index.corpus().definers["f1"] == ("m1.py",)
    assert gc.isenabled()
