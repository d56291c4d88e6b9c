"""One file's entry in the index: its definitions, the names it uses, its search terms.

Definitions come from tree-sitter (`languages.py`); the names a file uses and its terms for
lexical search come from its identifiers and words (code, docstrings and comments alike), so
a file in a language without a grammar (Markdown, HTML, TOML…) is still searchable.
An entry is plain tuples and strings: it is stored with `marshal` in the on-disk cache.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from counterpoint.core.index.languages import grammar, language_of

MAX_PARSE_BYTES = 512_000
"""Bigger files are searched by their first MAX_PARSE_BYTES only and not parsed."""
MAX_TERMS = 600
"""Distinct terms kept per file (the most frequent): enough to find it, cheap to rank."""

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
STOP_WORDS = frozenset(
    ["the", "and", "for", "with", "from", "that", "this", "are", "was", "were", "not", "but", "you", "your", "have", "has", "had", "can", "will", "all", "any", "use", "used", "using", "into", "than", "then", "them", "they", "their", "there", "when", "what", "which", "who", "how", "why", "its", "also", "may", "must", "should", "would", "could", "been", "being", "our", "out", "one", "two", "self", "cls"]
)
"""English function words: frequent everywhere, they only blur BM25, and a task's "from" is
not Rust's `fn from` (retrieval takes them as symbols only in backquotes). Code keywords
stay (a task may well be about `continue` or `yield`); their IDF is low anyway."""


@dataclass(frozen=True)
class Definition:
    name: str
    """Qualified within the file: "Class.method" for a method."""
    kind: str
    """class, function, method, constant, interface, module, type…"""
    start: int
    """1-based first line."""
    end: int
    """1-based last line."""
    signature: str
    """The definition's first line, stripped."""


HEAD_LINES = 12
"""A file's first lines (imports, module docstring) come with any excerpt of it."""


def head_chars(lines: list[str]) -> int:
    """What a file's excerpt costs at least, in characters: its first HEAD_LINES lines with
    their line-number margin (`excerpt.py` counts the same)."""
    head = lines[:HEAD_LINES]
    return sum(len(line) + 1 for line in head) + 24 * len(head) // 10


@dataclass(frozen=True)
class FileEntry:
    language: str
    definitions: tuple[Definition, ...]
    names: frozenset[str]
    """Identifiers the file uses (for the reference graph)."""
    terms: tuple[tuple[str, int], ...]
    """(term, count), most frequent first."""
    head_chars: int = 0
    """`head_chars` of the file (0: not known): whether it can be sent in part is known
    without reading it again."""

    def dump(self) -> tuple[tuple[object, ...], tuple[object, ...]]:
        """(head, words) for the cache: the language and definitions, then the names used
        and the terms (stored apart: only building the corpus reads them)."""
        defs = tuple((d.name, d.kind, d.start, d.end, d.signature) for d in self.definitions)
        return (self.language, defs, self.head_chars), (" ".join(self.names), self.terms)

    @classmethod
    def load(cls, head: tuple[object, ...]) -> FileEntry:
        """From `dump`'s head: an entry with no names or terms (all that choosing a context
        needs once the corpus is built; the corpus reads the words itself)."""
        language, defs, chars = head
        return cls(
            language=str(language),
            definitions=tuple(Definition(*d) for d in defs),  # type: ignore[attr-defined]
            names=frozenset(),
            terms=(),
            head_chars=int(chars),  # type: ignore[call-overload]
        )


@lru_cache(maxsize=200_000)
def split_identifier(word: str) -> tuple[str, ...]:
    """`parseHTTPResponse_v2` -> parse, http, response (lower case, 2+ characters)."""
    if word.islower() and "_" not in word:
        return (word,)
    parts: list[str] = []
    for chunk in word.split("_"):
        if chunk.isascii() and chunk.isalpha() and (chunk.islower() or chunk.isupper()):  # one part
            parts.append(chunk.lower())
        else:
            parts.extend(p.lower() for p in _CAMEL.findall(chunk))
    return tuple(p for p in parts if len(p) >= 2 and p not in STOP_WORDS)


