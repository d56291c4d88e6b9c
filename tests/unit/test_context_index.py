"""The repository index: definitions in several languages, the cache by blob id, no secrets."""

from counterpoint.core.index import blob_id, build_index
from counterpoint.core.index.parse import parse_file, split_identifier, stem

PY = '''"""Payments."""
import os

RETRIES = 3


class Gateway:
    """Talks to the bank."""

    def charge(self, amount):
        return amount


def refund_payment(charge_id):
    return charge_id
'''
JS = """export function parseWebhook(body) {
  return JSON.parse(body);
}
class Router {
  route(path) { return path; }
}
"""
TS = """interface Options { retries: number }
export class Client {
  send(message: string): void {}
}
function connect(url: string): Client { return new Client(); }
"""
GO = """package bank

type Account struct { ID string }

func (a *Account) Balance() int { return 0 }

func OpenAccount(id string) *Account { return &Account{ID: id} }
"""
RUST = """pub struct Ledger { entries: Vec<u32> }

impl Ledger {
    pub fn total(&self) -> u32 { self.entries.iter().sum() }
}

pub fn open_ledger() -> Ledger { Ledger { entries: vec![] } }
"""
JAVA = """public class Invoice {
    public int total() { return 0; }
}
"""


def names(path, text):
    return {(d.name, d.kind) for d in parse_file(path, text).definitions}


def test_definitions_in_several_languages():
    assert names("pay.py", PY) >= {
        ("RETRIES", "constant"), ("Gateway", "class"), ("Gateway.charge", "method"),
        ("refund_payment", "function"),
    }
    js = {n for n, _ in names("hook.js", JS)}
    assert {"parseWebhook", "Router"} <= js and any(n.endswith("route") for n in js)
    ts = {n for n, _ in names("client.ts", TS)}
    assert {"Options", "Client", "connect"} <= ts
    go = {n for n, _ in names("bank.go", GO)}
    assert {"Account", "Balance", "OpenAccount"} <= {n.rsplit(".", 1)[-1] for n in go}
    rust = {n.rsplit(".", 1)[-1] for n, _ in names("ledger.rs", RUST)}
    assert {"Ledger", "total", "open_ledger"} <= rust
    assert {"Invoice", "Invoice.total"} <= {n for n, _ in names("Invoice.java", JAVA)}


def test_signatures_and_lines():
    entry = parse_file("pay.py", PY)
    charge = next(d for d in entry.definitions if d.name == "Gateway.charge")
    assert charge.signature == "def charge(self, amount):"
    assert (charge.start, charge.end) == (10, 11)


def test_terms_split_identifiers_and_stem():
    assert split_identifier("parseHTTPResponse_v2") == ("parse", "http", "response")
    assert stem("discriminators") == stem("discriminated") == "discrimin"
    terms = dict(parse_file("pay.py", PY).terms)
    assert "refund" in terms and "gateway" in terms and "the" not in terms


def test_text_files_are_searchable_without_a_grammar():
    entry = parse_file("docs/guide.md", "# Webhooks\n\nRetry the signature check.\n")
    assert entry.definitions == () and "webhook" in dict(entry.terms)


def test_cache_by_blob_id_reparses_only_what_changed(tmp_path):
    files = {"a.py": PY, "b.py": "def other():\n    pass\n"}
    reads = []

    def read(path):
        reads.append(path)
        return files[path]

    blobs = {p: blob_id(t) for p, t in files.items()}
    first = build_index(blobs, read, cache_dir=tmp_path, cache_key="repo")
    assert first.parsed == 2 and sorted(reads) == ["a.py", "b.py"]
    reads.clear()
    again = build_index(blobs, read, cache_dir=tmp_path, cache_key="repo")
    assert again.parsed == 0 and reads == []
    assert again.entries == first.entries and again.sizes == first.sizes
    files["b.py"] = "def renamed():\n    pass\n"
    blobs = {p: blob_id(t) for p, t in files.items()}
    changed = build_index(blobs, read, cache_dir=tmp_path, cache_key="repo")
    assert changed.parsed == 1 and reads == ["b.py"]
    assert "renamed" in changed.definers and "other" not in changed.definers
    # the corpus of the new tree is built with a.py's words from the cache, not re-read
    assert "bank" in changed.corpus().vocab and reads == ["b.py"]


def test_a_warm_run_does_not_need_the_words_and_lost_words_are_parsed_again(tmp_path):
    files = {"a.py": PY, "b.py": "def other():\n    pass\n"}
    reads = []

    def read(path):
        reads.append(path)
        return files[path]

    blobs = {p: blob_id(t) for p, t in files.items()}
    assert "bank" in build_index(blobs, read, cache_dir=tmp_path, cache_key="repo").corpus().vocab
    (words,) = tmp_path.rglob("*.words")
    words.unlink()
    reads.clear()
    warm = build_index(blobs, read, cache_dir=tmp_path, cache_key="repo")
    assert "bank" in warm.corpus().vocab and "Gateway" in warm.definers and reads == []
    for corpus in tmp_path.rglob("*.corpus.npz"):  # the corpus must be built again: the
        corpus.unlink()  # words of the files are parsed again, not taken as empty
    rebuilt = build_index(blobs, read, cache_dir=tmp_path, cache_key="repo").corpus()
    assert "bank" in rebuilt.vocab and sorted(reads) == ["a.py", "b.py"]


