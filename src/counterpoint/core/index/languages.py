"""Tree-sitter grammars and their definition queries, from the per-language wheels.

Each grammar ships compiled inside its own wheel (`tree-sitter-python`, `tree-sitter-go`, …)
together with its `queries/tags.scm`; nothing is downloaded at run time. A language whose
wheel is missing is simply not parsed (its files are still searched as text). Only the
`@definition.*` patterns of a tags query are kept: references come from the identifiers of
the file (see `parse.py`), which is cheaper and sees type names and attributes too.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

_GRAMMARS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # name: (module, function giving the language, tags queries to combine: module names)
    "python": ("tree_sitter_python", "language", ("tree_sitter_python",)),
    "javascript": ("tree_sitter_javascript", "language", ("tree_sitter_javascript",)),
    "typescript": (
        "tree_sitter_typescript",
        "language_typescript",
        ("tree_sitter_javascript", "tree_sitter_typescript"),
    ),
    "tsx": (
        "tree_sitter_typescript",
        "language_tsx",
        ("tree_sitter_javascript", "tree_sitter_typescript"),
    ),
    "go": ("tree_sitter_go", "language", ("tree_sitter_go",)),
    "rust": ("tree_sitter_rust", "language", ("tree_sitter_rust",)),
    "java": ("tree_sitter_java", "language", ("tree_sitter_java",)),
}

EXTENSIONS = {
    "py": "python",
    "pyi": "python",
    "js": "javascript",
    "jsx": "javascript",
    "mjs": "javascript",
    "cjs": "javascript",
    "ts": "typescript",
    "mts": "typescript",
    "cts": "typescript",
    "tsx": "tsx",
    "go": "go",
    "rs": "rust",
    "java": "java",
}


def language_of(path: str) -> str | None:
    name = path.rsplit("/", 1)[-1]
    if "." not in name:
        return None
    return EXTENSIONS.get(name.rsplit(".", 1)[-1].lower())


@dataclass(frozen=True)
class Grammar:
    parser: Any
    query: Any


def _patterns(text: str) -> list[str]:
    """The top-level patterns of a query file (comments dropped)."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(";")]
    text = "\n".join(lines)
    out: list[str] = []
    depth = 0
    start = 0
    in_string = False
    i = 0
    while i < len(text):
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "([":
            if depth == 0:
                start = i
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth == 0:
                # a capture or quantifier right after the closing bracket belongs to it
                j = i + 1
                while j < len(text) and (text[j] in " \t" or text[j] in "@*+?"):
                    if text[j] == "@":
                        while j < len(text) and not text[j].isspace():
                            j += 1
                    else:
                        j += 1
                out.append(text[start:j])
                i = j
                continue
        i += 1
    return out


@cache
def grammar(name: str) -> Grammar | None:
    """The parser and definitions query for a language, or None when its wheel is missing."""
    spec = _GRAMMARS.get(name)
    if spec is None:
        return None
    try:
        from tree_sitter import Language, Parser, Query

        module = importlib.import_module(spec[0])
        language = Language(getattr(module, spec[1])())
    except (ImportError, AttributeError, ValueError):
        return None
    kept: list[str] = []
    for query_module in spec[2]:
        try:
            folder = Path(importlib.import_module(query_module).__file__ or "").parent
            text = (folder / "queries" / "tags.scm").read_text(encoding="utf-8")
        except (ImportError, OSError):
            continue
        for pattern in _patterns(text):
            if "@definition." not in pattern or pattern in kept:
                continue
            try:
                Query(language, pattern)
            except Exception:  # a pattern of the base language this grammar does not have
                continue
            kept.append(pattern)
    if not kept:
        return None
    return Grammar(parser=Parser(language), query=Query(language, "\n".join(kept)))