_SUFFIX = re.compile(r"(?:ations?|ators?|ated|ates?|ings?|ers?|ed|es|s)$")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light stemmer: "discriminators" and "discriminated" both give "discrimin"."""
    if len(word) <= 5 or word.endswith("ss"):
        return word
    cut = _SUFFIX.sub("", word)
    return cut if len(cut) >= 4 else word


def terms_of(words: Counter[str]) -> Counter[str]:
    """Search terms from a text's identifier counts: each lower-cased and stemmed, and its
    parts."""
    counts: dict[str, int] = {}
    get = counts.get
    for word, n in words.items():
        for term in word_terms(word):
            counts[term] = get(term, 0) + n
    return Counter(counts)


@lru_cache(maxsize=200_000)
def word_terms(word: str) -> tuple[str, ...]:
    """One identifier's search terms: itself lower-cased, then its parts, each stemmed (a
    word is seen in many files: its terms are worked out once)."""
    low = word.lower()
    if low in STOP_WORDS:
        return ()
    out = [stem(low)] if len(low) <= MAX_TERM else []
    parts = split_identifier(word)
    if len(parts) > 1:
        out.extend(stem(part) for part in parts if len(part) <= MAX_TERM)
    return tuple(out)


MAX_TERM = 48
"""A longer "word" is data (a base64 blob, a hash), not a name anyone searches for; one
such term made every term of the saved vocabulary that wide (321 MB for fastapi's)."""


def _definitions(language: str, data: bytes) -> tuple[Definition, ...]:
    found = grammar(language)
    if found is None:
        return ()
    from tree_sitter import QueryCursor

    tree = found.parser.parse(data)
    raw: dict[tuple[int, int], tuple[str, str, int, int, str]] = {}
    for _, captures in QueryCursor(found.query).matches(tree.root_node):
        names = captures.get("name")
        kind_node = None
        kind = ""
        for key, nodes in captures.items():
            if key.startswith("definition."):
                kind, kind_node = key.split(".", 1)[1], nodes[0]
        if not names or kind_node is None:
            continue
        name_node = names[0]
        name = data[name_node.start_byte : name_node.end_byte].decode("utf-8", "replace")
        line_end = data.find(b"\n", kind_node.start_byte)
        first = data[kind_node.start_byte : line_end if line_end != -1 else kind_node.end_byte]
        signature = first.decode("utf-8", "replace").strip()[:160]
        raw[(kind_node.start_byte, name_node.start_byte)] = (name, kind, kind_node.start_point[0] + 1, kind_node.end_point[0] + 1, signature)
    ordered = [raw[key] for key in sorted(raw)]
    out: list[Definition] = []
    scopes: list[tuple[str, int]] = []  # enclosing classes: (name, last line)
    for name, kind, start, end, signature in ordered:
        while scopes and start > scopes[-1][1]:
            scopes.pop()
        qualified = name
        if scopes:
            qualified = f"{scopes[-1][0]}.{name}"
            if kind == "function":
                kind = "method"
        out.append(Definition(qualified, kind, start, end, signature))
        if kind in ("class", "interface", "impl", "module", "struct", "trait", "type") and end > start:
            scopes.append((qualified, end))
    return tuple(out)


_DATA_SUFFIXES = frozenset(
    ["po", "pot", "json", "lock", "csv", "tsv", "svg", "snap", "map", "xml", "ipynb", "log", "sum", "mod"]
)
"""Searched by path only: translations, data, snapshots, lock files."""


def _searchable(path: str, text: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith((".min.js", ".min.css")) or name.rsplit(".", 1)[-1] in _DATA_SUFFIXES:
        return False
    lines = text.count("\n") + 1
    return len(text) / lines < 300  # minified or generated: one huge line


def parse_file(path: str, text: str) -> FileEntry:
    """The index entry of one file."""
    if not _searchable(path, text):
        return FileEntry("", (), frozenset(), ())
    language = language_of(path) or ""
    head = text[:MAX_PARSE_BYTES]
    definitions: tuple[Definition, ...] = ()
    if language and len(text) <= MAX_PARSE_BYTES:
        definitions = _definitions(language, head.encode("utf-8", "replace"))
    words = Counter(_IDENT.findall(head))
    kept = terms_of(words).most_common(MAX_TERMS)
    first = text[:4096].splitlines()  # more than HEAD_LINES lines: the first ones are whole
    lines = first if len(first) > HEAD_LINES else text.splitlines()
    return FileEntry(language, definitions, frozenset(words), tuple(kept), head_chars(lines))