def test_blob_id_is_gits():
    assert blob_id("hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_secret_content_is_never_indexed_or_cached(tmp_path):
    token = "sk-ant-api03-" + "q" * 40
    files = {"settings.py": f'KEY = "{token}"\ndef leaky_function():\n    pass\n'}
    index = build_index({p: blob_id(t) for p, t in files.items()}, files.get,
                        cache_dir=tmp_path, cache_key="r")
    assert index.entries["settings.py"].definitions == ()
    assert "leaky_function" not in index.definers
    for cached in tmp_path.rglob("*"):
        if cached.is_file():
            data = cached.read_bytes()
            assert token.encode() not in data and b"leaky" not in data


def test_a_damaged_cache_is_ignored(tmp_path):
    files = {"a.py": PY}
    blobs = {"a.py": blob_id(PY)}
    build_index(blobs, files.get, cache_dir=tmp_path, cache_key="r")
    for cached in tmp_path.rglob("*.entries"):
        cached.write_bytes(b"\x00garbage")
    index = build_index(blobs, files.get, cache_dir=tmp_path, cache_key="r")
    assert index.parsed == 1 and "Gateway" in index.definers


def test_a_long_blob_of_letters_is_not_a_search_term_and_does_not_widen_the_saved_vocabulary(tmp_path):
    from counterpoint.core.index import blob_id, build_index
    from counterpoint.core.index.parse import MAX_TERM

    blob = "QUJD" * 700  # a base64 blob: one 2,800-letter "word"
    body = "".join(f"def parse_payload_{i}(text):\n    return text[{i}:]\n\n" for i in range(40))
    files = {"data.py": f"PAYLOAD = '{blob}'\n\n{body}"}
    index = build_index({p: blob_id(t) for p, t in files.items()}, files.get,
                        cache_dir=tmp_path, cache_key="k")
    corpus = index.corpus()
    assert max(len(t) for t in corpus.vocab) <= MAX_TERM
    assert "payload" in corpus.vocab
    saved = next(tmp_path.rglob("*.corpus.npz"))
    assert saved.stat().st_size < 100_000



def test_the_parsing_workers_start_under_a_textual_app(tmp_path):
    # a Textual app captures prints with a sys.stderr whose fileno() is -1: multiprocessing
    # handed that to its resource tracker and the pool failed (the task screen's first
    # context of a large repository). Run in a fresh process: no tracker running yet.
    import subprocess
    import sys

    script = """
import io, sys
import counterpoint.core.index as ix

class Capture(io.TextIOBase):
    def write(self, text):
        return len(text)
    def fileno(self):
        return -1

used = []
class Pool(ix.ProcessPoolExecutor):
    def map(self, *args, **kwargs):
        out = list(super().map(*args, **kwargs))
        used.append(len(out))
        return out

ix.ProcessPoolExecutor = Pool
ix.PARALLEL_FROM = 4
sys.stderr = Capture()
texts = [(f"m{i}.py", f"def helper_{i}():\\n    return {i}\\n") for i in range(6)]
out = ix._parse_all(iter(texts), len(texts))
sys.__stdout__.write(f"{used} {sum(1 for d in out if d)}\\n")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["[6]", "6"], done.stderr


def test_a_pool_that_breaks_part_way_loses_no_file_and_mixes_none_up(tmp_path, monkeypatch):
    import counterpoint.core.index as ix
    from concurrent.futures.process import BrokenProcessPool

    class Breaking:  # a worker died after three files were handed over
        def __init__(self, **_):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *_):
            return False

        def map(self, function, items, chunksize=1):
            for _ in range(3):
                next(items)
            raise BrokenProcessPool("a worker died")

    monkeypatch.setattr(ix, "ProcessPoolExecutor", Breaking)
    monkeypatch.setattr(ix, "PARALLEL_FROM", 2)
    files = {f"m{i}.py": f"def helper_{i}():\n    return {i}\n" for i in range(7)}
    files["blob.bin"] = "\x00binary"
    index = build_index({p: blob_id(t) for p, t in files.items()}, files.get, cache_dir=tmp_path, cache_key="k")
    assert index.parsed == 8
    for i in range(7):
        assert [d.name for d in index.entries[f"m{i}.py"].definitions] == [f"helper_{i}"]
        assert index.sizes[f"m{i}.py"] == len(files[f"m{i}.py"])
    assert "blob.bin" not in index.sizes
    assert index.corpus().definers["helper_5"] == ("m5.py",)
